"""The notifier's tables (schema ``notifier``) and the projections that fill them.

- WritesHalted, SessionExpired, AccountRiskChanged, BudgetExhausted, LlmHalted, TweetGone, CommunityNoteShown ->
  ``notices`` (notices.py says what each tells the owner; one about a posted item is sent with its link, from
  ``posts``);
- ApprovalRequested -> ``approvals`` (told in batches by the approvals job);
- TweetPosted, MetricsScraped, FollowersSnapshotted, LlmUsageRecorded -> the day's figures for the digest.

What the jobs and the webhook write (``outgoing``, ``handled``, ``deliveries``, ``repeats``, ``approvals_told``,
``notifier_state``) is job-owned: no event carries it, and a replay must not send anything twice.
"""

from __future__ import annotations

from datetime import date, datetime, time, timedelta, UTC
from typing import Any

import asyncpg

from libs.contracts.base import Event
from libs.contracts.events import (
    ApprovalRequested,
    FollowersSnapshotted,
    LlmUsageRecorded,
    MetricsScraped,
    TweetPosted,
)
from libs.runtime.service import Service
from libs.store.projection import Applied
from services.notifier.notices import (
    EVENTS_NOTICED, DayFigures, Notice, PostFigures, Waiting, notice_for, with_link,
)

JOB_TABLES = ("outgoing", "handled", "deliveries", "repeats", "approvals_told", "notifier_state")


def register(svc: Service[Any]) -> None:
    proj = svc.projection("notices")

    @proj.on_batch(*EVENTS_NOTICED)
    async def on_news(conn: asyncpg.Connection, items: list[Applied[Event]]) -> None:
        made = [n for i in items if (n := notice_for(i.event, event_key=i.envelope.msg_id(i.event),
                                                     occurred_at=i.envelope.occurred_at)) is not None]
        await conn.executemany(
            "INSERT INTO notices (id, kind, key, title, body, severity, occurred_at, content_id)"
            " VALUES ($1,$2,$3,$4,$5,$6,$7,$8) ON CONFLICT DO NOTHING",
            [(n.id, n.kind, n.key, n.title, n.body, n.severity, n.occurred_at, n.content_id) for n in made])

    @proj.on_batch(ApprovalRequested)
    async def on_approval(conn: asyncpg.Connection, items: list[Applied[ApprovalRequested]]) -> None:
        await conn.executemany(
            "INSERT INTO approvals (content_id, kind, preview, requested_at) VALUES ($1,$2,$3,$4)"
            " ON CONFLICT DO NOTHING",
            [(e.content_id, e.kind, e.preview, e.requested_at) for e in (i.event for i in items)])

    @proj.on_batch(TweetPosted)
    async def on_posted(conn: asyncpg.Connection, items: list[Applied[TweetPosted]]) -> None:
        await conn.executemany(
            "INSERT INTO posts (content_id, tweet_id, kind, url, text, posted_at) VALUES ($1,$2,$3,$4,$5,$6)"
            " ON CONFLICT DO NOTHING",
            [(e.content_id, e.tweet_ids[0], e.kind, e.url, e.text, e.posted_at) for e in (i.event for i in items)])

    @proj.on_batch(MetricsScraped)
    async def on_counts(conn: asyncpg.Connection, items: list[Applied[MetricsScraped]]) -> None:
        # The latest read wins, whatever order the reads arrive in.
        await conn.executemany(
            "INSERT INTO post_counts AS c (tweet_id, likes, retweets, replies, views, observed_at)"
            " VALUES ($1,$2,$3,$4,$5,$6) ON CONFLICT (tweet_id) DO UPDATE SET likes = EXCLUDED.likes,"
            " retweets = EXCLUDED.retweets, replies = EXCLUDED.replies, views = EXCLUDED.views,"
            " observed_at = EXCLUDED.observed_at WHERE c.observed_at < EXCLUDED.observed_at",
            [(e.tweet_id, e.likes, e.retweets, e.replies, e.views, e.observed_at) for e in (i.event for i in items)])

    @proj.on_batch(FollowersSnapshotted)
    async def on_followers(conn: asyncpg.Connection, items: list[Applied[FollowersSnapshotted]]) -> None:
        await conn.executemany(
            "INSERT INTO followers (observed_at, followers) VALUES ($1, $2) ON CONFLICT DO NOTHING",
            [(e.observed_at, e.followers) for e in (i.event for i in items)])

    @proj.on_batch(LlmUsageRecorded)
    async def on_spend(conn: asyncpg.Connection, items: list[Applied[LlmUsageRecorded]]) -> None:
        await conn.executemany(
            "INSERT INTO spend (request_id, day, cost_usd) VALUES ($1, $2, $3) ON CONFLICT DO NOTHING",
            [(e.request_id, e.day, e.cost_usd) for e in (i.event for i in items)])


