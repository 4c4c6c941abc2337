"""The scraper's periodic jobs: metric reads at their checkpoints, and follower snapshots with attribution.

Exactly one MetricsScraped per tweet and checkpoint: after a gateway read, the read is marked done and the event
is written to the outbox in ONE transaction; the outbox is published after the commit, and again at start and
before every run for rows a crash left unpublished. A read already marked done records nothing, and the event's
natural ``Nats-Msg-Id`` (``metrics:<tweet>:<checkpoint>``) turns a re-publication into a JetStream duplicate.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Sequence
from datetime import datetime, timedelta

import asyncpg

from libs.bus.publish import EventPublisher
from libs.contracts.base import Envelope, Event
from libs.contracts.gateway import GatewayClient, GatewayError, TweetMetrics
from libs.contracts.registry import decode
from libs.runtime.clock import Clock
from services.scraper import metrics
from services.scraper.attribution import followers_snapshot
from services.scraper.checkpoints import due_reads, metrics_events, plan_batches
from services.scraper.metrics import due_backlog, gateway_failures, missed_reads, reads_taken, tweets_gone
from services.scraper.projections import (
    active_items, engagement_totals, items_since, last_followers, mark_read, note_gone, pending_due,
    record_engagement, record_followers,
)
from services.scraper.settings import ScraperSettings

log = logging.getLogger("xbot.scraper")

# Keep published outbox rows a while for inspection, then drop them: reads_done is the lasting record.
OUTBOX_KEEP = timedelta(days=1)


class Outbox:
    """Events recorded inside a transaction of the scraper's own tables, published after its commit."""

    def __init__(self, pool: asyncpg.Pool, publisher: EventPublisher, clock: Clock) -> None:
        self.pool = pool
        self.publisher = publisher
        self.clock = clock
        self._lock = asyncio.Lock()

    async def record(self, conn: asyncpg.Connection, events: Sequence[Event]) -> None:
        for event in events:
            env = Envelope.wrap(event, occurred_at=self.clock.now())
            await conn.execute(
                "INSERT INTO outbox (msg_id, event_type, envelope) VALUES ($1, $2, $3) ON CONFLICT DO NOTHING",
                env.msg_id(event), event.TYPE, env.model_dump_json())

    async def flush(self) -> int:
        """Publish every unpublished row in recording order; returns how many were sent."""
        async with self._lock:
            rows = await self.pool.fetch(
                "SELECT msg_id, envelope FROM outbox WHERE published_at IS NULL ORDER BY seq")
            for row in rows:
                envelope, event = decode(row["envelope"].encode())
                await self.publisher.publish_envelope(envelope, event)
                await self.pool.execute("UPDATE outbox SET published_at = now() WHERE msg_id = $1", row["msg_id"])
            await self.pool.execute("DELETE FROM outbox WHERE published_at < now() - $1::interval", OUTBOX_KEEP)
            return len(rows)


class ScraperJobs:
    def __init__(self, settings: ScraperSettings, *, pool: asyncpg.Pool, gateway: GatewayClient,
                 outbox: Outbox, clock: Clock) -> None:
        self.settings = settings
        self.pool = pool
        self.gateway = gateway
        self.outbox = outbox
        self.clock = clock
        self.last_snapshot: dict | None = None

    async def scrape(self) -> int:
        """Take every due read (missed first, then recent, then historical) in gateway batches at P1."""
        await self.outbox.flush()
        now = self.clock.now()
        async with self.pool.acquire() as conn:
            ordered = due_reads(await pending_due(conn, now), now=now)
        due_backlog.set(len(ordered))
        taken = 0
        for batch in plan_batches(ordered, batch_size=self.settings.scrape_batch_size):
            try:
                result = await self.gateway.tweet_metrics(list(batch.tweet_ids), author=self.settings.x_handle)
            except GatewayError as err:
                # The gateway is in trouble (breaker, session, DOM): stop here, the next run picks the rest up.
                gateway_failures.labels("tweet_metrics", err.code).inc()
                log.warning("metrics batch of %d failed: %s", len(batch.tweet_ids), err)
                break
            observed = self.clock.now()
            events = metrics_events(batch, result.items, observed_at=observed)
            found = {m.tweet_id for m in result.items}
            async with self.pool.acquire() as conn, conn.transaction():
                fresh = await mark_read(conn, events)
                await self.outbox.record(conn, fresh)
                # The gateway leaves a deleted tweet out of its answer.
                gone = await note_gone(conn, sorted(set(batch.tweet_ids) - found), sorted(found), observed)
            for tweet_id in gone:
                log.warning("tweet %s is gone from X: its remaining metric reads are dropped", tweet_id)
                tweets_gone.inc()
            for e in fresh:
                reads_taken.labels(e.checkpoint).inc()
                if e.missed:
                    missed_reads.labels(e.checkpoint).inc()
            taken += len(fresh)
            await self.outbox.flush()
        await self.show_metrics()
        return taken

    async def show_metrics(self) -> None:
        """Export the follower count and the engagement totals from the tables (at start and after each job)."""
        async with self.pool.acquire() as conn:
            totals, tweets = await engagement_totals(conn)
            last = await last_followers(conn, self.settings.x_handle)
        metrics.show_engagement(totals, tweets)
        if last is not None:
            metrics.show_followers(self.settings.x_handle, last.followers)

    async def snapshot_followers(self) -> None:
        """Our follower count, and its change since the last snapshot attributed to the items active meanwhile.

        The active items' counts are read first (so each read is stamped no later than the snapshot): an item
        posted inside the window has no checkpoint read yet, and without this read it would get no credit.
        """
        await self.outbox.flush()
        handle = self.settings.x_handle
        since = self.clock.now() - self.settings.attribution_lookback
        async with self.pool.acquire() as conn:
            items = await items_since(conn, since)
        ids = [i["tweet_id"] for i in items][: self.settings.followers_read_items_max]
        reads: list[tuple[str, datetime, TweetMetrics]] = []
        for start in range(0, len(ids), self.settings.scrape_batch_size):
            chunk = ids[start:start + self.settings.scrape_batch_size]
            try:
                result = await self.gateway.tweet_metrics(chunk, author=handle)
            except GatewayError as err:
                # Attribution falls back to the checkpoint reads (approximate); the count itself still matters.
                gateway_failures.labels("tweet_metrics", err.code).inc()
                log.warning("active item reads failed: %s", err)
                break
            at = self.clock.now()
            reads += [(m.tweet_id, at, m) for m in result.items]
        profile = await self.gateway.profile_snapshot(handle)
        observed = self.clock.now()
        async with self.pool.acquire() as conn, conn.transaction():
            await record_engagement(conn, reads)
            previous = await last_followers(conn, handle)
            window_start = previous.observed_at if previous else observed
            active = await active_items(conn, window_start - self.settings.attribution_lookback)
            event = followers_snapshot(handle=handle, followers=profile.followers, following=profile.following,
                                       observed_at=observed, previous=previous, items=active)
            await record_followers(conn, [event])
            await self.outbox.record(conn, [event])
        await self.outbox.flush()
        await self.show_metrics()
        self.last_snapshot = {"followers": event.followers, "delta": event.delta,
                              "observed_at": event.observed_at.isoformat(), "attributed": len(event.attribution)}
