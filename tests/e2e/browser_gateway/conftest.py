"""Real Chromium against the real sandbox, over a real NATS: one sandbox, one gateway (one browser) per module."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path

import aiohttp
import pytest
import pytest_asyncio

from libs.bus.broker import jetstream, make_broker
from libs.bus.provision import provision_streams, remove_namespace
from libs.bus.gateway import GatewayClient
from libs.core.clock import Clock
from sandbox.app import start_sandbox
from sandbox.settings import SandboxSettings
from services.browser_gateway.app import GatewayApp
from services.browser_gateway.login import login
from services.browser_gateway.settings import GatewaySettings

HANDLE = "xbot_demo"
PASSWORD = "e2e-password"
ADMIN = "e2e-admin-token"
POPULATION = 60
# Simulated time runs 60x: typing delays and pacing shrink with it; queue timeouts stay generous in real time.
SCALE = 60.0


@dataclass
class Sandbox:
    base_url: str
    http: aiohttp.ClientSession

    async def admin(self, path: str, body: dict | None = None) -> dict:
        headers = {"Authorization": f"Bearer {ADMIN}"}
        async with self.http.post(self.base_url + path, json=body or {}, headers=headers) as resp:
            assert resp.status == 200, await resp.text()
            return await resp.json()

    async def tweet(self, tweet_id: str) -> dict:
        return await self.get(f"/admin/tweets/{tweet_id}")

    async def own_tweets(self) -> list[dict]:
        """What the account has posted in this run."""
        return (await self.get("/admin/tweets"))["tweets"]

    async def get(self, path: str) -> dict:
        headers = {"Authorization": f"Bearer {ADMIN}"}
        async with self.http.get(self.base_url + path, headers=headers) as resp:
            assert resp.status == 200, await resp.text()
            return await resp.json()


@pytest.fixture(scope="module")
def clock() -> Clock:
    return Clock(scale=SCALE)


@pytest_asyncio.fixture(scope="module", loop_scope="module")
async def sandbox(tmp_path_factory, clock: Clock) -> AsyncIterator[Sandbox]:
    db = tmp_path_factory.mktemp("sandbox") / "world.sqlite3"
    settings = SandboxSettings(
        port=0, db_path=db, handle=HANDLE, password=PASSWORD, admin_token=ADMIN, population=POPULATION,
        daily_posts=10_000, daily_replies=10_000, half_hour_posts=10_000, half_hour_replies=10_000,
        # These tests read far more than X's reading limit allows in a few simulated hours, and do not concern
        # it (nor the automation-suspicion model): test_gateway_reading_limit.py does.
        enforce_reading_limit=False, suspicion=False,
    )
    runner, base_url = await start_sandbox(settings, clock, mount_partners=False)
    async with aiohttp.ClientSession() as http:
        yield Sandbox(base_url, http)
    await runner.cleanup()


async def own_sandbox(tmp_path_factory, clock: Clock, **overrides) -> AsyncIterator[Sandbox]:
    """A module's own sandbox, for the tests of what the account may read (the reading limit, the activity budget,
    timelines read by scrolling): 60 accounts, its ground-truth routes, no suspicion model unless asked."""
    settings = SandboxSettings(**{
        "port": 0, "db_path": tmp_path_factory.mktemp("sandbox") / "world.sqlite3", "handle": HANDLE,
        "password": PASSWORD, "admin_token": ADMIN, "population": 60, "suspicion": False, **overrides})
    runner, base_url = await start_sandbox(settings, clock)
    async with aiohttp.ClientSession() as http:
        yield Sandbox(base_url, http)
    await runner.cleanup()


def gateway_settings(servers: dict[str, str], base_url: str, session_file: Path, **overrides) -> GatewaySettings:
    values = dict(
        nats_url=servers["XBOT_NATS_URL"], namespace="t" + uuid.uuid4().hex[:10], time_scale=SCALE,
        x_base_url=base_url, x_handle=HANDLE, session_file=session_file, write_min_spacing_s=0.0,
        # A page's call timeout in real milliseconds: 5 s timed out a search's render on a loaded CI box (three
        # workers, other suites); the tests of X's slowness set their own short ones.
        write_jitter_s=0.0, call_timeout_ms_real=20_000, op_timeout_s_real=60.0,
        # At 60x the default P2 timeout (300 s) is 5 real seconds: too short for 50 queued ops on a busy CI box.
        queue_timeout_p0_s=3_600.0, queue_timeout_p1_s=3_600.0, queue_timeout_p2_s=3_600.0,
        # These tests read far more than the account's activity budget allows (and at any simulated hour); the
        # budget has its own tests (test_gateway_budget.py and the unit tests).
        activity_budget=False,
        # The gateway's tests render with Chromium's sandbox on (as an unprivileged user under root): a machine
        # that cannot sandbox fails them rather than falling back unseen.
        chromium_sandbox="required",
    )
    values.update(overrides)
    return GatewaySettings(**values)


@dataclass
class Running:
    app: GatewayApp
    client: GatewayClient
    settings: GatewaySettings
    side_url: str
    js: object


@pytest_asyncio.fixture(scope="module", loop_scope="module")
async def session_file(servers, sandbox: Sandbox, tmp_path_factory) -> Path:
    path = tmp_path_factory.mktemp("session") / "x_session.json"
    settings = gateway_settings(servers, sandbox.base_url, path)
    await login(settings, username=HANDLE, password=PASSWORD)
    return path


async def run_gateway(settings: GatewaySettings, clock: Clock) -> AsyncIterator[Running]:
    client_broker = make_broker(settings, service="e2e_client")
    await client_broker.connect()
    js = jetstream(client_broker)
    # Streams, KV buckets and the kill switch ("resumed"), as `xbot provision` makes them, for this namespace only.
    await provision_streams(js, settings.namespace)
    app = GatewayApp(settings, clock=clock)
    side_url = await app.start()
    running = Running(app, GatewayClient(client_broker, settings.namespace, timeout=120), settings, side_url, js)
    try:
        yield running
    finally:
        await running.app.stop()  # a test may have restarted it
        await remove_namespace(js, settings.namespace)
        await client_broker.stop()



async def check_delete_tweet(gw: Running, sandbox: Sandbox, *, driver: str) -> None:
    """``delete_tweet`` on one driver: refused while writes are paused (the post stays), deleted once resumed
    (gone from the sandbox's ground truth), a second try answered as already gone. (Someone else's post: the
    browser's test, where the menu decides; the API's 403 is in tests/unit/browser_gateway.)"""
    from libs.bus.control import KillSwitch
    from libs.contracts.gateway import GatewayError

    posted = await gw.client.post_tweet(f"A post the owner will delete ({driver}) #{uuid.uuid4().hex[:8]}")
    [tweet_id] = posted.tweet_ids
    switch = await KillSwitch.open(gw.js, gw.settings.namespace)
    await switch.pause("owner is away", by="test")
    try:
        with pytest.raises(GatewayError) as refused:
            await gw.client.delete_tweet(tweet_id)
        assert (refused.value.code, refused.value.retryable) == ("writes_paused", True)
        assert (await sandbox.tweet(tweet_id))["id"] == tweet_id
    finally:
        await switch.resume(by="test")
    deleted = await gw.client.delete_tweet(tweet_id)
    assert deleted.tweet_id == tweet_id and not deleted.already_gone
    headers = {"Authorization": f"Bearer {ADMIN}"}
    async with sandbox.http.get(f"{sandbox.base_url}/admin/tweets/{tweet_id}", headers=headers) as resp:
        assert resp.status == 404 and (await resp.json())["error"] == "deleted"
    assert (await gw.client.delete_tweet(tweet_id)).already_gone
    # Each try counts against the deletions' own hard cap (the paused one never reached the caps).
    assert gw.app.gateway.guardian_status()["writes_24h"]["deletes"] == "2/20"
