"""The harvester's tables (schema ``harvester``) and the projections that fill them from events.

The opportunity pool is rebuilt from the harvester's own stream (OpportunityFound / OpportunityExpired) and the
poster's TweetPosted (our replies); discovered accounts from our own AccountDiscovered; the owner's deletions from
the console's TweetDeleted and our tweets found gone from X from the scraper's TweetGone (each through a durable
filtered on that event: the rest of those streams is not the harvester's to read). The jobs record events in
the outbox and wait until these projections applied them (read your own writes): what they found becomes a row
when its event comes back, so a replay rebuilds exactly the same pool. The jobs' own cursors and caches live in
the job-owned tables (JOB_TABLES).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import asyncpg

from libs.contracts.events import (
    NewsItemFound,
    AccountDiscovered,
    AccountRefreshed, OpportunityExpired, OpportunityFound, PersonalDataPurged, ReplyLeftToOwner, TweetDeleted,
    TweetPosted,
)
from libs.runtime.service import Service
from libs.store.projection import Applied
from libs.store.x_marks import keep_gone
from services.harvester.discovery import AuthorProfile
from services.harvester.formats import PeerPost
from services.harvester.selection import PooledOpportunity, SearchedTweet, replied_tweet_id


# The harvest job's cursors and caches: no event carries them.
JOB_TABLES = ("query_state", "harvest_state", "author_profiles", "deletion_checks", "peer_posts", "conversation_reads",
              "own_posts_gone")


def register(svc: Service[Any]) -> None:
    proj = svc.projection("pool")

    @proj.on_batch(OpportunityFound)
    async def on_found(conn: asyncpg.Connection, items: list[Applied[OpportunityFound]]) -> None:
        await conn.executemany(
            "INSERT INTO opportunities (tweet_id, author, author_followers, text, likes, retweets, replies, views, "
            "tweet_created_at, relevance, topic, source, found_at, conversation_id) "
            "VALUES ($1,$2,$3,$4,$5,$6,$7,$8,$9,$10,$11,$12,$13,$14) ON CONFLICT DO NOTHING",
            [(e.tweet_id, e.author, e.author_followers, e.text, e.likes, e.retweets, e.replies, e.views,
              e.tweet_created_at, e.relevance, e.topic, e.source, i.envelope.occurred_at, e.conversation_id)
             for i in items for e in [i.event]])

    @proj.on_batch(OpportunityExpired)
    async def on_expired(conn: asyncpg.Connection, items: list[Applied[OpportunityExpired]]) -> None:
        # Same stream as OpportunityFound, so the row is there; the first expiry wins.
        await conn.executemany(
            "UPDATE opportunities SET expired_at = $2, expiry_reason = $3 WHERE tweet_id = $1 AND expired_at IS NULL",
            [(i.event.tweet_id, i.envelope.occurred_at, i.event.reason) for i in items])

    @proj.on(PersonalDataPurged)
    async def on_purged(conn: asyncpg.Connection, applied: Applied[PersonalDataPurged]) -> None:
        # Strangers' tweets and profiles past the retention; the ids of tweets we replied to are ours and stay.
        before = applied.event.before
        await conn.execute("DELETE FROM opportunities WHERE found_at < $1", before)
        await conn.execute("DELETE FROM accounts WHERE discovered_at < $1", before)
        await conn.execute("DELETE FROM left_to_owner WHERE found_at < $1", before)

    @proj.on_batch(ReplyLeftToOwner)
    async def on_left(conn: asyncpg.Connection, items: list[Applied[ReplyLeftToOwner]]) -> None:
        await conn.executemany(
            "INSERT INTO left_to_owner (tweet_id, conversation_id, found_at) VALUES ($1, $2, $3)"
            " ON CONFLICT DO NOTHING",
            [(e.tweet_id, e.conversation_id, e.found_at) for i in items for e in [i.event]])

    @proj.on(TweetPosted)
    async def on_posted(conn: asyncpg.Connection, applied: Applied[TweetPosted]) -> None:
        posted = applied.event
        target = replied_tweet_id(posted)  # None unless a reply
        if posted.kind in ("post", "thread") or target:
            # Our post or reply: its replies are read for conversations to answer (jobs.conversations).
            await conn.execute("INSERT INTO own_posts (tweet_id, posted_at, reply_to) VALUES ($1, $2, $3) "
                               "ON CONFLICT DO NOTHING", posted.tweet_ids[0], posted.posted_at, target)
        if target:
            await conn.execute("INSERT INTO replied (tweet_id, replied_at) VALUES ($1, $2) ON CONFLICT DO NOTHING",
                               target, applied.event.posted_at)

    @proj.on_batch(AccountRefreshed)
    async def on_refreshed(conn: asyncpg.Connection, items: list[Applied[AccountRefreshed]]) -> None:
        # The same stream as AccountDiscovered, so the row is there (unless purged: then nothing to refresh).
        await conn.executemany(
            "UPDATE accounts SET followers = $2, engagement_rate = $3, refreshed_at = $4, "
            "gone_at = CASE WHEN $5 THEN $4 END "
            "WHERE handle = $1 AND (refreshed_at IS NULL OR refreshed_at < $4)",
            [(e.handle.lower(), e.followers, e.engagement_rate, e.refreshed_at, e.gone)
             for i in items for e in [i.event]])

    @proj.on_batch(NewsItemFound)
    async def on_news(conn: asyncpg.Connection, items: list[Applied[NewsItemFound]]) -> None:
        await conn.executemany(
            "INSERT INTO news_items (item_id, source, title, url, published_at, found_at) "
            "VALUES ($1,$2,$3,$4,$5,$6) ON CONFLICT DO NOTHING",
            [(e.item_id, e.source, e.title, e.url, e.published_at, i.envelope.occurred_at)
             for i in items for e in [i.event]])

    @proj.on_batch(AccountDiscovered)
    async def on_account(conn: asyncpg.Connection, items: list[Applied[AccountDiscovered]]) -> None:
        await conn.executemany(
            "INSERT INTO accounts (handle, followers, engagement_rate, relevance, bio, discovered_at) "
            "VALUES ($1,$2,$3,$4,$5,$6) ON CONFLICT DO NOTHING",
            [(e.handle.lower(), e.followers, e.engagement_rate, e.relevance, e.bio, e.discovered_at)
             for i in items for e in [i.event]])

    # Of the console's stream the harvester reads the owner's deletions alone (the rest is the owner's business).
    deletions = svc.projection("owner_deletions", filtered=True)

    @deletions.on(TweetDeleted)
    async def on_deleted(conn: asyncpg.Connection, applied: Applied[TweetDeleted]) -> None:
        e = applied.event
        await conn.executemany("INSERT INTO deleted_own_posts (tweet_id, deleted_at) VALUES ($1, $2)"
                               " ON CONFLICT DO NOTHING", [(t, e.deleted_at) for t in e.tweet_ids])

    # Of the scraper's stream, our tweets it found gone from X (deleted there, or removed by X): through the X API,
    # whose search cannot tell a deleted tweet from one without replies, each read of one would cost a search.
    keep_gone(svc.projection("x_removals", filtered=True))


# ---------------------------------------------------------------------- reads for the jobs


async def pool(conn: asyncpg.Connection) -> list[PooledOpportunity]:
    rows = await conn.fetch("SELECT tweet_id, tweet_created_at FROM opportunities WHERE expired_at IS NULL")
    return [PooledOpportunity(r["tweet_id"], r["tweet_created_at"]) for r in rows]


async def known_ids(conn: asyncpg.Connection) -> set[str]:
    return {r["tweet_id"] for r in await conn.fetch("SELECT tweet_id FROM opportunities")}


async def known_among(conn: asyncpg.Connection, ids: list[str]) -> set[str]:
    """Which of ``ids`` were ever found, or left to the owner."""
    return {r["tweet_id"] for r in await conn.fetch(
        "SELECT tweet_id FROM opportunities WHERE tweet_id = ANY($1::text[]) "
        "UNION SELECT tweet_id FROM left_to_owner WHERE tweet_id = ANY($1::text[])", ids)}


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


async def save_peer_posts(conn: asyncpg.Connection, tweets: list[SearchedTweet], *, source: str,
                          at: datetime) -> None:
    """Peers' posts as read now (the latest reading of a post wins: older, so closer to its final counts). Replies,
    quote posts (their reach is partly what they quote) and long posts X showed the start of (their length and
    hook would be the start's) teach nothing about the formats of a post."""
    await conn.executemany(
        "INSERT INTO peer_posts (tweet_id, text, posted_at, author_followers, engagement, age_hours, source, "
        "read_at) VALUES ($1,$2,$3,$4,$5,$6,$7,$8) ON CONFLICT (tweet_id) DO UPDATE SET "
        "author_followers = EXCLUDED.author_followers, engagement = EXCLUDED.engagement, "
        "age_hours = EXCLUDED.age_hours, read_at = EXCLUDED.read_at",
        [(t.tweet_id, t.text, t.created_at, t.author_followers, t.engagement,
          max((at - t.created_at).total_seconds() / 3600, 0.0), source, at)
         for t in tweets if t.author_followers and not t.is_reply and t.quoted is None and not t.truncated])


async def peer_posts(conn: asyncpg.Connection, since: datetime) -> list[PeerPost]:
    rows = await conn.fetch("SELECT * FROM peer_posts WHERE read_at >= $1 ORDER BY tweet_id", since)
    return [PeerPost(tweet_id=r["tweet_id"], text=r["text"], hour=r["posted_at"].astimezone(UTC).hour,
                     author_followers=r["author_followers"], engagement=r["engagement"], age_hours=r["age_hours"])
            for r in rows]


async def known_news(conn: asyncpg.Connection) -> set[str]:
    return {r["item_id"] for r in await conn.fetch("SELECT item_id FROM news_items")}


async def accounts_due(conn: asyncpg.Connection, *, read_before: datetime, limit: int) -> list[str]:
    """Discovered accounts not read since ``read_before`` (never refreshed first, then the longest ago)."""
    rows = await conn.fetch(
        "SELECT handle FROM accounts WHERE coalesce(refreshed_at, discovered_at) < $1 AND gone_at IS NULL "
        "ORDER BY refreshed_at NULLS FIRST, discovered_at, handle LIMIT $2", read_before, limit)
    return [r["handle"] for r in rows]


@dataclass(frozen=True)
class OwnTweet:
    tweet_id: str
    # For a reply of ours: the tweet it answered, the root of its conversation (we answer strangers' tweets at
    # their root only), which the X API searches by. None for a post, the root of its own.
    conversation_root: str | None


async def tweets_to_read(conn: asyncpg.Connection, *, since: datetime, limit: int) -> list[OwnTweet]:
    """Our posts and replies since ``since`` whose replies were read longest ago (never read first, then newest
    first). Our answers in our own conversations are left out: a reply to one is the same person again, whom
    the planner does not answer twice in a row; and so are those a read found gone from X (``own_posts_gone``),
    the owner deleted in the console (``deleted_own_posts``) or the scraper found gone (``x_marks``)."""
    rows = await conn.fetch(
        "SELECT p.tweet_id, p.reply_to FROM own_posts p LEFT JOIN conversation_reads r USING (tweet_id) "
        "WHERE p.posted_at >= $1 AND NOT EXISTS (SELECT 1 FROM own_posts_gone g WHERE g.tweet_id = p.tweet_id) "
        "AND NOT EXISTS (SELECT 1 FROM deleted_own_posts d WHERE d.tweet_id = p.tweet_id) "
        "AND NOT EXISTS (SELECT 1 FROM x_marks m WHERE m.tweet_id = p.tweet_id AND m.mark = 'gone') "
        "AND NOT EXISTS (SELECT 1 FROM opportunities o "
        "    WHERE o.tweet_id = p.reply_to AND o.conversation_id IS NOT NULL) "
        "ORDER BY r.read_at NULLS FIRST, p.posted_at DESC, p.tweet_id LIMIT $2",
        since, limit)
    return [OwnTweet(r["tweet_id"], r["reply_to"]) for r in rows]


async def mark_gone(conn: asyncpg.Connection, tweet_id: str, at: datetime) -> None:
    await conn.execute("INSERT INTO own_posts_gone (tweet_id, noticed_at) VALUES ($1, $2) ON CONFLICT DO NOTHING",
                       tweet_id, at)


async def mark_read(conn: asyncpg.Connection, tweet_id: str, at: datetime) -> None:
    await conn.execute("INSERT INTO conversation_reads (tweet_id, read_at) VALUES ($1, $2) "
                       "ON CONFLICT (tweet_id) DO UPDATE SET read_at = EXCLUDED.read_at", tweet_id, at)


async def open_conversation_authors(conn: asyncpg.Connection, conversation_id: str) -> set[str]:
    """Authors (lower case) of this conversation's replies still offered and not answered."""
    rows = await conn.fetch(
        "SELECT DISTINCT lower(o.author) AS author FROM opportunities o LEFT JOIN replied r USING (tweet_id) "
        "WHERE o.conversation_id = $1 AND o.expired_at IS NULL AND r.tweet_id IS NULL", conversation_id)
    return {r["author"] for r in rows}
