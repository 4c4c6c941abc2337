"""The scraper's tables (schema ``scraper``) and the projections that fill them from events.

- poster's TweetPosted -> the read schedule (``scrape_reads``) and our items (``own_items``);
- our own MetricsScraped -> ``reads_done`` and ``engagement_reads``;
- our own FollowersSnapshotted -> ``follower_series``;
- the console's TweetDeleted (the owner deleted a post) -> ``deleted_tweets``: no more reads of it;
- our own PastPostsRead -> ``past_posts_read``: the account's posts from before xbot are read once.

Only these projections write those tables: the jobs record their events in the outbox and wait until the
projections applied them (read your own writes) before they rely on the tables again. What the jobs write
themselves lives in job-owned tables: ``active_reads`` (the follower snapshot's reads of active items, which no
event carries), ``gone_tweets`` (what a read found missing on X) and ``notes_told`` (the Community Notes under our
tweets already told). A deletion the owner made is a fact with an event, so it lands in the projection table
``deleted_tweets`` rather than in the job-owned ``gone_tweets``: both stop a tweet's reads (``pending_due``,
``readable_since``).
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

import asyncpg

from libs.contracts.events import FollowersSnapshotted, MetricsScraped, PastPostsRead, TweetDeleted, TweetPosted
from libs.contracts.gateway import TweetMetrics
from libs.runtime.service import Service
from libs.store.projection import Applied
from services.scraper.attribution import ActiveItem, EngagementPoint, FollowerCount, engagement
from services.scraper.checkpoints import Checkpoint, ScheduledRead, schedule_reads


JOB_TABLES = ("active_reads", "gone_tweets", "notes_told")


def register(svc: Service[Any], plan: Sequence[Checkpoint], *, missed_fraction: float) -> None:
    proj = svc.projection("schedule")

    @proj.on_batch(TweetPosted)
    async def on_posted(conn: asyncpg.Connection, items: list[Applied[TweetPosted]]) -> None:
        posted = [i.event for i in items]
        reads = [r for p in posted for r in schedule_reads(p, plan, missed_fraction=missed_fraction)]
        await conn.executemany(
            "INSERT INTO scrape_reads (tweet_id, checkpoint, content_id, kind, posted_at, checkpoint_hours, "
            "interval_hours, historical, due_at, late_at) VALUES ($1,$2,$3,$4,$5,$6,$7,$8,$9,$10) "
            "ON CONFLICT DO NOTHING",
            [(r.tweet_id, r.checkpoint.name, r.content_id, r.kind, r.posted_at, r.checkpoint.hours,
              r.checkpoint.interval_hours, r.checkpoint.historical, r.due_at, r.late_at) for r in reads])
        await conn.executemany(
            "INSERT INTO own_items (tweet_id, content_id, kind, posted_at) VALUES ($1,$2,$3,$4) "
            "ON CONFLICT DO NOTHING",
            [(p.tweet_ids[0], p.content_id, p.kind, p.posted_at) for p in posted])

    @proj.on_batch(MetricsScraped)
    async def on_scraped(conn: asyncpg.Connection, items: list[Applied[MetricsScraped]]) -> None:
        events = [i.event for i in items]
        await conn.executemany(
            "INSERT INTO reads_done (tweet_id, checkpoint, observed_at) VALUES ($1, $2, $3) ON CONFLICT DO NOTHING",
            [(e.tweet_id, e.checkpoint, e.observed_at) for e in events])
        await conn.executemany(
            "INSERT INTO engagement_reads (tweet_id, observed_at, likes, retweets, replies, views) "
            "VALUES ($1,$2,$3,$4,$5,$6) ON CONFLICT DO NOTHING",
            [(e.tweet_id, e.observed_at, e.likes, e.retweets, e.replies, e.views) for e in events])

    @proj.on_batch(FollowersSnapshotted)
    async def on_snapshot(conn: asyncpg.Connection, items: list[Applied[FollowersSnapshotted]]) -> None:
        await conn.executemany(
            "INSERT INTO follower_series (handle, observed_at, followers, following) VALUES ($1,$2,$3,$4) "
            "ON CONFLICT DO NOTHING",
            [(e.handle.lower(), e.observed_at, e.followers, e.following) for e in (i.event for i in items)])

    @proj.on_batch(TweetDeleted)
    async def on_deleted(conn: asyncpg.Connection, items: list[Applied[TweetDeleted]]) -> None:
        await conn.executemany(
            "INSERT INTO deleted_tweets (tweet_id, content_id, deleted_at) VALUES ($1,$2,$3) ON CONFLICT DO NOTHING",
            [(tweet_id, e.content_id, e.deleted_at) for e in (i.event for i in items) for tweet_id in e.tweet_ids])

    @proj.on_batch(PastPostsRead)
    async def on_past_posts(conn: asyncpg.Connection, items: list[Applied[PastPostsRead]]) -> None:
        await conn.executemany(
            "INSERT INTO past_posts_read (handle, observed_at, posts) VALUES ($1,$2,$3) ON CONFLICT DO NOTHING",
            [(e.handle.lower(), e.observed_at, len(e.posts)) for e in (i.event for i in items)])


# ---------------------------------------------------------------------- job-owned writes


async def record_active_reads(conn: asyncpg.Connection, reads: Sequence[tuple[str, datetime, TweetMetrics]]) -> None:
    """The follower snapshot's reads of active items (attribution needs them; no event carries them)."""
    await conn.executemany(
        "INSERT INTO active_reads (tweet_id, observed_at, likes, retweets, replies, views) "
        "VALUES ($1,$2,$3,$4,$5,$6) ON CONFLICT DO NOTHING",
        [(tid, at, m.likes, m.retweets, m.replies, m.views) for tid, at, m in reads])


