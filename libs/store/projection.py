"""Exactly-once projections over at-least-once delivery.

A :class:`Projection` is a named set of handlers, one per event type, that turn events into rows of the
service's own tables. The :class:`ProjectionRunner` applies a fetched batch in ONE Postgres transaction and
records ``(consumer, stream, stream_seq)`` in the tracking table inside that same transaction; only after the
commit are the messages acked. A message at or below the recorded position is skipped, so a redelivery (a
crash between commit and ack) has no effect.

- Order: a batch is applied in stream order; consecutive events handled by the same handler are passed to it
  together so it can use ``executemany``.
- Poison (bad JSON, bad envelope, unknown type/version, invalid payload): a dead-letter record is published
  *before* the commit (idempotent by message id), the position moves past it, and the message is terminated.
- Transient failure (database down, a handler error): the batch rolls back and is retried one message at a
  time, in place, with a growing delay while the messages' ack timers are kept alive; the messages after the
  failing one wait, so order holds. A database outage is waited out; a handler that fails ``max_deliver``
  times on the same event sends it to the dead-letter stream with the error, and the consumer moves on.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any, Generic, TypeVar

import asyncpg
from nats.aio.msg import Msg
from nats.js.errors import NotFoundError

from libs.bus.dlq import DeadLetter, DeadLetters
from libs.bus.streams import ConsumerSpec
from libs.contracts.base import Envelope, Event, snake
from libs.contracts.registry import PoisonEvent, decode
from libs.core import metrics

logger = logging.getLogger("xbot.projection")


E = TypeVar("E", bound=Event)


@dataclass(slots=True, frozen=True)
class Applied(Generic[E]):
    """One decoded event on its way into a projection, typed by its event."""

    event: E
    envelope: Envelope
    stream: str
    seq: int


# Failures that say nothing about the event: wait for the database instead of counting them against it.
UNAVAILABLE = (OSError, asyncpg.exceptions.ConnectionDoesNotExistError, asyncpg.exceptions.CannotConnectNowError,
               asyncpg.exceptions.InterfaceError, asyncpg.exceptions.TooManyConnectionsError)


class OutOfOrder(RuntimeError):
    """Earlier messages of the stream are still in another replica's hands: apply this batch after them."""


class StalePosition(RuntimeError):
    """The tracking row moved since this runner read it (a replay swapped tables in): reload and retry."""


BatchHandler = Callable[[asyncpg.Connection, list[Applied[Any]]], Awaitable[None]]


