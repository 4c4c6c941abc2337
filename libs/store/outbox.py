"""The one transactional outbox: every event a job emits goes through it.

A job records its events with :meth:`Outbox.record` inside the transaction that writes its own tables, so the
event and the state that caused it commit together or not at all. :meth:`Outbox.flush` publishes what is
recorded, in recording order, after the commit: the runtime calls it after every job run and at start (a crash
between commit and publish loses nothing), and a job calls it itself when it must see its events applied before
it goes on (``JobContext.publish``). Each row's ``Nats-Msg-Id`` is the event's natural key (or its event id), so
a row published twice (two replicas, a crash after the PubAck) is dropped by the stream's duplicate window; once
published and past that window a row is pruned.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from datetime import timedelta

import asyncpg

from libs.bus.publish import EventPublisher
from libs.bus.streams import DUPLICATE_WINDOW
from libs.contracts.base import Envelope, Event
from libs.contracts.registry import decode
from libs.core.clock import Clock


@dataclass(frozen=True)
class Published:
    """Where the stream put an event: what read-your-writes waits for."""

    event_type: str
    stream: str
    seq: int


class Outbox:
    def __init__(self, pool: asyncpg.Pool, publisher: EventPublisher, clock: Clock, *,
                 keep: timedelta = DUPLICATE_WINDOW) -> None:
        self.pool = pool
        self.publisher = publisher
        self.clock = clock
        self.keep = keep
        self._lock = asyncio.Lock()

    async def record(self, conn: asyncpg.Connection, event: Event, *, correlation_id: str | None = None,
                     causation_id: str | None = None) -> bool:
        """Record ``event`` in the caller's transaction; False when the same fact (natural key) already waits
        or was published within the duplicate window, which is then not recorded again."""
        envelope = Envelope.wrap(event, occurred_at=self.clock.now(), correlation_id=correlation_id,
                                 causation_id=causation_id)
        inserted = await conn.fetchval(
            "INSERT INTO event_outbox (msg_id, event_type, envelope) VALUES ($1, $2, $3) "
            "ON CONFLICT (msg_id) DO NOTHING RETURNING seq",
            envelope.msg_id(event), event.TYPE, envelope.model_dump_json())
        return inserted is not None

    async def pending(self) -> int:
        return int(await self.pool.fetchval("SELECT count(*) FROM event_outbox WHERE published_at IS NULL"))

    async def flush(self) -> list[Published]:
        """Publish every unpublished row in recording order (each awaits its PubAck; a failure raises and the
        rest waits for the next flush); returns where the stream put them."""
        async with self._lock:
            rows = await self.pool.fetch(
                "SELECT seq, envelope FROM event_outbox WHERE published_at IS NULL ORDER BY seq")
            published = []
            for row in rows:
                envelope, event = decode(row["envelope"].encode())
                ack = await self.publisher.publish_envelope(envelope, event)
                await self.pool.execute(
                    "UPDATE event_outbox SET published_at = now(), stream = $2, stream_seq = $3 WHERE seq = $1",
                    row["seq"], ack.stream, ack.seq)
                published.append(Published(event.TYPE, ack.stream, ack.seq))
            # Past the duplicate window a re-publication would no longer be dropped by the server; the row's
            # job has long since seen its event applied (its own tables are the lasting record).
            await self.pool.execute(
                "DELETE FROM event_outbox WHERE published_at < now() - $1::interval", self.keep)
            return published