# ---------------------------------------------------------------------- reads for the jobs


def _scheduled(row: asyncpg.Record) -> ScheduledRead:
    return ScheduledRead(
        tweet_id=row["tweet_id"], content_id=row["content_id"], kind=row["kind"], posted_at=row["posted_at"],
        checkpoint=Checkpoint(row["checkpoint"], row["checkpoint_hours"], row["interval_hours"],
                              row["historical"]),
        due_at=row["due_at"], late_at=row["late_at"])


# A status page can fail to show a tweet for a moment; three runs in a row that find it gone are taken as a deletion.
GONE_AFTER_MISSES = 3


async def pending_due(conn: asyncpg.Connection, now: datetime) -> list[ScheduledRead]:
    rows = await conn.fetch(
        "SELECT s.* FROM scrape_reads s WHERE s.due_at <= $1 AND NOT EXISTS "
        "(SELECT 1 FROM reads_done d WHERE d.tweet_id = s.tweet_id AND d.checkpoint = s.checkpoint) AND NOT EXISTS "
        "(SELECT 1 FROM gone_tweets g WHERE g.tweet_id = s.tweet_id AND g.misses >= $2) AND NOT EXISTS "
        "(SELECT 1 FROM deleted_tweets x WHERE x.tweet_id = s.tweet_id)", now, GONE_AFTER_MISSES)
    return [_scheduled(r) for r in rows]


async def note_gone(conn: asyncpg.Connection, missing: Sequence[str], found: Sequence[str], at: datetime) -> list[str]:
    """Count one more miss for each tweet a read did not find, forget those it found; returns the tweets that
    have just reached GONE_AFTER_MISSES (their reads are no longer due)."""
    await conn.execute("DELETE FROM gone_tweets WHERE tweet_id = ANY($1::text[])", list(found))
    rows = await conn.fetch(
        "INSERT INTO gone_tweets (tweet_id, misses, noticed_at) SELECT unnest($1::text[]), 1, $2 "
        "ON CONFLICT (tweet_id) DO UPDATE SET misses = gone_tweets.misses + 1 RETURNING tweet_id, misses",
        list(missing), at)
    return [r["tweet_id"] for r in rows if r["misses"] == GONE_AFTER_MISSES]


