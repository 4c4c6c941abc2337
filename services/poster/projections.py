"""The poster's read model of the planner's stream: ContentQueued -> one row of the posting queue.

Idempotent on content_id (a re-queued id is the same item), deterministic, no clock reads: the posting cycle
owns every later change of the row (status, attempts, posted parts).
"""

from __future__ import annotations

import json

import asyncpg

from libs.contracts.events import ContentQueued
from libs.runtime.service import Service
from libs.store.projection import Applied


def register(service: Service) -> None:
    queue = service.projection("queue")

    @queue.on_batch(ContentQueued)
    async def on_queued(conn: asyncpg.Connection, items: list[Applied]) -> None:
        rows = []
        for item in items:
            e: ContentQueued = item.event  # type: ignore[assignment]
            rows.append((e.content_id, e.kind, json.dumps(e.parts), e.reply_to_tweet_id, e.reply_to_author,
                         e.scheduled_for, e.expires_at, item.envelope.event_id,
                         item.envelope.correlation_id or item.envelope.event_id))
        await conn.executemany(
            "INSERT INTO queue (content_id, kind, parts, reply_to_tweet_id, reply_to_author, scheduled_for,"
            " expires_at, queued_event_id, correlation_id) VALUES ($1, $2, $3::jsonb, $4, $5, $6, $7, $8, $9)"
            " ON CONFLICT (content_id) DO NOTHING", rows)
