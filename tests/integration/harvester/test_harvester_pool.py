"""The harvester's pool projection against real JetStream and Postgres: one opportunity per tweet, replies and
expiries leave the pool, and a replay rebuilds the same tables (the gateway-driven jobs are tested end to end
in tests/e2e/harvester_scraper/)."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta

import asyncpg
import pytest

from libs.bus.streams import stream_name
from libs.contracts.events import (
    AccountDiscovered,
    OpportunityExpired,
    OpportunityFound,
    ReplyLeftToOwner,
    TweetPosted,
)
from libs.store.replay import replay_service
from services.harvester.app import build
from services.harvester.settings import HarvesterSettings
from tests.helpers import eventually
from tests.helpers import publish

NOW = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)
TABLES = ("opportunities", "replied", "accounts")


@pytest.fixture
async def harvester(settings, js):
    conn = await asyncpg.connect(settings.dsn)
    await conn.execute("DROP SCHEMA IF EXISTS harvester CASCADE")  # the database lives for the whole session
    await conn.close()
    # Jobs far in the future: this test drives the pool through events only, no gateway runs here.
    svc = build(HarvesterSettings(nats_url=settings.nats_url, database_url=settings.dsn,
                                  namespace=settings.namespace, harvest_interval=timedelta(days=30),
                                  discovery_interval=timedelta(days=30)))
    await svc.provision()
    yield svc
    await svc.stop()




async def table(settings, name: str):
    conn = await asyncpg.connect(settings.dsn, server_settings={"search_path": "harvester"})
    try:
        return sorted(tuple(r) for r in await conn.fetch(f"SELECT * FROM {name}"))
    finally:
        await conn.close()


def found(tweet_id: str, likes: int = 3000) -> OpportunityFound:
    return OpportunityFound(tweet_id=tweet_id, author="ava_sleep1", author_followers=12_000,
                            text="A consistent sleep schedule matters.", likes=likes, retweets=10, replies=300,
                            tweet_created_at=NOW - timedelta(hours=2), age_minutes=120, relevance=0.6,
                            topic="sleep")


async def test_pool_holds_each_tweet_once_and_loses_replied_and_expired_ones(settings, js, harvester):
    await harvester.start()
    a, b, c = (str(uuid.uuid4().int)[:19] for _ in range(3))
    reply = TweetPosted(content_id="r1", kind="reply", tweet_ids=["9" * 19], url="https://x.com/i/status/9",
                        posted_at=NOW, reply_to_tweet_id=b, reply_to_author="ava_sleep1")
    await publish(settings, [
        found(a), found(b), found(a, likes=5000),  # the same tweet again: a JetStream duplicate
        OpportunityExpired(tweet_id=c, reason="too_old"),  # for a tweet never found: no row appears
        OpportunityExpired(tweet_id=a, reason="too_old"),
        AccountDiscovered(handle="Ava_Sleep1", followers=12_000, engagement_rate=0.01, discovered_at=NOW),
        reply,
    ])
    assert (await js.stream_info(stream_name(settings.namespace, "harvester"))).state.messages == 5

    async def settled():
        return len(await table(settings, "replied")) == 1 and len(await table(settings, "accounts")) == 1 \
            and any(r[14] for r in await table(settings, "opportunities"))

    await eventually(settled)
    opps = {r[0]: r for r in await table(settings, "opportunities")}
    assert set(opps) == {a, b}
    assert opps[a][4] == 3000 and opps[a][14] == "too_old"  # first found wins; expired
    assert opps[b][13] is None  # still pooled: expiring a replied tweet is the harvest job's decision
    assert await table(settings, "replied") == [(b, NOW)]
    assert (await table(settings, "accounts"))[0][0] == "ava_sleep1"

    before = {t: await table(settings, t) for t in TABLES}
    stats = await replay_service(harvester)
    assert stats["applied"] == 6
    assert {t: await table(settings, t) for t in TABLES} == before


async def test_personal_data_past_the_retention_is_forgotten_by_every_reader_and_by_a_replay(settings, js,
                                                                                              harvester):
    await harvester.start()
    a, b = (str(uuid.uuid4().int)[:19] for _ in range(2))
    left = str(uuid.uuid4().int)[:19]
    await publish(settings, [found(a), found(b),
                             AccountDiscovered(handle="ava_sleep1", followers=12_000, engagement_rate=0.01,
                                               discovered_at=datetime.now(UTC)),
                             # A reply to our tweet left to the owner (a person in a crisis): its id and author.
                             ReplyLeftToOwner(tweet_id=left, author="dee_sleep", conversation_id="42",
                                              reason="crisis", tweet_created_at=NOW,
                                              found_at=datetime.now(UTC))])

    async def settled():
        return len(await table(settings, "opportunities")) == 2 and len(await table(settings, "accounts")) == 1 \
            and len(await table(settings, "left_to_owner")) == 1

    await eventually(settled)
    conn = await asyncpg.connect(settings.dsn, server_settings={"search_path": "harvester"})
    try:
        found_at = await conn.fetchval("SELECT max(found_at) FROM opportunities")
        await conn.execute("INSERT INTO author_profiles VALUES ('ava_sleep1', 12000, 'Sleep coach.', $1)", found_at)
        await conn.execute("INSERT INTO deletion_checks VALUES ($1, $2)", a, found_at)
    finally:
        await conn.close()
    jobs = harvester._worker
    retention = harvester.settings.personal_data_retention
    stream = stream_name(settings.namespace, "harvester")
    held = (await js.stream_info(stream)).state.messages

    # Within the retention: nothing is forgotten and no event is published.
    kept = await jobs.purge_personal_data(now=found_at + retention - timedelta(minutes=1))
    assert kept["projected_rows"] == 0 and kept["profiles"] == 0
    assert (await js.stream_info(stream)).state.messages == held
    assert len(await table(settings, "opportunities")) == 2

    # Past it: the projected rows go through PersonalDataPurged (applied before the job returns), the caches
    # directly.
    gone = await jobs.purge_personal_data(now=found_at + retention + timedelta(minutes=1))
    assert gone["projected_rows"] == 4 and gone["profiles"] == 1
    assert (await js.stream_info(stream)).state.messages == held + 1
    assert await table(settings, "opportunities") == [] and await table(settings, "accounts") == []
    assert await table(settings, "left_to_owner") == []
    assert await table(settings, "author_profiles") == [] and await table(settings, "deletion_checks") == []
    # A rebuild from the stream forgets the same rows at the same point of the history.
    assert (await replay_service(harvester, verify=True))["differences"] == []


def test_the_retention_must_outlast_the_harvests_max_tweet_age(settings):
    with pytest.raises(ValueError, match="personal_data_retention .* must exceed harvest_max_age"):
        HarvesterSettings(personal_data_retention=timedelta(hours=12), snapshot_interval=timedelta(hours=1))


async def test_a_tweet_deleted_in_the_console_or_gone_from_x_has_its_replies_read_no_more(settings, js, harvester):
    """The console's TweetDeleted and the scraper's TweetGone (each read through a durable filtered on it): our
    tweet deleted in the console, or found gone from X (deleted there, or removed by X), leaves the conversations
    read, which through the X API could not tell it gone (its search finds no reply either way)."""
    from libs.contracts.events import TweetDeleted, TweetGone
    from services.harvester.projections import tweets_to_read

    await harvester.start()
    now = datetime.now(UTC)
    kept, deleted, gone = (str(uuid.uuid4().int)[:19] for _ in range(3))
    await publish(settings, [TweetPosted(content_id=f"c-{t}", kind="post", tweet_ids=[t], url="http://x/p",
                                         posted_at=now, text="A post of ours.") for t in (kept, deleted, gone)])
    await publish(settings, [TweetDeleted(content_id=f"c-{deleted}", tweet_ids=[deleted], deleted_by="owner",
                                          deleted_at=now)])
    await publish(settings, [TweetGone(tweet_id=gone, content_id=f"c-{gone}", noticed_at=now)])

    async def read() -> list[str]:
        async with harvester.pool.acquire() as conn:
            return [t.tweet_id for t in await tweets_to_read(conn, since=now - timedelta(hours=1), limit=10)]

    async def applied() -> bool:
        return bool(await table(settings, "deleted_own_posts")) and bool(await table(settings, "x_marks")) \
            and kept in await read()

    await eventually(applied)
    assert await read() == [kept]
    filters = {s.producer: s.filter_subject(settings.namespace) for s in harvester.consumer_specs()
               if s.producer in ("console", "scraper")}
    assert filters == {"console": f"{settings.namespace}.console.tweet_deleted.v1",
                       "scraper": f"{settings.namespace}.scraper.tweet_gone.v1"}
