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

    def _readers(self, stream: str) -> list[Position]:
        return [(c.durable(self.namespace), stream) for c in self.consumers if c.stream(self.namespace) == stream]

    async def wait_applied(self, published: Iterable[Published], *, timeout: timedelta = DEFAULT_TIMEOUT) -> None:
        """Until every projection of this service that reads the stream of each published event has applied it.
        An event no projection of this service reads needs no wait."""
        targets: dict[Position, int] = {}
        for p in published:
            for position in self._readers(p.stream):
                targets[position] = max(targets.get(position, 0), p.seq)
        await self._wait(targets, timeout)

    async def wait_caught_up(self, *, timeout: timedelta = DEFAULT_TIMEOUT) -> None:
        """Until every projection has applied what each stream it reads held when this was called."""
        targets: dict[Position, int] = {}
        for spec in self.consumers:
            stream = spec.stream(self.namespace)
            targets[(spec.durable(self.namespace), stream)] = (await self.js.stream_info(stream)).state.last_seq
        await self._wait(targets, timeout)

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
