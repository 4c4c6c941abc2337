"""What a service's jobs are built from: one typed context, made once the service has started.

A service's composition (``services/<name>/app.py``) declares its projections and hands a factory to
``Service.runs``; at start the runtime builds the :class:`JobContext` (the pool, the outbox, the gateway client,
the kill switch, read-your-writes, the clock and the settings, all connected) and calls the factory with it. The
factory returns the service's :class:`Worker`: its periodic jobs and what it reports on ``/status``. Nothing is
wired in two phases and nothing needs to check whether the pool exists yet.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import timedelta
from typing import Any, ClassVar, Generic, TypeVar

import asyncpg

from libs.bus.control import KillSwitch
from libs.bus.gateway import GatewayClient
from libs.core.clock import Clock
from libs.core.settings import CommonSettings
from libs.runtime.scheduler import Job
from libs.store.outbox import Outbox, Published
from libs.store.tracking import DEFAULT_TIMEOUT, Tracking

S = TypeVar("S", bound=CommonSettings)


@dataclass(frozen=True)
class JobContext(Generic[S]):
    service: str
    settings: S
    clock: Clock
    pool: asyncpg.Pool
    outbox: Outbox
    gateway: GatewayClient
    kill_switch: KillSwitch
    tracking: Tracking

    async def publish(self, *, timeout: timedelta = DEFAULT_TIMEOUT) -> list[Published]:
        """Publish what this service's jobs recorded in the outbox, then wait until this service's own
        projections have applied it (read your own writes); returns where the streams put the events."""
        published = await self.outbox.flush()
        await self.tracking.wait_applied(published, timeout=timeout)
        return published

    async def wait_applied(self, published: Iterable[Published], *, timeout: timedelta = DEFAULT_TIMEOUT) -> None:
        await self.tracking.wait_applied(published, timeout=timeout)

    async def wait_caught_up(self, *, timeout: timedelta = DEFAULT_TIMEOUT) -> None:
        """Until the projections have applied everything the streams they read hold now."""
        await self.tracking.wait_caught_up(timeout=timeout)


class Worker:
    """What a service runs once started: its periodic jobs, and what it reports. Subclasses override what they
    need; the runtime publishes the outbox after every job run."""

    # The name of its block in ``/status`` (the service's name when unset).
    status_block: ClassVar[str | None] = None

    def jobs(self) -> Sequence[Job]:
        return ()

    async def start(self) -> None:
        """Before the first job runs (after the outbox left by a previous process was published)."""

    async def stop(self) -> None:
        """After the last job run, before the pool closes."""

    async def status(self) -> dict[str, Any]:
        """The service's block of ``/status`` (and so of ``xbot status``)."""
        return {}
