"""Who gets a browser context next: strict priority P0 > P1 > P2, FIFO within a class.

``slots`` contexts exist; ``reserved_for_p0`` of them are never handed to P1/P2, so a P0 op (a post) finds a
context at once even when hundreds of background ops are queued. A waiter that is not served within its
class's queue timeout (simulated seconds on the Clock) gets ``timeout``.
"""

from __future__ import annotations

import asyncio
import time
from collections import deque
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager

from libs.core.clock import Clock
from services.browser_gateway.errors import op_error

PRIORITIES = (0, 1, 2)
DEFAULT_QUEUE_TIMEOUTS = {0: 60.0, 1: 120.0, 2: 300.0}


class Arbiter:
    def __init__(
        self,
        *,
        slots: int,
        clock: Clock,
        reserved_for_p0: int = 1,
        queue_timeouts: dict[int, float] | None = None,
        on_depth: Callable[[int, int], None] | None = None,
        on_wait: Callable[[int, float], None] | None = None,
    ) -> None:
        if slots < 1:
            raise ValueError("at least one context slot")
        self.slots = slots
        # With a single slot nothing can be reserved: P0 still jumps the queue but may wait for the op running.
        self.reserved = min(reserved_for_p0, slots - 1)
        self.clock = clock
        self.queue_timeouts = {**DEFAULT_QUEUE_TIMEOUTS, **(queue_timeouts or {})}
        self.in_use = 0
        self._waiters: dict[int, deque[asyncio.Future[None]]] = {p: deque() for p in PRIORITIES}
        self._on_depth = on_depth or (lambda p, d: None)
        self._on_wait = on_wait or (lambda p, s: None)
        # Order in which leases were granted, as (priority, tag): lets tests and the benchmark check ordering.
        self.grants: list[tuple[int, object]] = []

    def depth(self, priority: int) -> int:
        return sum(1 for f in self._waiters[priority] if not f.done())

    def _may_take(self, priority: int) -> bool:
        free = self.slots - self.in_use
        return free > 0 if priority == 0 else free > self.reserved

    def _dispatch(self) -> None:
        for p in PRIORITIES:
            queue = self._waiters[p]
            while queue and self._may_take(p):
                fut = queue.popleft()
                if fut.done():  # timed out or cancelled while queued
                    continue
                self.in_use += 1
                fut.set_result(None)
            self._on_depth(p, self.depth(p))
            # Strict priority: a lower class never overtakes a waiting higher one.
            if queue and p > 0:
                break

    async def acquire(self, priority: int, tag: object = None) -> None:
        if priority not in PRIORITIES:
            raise ValueError(f"priority must be one of {PRIORITIES}")
        started = time.monotonic()
        fut: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self._waiters[priority].append(fut)
        self._dispatch()
        if not fut.done():
            self._on_depth(priority, self.depth(priority))
            timeout = self.clock.real_seconds(self.queue_timeouts[priority])
            try:
                await asyncio.wait_for(asyncio.shield(fut), timeout)
            except TimeoutError:
                if not self._abandon(fut):
                    raise op_error("timeout", f"P{priority} op waited {self.queue_timeouts[priority]:.0f}s "
                                              "(simulated) for a browser context") from None
            except asyncio.CancelledError:
                if self._abandon(fut):
                    self.release()
                raise
        self.grants.append((priority, tag))
        self._on_wait(priority, time.monotonic() - started)

    def _abandon(self, fut: asyncio.Future[None]) -> bool:
        """Withdraw a waiter; True when it had been granted meanwhile (the caller then owns the lease)."""
        if fut.done() and not fut.cancelled():
            return True
        fut.cancel()
        for p in PRIORITIES:
            self._on_depth(p, self.depth(p))
        return False

    def release(self) -> None:
        self.in_use -= 1
        self._dispatch()

    @asynccontextmanager
    async def lease(self, priority: int, tag: object = None) -> AsyncIterator[None]:
        await self.acquire(priority, tag)
        try:
            yield
        finally:
            self.release()
