"""The harvester's tables (schema ``harvester``) and the projections that fill them from events.

The opportunity pool is rebuilt from the harvester's own stream (OpportunityFound / OpportunityExpired) and the
poster's TweetPosted (our replies); discovered accounts from our own AccountDiscovered. The jobs only publish:
what they found becomes a row when its event comes back, so a replay rebuilds exactly the same pool.
"""

from __future__ import annotations

import json
from datetime import datetime

import asyncpg

from libs.contracts.events import AccountDiscovered, OpportunityExpired, OpportunityFound, TweetPosted
from libs.runtime.service import Service
from libs.store.projection import Applied
from services.harvester.discovery import AuthorProfile
from services.harvester.selection import PooledOpportunity, SearchedTweet, replied_tweet_id


def register(svc: Service) -> None:
    proj = svc.projection("pool")

    @proj.on_batch(OpportunityFound)
    async def on_found(conn: asyncpg.Connection, items: list[Applied]) -> None:
        await conn.executemany(
            "INSERT INTO opportunities (tweet_id, author, author_followers, text, likes, retweets, replies, views, "
            "tweet_created_at, relevance, topic, source, found_at) "
            "VALUES ($1,$2,$3,$4,$5,$6,$7,$8,$9,$10,$11,$12,$13) ON CONFLICT DO NOTHING",
            [(e.tweet_id, e.author, e.author_followers, e.text, e.likes, e.retweets, e.replies, e.views,
              e.tweet_created_at, e.relevance, e.topic, e.source, i.envelope.occurred_at)
             for i in items for e in [i.event]])  # type: ignore[attr-defined]

    @proj.on_batch(OpportunityExpired)
    async def on_expired(conn: asyncpg.Connection, items: list[Applied]) -> None:
        # Same stream as OpportunityFound, so the row is there; the first expiry wins.
        await conn.executemany(
            "UPDATE opportunities SET expired_at = $2, expiry_reason = $3 WHERE tweet_id = $1 AND expired_at IS NULL",
            [(i.event.tweet_id, i.envelope.occurred_at, i.event.reason) for i in items])  # type: ignore[attr-defined]

    @proj.on(TweetPosted)
    async def on_posted(conn: asyncpg.Connection, event: TweetPosted, applied: Applied) -> None:
        target = replied_tweet_id(event)
        if target:
            await conn.execute("INSERT INTO replied (tweet_id, replied_at) VALUES ($1, $2) ON CONFLICT DO NOTHING",
                               target, event.posted_at)

    @proj.on_batch(AccountDiscovered)
    async def on_account(conn: asyncpg.Connection, items: list[Applied]) -> None:
        await conn.executemany(
            "INSERT INTO accounts (handle, followers, engagement_rate, relevance, bio, discovered_at) "
            "VALUES ($1,$2,$3,$4,$5,$6) ON CONFLICT DO NOTHING",
            [(e.handle.lower(), e.followers, e.engagement_rate, e.relevance, e.bio, e.discovered_at)
             for i in items for e in [i.event]])  # type: ignore[attr-defined]


# ---------------------------------------------------------------------- reads for the jobs


async def pool(conn: asyncpg.Connection) -> list[PooledOpportunity]:
    rows = await conn.fetch("SELECT tweet_id, tweet_created_at FROM opportunities WHERE expired_at IS NULL")
    return [PooledOpportunity(r["tweet_id"], r["tweet_created_at"]) for r in rows]


async def known_ids(conn: asyncpg.Connection) -> set[str]:
    return {r["tweet_id"] for r in await conn.fetch("SELECT tweet_id FROM opportunities")}


async def replied_ids(conn: asyncpg.Connection) -> set[str]:
    return {r["tweet_id"] for r in await conn.fetch(
        "SELECT r.tweet_id FROM replied r JOIN opportunities o USING (tweet_id) WHERE o.expired_at IS NULL")}


async def known_handles(conn: asyncpg.Connection) -> set[str]:
    return {r["handle"] for r in await conn.fetch("SELECT handle FROM accounts")}


async def recent_found(conn: asyncpg.Connection, since: datetime) -> list[SearchedTweet]:
    """Opportunities found since ``since`` (expired or not): where discovery looks for authors."""
    rows = await conn.fetch(
        "SELECT * FROM opportunities WHERE found_at >= $1 ORDER BY found_at, tweet_id", since)
    return [SearchedTweet(tweet_id=r["tweet_id"], author=r["author"], text=r["text"], likes=r["likes"],
                          retweets=r["retweets"], replies=r["replies"], views=r["views"],
                          created_at=r["tweet_created_at"], author_followers=r["author_followers"] or None)
            for r in rows]


async def due_deletion_checks(conn: asyncpg.Connection, limit: int) -> list[str]:
    rows = await conn.fetch(
        "SELECT o.tweet_id FROM opportunities o LEFT JOIN deletion_checks c USING (tweet_id) "
        "WHERE o.expired_at IS NULL ORDER BY c.checked_at NULLS FIRST, o.tweet_id LIMIT $1", limit)
    return [r["tweet_id"] for r in rows]


async def mark_checked(conn: asyncpg.Connection, ids: list[str], at: datetime) -> None:
    await conn.executemany(
        "INSERT INTO deletion_checks (tweet_id, checked_at) VALUES ($1, $2) "
        "ON CONFLICT (tweet_id) DO UPDATE SET checked_at = EXCLUDED.checked_at", [(i, at) for i in ids])


async def cached_profiles(conn: asyncpg.Connection, handles: list[str], fresh_after: datetime) -> dict[str, int]:
    rows = await conn.fetch("SELECT handle, followers FROM author_profiles WHERE handle = ANY($1) AND read_at >= $2",
                            [h.lower() for h in handles], fresh_after)
    return {r["handle"]: r["followers"] for r in rows}


async def save_profile(conn: asyncpg.Connection, profile: AuthorProfile, at: datetime) -> None:
    await conn.execute(
        "INSERT INTO author_profiles (handle, followers, bio, read_at) VALUES ($1, $2, $3, $4) "
        "ON CONFLICT (handle) DO UPDATE SET followers = EXCLUDED.followers, bio = EXCLUDED.bio, "
        "read_at = EXCLUDED.read_at", profile.handle.lower(), profile.followers, profile.bio, at)


async def record_query(conn: asyncpg.Connection, *, query: str, tab: str, topic: str, at: datetime, results: int,
                       error: str | None = None) -> None:
    key = " ".join(w for w in query.split() if not w.startswith("since:"))
    await conn.execute(
        "INSERT INTO query_state (key, last_query, tab, topic, last_run, results, failures, last_error) "
        "VALUES ($1, $2, $3, $4, $5, $6, $7, $8) ON CONFLICT (key, tab) DO UPDATE SET "
        "last_query = EXCLUDED.last_query, last_run = EXCLUDED.last_run, results = EXCLUDED.results, "
        "failures = query_state.failures + EXCLUDED.failures, last_error = EXCLUDED.last_error",
        key, query, tab, topic, at, results, 1 if error else 0, error)


async def get_state(conn: asyncpg.Connection, key: str, default: object) -> object:
    value = await conn.fetchval("SELECT value FROM harvest_state WHERE key = $1", key)
    return default if value is None else json.loads(value)


async def set_state(conn: asyncpg.Connection, key: str, value: object) -> None:
    await conn.execute("INSERT INTO harvest_state (key, value) VALUES ($1, $2) "
                       "ON CONFLICT (key) DO UPDATE SET value = EXCLUDED.value", key, json.dumps(value))
