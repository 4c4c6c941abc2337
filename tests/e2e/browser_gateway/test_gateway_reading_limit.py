"""Past X's reading limit, a read through the gateway (real Chromium, real NATS, the real sandbox) is the typed,
retryable ``rate_limited``: not an empty result, not ``dom_changed``, not a deleted post."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator

import pytest
import pytest_asyncio

from libs.bus.streams import stream_name
from libs.contracts.events import AccountRiskChanged
from libs.contracts.gateway import GatewayError
from tests.e2e.browser_gateway.conftest import ADMIN, HANDLE, Sandbox, gateway_settings, own_sandbox, run_gateway

pytestmark = [pytest.mark.chromium, pytest.mark.asyncio(loop_scope="module")]

# Small enough to reach in a few searches; the same figure for 15 minutes, so that only the 24-hour window (24
# real minutes at 60x) decides and the limit cannot lapse during the test.
LIMIT = 100


@pytest_asyncio.fixture(scope="module", loop_scope="module")
async def sandbox(tmp_path_factory, clock) -> AsyncIterator[Sandbox]:
    # Only the reading limit acts here (no suspicion model).
    async for sb in own_sandbox(tmp_path_factory, clock, posts_viewed_per_day=LIMIT, posts_viewed_per_15m=LIMIT):
        yield sb


@pytest_asyncio.fixture(scope="module", loop_scope="module")
async def gw(servers, sandbox, session_file, clock):
    async for running in run_gateway(gateway_settings(servers, sandbox.base_url, session_file), clock):
        yield running


async def viewed(sandbox: Sandbox) -> dict:
    async with sandbox.http.get(sandbox.base_url + "/sim/activity",
                                headers={"Authorization": f"Bearer {ADMIN}"}) as resp:
        return (await resp.json())["reading_limit"]


async def test_a_read_past_the_limit_is_rate_limited_not_empty(gw, sandbox, monkeypatch) -> None:
    own = (await gw.client.post_tweet("Past the reading limit, this post is still mine.")).tweet_ids[0]
    searches = 0
    while not (await viewed(sandbox))["limited"]:
        found = await gw.client.search("sleep", tab="latest", limit=40)
        assert found.tweets, "a search under the limit finds posts"
        searches += 1
        assert searches <= LIMIT  # every search views at least one post
    assert (await viewed(sandbox))["viewed_24h"] >= LIMIT

    for read in (lambda: gw.client.search("sleep", tab="latest", limit=40),
                 lambda: gw.client.own_timeline(limit=20),
                 lambda: gw.client.tweet_metrics([own], author=HANDLE),
                 lambda: gw.client.profile_snapshot("xbot_demo")):
        with pytest.raises(GatewayError) as err:
            await read()
        assert (err.value.code, err.value.retryable) == ("rate_limited", True), err.value
        assert "you are rate limited" in err.value.message
    # Still logged in: the session is fine, only reading is limited.
    assert (await gw.client.login_check()).logged_in
    # Read-side warnings raise the account's one risk level, for writes too, and the gateway publishes it.
    ns = gw.settings.namespace
    msg = await gw.js.get_last_msg(stream_name(ns, "browser_gateway"), AccountRiskChanged.subject(ns))
    risk = AccountRiskChanged.model_validate(json.loads(msg.data)["payload"])
    assert (risk.level_name, risk.signal) == ("SEVERE", "rate_limited") and risk.budget_share < 0.5
    assert gw.app.gateway.guardian_status()["risk_level"] == "SEVERE"

    # Without the check on arrival and the wait for the posts (the gateway before these changes), the own
    # timeline's page still has its profile header, so the read "succeeds" with no posts: an empty result that
    # looks like a new account.
    site = gw.app.gateway.browser.site
    arrive = site.open

    async def heedless(page, path, **_) -> None:
        await arrive(page, path, heed_notices=False)

    async def unwaited(page, empty) -> str:
        return "tweet"

    monkeypatch.setattr(site, "open", heedless)
    monkeypatch.setattr(site, "first_batch", unwaited)
    assert (await gw.client.own_timeline(limit=20)).tweets == []
