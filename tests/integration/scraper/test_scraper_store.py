"""The scraper's projections and outbox against real JetStream and Postgres (the gateway-driven jobs are
tested end to end in tests/e2e/harvester_scraper/)."""

from __future__ import annotations

import dataclasses
import uuid
from datetime import UTC, datetime, timedelta

import asyncpg
import pytest
from prometheus_client import REGISTRY

from libs.bus.streams import stream_name
from libs.contracts.events import MetricsScraped, TweetPosted
from services.scraper.app import build
from services.scraper.jobs import ScraperJobs
from services.scraper.projections import note_gone, pending_due
from services.scraper.settings import ScraperSettings
from tests.helpers import eventually
from tests.helpers import publish

POSTED_AT = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)


@pytest.fixture
def scraper_settings(settings) -> ScraperSettings:
    # Jobs far apart: these tests drive the tables and the outbox themselves, no gateway runs here.
    return ScraperSettings(nats_url=settings.nats_url, database_url=settings.dsn, namespace=settings.namespace,
                           scrape_interval=timedelta(hours=1), followers_interval=timedelta(days=30))


@pytest.fixture
async def fresh_schema(settings):
    conn = await asyncpg.connect(settings.dsn)
    await conn.execute("DROP SCHEMA IF EXISTS scraper CASCADE")  # the database lives for the whole session
    await conn.close()


@pytest.fixture
async def scraper(js, fresh_schema, scraper_settings):
    """The scraper started on a fresh schema (its jobs far apart: the tests drive the tables themselves)."""
    svc = build(scraper_settings)
    await svc.provision()
    await svc.start()
    yield svc
    await svc.stop()


async def rows(settings, sql: str, *args):
    conn = await asyncpg.connect(settings.dsn, server_settings={"search_path": "scraper"})
    try:
        return await conn.fetch(sql, *args)
    finally:
        await conn.close()


def posted(kind: str = "post", parts: int = 1) -> TweetPosted:
    ids = [str(uuid.uuid4().int)[:19] for _ in range(parts)]
    return TweetPosted(content_id=uuid.uuid4().hex, kind=kind, tweet_ids=ids, url=f"https://x.com/i/status/{ids[0]}",
                       posted_at=POSTED_AT, reply_to_tweet_id="1" if kind == "reply" else None)


def scraped(p: TweetPosted, checkpoint: str, hours: float) -> MetricsScraped:
    return MetricsScraped(tweet_id=p.tweet_ids[0], content_id=p.content_id, kind=p.kind, checkpoint=checkpoint,
                          checkpoint_hours=hours, age_hours=hours, likes=5, retweets=1, replies=2, views=100,
                          observed_at=POSTED_AT + timedelta(hours=hours))


async def test_posted_items_get_the_checkpoint_schedule_and_own_reads_mark_them_done(
        settings, scraper, scraper_settings):
    thread, reply = posted("thread", parts=3), posted("reply")
    await publish(settings, [thread, reply, thread])  # the repeat is a JetStream duplicate

    async def scheduled():
        got = await rows(settings, "SELECT * FROM scrape_reads ORDER BY tweet_id, due_at")
        return got if len(got) == 2 * 11 else None

    reads = await eventually(scheduled)
    # The thread is read through its head only; 1, 2, 6, 12, 24, 48 h then daily up to 7 days.
    assert {r["tweet_id"] for r in reads} == {thread.tweet_ids[0], reply.tweet_ids[0]}
    head = [r for r in reads if r["tweet_id"] == thread.tweet_ids[0]]
    assert [r["checkpoint"] for r in head] == ["1h", "2h", "6h", "12h", "24h", "48h", "72h", "96h", "120h",
                                               "144h", "168h"]
    assert [r["due_at"] - POSTED_AT for r in head][:3] == [timedelta(hours=h) for h in (1, 2, 6)]
    assert head[2]["late_at"] - head[2]["due_at"] == timedelta(hours=2)  # half of the 4 h interval

    await publish(settings, [scraped(thread, "1h", 1), scraped(thread, "2h", 2)])

    async def done():
        got = await rows(settings, "SELECT tweet_id, checkpoint FROM reads_done")
        return got if len(got) == 2 else None

    assert {(r["tweet_id"], r["checkpoint"]) for r in await eventually(done)} == \
        {(thread.tweet_ids[0], "1h"), (thread.tweet_ids[0], "2h")}
    assert len(await rows(settings, "SELECT * FROM engagement_reads")) == 2
    assert len(await rows(settings, "SELECT * FROM own_items")) == 2

    # /metrics: each tweet at its latest read (two reads of one tweet are not added up); no follower
    # sample before the first snapshot (a handle of its own: the registry is the process's).
    handle = f"h{uuid.uuid4().hex[:12]}"
    jobs = ScraperJobs(dataclasses.replace(scraper.context,
                                           settings=scraper_settings.model_copy(update={"x_handle": handle})))
    await jobs.show_metrics()
    assert REGISTRY.get_sample_value("xbot_scraper_engagement", {"kind": "likes"}) == 5
    assert REGISTRY.get_sample_value("xbot_scraper_engagement", {"kind": "views"}) == 100
    assert REGISTRY.get_sample_value("xbot_scraper_tweets_read") == 1
    assert REGISTRY.get_sample_value("xbot_scraper_followers", {"handle": handle}) is None


