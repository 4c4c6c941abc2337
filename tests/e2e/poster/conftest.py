"""The poster end to end: one sandbox, one gateway (real Chromium) and one namespace per module; the poster
itself runs as a subprocess so a test can SIGKILL it. A module sets ``SCALE`` for its clock (default 60), and
``DRIVER = "api"`` for a gateway that reads and writes through the sandbox's X API instead (no Chromium)."""

from __future__ import annotations

import asyncio
import json
import os
import signal
import sys
import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path

import aiohttp
import asyncpg
import pytest_asyncio

from libs.bus.control import KillSwitch
from libs.bus.broker import jetstream, make_broker
from libs.bus.provision import provision_streams, remove_namespace
from libs.bus.publish import EventPublisher
from libs.bus.streams import stream_name
from libs.contracts.events import Choice, ContentQueued, PostFailed, TweetPosted
from libs.core.clock import Clock
from libs.core.settings import CommonSettings
from sandbox.app import start_sandbox
from sandbox.settings import SandboxSettings
from sandbox.xapi import consent
from services.browser_gateway.login import login
from services.browser_gateway.xapi.login import ApiSignIn
from services.poster.app import build
from services.poster.settings import PosterSettings
from tests.e2e.browser_gateway.conftest import ADMIN, HANDLE, PASSWORD, Sandbox, gateway_settings, run_gateway
from tests.integration.xapi.conftest import CLIENT_ID, CLIENT_SECRET

ROOT = Path(__file__).resolve().parents[3]

# Poster settings for tests: no spacing, generous caps, short holds; the crash tests restart on purpose,
# so the crash-loop rule is out of their way (it is unit-tested in tests/unit/poster).
BASE_ENV = {
    "XBOT_CYCLE_S": "30", "XBOT_MIN_SPACING_S": "0", "XBOT_SPACING_JITTER_S": "0",
    "XBOT_POSTS_PER_HOUR": "100", "XBOT_POSTS_PER_DAY": "1000", "XBOT_REPLIES_PER_HOUR": "100",
    "XBOT_REPLIES_PER_DAY": "1000", "XBOT_CRASH_LOOP_STARTS": "1000", "XBOT_READBACK_GRACE_S_REAL": "15",
    "XBOT_RETRY_BACKOFF_S": "30", "XBOT_GATEWAY_TIMEOUT_S_REAL": "120", "XBOT_X_HANDLE": HANDLE,
    "XBOT_LOG_LEVEL": "INFO",
}


OUTCOMES = (TweetPosted.TYPE, PostFailed.TYPE)


@dataclass
class Poster:
    proc: asyncio.subprocess.Process
    log: Path

    async def stop(self) -> None:
        if self.proc.returncode is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                await asyncio.wait_for(self.proc.wait(), 30)
            except TimeoutError:
                self.proc.kill()
                await self.proc.wait()

    async def killed_by_failpoint(self, timeout: float = 90.0) -> None:
        code = await asyncio.wait_for(self.proc.wait(), timeout)
        assert code == -signal.SIGKILL, \
            f"poster exited {code}, not by its failpoint; log:\n{self.log.read_text()[-3000:]}"