async def first_notes(conn: asyncpg.Connection, noted: Sequence[str], at: datetime) -> list[str]:
    """The tweets among ``noted`` (a read found a Community Note under them) whose note was not told before."""
    rows = await conn.fetch("INSERT INTO notes_told (tweet_id, noticed_at) SELECT unnest($1::text[]), $2 "
                            "ON CONFLICT DO NOTHING RETURNING tweet_id", list(noted), at)
    return sorted(r["tweet_id"] for r in rows)


async def past_posts_read(conn: asyncpg.Connection, handle: str) -> bool:
    return bool(await conn.fetchval("SELECT EXISTS (SELECT 1 FROM past_posts_read WHERE handle = $1)", handle.lower()))


async def first_post(conn: asyncpg.Connection) -> datetime | None:
    """When xbot posted its first item (TweetPosted), or None before any."""
    return await conn.fetchval("SELECT min(posted_at) FROM own_items")


async def last_followers(conn: asyncpg.Connection, handle: str) -> FollowerCount | None:
    row = await conn.fetchrow(
        "SELECT followers, observed_at FROM follower_series WHERE handle = $1 ORDER BY observed_at DESC LIMIT 1",
        handle.lower())
    return FollowerCount(row["followers"], row["observed_at"]) if row else None


async def engagement_totals(conn: asyncpg.Connection) -> tuple[dict[str, int], int]:
    """Likes, retweets, replies and views summed over our tweets, each at its latest read; and how many tweets."""
    row = await conn.fetchrow(
        "SELECT count(*) AS tweets, COALESCE(sum(likes), 0) AS likes, COALESCE(sum(retweets), 0) AS retweets, "
        "COALESCE(sum(replies), 0) AS replies, COALESCE(sum(views), 0) AS views FROM "
        "(SELECT DISTINCT ON (tweet_id) likes, retweets, replies, views FROM "
        "(SELECT * FROM engagement_reads UNION ALL SELECT * FROM active_reads) r "
        "ORDER BY tweet_id, observed_at DESC) latest")
    return {k: int(row[k]) for k in ("likes", "retweets", "replies", "views")}, int(row["tweets"])


async def items_since(conn: asyncpg.Connection, since: datetime) -> list[asyncpg.Record]:
    return await conn.fetch(
        "SELECT tweet_id, content_id, kind, posted_at FROM own_items WHERE posted_at >= $1 "
        "ORDER BY posted_at DESC, tweet_id", since)


async def readable_since(conn: asyncpg.Connection, since: datetime) -> list[str]:
    """Our tweets posted since ``since`` that are still on X as far as we know (the owner deleted none of them)."""
    rows = await conn.fetch(
        "SELECT tweet_id FROM own_items i WHERE posted_at >= $1 AND NOT EXISTS "
        "(SELECT 1 FROM deleted_tweets x WHERE x.tweet_id = i.tweet_id) ORDER BY posted_at DESC, tweet_id", since)
    return [r["tweet_id"] for r in rows]


async def active_items(conn: asyncpg.Connection, since: datetime) -> list[ActiveItem]:
    """Our items posted since ``since`` with every engagement observation we hold of them."""
    items = await items_since(conn, since)
    reads = await conn.fetch(
        "SELECT r.tweet_id, r.observed_at, r.likes, r.retweets, r.replies FROM "
        "(SELECT * FROM engagement_reads UNION SELECT * FROM active_reads) r "
        "JOIN own_items i USING (tweet_id) WHERE i.posted_at >= $1", since)
    points: dict[str, list[EngagementPoint]] = {}
    for r in reads:
        points.setdefault(r["tweet_id"], []).append(
            EngagementPoint(r["observed_at"], engagement(r["likes"], r["retweets"], r["replies"])))
    return [ActiveItem(content_id=i["content_id"], tweet_id=i["tweet_id"], posted_at=i["posted_at"],
                       observations=tuple(points.get(i["tweet_id"], ()))) for i in items]
