"""The harvester's periodic jobs: harvest (search -> OpportunityFound, expiry -> OpportunityExpired) and account
discovery (profiles -> AccountDiscovered, their recent tweets -> the pool). All gateway calls run at P1.

Idempotency: a tweet id already in the ``opportunities`` table (every id ever found, expired or not) is never
selected again. The jobs record their events in the outbox, publish them and wait until the pool projection has
applied them (read your own writes) before they count or select again, and the event's natural key
(``opp:<tweet_id>``) makes a re-publication after a crash a JetStream duplicate.
"""

from __future__ import annotations

import asyncio
import dataclasses
import logging
from collections.abc import Iterable, Sequence
from datetime import datetime, timedelta

import aiohttp
from prometheus_client import Counter, Gauge

from libs.contracts.base import Event
from libs.contracts.events import AccountRefreshed, NewsItemFound, OpportunityFound, PersonalDataPurged
from libs.contracts.gateway import GatewayError
from libs.core.account import handle_key
from libs.runtime.context import JobContext, Worker
from libs.runtime.scheduler import Job
from libs.text import Embedder
from services.harvester import projections as db
from services.harvester.discovery import (
    GONE, AuthorProfile, DiscoveryCriteria, Gone, candidate_authors, discover_accounts, engagement_rate,
)
from services.harvester.conversations import conversation_opportunities
from services.harvester.formats import format_insights
from services.harvester.news import FeedError, fresh_news, parse_feed
from services.harvester.queries import author_recent_query, harvest_queries
from services.harvester.selection import (
    RULES_ONLY, Readers, SearchedTweet, Thresholds, TopicRelevance, expire_opportunities, searched_tweet,
    select_opportunities, should_harvest,
)
from services.harvester.settings import HarvesterSettings

log = logging.getLogger("xbot.harvester")

rejected_total = Counter("xbot_harvester_rejected_total", "Searched tweets not taken as opportunities", ["reason"])
found_total = Counter("xbot_harvester_opportunities_found_total", "OpportunityFound published", ["source"])
expired_total = Counter("xbot_harvester_opportunities_expired_total", "OpportunityExpired published", ["reason"])
discovered_total = Counter("xbot_harvester_accounts_discovered_total", "AccountDiscovered published")
pool_size_gauge = Gauge("xbot_harvester_pool_size", "Opportunities in the pool at the last harvest")
gateway_failures = Counter("xbot_harvester_gateway_failures_total", "Gateway calls that failed", ["op", "code"])

refreshed_total = Counter("xbot_harvester_accounts_refreshed_total", "AccountRefreshed published")
news_found = Counter("xbot_harvester_news_found_total", "NewsItemFound published")
news_failures = Counter("xbot_harvester_news_failures_total", "News feeds that could not be read", ["feed"])
news_withheld = Counter("xbot_harvester_news_withheld_total",
                        "Fresh news items not published: instructions planted for a model, or promotional", ["reason"])
NEWS_USER_AGENT = "xbot-harvester/1 (news reader)"
MAX_FEED_BYTES = 5_000_000

METRICS_BATCH = 50  # TweetMetricsRequest takes at most 50 ids


