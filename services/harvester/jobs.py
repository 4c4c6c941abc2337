"""The harvester's periodic jobs: harvest (search -> OpportunityFound, expiry -> OpportunityExpired) and account
discovery (profiles -> AccountDiscovered, their recent tweets -> the pool). All gateway calls run at P1.

Idempotency: a tweet id already in the ``opportunities`` table (every id ever found, expired or not) is never
selected again; ids published by this process but not projected yet are remembered in memory; and the event's
natural key (``opp:<tweet_id>``) makes a re-publication after a crash a JetStream duplicate.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Iterable, Sequence
from datetime import datetime

import asyncpg
from prometheus_client import Counter, Gauge

from libs.bus.publish import EventPublisher
from libs.contracts.events import OpportunityFound
from libs.contracts.gateway import GatewayClient, GatewayError
from libs.runtime.clock import Clock
from libs.text import Embedder
from services.harvester import projections as db
from services.harvester.discovery import (
    AuthorProfile, DiscoveryCriteria, candidate_authors, discover_accounts,
)
from services.harvester.queries import author_recent_query, harvest_queries
from services.harvester.selection import (
    SearchedTweet, Thresholds, TopicRelevance, expire_opportunities, searched_tweet, select_opportunities,
    should_harvest,
)
from services.harvester.settings import HarvesterSettings

log = logging.getLogger("xbot.harvester")

rejected_total = Counter("xbot_harvester_rejected_total", "Searched tweets not taken as opportunities", ["reason"])
found_total = Counter("xbot_harvester_opportunities_found_total", "OpportunityFound published", ["source"])
expired_total = Counter("xbot_harvester_opportunities_expired_total", "OpportunityExpired published", ["reason"])
discovered_total = Counter("xbot_harvester_accounts_discovered_total", "AccountDiscovered published")
pool_size_gauge = Gauge("xbot_harvester_pool_size", "Opportunities in the pool at the last harvest")
gateway_failures = Counter("xbot_harvester_gateway_failures_total", "Gateway calls that failed", ["op", "code"])

METRICS_BATCH = 50  # TweetMetricsRequest takes at most 50 ids


class HarvesterJobs:
    def __init__(self, settings: HarvesterSettings, *, pool: asyncpg.Pool, gateway: GatewayClient,
                 publisher: EventPublisher, clock: Clock) -> None:
        self.settings = settings
        self.pool = pool
        self.gateway = gateway
        self.publisher = publisher
        self.clock = clock
        self._relevance: TopicRelevance | None = None
        self.embedder_kind = "lexical"
        # Published by this process, possibly not projected yet: never selected or expired twice meanwhile, and
        # discovery sees what the harvest just before it found.
        self._found: dict[str, OpportunityFound] = {}
        self._expired: set[str] = set()
        # Harvest and discovery both add to the pool: one at a time, so the pool cap holds.
        self._lock = asyncio.Lock()
        self.last: dict[str, dict] = {}

    async def relevance(self) -> TopicRelevance:
        if self._relevance is None:
            # Loading the model takes seconds of CPU: off the event loop, once per process.
            embedder = await asyncio.to_thread(Embedder)
            self.embedder_kind = embedder.kind
            self._relevance = await asyncio.to_thread(TopicRelevance, self.settings.niche_topics, embedder.embed)
        return self._relevance

    async def _pool_size(self, conn: asyncpg.Connection) -> int:
        """The pool as projected, with what this process published and the projection has not applied yet."""
        pooled = {o.tweet_id for o in await db.pool(conn)}
        return len((pooled | (set(self._found) - await db.known_ids(conn))) - self._expired)

    # ------------------------------------------------------------------ harvest

    async def harvest(self) -> dict:
        async with self._lock:
            now = self.clock.now()
            expired = await self._expire(now)
            async with self.pool.acquire() as conn:
                size = await self._pool_size(conn)
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
                if not failure.retryable:  # session, lock, DOM: every other query would fail the same way
                    break
                continue
            tweets += [t for c in cards if (t := searched_tweet(c)) is not None]
        return tweets

    async def _expire(self, now: datetime) -> dict[str, int]:
        async with self.pool.acquire() as conn:
            pooled = [o for o in await db.pool(conn) if o.tweet_id not in self._expired]
            replied = await db.replied_ids(conn)
            to_check = [i for i in await db.due_deletion_checks(conn, self.settings.harvest_deletion_checks)
                        if i not in self._expired]
        deleted = await self._deleted(to_check)
        events = expire_opportunities(pooled, now=now, max_age=self.settings.harvest_max_age,
                                      deleted_ids=deleted, replied_ids=replied)
        counts: dict[str, int] = {}
        for e in events:
            await self.publisher.publish(e)
            self._expired.add(e.tweet_id)
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
        relevance = await self.relevance()
        now = self.clock.now()
        async with self.pool.acquire() as conn:
            known = await db.known_ids(conn) | set(self._found)
        outcome = await asyncio.to_thread(
            select_opportunities, list(tweets), now=now,
            thresholds=Thresholds.from_settings(self.settings, embedder_kind=self.embedder_kind),
            relevance=relevance, known_ids=known, pool_size=pool_size, pool_max=self.settings.pool_max,
            exclude_authors=[self.settings.x_handle], source=source)
        for reason, n in outcome.rejected.items():
            rejected_total.labels(reason).inc(n)
        followers = await self._author_followers({e.author for e in outcome.found})
        found = [e.model_copy(update={"author_followers": followers.get(e.author.lower(), e.author_followers)})
                 for e in outcome.found]
        for e in found:
            await self.publisher.publish(e)
            self._found[e.tweet_id] = e
            found_total.labels(source).inc()
        return found

    async def _author_followers(self, authors: set[str]) -> dict[str, int]:
        """Follower counts of the authors (cached profiles; at most harvest_profile_reads new reads)."""
        now = self.clock.now()
        async with self.pool.acquire() as conn:
            known = await db.cached_profiles(conn, sorted(authors), now - self.settings.harvest_profile_ttl)
        for handle in sorted(a for a in authors if a.lower() not in known)[: self.settings.harvest_profile_reads]:
            profile = await self._read_profile(handle)
            if profile is not None:
                known[handle.lower()] = profile.followers
        return known

    async def _read_profile(self, handle: str) -> AuthorProfile | None:
        try:
            snap = await self.gateway.profile_snapshot(handle)
        except GatewayError as err:
            gateway_failures.labels("profile_snapshot", err.code).inc()
            log.warning("profile of %s unreadable: %s", handle, err)
            return None
        profile = AuthorProfile(handle=snap.handle, followers=snap.followers, bio=snap.bio)
        async with self.pool.acquire() as conn:
            await db.save_profile(conn, profile, self.clock.now())
        return profile

    # ------------------------------------------------------------------ discovery

    async def discover(self) -> dict:
        async with self._lock:
            now = self.clock.now()
            relevance = await self.relevance()
            criteria = DiscoveryCriteria.from_settings(self.settings, embedder_kind=self.embedder_kind)
            async with self.pool.acquire() as conn:
                harvested = {t.tweet_id: t for t in await db.recent_found(conn, now - self.settings.harvest_max_age)}
                known = await db.known_handles(conn)
                size = await self._pool_size(conn)
            harvested |= {i: as_searched(e) for i, e in self._found.items()
                          if now - e.tweet_created_at < self.settings.harvest_max_age and i not in harvested}
            handles = candidate_authors(harvested.values(), criteria=criteria,
                                        known_handles=known | {self.settings.x_handle},
                                        limit=self.settings.discovery_max_profiles)
            profiles = [p for h in handles if (p := await self._profile_with_tweets(h)) is not None]
            outcome = discover_accounts(profiles, now=self.clock.now(), criteria=criteria, relevance=relevance,
                                        known_handles=known)
            for account in outcome.accounts:
                await self.publisher.publish(account)
                discovered_total.inc()
            for reason, n in outcome.rejected.items():
                rejected_total.labels(f"account_{reason}").inc(n)
            found = await self._select(outcome.tweets, pool_size=size, source="account")
            self.last["discovery"] = {"at": now.isoformat(), "profiled": len(profiles),
                                      "discovered": len(outcome.accounts), "found": len(found)}
            return self.last["discovery"]

    async def _profile_with_tweets(self, handle: str) -> AuthorProfile | None:
        query = author_recent_query(handle, lang=self.settings.harvest_lang)
        try:
            cards = (await self.gateway.search(query.text, tab=query.tab,
                                               limit=self.settings.discovery_recent_tweets)).tweets
        except GatewayError as err:
            gateway_failures.labels("search", err.code).inc()
            log.warning("recent tweets of %s unreadable: %s", handle, err)
            return None
        profile = await self._read_profile(handle)
        if profile is None:
            return None
        recent = tuple(t for c in cards if c.author.lower() == handle.lower()
                       and (t := searched_tweet(c, author_followers=profile.followers)) is not None)
        return AuthorProfile(handle=profile.handle, followers=profile.followers, bio=profile.bio,
                             recent_tweets=recent)


def as_searched(e: OpportunityFound) -> SearchedTweet:
    return SearchedTweet(tweet_id=e.tweet_id, author=e.author, text=e.text, likes=e.likes, retweets=e.retweets,
                         replies=e.replies, views=e.views, created_at=e.tweet_created_at,
                         author_followers=e.author_followers or None)
