"""A timeline longer than its first batch, through the gateway (real Chromium, real NATS, the real sandbox): X
loads 20 posts with the page and 20 more each time the reader scrolls to the end, and keeps only the cells near
the viewport in the DOM. The gateway scrolls and collects by id: every post up to the limit, in the timeline's
order, each batch counted as the sandbox served it; a batch past the reading limit is X's ``rate_limited``."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest
import pytest_asyncio

from libs.contracts.gateway import GatewayError
from tests.e2e.browser_gateway.conftest import ADMIN, Sandbox, gateway_settings, own_sandbox, run_gateway

pytestmark = [pytest.mark.chromium, pytest.mark.asyncio(loop_scope="module")]

PAST = 45  # the account's posts before the run: three batches (20, 20, 5)
LIMIT = 30  # posts viewed per window: the page's batch and one more fit under it, not a third


@pytest_asyncio.fixture(scope="module", loop_scope="module")
async def sandbox(tmp_path_factory, clock) -> AsyncIterator[Sandbox]:
    async for sb in own_sandbox(tmp_path_factory, clock, history_posts=PAST, history_days=30.0,
                                posts_viewed_per_day=LIMIT, posts_viewed_per_15m=LIMIT):
        yield sb


@pytest_asyncio.fixture(scope="module", loop_scope="module")
async def gw(servers, sandbox, session_file, clock):
    async for running in run_gateway(gateway_settings(servers, sandbox.base_url, session_file), clock):
        yield running


async def admin(sandbox: Sandbox, method: str, path: str) -> dict:
    async with sandbox.http.request(method, sandbox.base_url + path,
                                    headers={"Authorization": f"Bearer {ADMIN}"}) as resp:
        return await resp.json()


async def test_the_gateway_scrolls_for_every_post_up_to_the_limit_and_counts_what_x_served(gw, sandbox) -> None:
    past = sorted((await admin(sandbox, "GET", "/admin/history"))["tweets"], key=lambda t: t["created_at"],
                  reverse=True)
    await admin(sandbox, "POST", "/admin/reading/reset")
    served = (await admin(sandbox, "GET", "/sim/activity"))["last_24h"]
    counted = gw.app.gateway.guardian.budget.used(gw.app.clock.now(), "day")

    found = await gw.client.own_timeline(limit=40)
    # Two batches, newest first; the first batch alone (the page as it loads, what the gateway read before it
    # scrolled) would be 20.
    assert [t.tweet_id for t in found.tweets] == [t["id"] for t in past[:40]]
    after = (await admin(sandbox, "GET", "/sim/activity"))["last_24h"]
    assert (after["page_loads"] - served["page_loads"], after["posts_viewed"] - served["posts_viewed"]) == (1, 40)
    now = gw.app.gateway.guardian.budget.used(gw.app.clock.now(), "day")
    assert (now["page_loads"] - counted["page_loads"], now["posts_viewed"] - counted["posts_viewed"]) == (1, 40)

    # The whole past needs a third batch, which X refuses past the reading limit: the typed, retryable error,
    # not 40 posts passed off as the whole timeline.
    await admin(sandbox, "POST", "/admin/reading/reset")
    with pytest.raises(GatewayError) as err:
        await gw.client.own_timeline(limit=100)
    assert (err.value.code, err.value.retryable) == ("rate_limited", True), err.value
