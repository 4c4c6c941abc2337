"""The posting-queue projection on a real NATS and Postgres: one row per content id, however often queued."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from datetime import timedelta
from typing import Any

import asyncpg
import pytest

from libs.bus.publish import EventPublisher
from libs.core.clock import Clock
from services.poster.app import build
from services.poster.settings import PosterSettings
from tests.helpers import eventually
from tests.integration.foundation.helpers import queued


@pytest.fixture
async def poster(settings, js) -> AsyncIterator[tuple[Any, asyncpg.Pool]]:
    """The poster service on a fresh schema, started (a posting cycle every second), and a pool on the database."""
    svc = build(PosterSettings(**{**settings.model_dump(), "posting_cycle": timedelta(seconds=1)}))
    pool = await asyncpg.create_pool(settings.dsn)
    await pool.execute("DROP SCHEMA IF EXISTS poster CASCADE")
    await svc.provision()
    await svc.start()
    try:
        yield svc, pool
    finally:
        await svc.stop()
        await pool.close()


async def test_content_queued_twice_is_one_queue_item(settings, poster) -> None:
    svc, pool = poster
    publisher = EventPublisher(svc.broker, settings, Clock(), "planner")
    base = queued("sleep")
    first = base.model_copy(update={"scheduled_for": base.expires_at})  # never due here: nothing is written
    again = first.model_copy(update={"parts": ["A rewrite that must not replace the first."]})
    await publisher.publish(first)
    await publisher.publish(again)  # another envelope (event id) for the same content id
    await publisher.publish(queued("protein").model_copy(update={"scheduled_for": first.scheduled_for}))
    await eventually(lambda: _count(pool, 2), timeout=20)
    rows = await pool.fetch("SELECT content_id, parts FROM poster.queue WHERE content_id = $1", first.content_id)
    assert len(rows) == 1 and first.parts[0] in rows[0]["parts"]
    # Untouched by the posting cycle: no progress recorded for it.
    assert await pool.fetchval("SELECT count(*) FROM poster.item_progress WHERE content_id = $1",
                               first.content_id) == 0


async def _count(pool: asyncpg.Pool, n: int) -> bool:
    return await pool.fetchval("SELECT count(*) FROM poster.queue") == n


async def test_the_poster_follows_the_gateways_risk_level(settings, poster) -> None:
    """AccountRiskChanged from the gateway's stream becomes the level the posting cycle paces by; a late change
    (an older changed_at, from another replica) does not undo a newer one."""
    from libs.contracts.events import AccountRiskChanged

    svc, pool = poster
    gateway = EventPublisher(svc.broker, settings, Clock(), "browser_gateway")
    now = Clock().now()
    high = AccountRiskChanged(handle="xbot_demo", level=2, level_name="HIGH", previous_level=1,
                              signal="automation_block", operation="search", budget_share=0.25, changed_at=now)
    stale = high.model_copy(update={"level": 0, "level_name": "NORMAL", "signal": "decay",
                                    "changed_at": now - timedelta(minutes=5)})
    await gateway.publish(high)
    await gateway.publish(stale)
    await eventually(lambda: _status_level(svc, "HIGH"), timeout=20)
    await svc.context.wait_caught_up()
    assert await pool.fetchval("SELECT level FROM poster.account_risk") == 2


async def _status_level(svc, name: str) -> bool:
    return (await svc.worker.status())["risk_level"] == name


async def test_an_answer_queued_under_a_post_deleted_or_gone_from_x_is_withdrawn(settings, poster) -> None:
    """The owner deletes a post of ours in the console (TweetDeleted), and the scraper finds another gone from X
    (TweetGone: deleted there, or removed by X), and a thread of ours by its head (the scraper reads a thread's
    head), while answers to replies under them wait in the queue: each ends as PostFailed(reason=
    "conversation_deleted"), never posted, the answer under the thread's second part too; an answer under another
    post, and a reply to a stranger's tweet, stay queued."""
    from datetime import UTC, datetime

    from libs.contracts.events import TweetDeleted, TweetGone

    svc, pool = poster
    planner = EventPublisher(svc.broker, settings, Clock(), "planner")
    console = EventPublisher(svc.broker, settings, Clock(), "console")
    scraper = EventPublisher(svc.broker, settings, Clock(), "scraper")
    base = queued("sleep")
    later = {"kind": "reply", "scheduled_for": base.expires_at, "reply_to_author": "someone"}  # never due here
    under_deleted = base.model_copy(update={**later, "content_id": "a-deleted", "reply_to_tweet_id": "7001",
                                            "conversation_id": "9001"})
    under_gone = base.model_copy(update={**later, "content_id": "a-gone", "reply_to_tweet_id": "7003",
                                         "conversation_id": "9004"})
    under_kept = base.model_copy(update={**later, "content_id": "a-kept", "reply_to_tweet_id": "7002",
                                         "conversation_id": "9002"})
    stranger = base.model_copy(update={**later, "content_id": "a-stranger", "reply_to_tweet_id": "9001x"})
    under_thread = base.model_copy(update={**later, "content_id": "a-thread", "reply_to_tweet_id": "7004",
                                           "conversation_id": "9006"})
    # A thread the poster posted: its head 9005, its second part 9006.
    await pool.execute("INSERT INTO poster.item_progress (content_id, status, tweet_ids, finished_at)"
                       " VALUES ('our-thread', 'posted', '[\"9005\", \"9006\"]', now())")
    for item in (under_deleted, under_gone, under_thread, under_kept, stranger):
        await planner.publish(item)
    await eventually(lambda: _count(pool, 5), timeout=20)
    await console.publish(TweetDeleted(content_id="our-post", tweet_ids=["9001", "9003"], deleted_by="owner",
                                       deleted_at=datetime.now(UTC)))
    for tweet_id, content_id in (("9004", "our-other-post"), ("9005", "our-thread")):
        await scraper.publish(TweetGone(tweet_id=tweet_id, content_id=content_id, noticed_at=datetime.now(UTC)))
    withdrawn = ("a-deleted", "a-gone", "a-thread")

    async def ended() -> bool:
        return await pool.fetchval("SELECT count(*) FROM poster.item_progress WHERE status = 'failed'"
                                   " AND content_id = ANY($1)", withdrawn) == 3

    await eventually(ended, timeout=30)
    outbox = [json.loads(r["envelope"]) for r in await pool.fetch(
        "SELECT envelope FROM poster.event_outbox WHERE event_type = 'PostFailed'")]
    assert sorted((e["payload"]["content_id"], e["payload"]["reason"], e["payload"]["retryable"]) for e in outbox) \
        == [(c, "conversation_deleted", False) for c in withdrawn]
    assert all("is gone" in e["payload"]["error"] for e in outbox)
    assert await pool.fetchval("SELECT count(*) FROM poster.item_progress"
                               " WHERE content_id <> ALL($1) AND content_id <> 'our-thread'", withdrawn) == 0
    # Of the scraper's stream the poster reads TweetGone alone.
    (spec,) = [s for s in svc.consumer_specs() if s.producer == "scraper"]
    assert spec.filter_subject(settings.namespace) == f"{settings.namespace}.scraper.tweet_gone.v1"
