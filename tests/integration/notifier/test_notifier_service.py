"""The notifier against real NATS and Postgres, with a local webhook receiver and a local e-mail catcher as its
two channels (Apprise's json:// and mailto://): events become notices sent once per channel, repeats are held
back, switched-off kinds stay quiet, a failing channel is retried alone, Alertmanager's webhook is answered,
drafts waiting are batched, the digest arrives once a simulated day, and no secret reaches a channel."""

from __future__ import annotations

import asyncio
import json
import subprocess
import sys
from datetime import UTC, datetime, timedelta

import aiohttp
import pytest
from aiohttp import web
from prometheus_client import REGISTRY

from libs.bus.dlq import DeadLetter, DeadLetters
from libs.bus.streams import kv_bucket

from libs.contracts.events import (
    AccountRiskChanged,
    ApprovalRequested,
    BudgetExhausted,
    CommunityNoteShown,
    FollowersSnapshotted,
    LlmHalted,
    LlmUsageRecorded,
    MetricsScraped,
    SessionExpired,
    TweetGone,
    TweetPosted,
    WritesHalted,
)
from libs.core.settings import CommonSettings
from services.notifier.app import WEBHOOK_PATH, build
from services.notifier.settings import NotifierSettings
from tests.helpers import drop_schemas, eventually, publish
from tests.integration.notifier.catchers import catchers

pytestmark = pytest.mark.timeout(60)

CANARY_KEY = "sk-CANARYKEY0123456789abcdef"
CANARY_TOKEN = "CANARYWEBHOOKTOKEN42"
CANARY_CHANNEL_PW = "CANARYMAILPW77"


@pytest.fixture
async def channels():
    async with catchers() as c:
        yield c


@pytest.fixture
async def start_notifier(settings, js, channels):
    """start_notifier(**settings) -> the notifier on a fresh schema, provisioned and started, sending to the
    test's two channels."""
    started = []

    async def start(**overrides):
        await drop_schemas(settings.dsn, "notifier", "notifier__replay")
        values = {k: getattr(settings, k) for k in CommonSettings.model_fields}
        values.update(time_scale=60.0, notify_urls=channels.apprise_urls, notify_interval=timedelta(seconds=5),
                      notify_watch=False, notify_send_timeout_s_real=5.0, notify_spacing_s_real=0.0)
        values.update(overrides)
        svc = build(NotifierSettings(**values))
        for p in svc.projections:
            p.ack_wait_s = 2.0
        await svc.provision()
        await svc.start()
        started.append(svc)
        return svc

    yield start
    for svc in started:
        await svc.stop()


async def test_news_reaches_every_channel_once_repeats_are_held_back_and_kinds_switch_off(
        settings, start_notifier, channels) -> None:
    svc = await start_notifier(notify_off=frozenset({"budget"}))
    now = svc.clock.now()
    await publish(settings, [
        WritesHalted(reason="locked", halted_at=now, message="X answered locked"),
        # The gateway's view of the same lock (issue 18): the same news, held back as a repeat.
        AccountRiskChanged(handle="xbot_demo", level=3, previous_level=1, signal="locked", locked=True,
                           changed_at=now),
        BudgetExhausted(day=now.date().isoformat(), budget_usd=5.0, spent_usd=5.01),
        SessionExpired(handle="xbot_demo", operation="post_tweet", detected_at=now),
    ])
    await eventually(lambda: _count(svc, 4))
    outcomes = await svc.pool.fetch("SELECT outcome, count(*) AS n FROM handled GROUP BY outcome ORDER BY outcome")
    assert {r["outcome"]: r["n"] for r in outcomes} == {"off": 1, "repeat": 1, "sent": 2}
    want = ["[xbot] X locked the account", "[xbot] The X session expired"]
    assert channels.titles() == {"webhook": want, "mail": want}
    assert "xbot resume" in channels.hooks[0].body and "xbot resume" in channels.mails[0].body

    # Later news of the same kind and key within the repeat interval stays held back, and is counted.
    await publish(settings, [SessionExpired(handle="xbot_demo", operation="tweet_metrics",
                                            detected_at=now + timedelta(minutes=1))])
    await eventually(lambda: _count(svc, 5))
    assert channels.titles() == {"webhook": want, "mail": want}
    assert await svc.pool.fetchval("SELECT held_back FROM repeats WHERE key = 'session:expired'") == 1

    # The scraper found one of our tweets gone from X without the console (deleted there, or removed by X), and
    # readers' context under another (a Community Note): each is news of its own. (Published after the rest: the
    # notifier reads each producer's stream on its own, so only one stream's order is the order sent.)
    # The noted post is known to the notifier (its TweetPosted read first): its notice carries the post's link.
    await publish(settings, [TweetPosted(content_id="c-1902", kind="post", tweet_ids=["1902"],
                                         url="http://x.test/xbot_demo/status/1902", posted_at=now, text="A post")])
    await eventually(lambda: svc.pool.fetchval("SELECT count(*) FROM posts"))
    await publish(settings, [TweetGone(tweet_id="1901", content_id="c-1901", noticed_at=now),
                             CommunityNoteShown(tweet_id="1902", content_id="c-1902", noticed_at=now)])
    await eventually(lambda: _count(svc, 7))
    want += ["[xbot] One of the account's tweets is gone from X",
             "[xbot] X shows a Community Note under one of the account's tweets"]
    assert channels.titles() == {"webhook": want, "mail": want}
    assert channels.hooks[-1].body.endswith("\nhttp://x.test/xbot_demo/status/1902")
    assert "http" not in channels.hooks[-2].body  # a post the notifier never saw posted: no link to give