class HarvesterJobs(Worker):
    def __init__(self, ctx: JobContext[HarvesterSettings]) -> None:
        self.ctx = ctx
        self.settings = ctx.settings
        self.pool = ctx.pool
        self.gateway = ctx.gateway
        self.clock = ctx.clock
        self._relevance: TopicRelevance | None = None
        self.embedder_kind = "lexical"
        # Harvest and discovery both add to the pool: one at a time, so the pool cap holds.
        self._lock = asyncio.Lock()
        self.last: dict[str, dict[str, object]] = {}
        self._news_withheld: set[str] = set()  # news items withheld so far (logged and counted once)
        self.readers = RULES_ONLY  # by meaning too once relevance() has loaded the embedder

    def jobs(self) -> Sequence[Job]:
        s = self.settings
        # Offsets: let the consumers catch up on the pool before the first harvest, and let discovery start from
        # what that harvest found.
        return (Job("harvest", s.harvest_interval, self.harvest, offset=min(timedelta(minutes=1), s.harvest_interval)),
                Job("discovery", s.discovery_interval, self.discover,
                    offset=min(timedelta(minutes=10), s.discovery_interval)),
                Job("format_insights", s.format_insights_interval, self.publish_format_insights,
                    offset=min(timedelta(hours=1), s.format_insights_interval)),
                Job("refresh_accounts", s.account_refresh_interval, self.refresh_accounts,
                    offset=min(timedelta(minutes=30), s.account_refresh_interval)),
                Job("news", s.news_interval, self.read_news, offset=min(timedelta(minutes=2), s.news_interval)),
                Job("conversations", s.conversations_interval, self.read_conversations,
                    offset=min(timedelta(minutes=5), s.conversations_interval)),
                Job("purge", s.personal_data_purge_interval, self.purge_personal_data,
                    offset=min(timedelta(minutes=20), s.personal_data_purge_interval)))

    async def status(self) -> dict[str, object]:
        row = await self.pool.fetchrow(
            "SELECT (SELECT count(*) FROM opportunities WHERE expired_at IS NULL) AS pool, "
            "(SELECT count(*) FROM opportunities) AS found, (SELECT count(*) FROM accounts) AS accounts")
        return {**dict(row), "embedder": self.embedder_kind, "last": self.last}

    async def _emit(self, events: Sequence[Event]) -> None:
        """Record the events in the outbox, publish them, and wait until the pool projection has applied them."""
        async with self.pool.acquire() as conn, conn.transaction():
            for e in events:
                await self.ctx.outbox.record(conn, e)
        await self.ctx.publish()

    async def relevance(self) -> TopicRelevance:
        if self._relevance is None:
            # Loading the model takes seconds of CPU: off the event loop, once per process.
            embedder = await asyncio.to_thread(Embedder)
            self.embedder_kind = embedder.kind
            self._relevance = await asyncio.to_thread(TopicRelevance, self.settings.niche_topics, embedder.embed)
            self.readers = Readers.by_meaning(embedder)
        return self._relevance

    # ------------------------------------------------------------------ personal data retention

    async def purge_personal_data(self, now: datetime | None = None) -> dict[str, object]:
        """Forget strangers' tweets and profiles found more than XBOT_PERSONAL_DATA_RETENTION ago: the projected
        ones through PersonalDataPurged (so every reader, and a replay, forgets the same rows), the job's own
        caches directly. The retention exceeds the harvest's max tweet age, so a forgotten tweet is too old to be
        selected again."""
        now = now or self.clock.now()
        before = now - self.settings.personal_data_retention
        async with self._lock:
            stale = await self.pool.fetchval(
                "SELECT (SELECT count(*) FROM opportunities WHERE found_at < $1) "
                "+ (SELECT count(*) FROM accounts WHERE discovered_at < $1) "
                "+ (SELECT count(*) FROM left_to_owner WHERE found_at < $1)", before)
            if stale:
                await self._emit([PersonalDataPurged(before=before)])
            async with self.pool.acquire() as conn, conn.transaction():
                profiles = await conn.execute("DELETE FROM author_profiles WHERE read_at < $1", before)
                await conn.execute("DELETE FROM peer_posts WHERE read_at < $1", before)
                await conn.execute("DELETE FROM deletion_checks d WHERE NOT EXISTS "
                                   "(SELECT 1 FROM opportunities o WHERE o.tweet_id = d.tweet_id)")
        self.last["purge"] = {"at": now.isoformat(), "before": before.isoformat(), "projected_rows": stale,
                              "profiles": int(profiles.split()[-1])}
        return self.last["purge"]

    # ------------------------------------------------------------------ harvest

    async def harvest(self) -> dict:
        async with self._lock:
            now = self.clock.now()
            expired = await self._expire(now)
            async with self.pool.acquire() as conn:
                size = len(await db.pool(conn))
                was = bool(await db.get_state(conn, "harvesting", True))
                go = should_harvest(size, pool_min=self.settings.pool_min, pool_max=self.settings.pool_max,
                                    was_harvesting=was)
                await db.set_state(conn, "harvesting", go)
            pool_size_gauge.set(size)
            found: list[OpportunityFound] = []
            if go:
                tweets = await self._search(now)
                found = await self._select(tweets, pool_size=size, source="search")
            self.last["harvest"] = {"at": now.isoformat(), "pool": size, "harvesting": go, "found": len(found),
                                    "expired": expired}
            return self.last["harvest"]

    async def _search(self, now: datetime) -> list[SearchedTweet]:
        tweets: list[SearchedTweet] = []
        for q in harvest_queries(self.settings, now=now):
            failure: GatewayError | None = None
            cards = []
            try:
                cards = (await self.gateway.search(q.text, tab=q.tab,
                                                   limit=self.settings.harvest_results_per_query)).tweets
            except GatewayError as err:
                gateway_failures.labels("search", err.code).inc()
                failure = err
            async with self.pool.acquire() as conn:
                await db.record_query(conn, query=q.text, tab=q.tab, topic=q.topic, at=self.clock.now(),
                                      results=len(cards), error=str(failure) if failure else None)
            if failure is not None:
                log.warning("search %r failed: %s", q.text, failure)
                # Session, lock, DOM, or the gateway's activity budget for harvesting is spent: every other query
                # would fail the same way now; the next run searches again (fewer queries a day, not a failure).
                if not failure.retryable or failure.code == "budget_exhausted":
                    break
                continue
            tweets += [t for c in cards if (t := searched_tweet(c)) is not None]
        return tweets

    async def _expire(self, now: datetime) -> dict[str, int]:
        async with self.pool.acquire() as conn:
            pooled = await db.pool(conn)
            replied = await db.replied_ids(conn)
            to_check = await db.due_deletion_checks(conn, self.settings.harvest_deletion_checks)
        deleted = await self._deleted(to_check)
        events = expire_opportunities(pooled, now=now, max_age=self.settings.harvest_max_age,
                                      deleted_ids=deleted, replied_ids=replied)
        await self._emit(events)
        counts: dict[str, int] = {}
        for e in events:
            expired_total.labels(e.reason).inc()
            counts[e.reason] = counts.get(e.reason, 0) + 1
        return counts

    async def _deleted(self, ids: Sequence[str]) -> set[str]:
        """Ids a metrics read did not return: X no longer shows them."""
        deleted: set[str] = set()
        for start in range(0, len(ids), METRICS_BATCH):
            chunk = list(ids[start:start + METRICS_BATCH])
            try:
                result = await self.gateway.tweet_metrics(chunk)
            except GatewayError as err:
                gateway_failures.labels("tweet_metrics", err.code).inc()
                log.warning("deletion check of %d tweets failed: %s", len(chunk), err)
                break
            deleted |= set(chunk) - {m.tweet_id for m in result.items}
            async with self.pool.acquire() as conn:
                await db.mark_checked(conn, chunk, self.clock.now())
        return deleted

    async def _select(self, tweets: Iterable[SearchedTweet], *, pool_size: int, source: str) -> list[OpportunityFound]:
        tweets = list(tweets)
        relevance = await self.relevance()
        now = self.clock.now()
        async with self.pool.acquire() as conn:
            known = await db.known_ids(conn)
        outcome = await asyncio.to_thread(
            select_opportunities, list(tweets), now=now,
            thresholds=Thresholds.from_settings(self.settings, embedder_kind=self.embedder_kind),
            relevance=relevance, known_ids=known, pool_size=pool_size, pool_max=self.settings.pool_max,
            exclude_authors=[self.settings.x_handle], source=source, readers=self.readers)
        for reason, n in outcome.rejected.items():
            rejected_total.labels(reason).inc(n)
        # The opportunities' authors first: the peer posts of the others only while profile reads are left.
        answerable = sorted({e.author for e in outcome.found})
        followers = await self._author_followers(
            answerable + sorted({t.author for t in outcome.unanswerable} - set(answerable)))
        found = [e.model_copy(update={"author_followers": followers.get(e.author.lower(), e.author_followers)})
                 for e in outcome.found]
        await self._emit(found)
        if source == "search":
            # The viral tweets found are peers' posts for format learning (a discovered account's recent posts
            # are saved by discovery, all of them, not only the viral ones), those X would not let us answer too.
            ids = {e.tweet_id for e in found} | {t.tweet_id for t in outcome.unanswerable}
            viral = [dataclasses.replace(t, author_followers=followers.get(handle_key(t.author)))
                     for t in tweets if t.tweet_id in ids]
            async with self.pool.acquire() as conn:
                await db.save_peer_posts(conn, viral, source="viral", at=now)
        found_total.labels(source).inc(len(found))
        return found

    async def _author_followers(self, authors: Sequence[str]) -> dict[str, int]:
        """Follower counts of the authors (cached profiles; at most harvest_profile_reads new reads, in the
        authors' order)."""
        now = self.clock.now()
        async with self.pool.acquire() as conn:
            known = await db.cached_profiles(conn, sorted(authors), now - self.settings.harvest_profile_ttl)
        for handle in [a for a in authors if a.lower() not in known][: self.settings.harvest_profile_reads]:
            profile = await self._read_profile(handle)
            if isinstance(profile, AuthorProfile):
                known[handle.lower()] = profile.followers
        return known

    async def _read_profile(self, handle: str) -> AuthorProfile | Gone | None:
        """The author's profile; ``GONE`` when X shows no account there (suspended, deactivated, renamed);
        None when it could not be read now."""
        try:
            snap = await self.gateway.profile_snapshot(handle)
        except GatewayError as err:
            gateway_failures.labels("profile_snapshot", err.code).inc()
            log.warning("profile of %s unreadable: %s", handle, err)
            return GONE if err.code == "account_gone" else None
        profile = AuthorProfile(handle=snap.handle, followers=snap.followers, bio=snap.bio)
        async with self.pool.acquire() as conn:
            await db.save_profile(conn, profile, self.clock.now())
        return profile

    # ------------------------------------------------------------------ our own conversations (issue 24, item 5)

    async def read_conversations(self) -> dict[str, object]:
        """Read the replies our recent posts and replies got (through the gateway, at P1 in its "conversations"
        budget class) and offer the worthwhile ones as opportunities of source "conversation" (conversations.py),
        each in the conversation of the tweet of ours it answers. The first failed read ends the run: a spent
        budget or a session problem fails the rest the same way."""
        async with self._lock:
            now = self.clock.now()
            async with self.pool.acquire() as conn:
                tweets = await db.tweets_to_read(conn, since=now - self.settings.conversations_window,
                                                 limit=self.settings.conversations_reads)
            read, found_n, gone = 0, 0, 0
            rejected: dict[str, int] = {}
            for own in tweets:
                tweet_id = own.tweet_id
                try:
                    answer = await self.gateway.tweet_replies(
                        tweet_id, limit=self.settings.conversations_replies_per_post,
                        conversation_id=own.conversation_root)
                except GatewayError as err:
                    gateway_failures.labels("tweet_replies", err.code).inc()
                    log.warning("replies of our tweet %s unreadable: %s", tweet_id, err)
                    break
                read += 1
                if answer.gone:  # deleted (in the console or on X) or removed by X: never read again
                    async with self.pool.acquire() as conn:
                        await db.mark_gone(conn, tweet_id, self.clock.now())
                    gone += 1
                    continue
                cards = answer.tweets
                async with self.pool.acquire() as conn:
                    known = await db.known_among(conn, [c.tweet_id for c in cards])
                    waiting = await db.open_conversation_authors(conn, tweet_id)
                await self.relevance()  # the embedder, for the readers by meaning
                outcome = await asyncio.to_thread(
                    conversation_opportunities, cards, root_id=tweet_id, own_handle=self.settings.x_handle,
                    known_ids=known, open_authors=waiting, now=self.clock.now(),
                    max_age=self.settings.harvest_max_age, readers=self.readers)
                for reason, n in outcome.rejected.items():
                    rejected_total.labels(f"conversation_{reason}").inc(n)
                    rejected[reason] = rejected.get(reason, 0) + n
                followers = await self._author_followers(sorted({e.author for e in outcome.found}))
                found = [e.model_copy(update={"author_followers": followers.get(e.author.lower(), 0)})
                         for e in outcome.found]
                await self._emit([*found, *outcome.left])
                async with self.pool.acquire() as conn:
                    await db.mark_read(conn, tweet_id, self.clock.now())
                found_total.labels("conversation").inc(len(found))
                found_n += len(found)
            self.last["conversations"] = {"at": now.isoformat(), "tweets": len(tweets), "read": read,
                                          "found": found_n, "rejected": rejected, "gone": gone}
            return self.last["conversations"]

    # ------------------------------------------------------------------ accounts kept fresh

    async def refresh_accounts(self) -> dict[str, object]:
        """Read the discovered accounts due again through the gateway (its activity budget counts every read):
        their followers and engagement rate as now (AccountRefreshed), their recent posts for format learning.
        The first failed read ends the run (a spent budget or a session problem fails the rest the same way)."""
        async with self._lock:
            now = self.clock.now()
            async with self.pool.acquire() as conn:
                due = await db.accounts_due(conn, read_before=now - self.settings.account_refresh_age,
                                            limit=self.settings.account_refresh_batch)
            events: list[AccountRefreshed] = []
            posts: list[SearchedTweet] = []
            for handle in due:
                profile = await self._profile_with_tweets(handle)
                if profile is GONE:
                    # Not read again: it was not a failure of the read, so the run goes on to the next.
                    events.append(AccountRefreshed(handle=handle, followers=0, engagement_rate=0.0, recent_posts=0,
                                                   refreshed_at=self.clock.now(), gone=True))
                    continue
                if not isinstance(profile, AuthorProfile):
                    break
                events.append(AccountRefreshed(handle=handle, followers=profile.followers,
                                               engagement_rate=engagement_rate(profile),
                                               recent_posts=len(profile.recent_tweets),
                                               refreshed_at=self.clock.now()))
                posts += profile.recent_tweets
            await self._emit(events)
            async with self.pool.acquire() as conn:
                await db.save_peer_posts(conn, posts, source="account", at=self.clock.now())
            refreshed_total.inc(len(events))
            self.last["refresh_accounts"] = {"at": now.isoformat(), "due": len(due), "refreshed": len(events)}
            return self.last["refresh_accounts"]

    # ------------------------------------------------------------------ news

    async def read_news(self) -> dict[str, object]:
        """Read every configured feed; publish its fresh, on-topic items not published before. A feed that fails
        is logged and counted; the others are read all the same."""
        relevance = await self.relevance()
        min_relevance = self.settings.min_relevance_for(self.embedder_kind)
        async with self.pool.acquire() as conn:
            known = await db.known_news(conn)
        found: list[NewsItemFound] = []
        failed: list[str] = []
        counts: dict[str, int] = {}  # newly withheld items, by reason
        timeout = aiohttp.ClientTimeout(total=self.settings.news_timeout.total_seconds())
        async with aiohttp.ClientSession(timeout=timeout, headers={"User-Agent": NEWS_USER_AGENT}) as http:
            for feed in self.settings.news_feeds:
                try:
                    async with http.get(feed.url) as resp:
                        resp.raise_for_status()
                        data = await resp.content.read(MAX_FEED_BYTES + 1)
                    if len(data) > MAX_FEED_BYTES:  # a feed is kilobytes: anything this big is not one
                        raise FeedError(f"larger than {MAX_FEED_BYTES} bytes")
                    items = parse_feed(data)
                except (aiohttp.ClientError, asyncio.TimeoutError, FeedError) as err:
                    news_failures.labels(feed.name).inc()
                    log.warning("news feed %s (%s) unreadable: %s", feed.name, feed.url, err)
                    failed.append(feed.name)
                    continue
                withheld: dict[str, str] = {}
                fresh = await asyncio.to_thread(
                    fresh_news, items, source=feed.name, feed_url=feed.url, now=self.clock.now(),
                    max_age=self.settings.news_max_age, known_ids=known, relevance=relevance,
                    min_relevance=min_relevance, withheld=withheld)
                known |= {e.item_id for e in fresh}
                found += fresh
                for item_id, reason in withheld.items():
                    # An item stays in its feed for days and is read every run: counted and logged once a process.
                    if item_id not in self._news_withheld:
                        self._news_withheld.add(item_id)
                        news_withheld.labels(reason).inc()
                        log.info("news item %s of feed %s withheld: %s", item_id, feed.name, reason)
                        counts[reason] = counts.get(reason, 0) + 1
        await self._emit(found)
        news_found.inc(len(found))
        self.last["news"] = {"at": self.clock.now().isoformat(), "found": len(found), "failed": failed,
                             "withheld": counts}
        return self.last["news"]

    # ------------------------------------------------------------------ format learning

    async def publish_format_insights(self) -> dict[str, object]:
        """FormatInsights from the peers' posts read within XBOT_FORMAT_WINDOW (none when they are too few)."""
        now = self.clock.now()
        async with self.pool.acquire() as conn:
            posts = await db.peer_posts(conn, now - self.settings.format_window)
        event = await asyncio.to_thread(format_insights, posts, day=now.date().isoformat(), now=now)
        if event is not None:
            await self._emit([event])
        self.last["format_insights"] = {"at": now.isoformat(), "posts": len(posts),
                                        "features": len(event.lifts) if event else 0}
        return self.last["format_insights"]

    # ------------------------------------------------------------------ discovery

    async def discover(self) -> dict:
        async with self._lock:
            now = self.clock.now()
            relevance = await self.relevance()
            criteria = DiscoveryCriteria.from_settings(self.settings, embedder_kind=self.embedder_kind)
            async with self.pool.acquire() as conn:
                harvested = await db.recent_found(conn, now - self.settings.harvest_max_age)
                known = await db.known_handles(conn)
                size = len(await db.pool(conn))
            handles = candidate_authors(harvested, criteria=criteria,
                                        known_handles=known | {self.settings.x_handle},
                                        limit=self.settings.discovery_max_profiles)
            profiles = [p for h in handles if isinstance(p := await self._profile_with_tweets(h), AuthorProfile)]
            outcome = discover_accounts(profiles, now=self.clock.now(), criteria=criteria, relevance=relevance,
                                        known_handles=known)
            await self._emit(outcome.accounts)
            async with self.pool.acquire() as conn:
                await db.save_peer_posts(conn, outcome.tweets, source="account", at=now)
            discovered_total.inc(len(outcome.accounts))
            for reason, n in outcome.rejected.items():
                rejected_total.labels(f"account_{reason}").inc(n)
            found = await self._select(outcome.tweets, pool_size=size, source="account")
            self.last["discovery"] = {"at": now.isoformat(), "profiled": len(profiles),
                                      "discovered": len(outcome.accounts), "found": len(found)}
            return self.last["discovery"]

    async def _profile_with_tweets(self, handle: str) -> AuthorProfile | Gone | None:
        query = author_recent_query(handle, lang=self.settings.harvest_lang)
        try:
            cards = (await self.gateway.search(query.text, tab=query.tab,
                                               limit=self.settings.discovery_recent_tweets)).tweets
        except GatewayError as err:
            gateway_failures.labels("search", err.code).inc()
            log.warning("recent tweets of %s unreadable: %s", handle, err)
            return None
        profile = await self._read_profile(handle)
        if not isinstance(profile, AuthorProfile):
            return profile
        recent = tuple(t for c in cards if c.author.lower() == handle.lower()
                       and (t := searched_tweet(c, author_followers=profile.followers)) is not None)
        return AuthorProfile(handle=profile.handle, followers=profile.followers, bio=profile.bio,
                             recent_tweets=recent)

