"""FormatInsights against real JetStream and Postgres: the harvester's daily job turns the peers' posts it keeps
into one event whose lifts hold the sandbox audience's true format effects, and the learner takes them as the
priors of the arms they cover (format, hour). How the posts get into peer_posts through the gateway is the
harvester's e2e test."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import asyncpg

from libs.bus.streams import stream_name
from libs.contracts.registry import decode
from libs.core.settings import CommonSettings
from sandbox.audience import AudienceModel
from sandbox.population import Population
from services.harvester.app import build as build_harvester
from services.harvester.jobs import HarvesterJobs
from services.harvester.settings import HarvesterSettings
from services.learner.app import build as build_learner
from services.learner.projections import training_data
from services.learner.settings import LearnerSettings
from tests.helpers import drop_schemas, eventually
from tests.unit.harvester.test_format_insights import NOW, POSTS, peer_posts

SEED = 4
FAR = timedelta(days=3650)


async def test_daily_insights_hold_the_true_effects_and_become_the_learners_priors(settings, js):
    await drop_schemas(settings.dsn, "harvester", "learner")
    common = {k: getattr(settings, k) for k in CommonSettings.model_fields}
    harvester = build_harvester(HarvesterSettings(**common, news_feeds=(), harvest_interval=FAR, discovery_interval=FAR,
                                                  format_insights_interval=FAR, personal_data_purge_interval=FAR))
    learner = build_learner(LearnerSettings(**common, learner_check_interval=FAR, learner_first_check=FAR))
    for svc in (harvester, learner):
        await svc.provision()
        await svc.start()
    try:
        posts = {p.tweet_id: p for p in peer_posts(Population(SEED), NOW, POSTS)}
        tweets = {t.id: t for t in Population(SEED).tweets_between(NOW - 400 * 3600, NOW) if t.id in posts}
        read_at = datetime.now(UTC)
        conn = await asyncpg.connect(settings.dsn, server_settings={"search_path": "harvester"})
        try:
            await conn.executemany(
                "INSERT INTO peer_posts (tweet_id, text, posted_at, author_followers, engagement, age_hours, "
                "source, read_at) VALUES ($1,$2,$3,$4,$5,$6,'account',$7)",
                [(p.tweet_id, p.text, datetime.fromtimestamp(tweets[p.tweet_id].created_at, UTC),
                  p.author_followers, p.engagement, p.age_hours, read_at) for p in posts.values()])
        finally:
            await conn.close()

        assert isinstance(harvester.worker, HarvesterJobs)
        report = await harvester.worker.publish_format_insights()
        assert report["posts"] == POSTS and report["features"] == len(AudienceModel(SEED).format_effects())

        stream = stream_name(settings.namespace, "harvester")
        info = await js.stream_info(stream)
        events = [decode((await js.get_msg(stream, seq=s)).data)[1]
                  for s in range(info.state.first_seq, info.state.last_seq + 1)]
        (insights,) = events
        truth = AudienceModel(SEED).format_effects()
        inside = sum(f.low <= truth[f.feature] <= f.high for f in insights.lifts)
        assert inside >= 0.8 * len(insights.lifts) and max(f.high - f.low for f in insights.lifts) <= 0.3
        assert not any(p.text in insights.model_dump_json() for p in posts.values())

        async def priors():
            conn = await asyncpg.connect(settings.dsn, server_settings={"search_path": "learner"})
            try:
                return (await training_data(conn)).format_lifts
            finally:
                await conn.close()

        lifts = dict(await eventually(priors))
        assert lifts == {f.feature: f.lift for f in insights.lifts}
    finally:
        for svc in (harvester, learner):
            await svc.stop()