@dataclass
class Harness:
    sandbox: Sandbox
    clock: Clock
    namespace: str
    env: dict[str, str]
    pool: asyncpg.Pool
    js: object
    publisher: EventPublisher
    logs: Path
    posters: list[Poster] = field(default_factory=list)

    async def start_poster(self, failpoint: str | None = None, **extra: str) -> Poster:
        env = dict(self.env)
        env.update(extra)
        if failpoint:
            env["XBOT_FAILPOINT"] = failpoint
        log = self.logs / f"poster-{len(self.posters)}-{failpoint or 'clean'}.log"
        out = log.open("wb")
        proc = await asyncio.create_subprocess_exec(sys.executable, "-m", "services.poster", "run", cwd=ROOT,
                                                    env=env, stdout=out, stderr=asyncio.subprocess.STDOUT)
        out.close()
        poster = Poster(proc, log)
        self.posters.append(poster)
        return poster

    async def queue(self, *parts: str, kind: str = "post", reply_to: str | None = None,
                    reply_to_author: str | None = None, expires_in: timedelta = timedelta(days=2),
                    scheduled_in: timedelta = timedelta(0)) -> ContentQueued:
        now = self.clock.now()
        event = ContentQueued(
            content_id=uuid.uuid4().hex, kind=kind, parts=list(parts), reply_to_tweet_id=reply_to,
            reply_to_author=reply_to_author,
            choice=Choice(content_type="practical_tip", topic="sleep",
                          format="thread" if kind == "thread" else "single", hour=now.hour),
            policy_version="test", propensity=0.5, scheduled_for=now + scheduled_in, expires_at=now + expires_in)
        await self.publisher.publish(event)
        return event

    async def outcomes(self, content_id: str) -> list[dict]:
        """Every TweetPosted / PostFailed for this content id in the POSTER stream (payloads)."""
        stream = stream_name(self.namespace, "poster")
        info = await self.js.stream_info(stream)
        found = []
        for seq in range(info.state.first_seq, info.state.last_seq + 1):
            try:
                msg = await self.js.get_msg(stream, seq)
            except Exception:  # noqa: BLE001 - a deleted sequence
                continue
            envelope = json.loads(msg.data)
            # Outcomes only: the poster's answers to the owner's edits (OwnerEditSettled) name the item too.
            if envelope["type"] in OUTCOMES and envelope["payload"].get("content_id") == content_id:
                found.append({"type": envelope["type"], **envelope["payload"]})
        return found

    async def wait_outcome(self, content_id: str, timeout: float = 90.0) -> dict:
        deadline = asyncio.get_running_loop().time() + timeout
        while True:
            found = await self.outcomes(content_id)
            if found:
                return found[0]
            if asyncio.get_running_loop().time() > deadline:
                tails = "\n".join(p.log.read_text()[-2000:] for p in self.posters[-2:])
                raise AssertionError(f"no outcome for {content_id} within {timeout}s; poster logs:\n{tails}")
            await asyncio.sleep(0.2)

    async def own_tweets(self) -> list[dict]:
        headers = {"Authorization": f"Bearer {ADMIN}"}
        async with self.sandbox.http.get(self.sandbox.base_url + "/admin/tweets", headers=headers) as resp:
            assert resp.status == 200
            return (await resp.json())["tweets"]

    async def copies(self, text: str) -> list[dict]:
        return [t for t in await self.own_tweets() if t["text"] == text]

    async def settled(self, content_id: str) -> None:
        """Wait until the item is finished, with no open attempt and nothing left to publish."""
        for _ in range(600):
            row = await self.pool.fetchrow(
                "SELECT status, (SELECT count(*) FROM attempts a WHERE a.content_id = p.content_id"
                " AND a.outcome IS NULL) AS open, (SELECT count(*) FROM event_outbox o WHERE"
                " o.envelope::json->'payload'->>'content_id' = p.content_id AND o.published_at IS NULL) AS unpublished"
                " FROM item_progress p WHERE content_id = $1",
                content_id)
            if row and row["status"] != "queued" and row["open"] == 0 and row["unpublished"] == 0:
                return
            await asyncio.sleep(0.1)
        raise AssertionError(f"{content_id} did not settle")

    async def set_paused(self, paused: bool) -> None:
        switch = await KillSwitch.open(self.js, self.namespace)
        await (switch.pause("test", by="test") if paused else switch.resume(by="test"))


def unique(text: str) -> str:
    return f"{text} #{uuid.uuid4().hex[:8]}"


async def assert_posted_once(harness: Harness, content_id: str, texts: list[str], *, reconciled: bool | None) -> dict:
    await harness.wait_outcome(content_id)
    await harness.settled(content_id)
    outcomes = await harness.outcomes(content_id)
    assert [o["type"] for o in outcomes] == ["TweetPosted"], outcomes
    posted = outcomes[0]
    for text, tweet_id in zip(texts, posted["tweet_ids"], strict=True):
        copies = await harness.copies(text)
        assert [c["id"] for c in copies] == [tweet_id], (text, copies)
    if reconciled is not None:
        assert posted["reconciled"] is reconciled
    return posted


async def something_went_wrong_is_settled_without_the_grace(harness: Harness) -> None:
    """X's "Something went wrong" (the browser's toast, the API's 503) is settled by a read-back once X's own
    delay is over, then retried: not after the grace."""
    # X's "Something went wrong" reaches the poster as a `timeout` the gateway answered: the gateway runs the write
    # no more, so the read-back concludes once X's own delay (the settle) is over. With an hour's grace, as for a
    # request no one answered, the item would not go out within this test.
    poster = await harness.start_poster(XBOT_READBACK_GRACE_S_REAL="3600", XBOT_READBACK_SETTLE_REAL="2")
    try:
        await harness.sandbox.admin("/admin/faults", {"mode": "error", "count": 1})
        text = unique("Ten minutes of walking after a meal flattens the glucose curve.")
        item = await harness.queue(text)
        await assert_posted_once(harness, item.content_id, [text], reconciled=False)
        rows = await harness.pool.fetch(
            "SELECT attempt_no, answered, error_code, outcome, answered_at IS NOT NULL AS dated FROM attempts"
            " WHERE content_id = $1 ORDER BY attempt_no", item.content_id)
        assert [tuple(r) for r in rows] == [(1, True, "timeout", "not_posted", True),
                                            (2, False, None, "posted", False)]
    finally:
        await harness.sandbox.admin("/admin/reset-faults")
        await poster.stop()


