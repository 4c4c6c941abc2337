"""The scraper's periodic jobs: metric reads at their checkpoints, follower snapshots with attribution, and the
account's posts from before xbot, read once (PastPostsRead, history.py).

Exactly one MetricsScraped per tweet and checkpoint: after a gateway read, the events of the reads not done yet
are recorded in the outbox in one transaction, published, and waited for until the projection of our own
stream has marked the reads done (read your own writes) before the next batch is planned. A read whose event
was published but not applied yet when a job starts is waited for the same way (``ctx.publish()`` first), and
the event's natural ``Nats-Msg-Id`` (``metrics:<tweet>:<checkpoint>``) turns a re-publication into a JetStream
duplicate.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from datetime import datetime, timedelta

from libs.contracts.events import CommunityNoteShown, PastPostsRead, TweetGone
from libs.contracts.gateway import GatewayError, TweetMetrics
from libs.runtime.context import JobContext, Worker
from libs.runtime.scheduler import Job
from services.scraper import metrics
from services.scraper.attribution import followers_snapshot
from services.scraper.checkpoints import batch_size, due_reads, metrics_events, plan_batches, reads_analytics
from services.scraper.history import past_posts
from services.scraper.metrics import budget_short, due_backlog, gateway_failures, missed_reads, reads_taken, tweets_gone
from services.scraper.projections import (
    active_items, engagement_totals, first_notes, first_post, last_followers, note_gone, past_posts_read, pending_due,
    readable_since, record_active_reads,
)
from services.scraper.settings import ScraperSettings

log = logging.getLogger("xbot.scraper")
# The past posts are read once; until a read succeeds (the gateway down, out of read budget) it is tried again
# this often, and after it the job only finds the read in its table.
PAST_POSTS_RETRY = timedelta(hours=1)


class ScraperJobs(Worker):
    def __init__(self, ctx: JobContext[ScraperSettings]) -> None:
        self.ctx = ctx
        self.settings = ctx.settings
        self.pool = ctx.pool
        self.gateway = ctx.gateway
        self.clock = ctx.clock
        self.last_snapshot: dict[str, object] | None = None
        # The gateway's activity budget refused a metrics read: until a run takes every due read again, the
        # newest posts' reads go first and older posts' checkpoints are thinned (checkpoints.py).
        self.budget_short = False

    def jobs(self) -> Sequence[Job]:
        return (Job("scrape", self.settings.scrape_interval, self.scrape),
                # At irregular times, as its owner would look: through the browser each count opens the own
                # profile, and X's automation detection reads a page opened at a metronome's pace.
                Job("followers", self.settings.followers_interval, self.snapshot_followers, irregular=True),
                Job("past_posts", PAST_POSTS_RETRY, self.read_past_posts))

    async def start(self) -> None:
        # Followers and engagement from the tables, before /metrics answers (no false 0 after a restart).
        await self.show_metrics()

    async def status(self) -> dict[str, object]:
        row = await self.pool.fetchrow(
            "SELECT (SELECT count(*) FROM scrape_reads s WHERE s.due_at <= $1 AND NOT EXISTS (SELECT 1 FROM "
            "reads_done d WHERE d.tweet_id = s.tweet_id AND d.checkpoint = s.checkpoint)) AS due, "
            "(SELECT count(*) FROM reads_done) AS reads_done, "
            "(SELECT posts FROM past_posts_read WHERE handle = $2) AS past_posts",
            self.clock.now(), self.settings.x_handle.lower())
        # past_posts: how many of the account's posts from before xbot were read; None until they are.
        return {**dict(row), "unpublished": await self.ctx.outbox.pending(), "last_snapshot": self.last_snapshot,
                "budget_short": self.budget_short}

    async def scrape(self) -> int:
        """Take every due read (missed first, then recent, then historical; while the read budget is short the
        reward checkpoints first, then newest post first) in gateway batches at P1."""
        await self.ctx.publish()  # what an earlier run or process recorded is applied before planning reads
        now = self.clock.now()
        reward_hours = self.settings.scrape_reward_checkpoint_hours
        async with self.pool.acquire() as conn:
            ordered = due_reads(await pending_due(conn, now), now=now, budget_short=self.budget_short,
                                reward_hours=reward_hours)
        due_backlog.set(len(ordered))
        budget_short.set(int(self.budget_short))
        taken, refused = 0, False
        size = batch_size(self.settings.scrape_batch_size, budget_short=self.budget_short)
        for batch in plan_batches(ordered, batch_size=size):
            visits = reads_analytics(batch, budget_short=self.budget_short, reward_hours=reward_hours)
            try:
                result = await self.gateway.tweet_metrics(list(batch.tweet_ids), author=self.settings.x_handle,
                                                          with_profile_visits=visits)
            except GatewayError as err:
                # The gateway is in trouble (breaker, session, DOM) or out of read budget: stop here, the next run
                # picks the rest up (after a budget refusal, newest posts first).
                gateway_failures.labels("tweet_metrics", err.code).inc()
                log.warning("metrics batch of %d failed: %s", len(batch.tweet_ids), err)
                refused = err.code == "budget_exhausted"
                if refused and not self.budget_short:
                    log.warning("read budget short: newest posts' metric reads first, older checkpoints thinned")
                break
            observed = self.clock.now()
            events = metrics_events(batch, result.items, observed_at=observed)
            found = {m.tweet_id for m in result.items}
            fresh = []
            async with self.pool.acquire() as conn, conn.transaction():
                for e in events:
                    if await self.ctx.outbox.record(conn, e):
                        fresh.append(e)
                # The gateway leaves a deleted tweet out of its answer. One gone for good is told to the others
                # (TweetGone): the owner deleted it on X, or X removed it.
                gone = await note_gone(conn, sorted(set(batch.tweet_ids) - found), sorted(found), observed)
                # A Community Note under one of our tweets, told once (notes_told: every later read finds it too).
                noted = await first_notes(conn, [m.tweet_id for m in result.items if m.noted], observed)
                reads = {r.tweet_id: r for r in batch.reads}
                for told, tweet_ids in ((TweetGone, gone), (CommunityNoteShown, noted)):
                    for tweet_id in tweet_ids:
                        read = reads[tweet_id]
                        await self.ctx.outbox.record(conn, told(tweet_id=tweet_id, content_id=read.content_id,
                                                                kind=read.kind, noticed_at=observed))
            for tweet_id in gone:
                log.warning("tweet %s is gone from X: its remaining metric reads are dropped", tweet_id)
                tweets_gone.inc()
            for e in fresh:
                reads_taken.labels(e.checkpoint).inc()
                if e.missed:
                    missed_reads.labels(e.checkpoint).inc()
            taken += len(fresh)
            await self.ctx.publish()  # the reads are done in the tables before the next batch is planned
        else:
            self.budget_short = False  # every due read was taken: the budget is enough again
        self.budget_short = self.budget_short or refused
        budget_short.set(int(self.budget_short))
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
        await self.ctx.publish()  # the previous snapshot is in follower_series before this one is taken
        handle = self.settings.x_handle
        since = self.clock.now() - self.settings.attribution_lookback
        async with self.pool.acquire() as conn:
            ids = (await readable_since(conn, since))[: self.settings.followers_read_items_max]
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
        try:
            profile = await self.gateway.profile_snapshot(handle)
        except GatewayError as err:
            gateway_failures.labels("profile_snapshot", err.code).inc()
            if err.code != "budget_exhausted":
                raise
            # Out of read budget: the next run takes the snapshot (the series gets a longer window, not a gap).
            log.warning("follower snapshot deferred: %s", err)
            return
        observed = self.clock.now()
        async with self.pool.acquire() as conn, conn.transaction():
            await record_active_reads(conn, reads)
            previous = await last_followers(conn, handle)
            window_start = previous.observed_at if previous else observed
            active = await active_items(conn, window_start - self.settings.attribution_lookback)
            event = followers_snapshot(handle=handle, followers=profile.followers, following=profile.following,
                                       observed_at=observed, previous=previous, items=active)
            await self.ctx.outbox.record(conn, event)
        await self.ctx.publish()
        await self.show_metrics()
        self.last_snapshot = {"followers": event.followers, "delta": event.delta,
                              "observed_at": event.observed_at.isoformat(), "attributed": len(event.attribution)}

    async def read_past_posts(self) -> int | None:
        """Once per handle: the account's newest profile posts, those from before xbot kept (history.py), as one
        PastPostsRead. Returns how many were kept; None when they were read before, are not wanted, or the read
        failed (the next run tries again)."""
        handle, limit = self.settings.x_handle, self.settings.scrape_past_posts
        if limit == 0:
            return None
        await self.ctx.publish()  # an earlier run's event is in past_posts_read before we look
        async with self.pool.acquire() as conn:
            if await past_posts_read(conn, handle):
                return None
            before = await first_post(conn)
        try:
            # P1, the metrics class (the gateway's class_of): the account's own posts, read once, which the
            # learner's first model starts from. As background work (the request's default P2) it waited behind the
            # harvester's profile reads: a 3-day demo never found 40 posts of room in that class and never read them.
            found = await self.gateway.own_timeline(limit=limit, priority=1)
        except GatewayError as err:
            gateway_failures.labels("own_timeline", err.code).inc()
            log.warning("the account's past posts were not read (tried again in %s): %s", PAST_POSTS_RETRY, err)
            return None
        now = self.clock.now()
        event = PastPostsRead(handle=handle, observed_at=now,
                              posts=past_posts(found.tweets, handle=handle, now=now, first_post=before))
        async with self.pool.acquire() as conn, conn.transaction():
            await self.ctx.outbox.record(conn, event)
        await self.ctx.publish()
        log.info("read %d of the account's posts from before xbot (of %d on its profile)", len(event.posts),
                 len(found.tweets))
        return len(event.posts)
