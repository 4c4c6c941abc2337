"""News from a feed to a queued post, against the real sandbox (its feeds), NATS, Postgres and the sandbox's text
endpoint: the harvester's news job reads the sandbox's journal feed into NewsItemFound, and the planner takes a
fresh item on the chosen topic as the post's angle, its fact (with the source) in the prompt; a stale item is
never taken."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from libs.bus.streams import stream_name
from libs.contracts.events import ContentQueued, FormatInsights, FormatLift, ModelUpdated, NewsItemFound
from libs.contracts.registry import decode
from libs.core.clock import Clock
from libs.core.settings import CommonSettings
from sandbox.app import start_sandbox
from sandbox.feeds import feed_items
from sandbox.settings import SandboxSettings
from services.harvester.app import build as build_harvester
from services.harvester.jobs import HarvesterJobs
from services.harvester.settings import HarvesterSettings, NewsFeed
from services.planner.projections import format_patterns
from tests.helpers import drop_schemas, eventually
from tests.integration.planner.test_planner_service import (  # noqa: F401 - fixtures
    CONFIG, planner_events, publish, start_planner,
)

FAR = timedelta(days=3650)
SOURCE = "Sandbox Journal"


async def test_a_fresh_news_item_is_a_queued_posts_angle_with_its_source(
        settings, js, start_planner, publish, tmp_path) -> None:  # noqa: F811
    runner, base_url = await start_sandbox(SandboxSettings(port=0, db_path=tmp_path / "world.sqlite3"), Clock(),
                                           mount_partners=False)
    await drop_schemas(settings.dsn, "harvester")
    common = {k: getattr(settings, k) for k in CommonSettings.model_fields}
    harvester = build_harvester(HarvesterSettings(
        **common, harvest_interval=FAR, discovery_interval=FAR, format_insights_interval=FAR, news_interval=FAR,
        personal_data_purge_interval=FAR, news_max_age=timedelta(days=3),
        news_feeds=(NewsFeed(name=SOURCE, url=f"{base_url}/feeds/journals.rss"),
                    NewsFeed(name="Gone", url=f"{base_url}/feeds/nothing-here.rss"))))
    await harvester.provision()
    await harvester.start()
    try:
        assert isinstance(harvester.worker, HarvesterJobs)
        report = await harvester.worker.read_news()
        again = await harvester.worker.read_news()  # nothing is news twice
    finally:
        await harvester.stop()
        await runner.cleanup()
    assert report["failed"] == ["Gone"] and again["found"] == 0
    served = {str(i["url"]): i for i in feed_items(SandboxSettings().seed, "journals", datetime.now(UTC).timestamp())}
    news = [e for e in await _stream(js, settings, "harvester") if isinstance(e, NewsItemFound)]
    assert len(news) == report["found"] > 0
    for e in news:  # fresh (3 days), on a topic: the office notices and older items are not news
        assert e.url in served and e.source == SOURCE and e.topic in CONFIG.topics
        assert datetime.now(UTC) - e.published_at < timedelta(days=3) and "notice" not in e.summary
        # nor the items that carry instructions for a model or sell something (the sandbox's feed has both)
        assert served[e.url]["kind"] == "fact", served[e.url]
    unfit = [i for i in served.values() if i["kind"] in ("instructions", "promotional")
             and datetime.now(UTC) - i["published"] < timedelta(days=3)]
    assert sum(report["withheld"].values()) == len(unfit) > 0, (report, unfit)
    assert again["withheld"] == {}  # each counted once
    assert len(news) < sum(datetime.now(UTC) - i["published"] < timedelta(days=3) for i in served.values())

    # The policy in force all but always picks the freshest item's topic: that item is the post's angle.
    freshest = max(news, key=lambda e: e.published_at)
    f, topics = 0.05, CONFIG.topics
    model = ModelUpdated(version="m-news", created_at=datetime.now(UTC), floor=f, propensities={
        "topic": {t: (1 - f) * (1.0 if t == freshest.topic else 0.0) + f / len(topics) for t in topics}})
    # Peers' format insights of the day, for the prompt's patterns (paraphrased, the sure ones only).
    insights = FormatInsights(day="2026-03-02", posts=600, computed_at=datetime.now(UTC), lifts=[
        FormatLift(feature="thread", lift=-0.4, low=-0.6, high=-0.2, support=120),
        FormatLift(feature="list", lift=0.9, low=-0.1, high=1.9, support=80)])
    svc, planner = await start_planner(posts_per_hour=1, posts_per_day=1)
    await publish(model, insights)

    async def news_applied():
        items = await planner.ctx.pool.fetchval("SELECT count(*) FROM news")
        policy = await planner.ctx.pool.fetchval("SELECT version FROM policy")
        patterns = await planner.ctx.pool.fetchval("SELECT patterns FROM format_patterns")
        return items == len(news) and policy == "m-news" and patterns is not None

    await eventually(news_applied)
    async with planner.ctx.pool.acquire() as conn:
        assert await format_patterns(conn) == ["Threads: about 33% less engagement"]
    await planner.run()
    queued = await planner_events(js, settings, ContentQueued)
    on_topic = [q for q in queued if q.choice.topic == freshest.topic]
    assert on_topic, queued
    angle = on_topic[0].angle
    assert angle is not None and (angle.item_id, angle.source, angle.url) == (
        freshest.item_id, SOURCE, freshest.url)
    assert SOURCE in " ".join(on_topic[0].parts)  # written about the news, naming its source
    await planner.ctx.wait_caught_up()
    assert await planner.ctx.pool.fetchval("SELECT used_by FROM news WHERE item_id = $1",
                                           freshest.item_id) == on_topic[0].content_id


async def _stream(js, settings, producer: str) -> list:
    stream = stream_name(settings.namespace, producer)
    state = (await js.stream_info(stream)).state
    return [decode((await js.get_msg(stream, seq)).data)[1] for seq in range(state.first_seq, state.last_seq + 1)]
