"""Composition root of the harvester: the opportunity pool and discovered accounts projected from events, the
harvest job (search through the gateway at P1 -> OpportunityFound / OpportunityExpired) and the discovery job
(-> AccountDiscovered, and their recent tweets into the pool). Domain logic: queries.py, selection.py,
discovery.py."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

from libs.contracts.gateway import GatewayClient
from libs.runtime.service import Service
from services.harvester import projections
from services.harvester.jobs import HarvesterJobs
from services.harvester.settings import HarvesterSettings

NAME = "harvester"
MIGRATIONS = Path(__file__).parent / "migrations"
Settings = HarvesterSettings


def build(settings: HarvesterSettings) -> Service:
    svc = Service(NAME, settings, migrations=MIGRATIONS)
    projections.register(svc)
    # The harvest job's cursors and caches: no event carries them.
    svc.keep_on_replay("query_state", "harvest_state", "author_profiles", "deletion_checks")
    gateway = GatewayClient(svc.broker, settings.namespace)
    jobs: list[HarvesterJobs] = []  # made at start, once the pool exists

    @svc.on_start
    async def make_jobs() -> None:
        assert svc.pool is not None
        jobs.append(HarvesterJobs(settings, pool=svc.pool, gateway=gateway, publisher=svc.publisher,
                                  clock=svc.clock))

    # Offsets: let the consumers catch up on the pool before the first harvest, and let discovery start from
    # what that harvest found.
    @svc.job("harvest", settings.harvest_interval, offset=min(timedelta(minutes=1), settings.harvest_interval))
    async def harvest() -> None:
        await jobs[0].harvest()

    @svc.job("discovery", settings.discovery_interval,
             offset=min(timedelta(minutes=10), settings.discovery_interval))
    async def discovery() -> None:
        await jobs[0].discover()

    async def status() -> dict:
        assert svc.pool is not None
        row = await svc.pool.fetchrow(
            "SELECT (SELECT count(*) FROM opportunities WHERE expired_at IS NULL) AS pool, "
            "(SELECT count(*) FROM opportunities) AS found, (SELECT count(*) FROM accounts) AS accounts")
        return {**dict(row), "embedder": jobs[0].embedder_kind if jobs else None,
                "last": jobs[0].last if jobs else {}}

    svc.status("harvester", status)
    return svc
