"""Restarting the infrastructure under a running service (shared by the CI test and ``xbot bench chaos``).

The poster runs in-process against a NATS and a PostgreSQL of our own; ContentQueued events are published in
rounds; NATS is SIGKILLed and restarted, then PostgreSQL is stopped (immediate mode: crash recovery) while
events keep arriving, and restarted. The service must reconnect without help, its ``/ready`` must go false and
then true, and the queue must hold every published item exactly once.
"""

from __future__ import annotations

import asyncio
import time
import uuid
from dataclasses import dataclass, field

import aiohttp
import asyncpg

from libs.bus.broker import make_broker
from libs.bus.provision import provision_streams
from libs.bus.publish import EventPublisher
from libs.bus.streams import stream_name
from libs.core.clock import Clock
from libs.bus.nats import connect
from libs.core.settings import CommonSettings
from tests.chaos import system
from tests.chaos.poison import blocked_item
from tests.chaos.servers import OwnNats, OwnPostgres


@dataclass
class RestartReport:
    restarts: dict[str, int] = field(default_factory=lambda: {"nats": 0, "postgres": 0})
    published: int = 0
    queued_rows: int = 0
    total_rows: int = 0
    stream_messages: int = 0
    position: int = 0
    not_ready_seen: dict[str, bool] = field(default_factory=dict)
    seconds_to_ready: dict[str, list[float]] = field(default_factory=dict)
    violations: list[str] = field(default_factory=list)


async def _ready(session: aiohttp.ClientSession, url: str) -> bool:
    try:
        async with session.get(url, timeout=aiohttp.ClientTimeout(total=5)) as r:
            return r.status == 200
    except (aiohttp.ClientError, TimeoutError):
        return False


async def _until(session, url: str, want: bool, timeout: float) -> float | None:
    """Seconds until /ready answers ``want``; None if it never did within ``timeout``."""
    t0 = time.monotonic()
    while time.monotonic() - t0 < timeout:
        if await _ready(session, url) == want:
            return time.monotonic() - t0
        await asyncio.sleep(0.1)
    return None


def _item():
    return blocked_item().model_copy(update={"content_id": f"restart-{uuid.uuid4().hex[:12]}"})


async def run(*, rounds: int = 1, per_round: int = 20) -> RestartReport:
    nats, pg = OwnNats(), OwnPostgres()
    report = RestartReport()
    nats.start()
    pg.start()
    settings = CommonSettings(nats_url=nats.url, database_url=pg.url, namespace="chaos")
    nc = await connect(settings, name="chaos-setup")
    await provision_streams(nc.jetstream(), settings.namespace)
    await system.pause_writes(nc.jetstream(), settings.namespace, "chaos restarts: no posting")
    await nc.close()
    svc = system.build("poster", settings)
    await svc.provision()
    await svc.start()
    producer = make_broker(settings, service="chaos-producer")
    await producer.connect()
    publisher = EventPublisher(producer, settings, Clock(), "chaos-producer")
    ready = f"{svc.health.url}/ready"

    async def publish(n: int) -> None:
        for _ in range(n):
            await publisher.publish(_item())
            report.published += 1

    async def rows() -> int:
        conn = await asyncpg.connect(pg.url)
        try:
            return await conn.fetchval("SELECT count(DISTINCT content_id) FROM poster.queue")
        finally:
            await conn.close()

    async def restart(what: str, session, stop, start, during=None) -> None:
        stop()
        went_down = await _until(session, ready, False, 30)
        report.not_ready_seen[what] = report.not_ready_seen.get(what, True) and went_down is not None
        if during:
            await during()
        t0 = time.monotonic()
        start()
        report.restarts[what] += 1
        back = await _until(session, ready, True, 90)
        if back is None:
            report.violations.append(f"/ready stayed false for 90 s after {what} came back")
        report.seconds_to_ready.setdefault(what, []).append(round(time.monotonic() - t0, 2))

    try:
        async with aiohttp.ClientSession() as session:
            if await _until(session, ready, True, 30) is None:
                report.violations.append("the poster never became ready")
            await publish(per_round)
            for _ in range(rounds):
                await restart("nats", session, nats.kill, nats.start)
                await publish(per_round)  # the producer's connection reconnected too
                # Events keep arriving while the database is down; they are applied once it is back.
                await restart("postgres", session, pg.stop, pg.start, during=lambda: publish(per_round))
            deadline = time.monotonic() + 60
            while (n := await rows()) < report.published and time.monotonic() < deadline:
                await asyncio.sleep(0.2)
        report.queued_rows = n
        conn = await asyncpg.connect(pg.url)
        try:
            report.position = await conn.fetchval("SELECT max(stream_seq) FROM poster.tracking") or 0
            total = report.total_rows = await conn.fetchval("SELECT count(*) FROM poster.queue")
        finally:
            await conn.close()
        nc = await connect(settings, name="chaos-check")
        info = await nc.jetstream().stream_info(stream_name(settings.namespace, "planner"))
        report.stream_messages = info.state.messages
        await nc.close()
        if report.stream_messages != report.published:
            report.violations.append(f"stream holds {report.stream_messages} of {report.published} published")
        if report.queued_rows != report.published or total != report.published:
            report.violations.append(f"queue holds {total} rows ({report.queued_rows} distinct) "
                                     f"for {report.published} published items")
        if report.position != report.stream_messages:
            report.violations.append(f"tracking at {report.position}, stream at {report.stream_messages}")
        for what, seen in report.not_ready_seen.items():
            if not seen:
                report.violations.append(f"/ready never went false while {what} was down")
    finally:
        await producer.stop()
        await svc.stop()
        nats.close()
        pg.close()
    return report