async def test_an_event_left_in_the_outbox_by_a_crash_is_published_once_at_start(
        settings, js, fresh_schema, scraper_settings):
    svc = build(scraper_settings)
    await svc.provision()
    ctx = await svc.open_context()
    p = posted()
    event = scraped(p, "1h", 1.0)
    # The scrape job's transaction records the event; then the process "dies" before publishing.
    async with ctx.pool.acquire() as conn, conn.transaction():
        assert await ctx.outbox.record(conn, event)
    async with ctx.pool.acquire() as conn, conn.transaction():
        assert not await ctx.outbox.record(conn, event)  # a second read of the same checkpoint records nothing
    await ctx.pool.close()
    await svc.broker.stop()

    restarted = build(scraper_settings)
    await restarted.start()
    try:
        stream = stream_name(settings.namespace, "scraper")

        async def published():
            return (await js.stream_info(stream)).state.messages == 1

        await eventually(published)
        # Publishing the same row again (a crash between PubAck and marking it) is a JetStream duplicate.
        await restarted.publisher.publish(event)
        assert (await js.stream_info(stream)).state.messages == 1
        msg = await js.get_msg(stream, seq=1)
        assert msg.headers["Nats-Msg-Id"] == f"MetricsScraped:metrics:{p.tweet_ids[0]}:1h"
        assert (await rows(settings, "SELECT count(*) FROM event_outbox WHERE published_at IS NULL"))[0][0] == 0

        async def marked_done():
            return (await rows(settings, "SELECT count(*) FROM reads_done"))[0][0] == 1 or None

        await eventually(marked_done)  # by the projection of our own stream, the only writer of reads_done
    finally:
        await restarted.stop()


async def test_a_tweet_missing_three_runs_in_a_row_is_gone_and_its_reads_stop(settings, scraper):
    deleted, flaky = posted(), posted()
    await publish(settings, [deleted, flaky])

    async def scheduled():
        return (await rows(settings, "SELECT count(*) AS n FROM scrape_reads"))[0]["n"] == 22 or None

    await eventually(scheduled)
    later = POSTED_AT + timedelta(days=30)  # every read is due
    conn = await asyncpg.connect(settings.dsn, server_settings={"search_path": "scraper"})
    try:
        def due_tweets(reads):
            return {r.tweet_id for r in reads}

        assert due_tweets(await pending_due(conn, later)) == {deleted.tweet_ids[0], flaky.tweet_ids[0]}
        gone = []
        for run in range(3):
            # The flaky tweet is missing twice, then found: its count starts over.
            found = [flaky.tweet_ids[0]] if run == 2 else []
            missing = [deleted.tweet_ids[0]] + ([] if run == 2 else [flaky.tweet_ids[0]])
            gone += await note_gone(conn, missing, found, later)
        assert gone == [deleted.tweet_ids[0]]
        assert due_tweets(await pending_due(conn, later)) == {flaky.tweet_ids[0]}
        assert await note_gone(conn, [deleted.tweet_ids[0]], [], later) == []  # announced once
    finally:
        await conn.close()
