"""The account's guardian in the running gateway (real NATS, real Chromium, the real sandbox): a write request
sent straight to the gateway, with no poster anywhere, is refused while writes are paused, and the hard caps
hold across a restart of the gateway and are shared by two replicas of the account."""

from __future__ import annotations

import asyncio
import json
import uuid

import pytest
import pytest_asyncio

from libs.bus.control import KillSwitch
from libs.contracts.gateway import (
    GatewayError, GatewayReply, LoginCheckRequest, PostTweetRequest, SearchRequest, subject,
)
from services.browser_gateway.app import GatewayApp
from tests.e2e.browser_gateway.conftest import ADMIN, gateway_settings, run_gateway

pytestmark = [pytest.mark.chromium, pytest.mark.asyncio(loop_scope="module")]


@pytest_asyncio.fixture(scope="module", loop_scope="module")
async def gw(servers, sandbox, session_file, clock):
    settings = gateway_settings(servers, sandbox.base_url, session_file, hard_posts_per_day=2)
    async for running in run_gateway(settings, clock):
        yield running


async def own_texts(sandbox) -> list[str]:
    async with sandbox.http.get(sandbox.base_url + "/admin/tweets",
                                headers={"Authorization": f"Bearer {ADMIN}"}) as resp:
        return [t["text"] for t in (await resp.json())["tweets"]]


async def raw_post(gw, text: str) -> GatewayReply:
    """What anyone with a NATS connection could send: no client library, no poster."""
    msg = await gw.client.broker.request({"text": text}, subject(gw.settings.namespace, "post_tweet"), timeout=60)
    return GatewayReply.model_validate(json.loads(msg.body))


async def test_a_raw_write_request_is_refused_while_paused_and_caps_survive_a_restart(gw, sandbox, clock) -> None:
    switch = await KillSwitch.open(gw.js, gw.settings.namespace)
    await switch.pause("owner is away", by="test")
    paused_text = f"Sent straight to the gateway while paused {uuid.uuid4().hex[:6]}"
    reply = await raw_post(gw, paused_text)
    assert not reply.ok and reply.error is not None
    assert (reply.error.code, reply.error.retryable) == ("writes_paused", True)
    assert "owner is away" in reply.error.message
    assert paused_text not in await own_texts(sandbox)

    await switch.resume(by="test")
    first = f"After the resume {uuid.uuid4().hex[:6]}"
    assert (await raw_post(gw, first)).ok
    await gw.client.post_tweet(f"The second of two a day {uuid.uuid4().hex[:6]}")
    third = await raw_post(gw, f"One too many {uuid.uuid4().hex[:6]}")
    assert third.error is not None and third.error.code == "budget_exhausted"
    assert third.error.retry_after_s and third.error.retry_after_s > 23 * 3600

    # A restart (a crash loop) does not reset the caps: they are read back from the gateway's KV entry.
    await gw.app.stop()
    gw.app = GatewayApp(gw.settings, clock=clock)
    await gw.app.start()
    with pytest.raises(GatewayError) as err:
        await gw.client.post_tweet(f"After the restart {uuid.uuid4().hex[:6]}")
    assert err.value.code == "budget_exhausted"
    status = gw.app.gateway.guardian_status()
    assert status["writes_24h"]["posts"] == "2/2" and status["target"] == "sandbox"


async def test_two_replicas_of_the_account_share_the_caps_and_the_budget(servers, sandbox, session_file,
                                                                         clock) -> None:
    """Two gateways of one account (one KV entry): each counts the other's writes against the hard caps, two
    writes racing for the last slot get it once between them, and a read on one is in the other's budget."""
    settings = gateway_settings(servers, sandbox.base_url, session_file, hard_posts_per_day=3)
    async for a in run_gateway(settings, clock):
        b = GatewayApp(settings, clock=clock)
        await b.start()  # started before any write: its memory of the entry is empty
        try:
            tag = uuid.uuid4().hex[:6]
            first = await a.app.gateway.execute(PostTweetRequest(text=f"Replica A, first {tag}"))
            second = await b.gateway.execute(PostTweetRequest(text=f"Replica B, second {tag}"))
            assert first.ok and second.ok, (first.error, second.error)
            # One slot left, asked for by both at once: exactly one gets it.
            racing = await asyncio.gather(
                a.app.gateway.execute(PostTweetRequest(text=f"Race A {tag}")),
                b.gateway.execute(PostTweetRequest(text=f"Race B {tag}")))
            assert sorted(r.ok for r in racing) == [False, True], [r.error for r in racing]
            refused = next(r for r in racing if not r.ok)
            assert refused.error is not None and refused.error.code == "budget_exhausted"
            assert "hard cap: 3 posts" in refused.error.message
            # Replica A, which made two of the three, sees three too.
            late = await a.app.gateway.execute(PostTweetRequest(text=f"After the race {tag}"))
            assert late.error is not None and late.error.code == "budget_exhausted"
            assert sum(tag in text for text in await own_texts(sandbox)) == 3

            # A read on B is in A's budget (what A reports after its own next op).
            before = a.app.gateway.guardian.budget.used(clock.now(), "day")["posts_viewed"]
            seen = await b.gateway.execute(SearchRequest(query="sleep", tab="latest", limit=20))
            assert seen.ok, seen.error
            b_viewed = b.gateway.guardian.budget.used(clock.now(), "day")["posts_viewed"]
            await a.app.gateway.execute(LoginCheckRequest())
            assert a.app.gateway.guardian.budget.used(clock.now(), "day")["posts_viewed"] >= b_viewed > before
        finally:
            await b.stop()