async def test_a_failing_channel_is_retried_alone(settings, start_notifier, channels) -> None:
    channels.refuse_hooks = 2
    svc = await start_notifier()
    await publish(settings, [LlmHalted(cause="auth", message="authentication failed", status=401,
                                       halted_at=svc.clock.now())])
    await eventually(lambda: _count(svc, 1), timeout=20)
    assert [r.title for r in channels.hooks] == ["[xbot] The planner stopped calling the LLM"]
    assert [r.title for r in channels.mails] == ["[xbot] The planner stopped calling the LLM"]
    tries = {r["channel"]: r["attempts"] for r in await svc.pool.fetch("SELECT channel, attempts FROM deliveries")}
    assert tries == {"1-json": 3, "2-mailto": 1}


async def test_a_channel_down_for_over_an_hour_gets_the_notice_once_it_is_back(settings, start_notifier,
                                                                                 channels) -> None:
    # A simulated hour in 6 real seconds; the job runs every simulated minute.
    channels.refuse_hooks = 10_000
    svc = await start_notifier(time_scale=600.0, notify_interval=timedelta(minutes=1))
    start = svc.clock.now()
    await publish(settings, [LlmHalted(cause="auth", message="authentication failed", status=401, halted_at=start)])
    await eventually(lambda: _past(svc, start + timedelta(minutes=65)), timeout=30)
    tries = await svc.pool.fetchval("SELECT attempts FROM deliveries WHERE channel = '1-json'")
    # Tried at 0, 1, 3, 7, 15, 31 and 63 minutes: resting longer after each failure, not once a minute.
    assert 6 <= tries <= 8
    assert not await svc.pool.fetchval("SELECT count(*) FROM handled")
    channels.refuse_hooks = 0
    await eventually(lambda: _count(svc, 1), timeout=20)
    assert await svc.pool.fetchval("SELECT outcome FROM handled") == "sent"
    assert [r.title for r in channels.hooks] == ["[xbot] The planner stopped calling the LLM"]
    assert len(channels.mails) == 1


async def test_a_notice_given_up_is_counted_for_the_alert(settings, start_notifier, channels) -> None:
    channels.refuse_hooks = 10_000
    svc = await start_notifier(notify_max_attempts=3, notify_retry_first=timedelta(seconds=5))

    def given_up() -> float:
        return REGISTRY.get_sample_value("xbot_notifier_notices_total", {"kind": "llm", "outcome": "failed"})

    # Exported before any failure (at 0), so that Prometheus's increase() sees the first one.
    before = given_up()
    assert before is not None
    await publish(settings, [LlmHalted(cause="auth", message="authentication failed", status=401,
                                       halted_at=svc.clock.now())])
    await eventually(lambda: _count(svc, 1), timeout=30)
    assert await svc.pool.fetchval("SELECT outcome FROM handled") == "failed"
    tries = {r["channel"]: r["attempts"] for r in await svc.pool.fetch("SELECT channel, attempts FROM deliveries")}
    assert tries == {"1-json": 3, "2-mailto": 1} and len(channels.mails) == 1
    assert given_up() == before + 1