@dataclass
class Projection:
    """Handlers of one service's read model, keyed by event type."""

    service: str
    name: str
    handlers: dict[type[Event], BatchHandler] = field(default_factory=dict)
    ack_wait_s: float = 30.0
    max_deliver: int = 5
    # Read through one durable per event type, each filtered on its event's subject, instead of one durable per
    # producer's whole stream: for a reader that may see a few of a producer's events and not the rest (the
    # console, of the harvester's, whose other events hold strangers' tweets). Its handlers must then not depend
    # on the order of events of different types. Its position is its own last event's, so a replay from a snapshot
    # after its stream dropped its first events cannot tell whether one of its events went with them: use it for
    # events whose loss past the stream's retention does not matter (the console's are forgotten by then).
    filtered: bool = False

    def on_batch(self, *types: type[E]) -> Callable[[Callable[[asyncpg.Connection, list[Applied[E]]],
                                                               Awaitable[None]]],
                                                     Callable[[asyncpg.Connection, list[Applied[E]]], Awaitable[None]]]:
        """Register a handler that receives consecutive events of these types as one list (for executemany)."""

        def register(fn: Callable[[asyncpg.Connection, list[Applied[E]]], Awaitable[None]]
                     ) -> Callable[[asyncpg.Connection, list[Applied[E]]], Awaitable[None]]:
            for t in types:
                self.handlers[t] = fn
            return fn

        return register

    def on(self, *types: type[E]) -> Callable[[Callable[[asyncpg.Connection, Applied[E]], Awaitable[None]]],
                                              Callable[[asyncpg.Connection, Applied[E]], Awaitable[None]]]:
        """Register a per-event handler ``fn(conn, applied)``."""

        def register(fn: Callable[[asyncpg.Connection, Applied[E]], Awaitable[None]]
                     ) -> Callable[[asyncpg.Connection, Applied[E]], Awaitable[None]]:
            async def each(conn: asyncpg.Connection, items: list[Applied[E]]) -> None:
                for item in items:
                    await fn(conn, item)

            for t in types:
                self.handlers[t] = each
            return fn

        return register

    def consumers(self) -> list[ConsumerSpec]:
        def spec(name: str, producer: str, filter_event: str | None = None) -> ConsumerSpec:
            return ConsumerSpec(service=self.service, name=name, producer=producer, filter_event=filter_event,
                                ack_wait=timedelta(seconds=self.ack_wait_s), max_deliver=self.max_deliver)

        if self.filtered:
            return [spec(f"{self.name}_{snake(t.TYPE)}", t.PRODUCER, f"{snake(t.TYPE)}.v{t.VERSION}")
                    for t in sorted(self.handlers, key=lambda t: (t.PRODUCER, t.TYPE))]
        return [spec(self.name, p) for p in sorted({t.PRODUCER for t in self.handlers})]


@dataclass
class BatchOutcome:
    applied: int = 0
    skipped: int = 0
    poison: list[Msg] = field(default_factory=list)
    position: int = 0


