"""The sandbox in-process (its X API mounted as always) and an X API driver signed in to it through the real
OAuth 2.0 PKCE flow; no Chromium."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path

import aiohttp
import pytest
import pytest_asyncio

from libs.bus.control import KillSwitch
from libs.bus.nats import connect
from libs.bus.provision import provision_streams, remove_namespace
from libs.core.clock import Clock
from libs.core.settings import CommonSettings
from sandbox.app import start_sandbox
from sandbox.settings import SandboxSettings
from sandbox.xapi import consent as sandbox_consent
from services.browser_gateway.gateway import BrowserGateway
from services.browser_gateway.settings import GatewaySettings
from services.browser_gateway.xapi.driver import ApiDriver
from services.browser_gateway.xapi.login import ApiSignIn
from services.browser_gateway.xapi.tokens import TokenSet

HANDLE = "xbot_demo"
PASSWORD = "xapi-password"
ADMIN = "xapi-admin-token"
CLIENT_ID = "sandbox-client-id"
CLIENT_SECRET = "sandbox-client-secret"


@dataclass
class Sandbox:
    base_url: str
    http: aiohttp.ClientSession

    async def admin(self, path: str, body: dict | None = None) -> dict:
        async with self.http.post(self.base_url + path, json=body or {},
                                  headers={"Authorization": f"Bearer {ADMIN}"}) as resp:
            assert resp.status == 200, await resp.text()
            return await resp.json()

    async def admin_get(self, path: str) -> dict:
        async with self.http.get(self.base_url + path, headers={"Authorization": f"Bearer {ADMIN}"}) as resp:
            assert resp.status == 200, await resp.text()
            return await resp.json()


@pytest.fixture(scope="module")
def clock() -> Clock:
    return Clock()


@asynccontextmanager
async def running_sandbox(db_dir: Path, clock: Clock, **overrides) -> AsyncIterator[Sandbox]:
    """A sandbox of this module's account whose X limits are out of the way unless ``overrides`` say."""
    values = dict(port=0, db_path=db_dir / "world.sqlite3", handle=HANDLE, password=PASSWORD, admin_token=ADMIN,
                  population=60, daily_posts=10_000, daily_replies=10_000, half_hour_posts=10_000,
                  half_hour_replies=10_000)
    runner, base_url = await start_sandbox(SandboxSettings(**(values | overrides)), clock, mount_partners=False)
    try:
        async with aiohttp.ClientSession() as http:
            yield Sandbox(base_url, http)
    finally:
        await runner.cleanup()


@pytest_asyncio.fixture(scope="module", loop_scope="module")
async def sandbox(tmp_path_factory, clock: Clock) -> AsyncIterator[Sandbox]:
    async with running_sandbox(tmp_path_factory.mktemp("sandbox"), clock) as running:
        yield running


def api_settings(base_url: str, token_file: Path, **overrides) -> GatewaySettings:
    values = dict(x_base_url=base_url, x_handle=HANDLE, x_write_driver="api", x_read_driver="api",
                  x_api_client_id=CLIENT_ID, x_api_client_secret=CLIENT_SECRET, x_api_token_file=token_file,
                  x_api_redirect_uri="http://127.0.0.1:8765/callback", op_timeout_s_real=30.0,
                  call_timeout_ms_real=10_000,
                  # These tests drive X's errors one after the other: each warning raises the account's risk level,
                  # which shrinks the activity budget; what they check is the API's answers, not the budget.
                  activity_budget=False)
    values.update(overrides)
    return GatewaySettings(**values)


async def consent(http: aiohttp.ClientSession, authorization_url: str, *, username: str = HANDLE,
                  password: str = PASSWORD, decision: str = "allow") -> str:
    """The sandbox's consent answered as this module's account (sandbox.xapi.consent)."""
    return await sandbox_consent(http, authorization_url, username=username, password=password, decision=decision)


async def sign_in(sandbox: Sandbox, settings: GatewaySettings, clock: Clock) -> TokenSet:
    flow = ApiSignIn(settings, clock)
    return await flow.complete(await consent(sandbox.http, flow.authorization_url()))


@pytest_asyncio.fixture(loop_scope="module")
async def switch(servers) -> AsyncIterator[KillSwitch]:
    """The real kill switch (NATS KV, provisioned "resumed") of a fresh namespace: the gateway reads it before
    every write and refuses writes without one."""
    settings = CommonSettings(nats_url=servers["XBOT_NATS_URL"], namespace="t" + uuid.uuid4().hex[:10])
    nc = await connect(settings, name="xbot-test")
    js = nc.jetstream()
    await provision_streams(js, settings.namespace)
    try:
        yield await KillSwitch.open(js, settings.namespace)
    finally:
        await remove_namespace(js, settings.namespace)
        await nc.close()


@pytest_asyncio.fixture(loop_scope="module")
async def gateway(sandbox: Sandbox, clock: Clock, tmp_path, switch: KillSwitch) -> AsyncIterator[BrowserGateway]:
    """A gateway whose reads and writes both go through the X API (no Chromium), signed in."""
    settings = api_settings(sandbox.base_url, tmp_path / "x_api_token.json")
    await sign_in(sandbox, settings, clock)
    gw = BrowserGateway(settings, clock, kill_switch=switch)
    await gw.start()
    try:
        yield gw
    finally:
        await gw.stop()


def api_driver(gw: BrowserGateway) -> ApiDriver:
    driver = gw.drivers["api"]
    assert isinstance(driver, ApiDriver)
    return driver
