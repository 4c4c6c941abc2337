"""The activity budget in the running gateway (real Chromium, NATS and sandbox): what the gateway counts is what
the sandbox served, a read class out of budget gets the typed, retryable budget_exhausted, and own writes still
go out in the last fifth of the budget, kept for them."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator

import pytest
import pytest_asyncio

from libs.contracts.gateway import GatewayError
from tests.e2e.browser_gateway.conftest import (
    ADMIN, HANDLE, Sandbox, gateway_settings, own_sandbox, run_gateway,
)

pytestmark = [pytest.mark.chromium, pytest.mark.asyncio(loop_scope="module")]


@pytest_asyncio.fixture(scope="module", loop_scope="module")
async def sandbox(tmp_path_factory, clock) -> AsyncIterator[Sandbox]:
    """With its ground-truth routes (what it served the account); its own reading limit is far above the budget."""
    async for sb in own_sandbox(tmp_path_factory, clock):
        yield sb


@pytest_asyncio.fixture(scope="module", loop_scope="module")
async def gw(servers, sandbox, session_file, clock):
    settings = gateway_settings(servers, sandbox.base_url, session_file, activity_budget=True,
                                posts_viewed_per_day=200, posts_viewed_per_15m=200, page_loads_per_day=400,
                                searches_per_day=400, active_hours_start=0, active_hours_end=0)
    async for running in run_gateway(settings, clock):
        yield running


async def served(sandbox) -> dict:
    async with sandbox.http.get(sandbox.base_url + "/sim/activity",
                                headers={"Authorization": f"Bearer {ADMIN}"}) as resp:
        return (await resp.json())["last_24h"]


async def test_harvesting_runs_out_while_writes_go_on_and_the_counts_match_the_sandbox(gw, sandbox) -> None:
    before = await served(sandbox)  # the login that made the session file opened the home timeline
    searches = 0
    with pytest.raises(GatewayError) as err:
        while True:  # harvesting may take the account to 65 % of 200 posts viewed
            await gw.client.search("sleep", tab="latest", limit=20)
            searches += 1
            assert searches < 20
    assert (err.value.code, err.value.retryable) == ("budget_exhausted", True)
    assert err.value.retry_after_s and err.value.retry_after_s > 0 and "harvesting" in err.value.message
    assert searches >= 2
    budget = gw.app.gateway.guardian_status()["budget"]
    viewed = budget["day_by_class"]["harvesting"]
    assert 0 < viewed <= 130
    # The gateway counted what the sandbox (X's stand-in, the ground truth) served.
    truth = await served(sandbox)
    assert (truth["posts_viewed"] - before["posts_viewed"], truth["searches"]) == (viewed, searches)

    # Own writes still go out: the reads stop at 80 % of the budget, the last fifth is the writes'.
    posted = await gw.client.post_tweet(f"Budget spent, still posting {uuid.uuid4().hex[:6]}")
    assert posted.tweet_ids
    # Own metrics (the highest read class) still fit under their ceiling.
    await gw.client.tweet_metrics(posted.tweet_ids, author=HANDLE)
    truth = await served(sandbox)
    counted = gw.app.gateway.guardian.budget.used(gw.app.clock.now(), "day")
    assert counted["posts_viewed"] == truth["posts_viewed"] - before["posts_viewed"]
    assert counted["page_loads"] == truth["page_loads"] - before["page_loads"]
