"""The console's items projection pairs each item with its outcome whichever of the two streams is read first, on a
real Postgres: the planner's (or the console's own) stream and the poster's are read by two consumers, each
batch in its own transaction."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import asyncpg
import pytest

from libs.contracts.events import ContentQueued, OwnerPostQueued, TweetPosted
from libs.store.projection import Applied, Projection
from services.console import projections

MIGRATIONS = Path(projections.__file__).parent / "migrations"


class _Registry:
    """Stands for the service in ``projections.register``: only its projections are wanted here."""

    def __init__(self) -> None:
        self.projections: dict[str, Projection] = {}

    def projection(self, name: str, **kw: Any) -> Projection:
        self.projections[name] = Projection(service="console", name=name, filtered=kw.get("filtered", False))
        return self.projections[name]


@pytest.fixture
async def schema(database_url: str) -> AsyncIterator[tuple[str, str]]:
    name = f"console_{uuid.uuid4().hex[:8]}"
    conn = await asyncpg.connect(database_url)
    await conn.execute(f"CREATE SCHEMA {name}; SET search_path = {name}")
    for migration in sorted(MIGRATIONS.glob("*.sql")):
        await conn.execute(migration.read_text())
    try:
        yield database_url, name
    finally:
        await conn.execute(f"DROP SCHEMA {name} CASCADE")
        await conn.close()


def _handlers() -> dict:
    registry = _Registry()
    projections.register(registry)
    return registry.projections["items"].handlers


async def _connect(schema: tuple[str, str]) -> asyncpg.Connection:
    url, name = schema
    return await asyncpg.connect(url, server_settings={"search_path": name})


def _posted(content_id: str, now: datetime) -> TweetPosted:
    return TweetPosted(content_id=content_id, kind="post", tweet_ids=["1"], url="https://x.com/a/status/1",
                       posted_at=now)


async def _status(conn: asyncpg.Connection, content_id: str) -> tuple[str, int]:
    status = await conn.fetchval("SELECT status FROM items WHERE content_id = $1", content_id)
    early = await conn.fetchval("SELECT count(*) FROM outcomes_early WHERE content_id = $1", content_id)
    return status, early


async def test_an_outcome_applied_while_its_item_is_being_inserted_is_kept(schema) -> None:
    """ContentQueued applied, not yet committed; its TweetPosted applied meanwhile by the other consumer: before
    the two took one lock, the outcome went to outcomes_early after the insert had looked there (lost)."""
    handlers, now, cid = _handlers(), datetime.now(UTC), uuid.uuid4().hex
    choice = SimpleNamespace(model_dump_json=lambda: "{}")
    queued = SimpleNamespace(content_id=cid, kind="post", parts=["x"], choice=choice, propensity=0.5,
                             policy_version="t", reply_to_tweet_id=None, reply_to_author=None,
                             scheduled_for=now, expires_at=now, evergreen_id=None)
    envelope = SimpleNamespace(occurred_at=now)
    planner, poster = await _connect(schema), await _connect(schema)
    try:
        tx = planner.transaction()
        await tx.start()
        await handlers[ContentQueued](planner, [Applied(queued, envelope, "planner", 1)])

        async def outcome() -> None:
            async with poster.transaction():
                await handlers[TweetPosted](poster, [Applied(_posted(cid, now), envelope, "poster", 1)])

        applying = asyncio.create_task(outcome())
        await asyncio.sleep(0.3)
        await tx.commit()
        await applying
        assert await _status(planner, cid) == ("posted", 0)
    finally:
        await planner.close()
        await poster.close()


async def test_an_owner_posts_outcome_read_before_the_post_is_applied_to_it(schema) -> None:
    """A replay reads the console's stream and the poster's apart: the owner's post's TweetPosted first."""
    handlers, now, cid = _handlers(), datetime.now(UTC), uuid.uuid4().hex
    envelope = SimpleNamespace(occurred_at=now)
    conn = await _connect(schema)
    try:
        async with conn.transaction():
            await handlers[TweetPosted](conn, [Applied(_posted(cid, now), envelope, "poster", 1)])
        own = OwnerPostQueued(content_id=cid, kind="post", parts=["My own words."], scheduled_for=now,
                              expires_at=now, queued_by="owner")
        async with conn.transaction():
            await handlers[OwnerPostQueued](conn, [Applied(own, envelope, "console", 1)])
        assert await _status(conn, cid) == ("posted", 0)
    finally:
        await conn.close()