class ProjectionRunner:
    def __init__(self, projection: Projection, *, pool: asyncpg.Pool, dead_letters: DeadLetters | None,
                 namespace: str, on_commit: Callable[[], None] | None = None) -> None:
        self.projection = projection
        self.pool = pool
        self.dead_letters = dead_letters
        self.namespace = namespace
        # Told after every commit that moved a position (read-your-writes waiters wake on it).
        self.on_commit = on_commit
        self.last_progress: dict[str, float] = {}
        # Committed tracking position per (consumer, stream), read once from the table.
        self.positions: dict[tuple[str, str], int] = {}
        self.lag: dict[str, int] = {}

    @property
    def service(self) -> str:
        return self.projection.service

    # ------------------------------------------------------------------ applying

    async def apply_messages(self, conn: asyncpg.Connection, consumer: str, stream: str,
                             msgs: Sequence[Msg], *, dead_letter: bool = True) -> BatchOutcome:
        """Apply ``msgs`` inside the caller's transaction and move the tracking position.

        The position is read once and then kept in memory; moving it is a compare-and-set on the row, so if
        anyone else moved it meanwhile (a replay swapped tables in) this raises :class:`StalePosition` and the
        transaction rolls back.
        """
        out = BatchOutcome()
        key = (consumer, stream)
        pos = self.positions.get(key)
        if pos is None:
            pos = await conn.fetchval(
                "SELECT stream_seq FROM tracking WHERE consumer = $1 AND stream = $2", consumer, stream) or 0
        start = pos
        run: list[Applied[Any]] = []
        run_handler: BatchHandler | None = None
        for m in msgs:
            seq = m.metadata.sequence.stream
            if seq <= pos:
                out.skipped += 1
                continue
            if seq > pos + 1 and not self.projection.filtered and not await self._gap_is_empty(stream, pos + 1):
                # A consumer reads its producer's whole stream, so sequences are contiguous unless messages
                # were deleted; a gap means another replica holds the missing ones and must go first. (A filtered
                # durable skips the stream's other events: its gaps are theirs.)
                raise OutOfOrder(f"{consumer}: got {seq} while at {pos}")
            try:
                envelope, event = decode(m.data, m.headers)
            except PoisonEvent as err:
                if dead_letter and self.dead_letters is not None:
                    await self.dead_letters.add(DeadLetter.of(
                        service=self.service, consumer=consumer, subject=m.subject, stream=stream, seq=seq,
                        deliveries=m.metadata.num_delivered or 1, error=str(err), data=m.data))
                    metrics.dead_letters.labels(self.service, "poison").inc()
                out.poison.append(m)
                pos = seq
                continue
            handler = self.projection.handlers.get(type(event))
            if handler is not None:
                if run_handler is not None and handler is not run_handler and run:
                    await run_handler(conn, run)
                    run = []
                run_handler = handler
                run.append(Applied(event, envelope, stream, seq))
                out.applied += 1
            pos = seq
        if run_handler is not None and run:
            await run_handler(conn, run)
        if pos != start:
            moved = await conn.fetchval(
                "INSERT INTO tracking AS t (consumer, stream, stream_seq) VALUES ($1, $2, $3) "
                "ON CONFLICT (consumer, stream) DO UPDATE SET stream_seq = EXCLUDED.stream_seq, updated_at = now() "
                "WHERE t.stream_seq = $4 RETURNING stream_seq", consumer, stream, pos, start)
            if moved is None:
                self.positions.pop(key, None)
                raise StalePosition(f"tracking position of {consumer} on {stream} moved under us")
        out.position = pos
        return out

    async def _gap_is_empty(self, stream: str, seq: int) -> bool:
        if self.dead_letters is None:  # replay reads with its own ordered consumer: no other replica
            return True
        try:
            await self.dead_letters.js.get_msg(stream, seq)
        except NotFoundError:
            return True
        return False

    async def _apply_in_transaction(self, spec: ConsumerSpec, msgs: Sequence[Msg]) -> BatchOutcome:
        consumer, stream = spec.durable(self.namespace), spec.stream(self.namespace)
        for attempt in (1, 2):
            try:
                async with self.pool.acquire() as conn, conn.transaction():
                    out = await self.apply_messages(conn, consumer, stream, msgs)
            except StalePosition:
                if attempt == 2:
                    raise
                continue
            self.positions[(consumer, stream)] = out.position  # committed
            if self.on_commit is not None:
                self.on_commit()
            return out
        raise AssertionError("unreachable")

    async def handle(self, spec: ConsumerSpec, msgs: Sequence[Msg]) -> None:
        """Apply a fetched batch, then settle every message (ack, term or nak)."""
        if not msgs:
            return
        consumer = spec.durable(self.namespace)
        try:
            out = await self._apply_in_transaction(spec, msgs)
        except OutOfOrder as err:
            logger.info("%s; batch comes back in 1 s", err)
            for m in msgs:
                await m.nak(delay=1.0)
            return
        except Exception as err:  # noqa: BLE001 - any failure rolls the batch back; isolate it below
            metrics.transient_failures.labels(self.service, consumer).inc()
            logger.warning("batch of %d on %s failed (%s); retrying one by one", len(msgs), consumer, err)
            await self._one_by_one(spec, msgs)
            return
        await self._settle(out, msgs, consumer)

    async def _settle(self, out: BatchOutcome, msgs: Sequence[Msg], consumer: str) -> None:
        poison = {id(m) for m in out.poison}
        for m in msgs:
            if id(m) in poison:
                await m.term()
            else:
                await m.ack()
        metrics.events_applied.labels(self.service, consumer).inc(out.applied)
        if out.skipped:
            metrics.events_skipped.labels(self.service, consumer).inc(out.skipped)
        self._progress(consumer, msgs[-1])

    async def _one_by_one(self, spec: ConsumerSpec, msgs: Sequence[Msg]) -> None:
        """Isolate the failing message of a batch and retry it here, holding the rest back to keep order.

        Retries happen in place (the messages' ack timers are kept alive) rather than by nak, so that waiting
        costs no server-side deliveries. A database that is unreachable is waited for without limit; a handler
        that keeps failing on the same event sends it to the dead-letter stream after ``max_deliver`` attempts.
        """
        consumer = spec.durable(self.namespace)
        for i, m in enumerate(msgs):
            failures = 0
            while True:
                try:
                    out = await self._apply_in_transaction(spec, [m])
                    break
                except OutOfOrder:
                    for rest in msgs[i:]:
                        await rest.nak(delay=1.0)
                    return
                except Exception as err:  # noqa: BLE001
                    unavailable = isinstance(err, UNAVAILABLE)
                    failures += 0 if unavailable else 1
                    if failures >= spec.max_deliver and self.dead_letters is not None:
                        await self._dead_letter_after_retries(spec, m, err, failures)
                        out = None
                        break
                    delay = min(2.0 ** max(failures, 1), 30.0)
                    logger.warning("event seq %s on %s failed (%s%s); retry in %.0fs",
                                   m.metadata.sequence.stream, consumer,
                                   "database unavailable: " if unavailable else f"attempt {failures}: ", err, delay)
                    await self._keep_alive(msgs[i:], delay)
            if out is not None:
                await self._settle(out, [m], consumer)

    @staticmethod
    async def _keep_alive(msgs: Sequence[Msg], seconds: float) -> None:
        """Wait while telling the server the messages are still in hand (no redelivery meanwhile)."""
        deadline = time.monotonic() + seconds
        while True:
            for m in msgs:
                try:
                    await m.in_progress()
                except Exception:  # noqa: BLE001 - NATS reconnecting; the server may redeliver, which is safe
                    pass
            left = deadline - time.monotonic()
            if left <= 0:
                return
            await asyncio.sleep(min(left, 5.0))

    async def _dead_letter_after_retries(self, spec: ConsumerSpec, m: Msg, err: Exception, attempts: int) -> None:
        consumer = spec.durable(self.namespace)
        stream = spec.stream(self.namespace)
        seq = m.metadata.sequence.stream
        assert self.dead_letters is not None  # only the live runner, which has them, dead-letters
        await self.dead_letters.add(DeadLetter.of(
            service=self.service, consumer=consumer, subject=m.subject, stream=stream, seq=seq,
            deliveries=m.metadata.num_delivered or 1, error=f"failed {attempts} attempts: {err!r}",
            data=m.data))
        # Move past it so the next event is applied; the letter holds everything needed to re-apply it.
        self.positions.pop((consumer, stream), None)
        async with self.pool.acquire() as conn:
            await conn.execute(
                "INSERT INTO tracking (consumer, stream, stream_seq) VALUES ($1, $2, $3) ON CONFLICT (consumer, "
                "stream) DO UPDATE SET stream_seq = GREATEST(tracking.stream_seq, EXCLUDED.stream_seq)",
                consumer, stream, seq)
        if self.on_commit is not None:
            self.on_commit()
        metrics.dead_letters.labels(self.service, "max_deliver").inc()
        await m.term()

    def _progress(self, consumer: str, last: Msg) -> None:
        now = time.time()
        self.last_progress[consumer] = now
        self.lag[consumer] = last.metadata.num_pending or 0
        metrics.consumer_lag.labels(self.service, consumer).set(self.lag[consumer])
        metrics.consumer_last_progress.labels(self.service, consumer).set(now)

    # ------------------------------------------------------------------ dead letters

    async def reapply(self, letter: DeadLetter) -> None:
        """Apply a dead letter's event (after its cause was fixed) without touching the tracking position."""
        envelope, event = decode(letter.payload)  # still poison -> PoisonEvent with the reason
        handler = self.projection.handlers.get(type(event))
        if handler is None:
            raise PoisonEvent(f"{self.service}.{self.projection.name} has no handler for {event.TYPE}")
        async with self.pool.acquire() as conn, conn.transaction():
            await handler(conn, [Applied(event, envelope, letter.stream, letter.stream_seq)])
