"""Composition root of the poster: the queue projection, the posting cycle job, the live guard, status."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

from libs.bus.broker import jetstream
from libs.bus.streams import kv_bucket
from libs.contracts.gateway import GatewayClient
from libs.runtime.service import Service
from services.poster import failpoints, projections
from services.poster.live_guard import check_target
from services.poster.settings import PosterSettings
from services.poster.worker import PostingCycle

NAME = "poster"
MIGRATIONS = Path(__file__).parent / "migrations"
Settings = PosterSettings


def build(settings: PosterSettings) -> Service:
    # Refuse before connecting to anything: a wrong base URL must not post to a real account.
    target = check_target(settings.x_base_url, live=settings.live, sandbox_hosts=settings.x_sandbox_hosts)
    failpoints.armed()  # a misspelt failpoint fails loudly instead of silently doing nothing
    service = Service(NAME, settings, migrations=MIGRATIONS)
    projections.register(service)
    # The posting cycle's own records; the queue rows it advances keep their status, attempts and tweet ids.
    service.keep_on_replay("attempts", "history", "poster_state", "outbox")
    service.keep_on_replay("queue", merge=True)
    holder: dict[str, PostingCycle] = {}

    @service.on_start
    async def start_cycle() -> None:
        kv = await jetstream(service.broker).key_value(kv_bucket(service.namespace, "control"))
        cycle = PostingCycle(
            settings=settings, clock=service.clock, pool=service.pool,  # type: ignore[arg-type]
            gateway=GatewayClient(service.broker, service.namespace, timeout=settings.gateway_timeout_s_real),
            publisher=service.publisher, control_kv=kv)
        await cycle.record_start()
        holder["cycle"] = cycle

    # Offset 0: the first cycle (reconcile first, then post) runs as soon as the service is up.
    @service.job("post_cycle", interval=timedelta(seconds=settings.cycle_s), jitter=0.1)
    async def post_cycle() -> None:
        await holder["cycle"].run()

    async def posting() -> dict:
        if "cycle" not in holder:
            return {"started": False}
        return {"target": target, **await holder["cycle"].describe()}

    service.status("posting", posting)
    return service