# ---------------------------------------------------------------------- reads for the jobs

NOTICE_COLUMNS = "id, kind, key, title, body, severity, occurred_at"


async def pending_notices(conn: asyncpg.Connection, limit: int = 200) -> list[Notice]:
    """Notices (from events and from the notifier itself) not yet handled, oldest first; one about a posted item
    carries the item's link once its TweetPosted has been read (the streams are read apart)."""
    rows = await conn.fetch(
        f"SELECT n.*, p.url FROM (SELECT {NOTICE_COLUMNS}, content_id FROM notices UNION ALL"
        f" SELECT {NOTICE_COLUMNS}, NULL AS content_id FROM outgoing) n"
        " LEFT JOIN posts p ON p.content_id = n.content_id"
        " WHERE NOT EXISTS (SELECT 1 FROM handled h WHERE h.notice_id = n.id) ORDER BY n.occurred_at, n.id"
        " LIMIT $1", limit)
    return [Notice(**{k: v for k, v in r.items() if k != "url"} | {"body": with_link(r["body"], r["url"])})
            for r in rows]


async def add_outgoing(conn: asyncpg.Connection, notice: Notice) -> bool:
    """A notice the notifier made itself; False when one with the same id exists (made once)."""
    return await conn.fetchval(
        "INSERT INTO outgoing (id, kind, key, title, body, severity, occurred_at) VALUES ($1,$2,$3,$4,$5,$6,$7)"
        " ON CONFLICT DO NOTHING RETURNING true",
        notice.id, notice.kind, notice.key, notice.title, notice.body, notice.severity, notice.occurred_at) or False


async def waiting_approvals(conn: asyncpg.Connection) -> list[Waiting]:
    rows = await conn.fetch(
        "SELECT content_id, kind, preview, requested_at FROM approvals a"
        " WHERE NOT EXISTS (SELECT 1 FROM approvals_told t WHERE t.content_id = a.content_id) ORDER BY requested_at")
    return [Waiting(**dict(r)) for r in rows]


async def day_figures(conn: asyncpg.Connection, day: date) -> DayFigures:
    start = datetime.combine(day, time(0), tzinfo=UTC)
    end = start + timedelta(days=1)
    posts = await conn.fetch(
        "SELECT p.content_id, p.kind, p.url, p.text, coalesce(c.likes, 0) AS likes,"
        " coalesce(c.retweets, 0) AS retweets, coalesce(c.replies, 0) AS replies, coalesce(c.views, 0) AS views"
        " FROM posts p LEFT JOIN post_counts c ON c.tweet_id = p.tweet_id"
        " WHERE p.posted_at >= $1 AND p.posted_at < $2 ORDER BY p.posted_at", start, end)
    # Followers at the start of the day: the last count before it (else the day's first); at its end: the last.
    before = await conn.fetchval(
        "SELECT followers FROM followers WHERE observed_at < $1 ORDER BY observed_at DESC LIMIT 1", start)
    first = await conn.fetchval(
        "SELECT followers FROM followers WHERE observed_at >= $1 AND observed_at < $2 ORDER BY observed_at LIMIT 1",
        start, end)
    last = await conn.fetchval(
        "SELECT followers FROM followers WHERE observed_at < $1 ORDER BY observed_at DESC LIMIT 1", end)
    spent = await conn.fetchval("SELECT coalesce(sum(cost_usd), 0) FROM spend WHERE day = $1", day.isoformat())
    return DayFigures(day=day, posts=[PostFigures(**dict(r)) for r in posts],
                      followers_start=before if before is not None else first,
                      followers_end=last if first is not None or before is not None else None,
                      spend_usd=float(spent))
