"""Composition root of the scraper: the read schedule projected from TweetPosted, the scrape job (checkpoint
reads through the gateway at P1 -> MetricsScraped) and the followers job (profile snapshot ->
FollowersSnapshotted with attribution). Domain logic: checkpoints.py, attribution.py."""

from __future__ import annotations

from pathlib import Path

from libs.contracts.gateway import GatewayClient
from libs.runtime.service import Service
from services.scraper import projections
from services.scraper.checkpoints import checkpoints_from
from services.scraper.jobs import Outbox, ScraperJobs
from services.scraper.settings import ScraperSettings

NAME = "scraper"
MIGRATIONS = Path(__file__).parent / "migrations"
Settings = ScraperSettings


def build(settings: ScraperSettings) -> Service:
    svc = Service(NAME, settings, migrations=MIGRATIONS)
    projections.register(svc, checkpoints_from(settings), missed_fraction=settings.scrape_missed_fraction)
    svc.keep_on_replay("outbox")  # reads not yet on the stream live only here
    svc.keep_on_replay("engagement_reads", merge=True)  # the follower snapshot's reads of active items are no event
    svc.keep_on_replay("gone_tweets")  # what the scrape job saw missing on X
    gateway = GatewayClient(svc.broker, settings.namespace)
    jobs: list[ScraperJobs] = []  # made at start, once the pool exists

    @svc.on_start
    async def publish_leftovers() -> None:
        assert svc.pool is not None
        jobs.append(ScraperJobs(settings, pool=svc.pool, gateway=gateway,
                                outbox=Outbox(svc.pool, svc.publisher, svc.clock), clock=svc.clock))
        # Events a crash left between commit and publish go out before anything new is read.
        await jobs[0].outbox.flush()
        # Followers and engagement from the tables, before /metrics answers (no false 0 after a restart).
        await jobs[0].show_metrics()

    @svc.job("scrape", settings.scrape_interval)
    async def scrape() -> None:
        await jobs[0].scrape()

    @svc.job("followers", settings.followers_interval)
    async def followers() -> None:
        await jobs[0].snapshot_followers()

    async def status() -> dict:
        assert svc.pool is not None
        row = await svc.pool.fetchrow(
            "SELECT (SELECT count(*) FROM scrape_reads s WHERE s.due_at <= $1 AND NOT EXISTS (SELECT 1 FROM "
            "reads_done d WHERE d.tweet_id = s.tweet_id AND d.checkpoint = s.checkpoint)) AS due, "
            "(SELECT count(*) FROM reads_done) AS reads_done, "
            "(SELECT count(*) FROM outbox WHERE published_at IS NULL) AS unpublished", svc.clock.now())
        return {**dict(row), "last_snapshot": jobs[0].last_snapshot if jobs else None}

    svc.status("scraper", status)
    return svc