async def test_alertmanager_webhook_is_grouped_once_and_needs_its_token(settings, start_notifier, channels) -> None:
    svc = await start_notifier(notify_webhook_token=CANARY_TOKEN)
    body = {
        "version": "4", "groupKey": '{}:{alertname="XbotAccountLocked"}', "status": "firing", "receiver": "xbot",
        "groupLabels": {"alertname": "XbotAccountLocked"}, "commonLabels": {"severity": "critical"},
        "alerts": [{"status": "firing", "labels": {"alertname": "XbotAccountLocked", "severity": "critical"},
                    "annotations": {"summary": "X reports the account as locked"},
                    "startsAt": "2026-01-01T00:00:00Z", "fingerprint": "abc"}],
    }
    url = svc.health.url + WEBHOOK_PATH
    async with aiohttp.ClientSession() as http:
        async with http.post(url, json=body) as resp:
            assert resp.status == 401
        for _ in range(2):  # Alertmanager re-sends a group at its repeat interval: one notice
            async with http.post(url, json=body, headers={"Authorization": f"Bearer {CANARY_TOKEN}"}) as resp:
                assert resp.status == 200, await resp.text()
        async with http.post(url, json={"nothing": 1}, headers={"Authorization": f"Bearer {CANARY_TOKEN}"}) as r:
            assert r.status == 400
    await eventually(lambda: _count(svc, 1))
    assert channels.titles() == {"webhook": ["[xbot] Alert: XbotAccountLocked"],
                                 "mail": ["[xbot] Alert: XbotAccountLocked"]}
    assert "X reports the account as locked" in channels.mails[0].body


async def test_drafts_waiting_are_told_in_one_batch(settings, start_notifier, channels) -> None:
    svc = await start_notifier(notify_approval_batch=timedelta(minutes=2))
    now = svc.clock.now()
    await publish(settings, [ApprovalRequested(content_id=f"c{i}", kind="post", preview=f"Draft number {i}",
                                               requested_at=now) for i in range(3)])
    await eventually(lambda: _count(svc, 1))
    assert channels.titles()["webhook"] == ["[xbot] 3 drafts waiting for your approval"]
    assert all(f"Draft number {i}" in channels.hooks[0].body for i in range(3))
    assert channels.titles()["mail"] == channels.titles()["webhook"]


async def test_the_digest_arrives_once_a_simulated_day(settings, start_notifier, channels) -> None:
    # A simulated day takes 3 real seconds; the notifier starts at 07:00 on day 0 (no digest of the day before).
    day0 = datetime(2026, 3, 2, tzinfo=UTC)
    epoch = day0 + timedelta(hours=7)
    posted = day0 + timedelta(hours=3)
    await publish(settings, [
        TweetPosted(content_id="a", kind="post", tweet_ids=["1"], url="http://x.test/1", posted_at=posted,
                    text="Morning light sets the clock."),
        TweetPosted(content_id="b", kind="thread", tweet_ids=["2", "3"], url="http://x.test/2",
                    posted_at=posted + timedelta(hours=1), text="Walk after meals."),
        MetricsScraped(tweet_id="1", content_id="a", checkpoint="1h", checkpoint_hours=1, age_hours=1, likes=3,
                       retweets=0, replies=1, views=100, observed_at=posted + timedelta(hours=1)),
        MetricsScraped(tweet_id="2", content_id="b", checkpoint="1h", checkpoint_hours=1, age_hours=1, likes=40,
                       retweets=5, replies=2, views=900, observed_at=posted + timedelta(hours=2)),
        FollowersSnapshotted(handle="xbot_demo", followers=1000, observed_at=day0 - timedelta(hours=1)),
        FollowersSnapshotted(handle="xbot_demo", followers=1012, observed_at=day0 + timedelta(hours=20)),
        LlmUsageRecorded(request_id="r1", model="m", purpose="post", prompt_tokens=1, completion_tokens=1,
                         cost_usd=0.25, day=day0.date().isoformat()),
    ])
    svc = await start_notifier(time_scale=28_800.0, sim_epoch=epoch, notify_interval=timedelta(minutes=30),
                               notify_max_age=timedelta(days=3))
    await eventually(lambda: _digests(channels, 2), timeout=30)
    titles = [t for t in channels.titles()["webhook"] if "digest" in t]
    assert titles[:2] == ["[xbot] Daily digest for 2026-03-02", "[xbot] Daily digest for 2026-03-03"]
    first = channels.hooks[0].body
    assert "1 post, 1 thread" in first and "+12 (now 1012)" in first and "$0.25" in first
    assert "Best post (40 likes" in first and "Walk after meals." in first
    assert [t for t in channels.titles()["mail"] if "digest" in t][:2] == titles[:2]
    # Each day's digest once, however many times the job ran since.
    days = await svc.pool.fetch("SELECT id FROM outgoing WHERE kind = 'digest' ORDER BY id")
    assert len(titles) == len(set(titles)) == len(days)


