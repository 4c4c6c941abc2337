"""The posting-queue projection on a real NATS and Postgres: one row per content id, however often queued."""

from __future__ import annotations

import asyncpg

from libs.bus.publish import EventPublisher
from libs.runtime.clock import Clock
from services.poster.app import build
from services.poster.settings import PosterSettings
from tests.helpers import eventually
from tests.integration.foundation.helpers import queued


async def test_content_queued_twice_is_one_queue_item(settings, js) -> None:
    poster_settings = PosterSettings(**settings.model_dump())
    svc = build(poster_settings)
    pool = await asyncpg.create_pool(settings.dsn)
    await pool.execute("DROP SCHEMA IF EXISTS poster CASCADE")
    await svc.provision()
    await svc.start()
    try:
        publisher = EventPublisher(svc.broker, settings, Clock(), "planner")
        base = queued("sleep")
        first = base.model_copy(update={"scheduled_for": base.expires_at})  # never due here: nothing is written
        again = first.model_copy(update={"parts": ["A rewrite that must not replace the first."]})
        await publisher.publish(first)
        await publisher.publish(again)  # another envelope (event id) for the same content id
        await publisher.publish(queued("protein").model_copy(update={"scheduled_for": first.scheduled_for}))
        await eventually(lambda: _count(pool, 2), timeout=20)
        rows = await pool.fetch("SELECT content_id, parts, status FROM poster.queue WHERE content_id = $1",
                                first.content_id)
        assert len(rows) == 1 and first.parts[0] in rows[0]["parts"] and rows[0]["status"] == "queued"
    finally:
        await svc.stop()
        await pool.close()


async def _count(pool: asyncpg.Pool, n: int) -> bool:
    return await pool.fetchval("SELECT count(*) FROM poster.queue") == n
