"""Where a service's projections stand in the streams they read, as an API: read your own writes.

The tracking table (``(consumer, stream, stream_seq)``, moved in the transaction of every applied batch) is the
only record of how far a projection got; this module is the only code that reads it (besides the runner that
writes it and replay). Two questions are asked of it:

- :meth:`Tracking.wait_applied`: have this service's projections applied the events it just published (their
  stream positions come from the PubAcks)? A job that must see its own events in its tables before going on.
- :meth:`Tracking.wait_caught_up`: have they applied everything every stream they read held a moment ago?
  A job that plans from the projections (the planner's run) and must not act on a stale picture.

Both wake when a runner of this process commits a batch and otherwise poll, so a projection applied by another
replica of the service is seen too.
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterable, Sequence
from datetime import timedelta
from typing import Any

import asyncpg

from libs.bus.streams import ConsumerSpec
from libs.store.outbox import Published

POLL = 0.1  # real seconds between reads of the table when no commit of this process wakes the waiter
DEFAULT_TIMEOUT = timedelta(seconds=60)

Position = tuple[str, str]  # (durable consumer, stream)


class ProjectionsBehind(TimeoutError):
    """The projections did not reach the positions asked for in time (the detail names each one)."""


class Tracking:
    def __init__(self, pool: asyncpg.Pool, consumers: Sequence[ConsumerSpec], namespace: str, js: Any) -> None:
        self.pool = pool
        self.consumers = list(consumers)
        self.namespace = namespace
        self.js = js
        self._committed = asyncio.Event()

    def committed(self) -> None:
        """A runner of this process moved a position: wake the waiters."""
        self._committed.set()

    async def positions(self) -> dict[Position, int]:
        rows = await self.pool.fetch("SELECT consumer, stream, stream_seq FROM tracking")
        return {(r["consumer"], r["stream"]): r["stream_seq"] for r in rows}

    def _readers(self, p: Published) -> list[Position]:
        # A filtered durable (libs.store.projection.Projection.filtered) reads its one event of the stream only.
        return [(c.durable(self.namespace), p.stream) for c in self.consumers
                if c.stream(self.namespace) == p.stream and c.reads(p.event_type)]

    async def wait_applied(self, published: Iterable[Published], *, timeout: timedelta = DEFAULT_TIMEOUT) -> None:
        """Until every projection of this service that reads each published event has applied it. An event no
        projection of this service reads needs no wait."""
        targets: dict[Position, int] = {}
        for p in published:
            for position in self._readers(p):
                targets[position] = max(targets.get(position, 0), p.seq)
        await self._wait(targets, timeout)

    async def wait_caught_up(self, *, timeout: timedelta = DEFAULT_TIMEOUT) -> None:
        """Until every projection has applied what each stream it reads held when this was called."""
        targets: dict[Position, int] = {}
        filtered = []
        for spec in self.consumers:
            stream, durable = spec.stream(self.namespace), spec.durable(self.namespace)
            if spec.filter_event is None:
                targets[(durable, stream)] = (await self.js.stream_info(stream)).state.last_seq
            else:
                filtered.append((stream, durable))
        await self._wait(targets, timeout)
        for stream, durable in filtered:
            await self._drained(stream, durable, timeout)

    async def _drained(self, stream: str, durable: str, timeout: timedelta) -> None:
        """Until a filtered durable has no event of its filter left to deliver nor any delivered unacknowledged (a
        runner acks after its commit). Its stream's last event is usually another's, and the position it delivered
        to may lie past its own last event, so neither says where its projection must get to."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout.total_seconds()
        while True:
            info = await self.js.consumer_info(stream, durable)
            if not info.num_pending and not info.num_ack_pending:
                return
            if loop.time() >= deadline:
                raise ProjectionsBehind(f"projections behind after {timeout}: {durable} has {info.num_pending} "
                                        f"events of its filter to deliver and {info.num_ack_pending} to apply")
            await asyncio.sleep(POLL)

    async def _wait(self, targets: dict[Position, int], timeout: timedelta) -> None:
        if not targets:
            return
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout.total_seconds()
        while True:
            self._committed.clear()
            at = await self.positions()
            behind = {k: (at.get(k, 0), seq) for k, seq in targets.items() if at.get(k, 0) < seq}
            if not behind:
                return
            left = deadline - loop.time()
            if left <= 0:
                detail = ", ".join(f"{c} at {have} of {want}" for (c, _), (have, want) in sorted(behind.items()))
                raise ProjectionsBehind(f"projections behind after {timeout}: {detail}")
            try:
                await asyncio.wait_for(self._committed.wait(), timeout=min(POLL, left))
            except TimeoutError:
                pass