async def test_no_secret_reaches_a_channel(settings, start_notifier, channels) -> None:
    # A webhook channel with a password, a webhook token, and an LLM error that echoes the key (as some providers
    # do) and other secret-shaped text.
    hook_url = channels.webhook_url.replace("json://", f"json://owner:{CANARY_CHANNEL_PW}@")
    svc = await start_notifier(notify_urls=f"{hook_url} {channels.mail_url}", notify_webhook_token=CANARY_TOKEN)
    now = svc.clock.now()
    await publish(settings, [
        LlmHalted(cause="auth", status=401, halted_at=now,
                  message=f"Incorrect API key provided: {CANARY_KEY}. token={CANARY_TOKEN} "
                          f"url smtp://owner:{CANARY_CHANNEL_PW}@mail.test {hook_url}"),
        WritesHalted(reason="session_expired", halted_at=now, message=f"cookie {'Q' * 60}"),
    ])
    await eventually(lambda: _count(svc, 2))
    assert len(channels.hooks) == len(channels.mails) == 2
    everything = "\n".join(r.raw + r.title + r.body for r in channels.hooks + channels.mails)
    for canary in (CANARY_KEY, CANARY_TOKEN, CANARY_CHANNEL_PW, "Q" * 40):
        assert canary not in everything
    assert "authentication" in everything or "Incorrect API key" in everything  # the news itself got through


async def _past(svc, moment: datetime) -> bool:
    return svc.clock.now() > moment


async def _count(svc, n: int) -> bool:
    return await svc.pool.fetchval("SELECT count(*) FROM handled") >= n


async def _digests(channels, n: int) -> bool:
    return sum("digest" in t for t in channels.titles()["webhook"]) >= n and \
        sum("digest" in t for t in channels.titles()["mail"]) >= n


async def test_its_own_watch_tells_dead_letters_growing_and_a_service_not_ready(settings, js, start_notifier,
                                                                                  channels) -> None:
    # A service whose side port answers /ready with a failing check, announced where `xbot status` finds it.
    async def not_ready(_: web.Request) -> web.Response:
        return web.json_response({"ready": False, "checks": {"broker": "ok", "database": "FAIL: no pool"}},
                                 status=503)

    app = web.Application()
    app.router.add_get("/ready", not_ready)
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    try:
        kv = await js.key_value(kv_bucket(settings.namespace, "services"))
        await kv.put("svc.scraper", json.dumps({"url": f"http://127.0.0.1:{site._server.sockets[0].getsockname()[1]}"})
                     .encode())
        svc = await start_notifier(notify_watch=True, notify_watch_interval=timedelta(days=1))
        # Its first look (at start) counts the dead letters as they are: no news in what was already there.
        await eventually(lambda: svc.pool.fetchval("SELECT value FROM notifier_state WHERE key = 'dead_letters'"))
        letters = DeadLetters(js, settings.namespace)
        for seq in (1, 2):
            await letters.add(DeadLetter.of(service="planner", consumer="c", subject="s", stream="S", seq=seq,
                                            deliveries=5, error="bad payload", data=b"{}"))
        await svc.worker.watch()
        await eventually(lambda: _count(svc, 3))
        titles = channels.titles()["webhook"]
        assert "[xbot] Dead letters are growing" in titles and "[xbot] scraper is not ready" in titles, titles
        dead = next(h for h in channels.hooks if h.title == "[xbot] Dead letters are growing")
        assert "2 message(s)" in dead.body and "xbot dlq list" in dead.body
        ready = next(h for h in channels.hooks if h.title == "[xbot] scraper is not ready")
        assert "database: FAIL: no pool" in ready.body and "broker" not in ready.body
        assert sorted(channels.titles()["mail"]) == sorted(titles)
    finally:
        await runner.cleanup()


async def test_send_test_reaches_every_channel_and_names_a_failing_one(settings, js, service_env, channels) -> None:
    await drop_schemas(settings.dsn, "notifier")
    urls = f"{channels.webhook_url} {channels.mail_url} json://127.0.0.1:9/nothing-listens"
    done = await asyncio.to_thread(
        subprocess.run, [sys.executable, "-m", "services.notifier", "send-test"],
        env=dict(service_env, XBOT_NOTIFY_URLS=urls, XBOT_NOTIFY_SEND_TIMEOUT_S_REAL="10"),
        capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr[-2000:]
    assert done.stdout.splitlines()[-3:] == ["1-json: sent", "2-mailto: sent",
                                             "3-json: FAILED (3-json: the service refused or could not be reached)"]
    assert channels.titles() == {"webhook": ["[xbot] Test notification"], "mail": ["[xbot] Test notification"]}
