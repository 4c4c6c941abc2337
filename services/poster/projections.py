"""The poster's read models: the planner's stream (ContentQueued -> one row of the posting queue), the
gateway's (AccountRiskChanged -> the account's risk level, which the poster follows instead of keeping its own)
and the console's (ContentApproved, ContentRejectedByOwner -> the owner's decision on an item; ContentEdited -> the
owner's edits, which the posting cycle applies or answers too late; OwnerPostQueued -> the owner's own post, queued
as approved; TweetDeleted -> the deleted tweets, which withdraw the answers still queued under them) and, of the
scraper's stream, TweetGone alone (a durable filtered on it: a tweet of ours gone from X, deleted there or removed
by X, withdraws the answers under it as a deletion does; ``x_marks``).

Idempotent on content_id (a re-queued id is the same item), deterministic, no clock reads: the posting cycle
owns every later change of the row (status, attempts, posted parts).
"""

from __future__ import annotations

import json
from datetime import datetime
from typing import Any

import asyncpg

from libs.contracts.base import Event
from libs.contracts.events import (
    AccountRiskChanged,
    ContentApproved,
    ContentEdited,
    ContentQueued,
    ContentRejectedByOwner,
    OwnerPostQueued,
    TweetDeleted,
)
from libs.runtime.service import Service
from libs.store.projection import Applied
from libs.store.x_marks import keep_gone


# The gateway's levels (services/browser_gateway/risk.py), for an event that does not name its level.
LEVEL_NAMES = ("NORMAL", "ELEVATED", "HIGH", "SEVERE", "LOCKED")


def register(service: Service[Any]) -> None:
    queue = service.projection("queue")

    @queue.on_batch(ContentQueued)
    async def on_queued(conn: asyncpg.Connection, items: list[Applied[ContentQueued]]) -> None:
        rows = []
        for item in items:
            e = item.event
            rows.append((e.content_id, e.kind, json.dumps(e.parts), e.reply_to_tweet_id, e.reply_to_author,
                         e.conversation_id, e.scheduled_for, e.expires_at, item.envelope.event_id,
                         item.envelope.correlation_id or item.envelope.event_id))
        await conn.executemany(
            "INSERT INTO queue (content_id, kind, parts, reply_to_tweet_id, reply_to_author, conversation_id,"
            " scheduled_for, expires_at, queued_event_id, correlation_id)"
            " VALUES ($1, $2, $3::jsonb, $4, $5, $6, $7, $8, $9, $10) ON CONFLICT (content_id) DO NOTHING", rows)

    risk = service.projection("account_risk")

    @risk.on_batch(AccountRiskChanged)
    async def on_risk(conn: asyncpg.Connection, items: list[Applied[AccountRiskChanged]]) -> None:
        for item in items:
            e = item.event
            # The latest change wins (stream order is the gateway's order; changed_at guards a replica's late one).
            await conn.execute(
                "INSERT INTO account_risk AS r (handle, level, level_name, signal, changed_at)"
                " VALUES ($1, $2, $3, $4, $5) ON CONFLICT (handle) DO UPDATE SET level = $2, level_name = $3,"
                " signal = $4, changed_at = $5 WHERE r.changed_at <= $5",
                e.handle.lower(), min(e.level, 4), e.level_name or LEVEL_NAMES[min(e.level, 4)], e.signal,
                e.changed_at)

    decisions = service.projection("owner_decisions")

    @decisions.on_batch(ContentApproved, ContentRejectedByOwner)
    async def on_decision(conn: asyncpg.Connection, items: list[Applied[Event]]) -> None:
        # The first decision stands: the console makes one per item, and a replayed one changes nothing.
        for item in items:
            e = item.event
            row: tuple[str, str, str | None, str | None, datetime]
            if isinstance(e, ContentApproved):
                row = (e.content_id, "approved", json.dumps(e.parts), None, e.approved_at)
            else:
                assert isinstance(e, ContentRejectedByOwner)
                row = (e.content_id, "rejected", None, e.reason, e.rejected_at)
            await conn.execute(
                "INSERT INTO owner_decisions (content_id, decision, parts, reason, decided_at)"
                " VALUES ($1, $2, $3::jsonb, $4, $5) ON CONFLICT (content_id) DO NOTHING", *row)

    @decisions.on(ContentEdited)
    async def on_edited(conn: asyncpg.Connection, item: Applied[ContentEdited]) -> None:
        # Every edit is kept; the posting cycle decides whether it came in time (store.settle_edits).
        e = item.event
        await conn.execute("INSERT INTO owner_edits (content_id, edited_at, parts) VALUES ($1, $2, $3::jsonb)"
                           " ON CONFLICT DO NOTHING", e.content_id, e.edited_at, json.dumps(e.parts))

    @decisions.on(OwnerPostQueued)
    async def on_owner_post(conn: asyncpg.Connection, item: Applied[OwnerPostQueued]) -> None:
        e = item.event
        await conn.execute(
            "INSERT INTO queue (content_id, kind, parts, scheduled_for, expires_at, queued_event_id, correlation_id)"
            " VALUES ($1, $2, $3::jsonb, $4, $5, $6, $7) ON CONFLICT (content_id) DO NOTHING",
            e.content_id, e.kind, json.dumps(e.parts), e.scheduled_for, e.expires_at, item.envelope.event_id,
            item.envelope.correlation_id or item.envelope.event_id)
        # The owner wrote it: approved as written, whatever XBOT_APPROVAL says.
        await conn.execute(
            "INSERT INTO owner_decisions (content_id, decision, parts, decided_at) VALUES ($1, 'approved', $2::jsonb,"
            " $3) ON CONFLICT (content_id) DO NOTHING", e.content_id, json.dumps(e.parts), e.scheduled_for)

    @decisions.on(TweetDeleted)
    async def on_deleted(conn: asyncpg.Connection, item: Applied[TweetDeleted]) -> None:
        # The owner deleted a post (every part of a thread): an answer still queued under it would continue a
        # conversation that is gone from the account (the stranger's reply stays on X, orphaned).
        e = item.event
        await conn.executemany("INSERT INTO deleted_tweets (tweet_id, deleted_at) VALUES ($1, $2)"
                               " ON CONFLICT DO NOTHING", [(t, e.deleted_at) for t in e.tweet_ids])

    # Of the scraper's stream the poster reads one event (its metrics are not the poster's business): a tweet of
    # ours gone from X, which the owner deleted on X itself or X removed, leaves an answer under it as orphaned as
    # a deletion in the console does.
    keep_gone(service.projection("x_removals", filtered=True))