async def thread_killed_after_second_part_is_completed(harness: Harness) -> None:
    """A thread whose poster died with two parts of three on X is completed by a restarted one, not restarted."""
    parts = [unique("1/ Caffeine has a half-life of about five hours."), unique("2/ A 3 pm coffee is half"
             " there at 8 pm."), unique("3/ Move the last cup before noon.")]
    poster = await harness.start_poster("poster.after_part2")
    item = await harness.queue(*parts, kind="thread")
    await poster.killed_by_failpoint()
    on_x = [await harness.copies(p) for p in parts]
    assert [len(c) for c in on_x] == [1, 1, 0]  # died with two parts out
    restarted = await harness.start_poster()
    try:
        posted = await assert_posted_once(harness, item.content_id, parts, reconciled=True)
    finally:
        await restarted.stop()
    tweets = {t["id"]: t for t in await harness.own_tweets()}
    first, second, third = posted["tweet_ids"]
    assert tweets[second]["in_reply_to"] == first and tweets[third]["in_reply_to"] == second


def is_outcome(payload: dict, event: type[TweetPosted] | type[PostFailed]) -> bool:
    return payload["type"] == event.TYPE


@pytest_asyncio.fixture(scope="module", loop_scope="module")
async def harness(request, servers, database_url, tmp_path_factory) -> AsyncIterator[Harness]:
    scale = float(getattr(request.module, "SCALE", 60.0))
    driver = getattr(request.module, "DRIVER", "browser")
    clock = Clock(scale=scale)
    namespace = "t" + uuid.uuid4().hex[:10]
    tmp = tmp_path_factory.mktemp("poster")
    sandbox_settings = SandboxSettings(
        port=0, db_path=tmp / "world.sqlite3", handle=HANDLE, password=PASSWORD, admin_token=ADMIN,
        population=60, daily_posts=10_000, daily_replies=10_000, half_hour_posts=10_000,
        half_hour_replies=10_000, enforce_reading_limit=False, suspicion=False)
    runner, base_url = await start_sandbox(sandbox_settings, clock, mount_partners=False)
    common = CommonSettings(nats_url=servers["XBOT_NATS_URL"], database_url=database_url, namespace=namespace)
    broker = make_broker(common, service="e2e_planner")
    await broker.connect()
    js = jetstream(broker)
    await provision_streams(js, namespace)
    env = dict(os.environ)
    env.update(BASE_ENV)
    env.update(clock.env())
    env.update({"XBOT_NATS_URL": common.nats_url, "XBOT_DATABASE_URL": common.dsn, "XBOT_NAMESPACE": namespace,
                "XBOT_X_BASE_URL": base_url, "PYTHONPATH": str(ROOT)})
    env.pop("XBOT_FAILPOINT", None)
    # The poster's schema lives for the session database: start each module from nothing.
    pool = await asyncpg.create_pool(common.dsn, server_settings={"search_path": "poster,public"})
    await pool.execute("DROP SCHEMA IF EXISTS poster CASCADE")
    poster = build(PosterSettings(nats_url=common.nats_url, database_url=database_url, namespace=namespace,
                                  x_base_url=base_url))
    await poster.provision()
    await poster.migrate()
    await poster.broker.stop()
    await poster.pool.close()
    session = tmp / "x_session.json"
    # Queue timeouts are simulated seconds: keep them a generous real minute at any scale.
    queue_timeout = 60.0 * scale
    gw_settings = gateway_settings(servers, base_url, session, namespace=namespace, time_scale=scale,
                                   queue_timeout_p0_s=queue_timeout, queue_timeout_p1_s=queue_timeout,
                                   queue_timeout_p2_s=queue_timeout,
                                   # The module posts more than an unverified account's daily caps allow once
                                   # its warnings have raised the risk level (the caps shrink with it): these are
                                   # crash and pacing tests; the gateway's caps have their own
                                   # (tests/e2e/browser_gateway/test_gateway_guardian.py).
                                   x_account_tier="verified", hard_posts_per_day=1200,
                                   hard_replies_per_day=1200, x_write_driver=driver, x_read_driver=driver,
                                   x_api_client_id=CLIENT_ID, x_api_client_secret=CLIENT_SECRET,
                                   x_api_token_file=tmp / "x_api_token.json")
    async with aiohttp.ClientSession() as http:
        if driver == "api":  # the PKCE sign-in of `xbot login --api`, the person's consent given over HTTP
            flow = ApiSignIn(gw_settings, clock)
            await flow.complete(await consent(http, flow.authorization_url(), username=HANDLE, password=PASSWORD))
        else:
            await login(gw_settings, username=HANDLE, password=PASSWORD)
        async for _gateway in run_gateway(gw_settings, clock):
            h = Harness(Sandbox(base_url, http), clock, namespace, env, pool, js,
                        EventPublisher(broker, common, clock, "planner"), tmp)
            try:
                yield h
            finally:
                for p in h.posters:
                    await p.stop()
    await pool.close()
    await remove_namespace(js, namespace)
    await broker.stop()
    await runner.cleanup()
