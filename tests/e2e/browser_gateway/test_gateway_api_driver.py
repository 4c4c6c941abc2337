"""A gateway started with XBOT_X_WRITE_DRIVER=api over a real NATS: writes through the X API, reads through
Chromium, both against the one sandbox world."""

from __future__ import annotations

import uuid

import aiohttp
import pytest
import pytest_asyncio

from libs.core.metrics import registry
from ops.status import collect_status, render_status
from sandbox.xapi import consent
from services.browser_gateway.xapi.login import ApiSignIn
from tests.e2e.browser_gateway.conftest import HANDLE, PASSWORD, check_delete_tweet, gateway_settings, run_gateway
from tests.integration.xapi.conftest import CLIENT_ID, CLIENT_SECRET

pytestmark = [pytest.mark.chromium, pytest.mark.asyncio(loop_scope="module")]


@pytest_asyncio.fixture(scope="module", loop_scope="module")
async def gw(servers, sandbox, session_file, clock, tmp_path_factory):
    settings = gateway_settings(
        servers, sandbox.base_url, session_file, x_write_driver="api", x_read_driver="browser",
        x_api_client_id=CLIENT_ID, x_api_client_secret=CLIENT_SECRET,
        x_api_token_file=tmp_path_factory.mktemp("xapi") / "x_api_token.json")
    flow = ApiSignIn(settings, clock)
    await flow.complete(await consent(sandbox.http, flow.authorization_url(), username=HANDLE, password=PASSWORD))
    async for running in run_gateway(settings, clock):
        yield running


async def test_post_tweet_over_nats_goes_through_the_api(gw, sandbox) -> None:
    text = f"Posted through the X API #{uuid.uuid4().hex[:8]}"
    posted = await gw.client.post_tweet(text)
    assert posted.id_source == "create_tweet_response"
    [tweet_id] = posted.tweet_ids
    assert (await sandbox.tweet(tweet_id))["text"] == text
    # Read back through the browser: the web client shows what the API wrote.
    timeline = await gw.client.own_timeline(limit=5)
    assert timeline.tweets[0].tweet_id == tweet_id and timeline.tweets[0].text == text
    api_ok = registry.get_sample_value("xbot_gateway_ops_total",
                                       {"op": "post_tweet", "outcome": "ok", "driver": "api"})
    browser_ok = registry.get_sample_value("xbot_gateway_ops_total",
                                           {"op": "own_timeline", "outcome": "ok", "driver": "browser"})
    assert api_ok and api_ok >= 1 and browser_ok and browser_ok >= 1


async def test_status_shows_the_drivers_and_the_spend(gw) -> None:
    await gw.client.post_tweet(f"A post that costs API credit #{uuid.uuid4().hex[:8]}")  # whatever ran before
    async with aiohttp.ClientSession() as http, http.get(gw.side_url + "/status") as resp:
        status = await resp.json()
    drivers = status["drivers"]
    assert drivers["writes"] == "api" and drivers["reads"] == "browser"
    assert drivers["x_api"]["spend_usd_today"] >= 0.015
    assert "POST /2/tweets" in drivers["x_api"]["rate_limits"]
    # What the owner reads in `xbot status`: the gateway's line with its drivers and the day's spend.
    shown = render_status(await collect_status(gw.settings, ("browser_gateway",)))
    [line] = [x for x in shown.splitlines() if x.strip().startswith("drivers:")]
    assert "writes api, reads browser" in line
    assert f"spend_usd_today {drivers['x_api']['spend_usd_today']}" in line and "daily_cap_usd 2.0" in line


async def test_delete_tweet_through_the_api(gw, sandbox) -> None:
    """DELETE /2/tweets/:id; the guards of a write apply."""
    await check_delete_tweet(gw, sandbox, driver="api")
