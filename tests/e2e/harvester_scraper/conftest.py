"""Real sandbox, real gateway (one Chromium), real NATS and Postgres, all on one scaled clock, per module.

The sandbox runs in this process, so the tests read its world state directly (``world``) as ground truth.
"""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass

import aiohttp
import asyncpg
import pytest
import pytest_asyncio

from libs.bus.broker import make_broker
from libs.bus.provision import provision_streams
from libs.bus.streams import KV_BUCKETS, kv_bucket, stream_configs, stream_name
from libs.contracts.base import Envelope
from libs.bus.gateway import GatewayClient
from libs.contracts.registry import decode
from libs.bus.nats import connect
from libs.core.clock import Clock
from libs.runtime.service import Service
from sandbox.activity import Activity
from sandbox.app import ACTIVITY, WORLD, start_sandbox
from sandbox.settings import SandboxSettings
from sandbox.world import World
from services.browser_gateway.app import GatewayApp
from services.browser_gateway.login import login
from services.browser_gateway.settings import GatewaySettings

HANDLE = "xbot_demo"
PASSWORD = "e2e-password"
ADMIN = "e2e-admin-token"

# 120x: a simulated hour is 30 real seconds, so checkpoints of a few simulated minutes come within seconds
# while a status-page read (under a real second) spans only a simulated minute or two.
SCALE = 120.0
# Real seconds one post's reading (its status page, then its analytics page) may take on a busy 2-core box: the
# lower bound of "when was this read" (each reading is dated by the gateway once its pages are read).
READ_SLACK_REAL_S = 5.0


@dataclass
class Harness:
    world: World
    base_url: str
    gateway: GatewayClient
    js: object
    clock: Clock
    namespace: str
    common: dict  # settings every service of this module shares (servers, namespace, clock)
    http: aiohttp.ClientSession
    gateway_app: GatewayApp | None = None
    activity: Activity | None = None  # what the sandbox served the account (X's side of the count)

    @property
    def slack_s(self) -> float:
        return READ_SLACK_REAL_S * self.clock.scale

    async def sandbox_tweet(self, tweet_id: str) -> dict:
        async with self.http.get(f"{self.base_url}/admin/tweets/{tweet_id}",
                                 headers={"Authorization": f"Bearer {ADMIN}"}) as resp:
            assert resp.status == 200, await resp.text()
            return await resp.json()

    async def events(self, producer: str) -> list[tuple[str, Envelope, object]]:
        """Every message of a producer's stream: (Nats-Msg-Id, envelope, event)."""
        js = self.js
        stream = stream_name(self.namespace, producer)
        info = await js.stream_info(stream)
        out = []
        for seq in range(info.state.first_seq, info.state.last_seq + 1) if info.state.messages else ():
            msg = await js.get_msg(stream, seq=seq)
            env, event = decode(msg.data)
            out.append((msg.headers["Nats-Msg-Id"], env, event))
        return out


@pytest.fixture(scope="module")
def clock() -> Clock:
    return Clock(scale=SCALE)


@pytest.fixture(scope="module")
def gateway_overrides() -> dict:
    """Gateway settings a test module changes (test_budget_adaptation.py switches the activity budget on)."""
    return {}


@pytest.fixture(scope="module")
def sandbox_overrides() -> dict:
    """Sandbox settings a test module changes (test_past_posts_e2e.py gives the account a past)."""
    return {}


@pytest_asyncio.fixture(scope="module", loop_scope="module")
async def harness(servers, database_url, tmp_path_factory, clock: Clock,
                  gateway_overrides: dict, sandbox_overrides: dict) -> AsyncIterator[Harness]:
    db = tmp_path_factory.mktemp("sandbox") / "world.sqlite3"
    sandbox_settings = SandboxSettings(
        port=0, db_path=db, handle=HANDLE, password=PASSWORD, admin_token=ADMIN, population=60,
        daily_posts=10_000, daily_replies=10_000, half_hour_posts=10_000, half_hour_replies=10_000,
        # The harvest reads more than X's reading limit allows (today's unbudgeted reads, issue 18); these tests
        # are about what it finds, not about X's limits.
        enforce_reading_limit=False, suspicion=False, **sandbox_overrides)
    runner, base_url = await start_sandbox(sandbox_settings, clock, mount_partners=False)
    namespace = "t" + uuid.uuid4().hex[:10]
    session = tmp_path_factory.mktemp("session") / "x_session.json"
    # Queue timeouts are simulated seconds: at 120x the defaults would be a second or two of real time.
    gw_settings = GatewaySettings(
        nats_url=servers["XBOT_NATS_URL"], namespace=namespace, time_scale=clock.scale, sim_epoch=clock.epoch,
        sim_anchor=clock.anchor, x_base_url=base_url, x_handle=HANDLE, session_file=session,
        write_min_spacing_s=0.0, write_jitter_s=0.0, call_timeout_ms_real=20_000, op_timeout_s_real=60.0,
        queue_timeout_p0_s=1e6, queue_timeout_p1_s=1e6, queue_timeout_p2_s=1e6, context_idle_s=1e6,
        breaker_reset_s=1e4, breaker_max_reset_s=1e5,
        # Likewise the gateway's activity budget (and its active hours): these tests are about what the services
        # find; the budget's own tests are the gateway's.
        **{"activity_budget": False, **gateway_overrides})
    await login(gw_settings, username=HANDLE, password=PASSWORD)
    common = dict(nats_url=servers["XBOT_NATS_URL"], database_url=database_url, namespace=namespace,
                  time_scale=clock.scale, sim_epoch=clock.epoch, sim_anchor=clock.anchor, x_handle=HANDLE)
    nc = await connect(gw_settings, name="e2e-harvester-scraper")
    js = nc.jetstream()
    await provision_streams(js, namespace)  # what `xbot provision` does before `xbot up`
    app = GatewayApp(gw_settings, clock=clock)
    await app.start()
    client_broker = make_broker(gw_settings, service="e2e_client")
    await client_broker.connect()
    try:
        async with aiohttp.ClientSession() as http:
            yield Harness(runner.app[WORLD], base_url, GatewayClient(client_broker, namespace, timeout=120), js,
                          clock, namespace, common, http, app, runner.app[ACTIVITY])
    finally:
        await client_broker.stop()
        await app.stop()
        for cfg in stream_configs(namespace):
            await _ignore(js.delete_stream(cfg.name))
        for name in KV_BUCKETS:
            await _ignore(js.delete_key_value(kv_bucket(namespace, name)))
        await nc.close()
        await runner.cleanup()


async def _ignore(coro) -> None:
    try:
        await coro
    except Exception:  # noqa: BLE001 - already gone
        pass


async def drop_schema(database_url: str, schema: str) -> None:
    conn = await asyncpg.connect(database_url)
    try:
        await conn.execute(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE')
    finally:
        await conn.close()


async def started(svc: Service) -> Service:
    await svc.provision()
    await svc.start()
    return svc
