"""The session's lifecycle in the running gateway (real Chromium, NATS, sandbox): after the session expires,
writes are held; `xbot login` writing a new session file is picked up without a restart; writes resume on the
owner's `xbot resume`."""

from __future__ import annotations

import asyncio
import uuid

import pytest
import pytest_asyncio

from libs.bus.control import KillSwitch
from libs.contracts.gateway import GatewayError
from services.browser_gateway.login import login
from tests.e2e.browser_gateway.conftest import HANDLE, PASSWORD, gateway_settings, run_gateway

pytestmark = [pytest.mark.chromium, pytest.mark.asyncio(loop_scope="module")]


@pytest_asyncio.fixture(scope="module", loop_scope="module")
async def gw(servers, sandbox, session_file, clock):
    async for running in run_gateway(gateway_settings(servers, sandbox.base_url, session_file), clock):
        yield running


async def test_a_new_session_file_is_picked_up_and_writes_wait_for_the_owner(gw, sandbox) -> None:
    await sandbox.admin("/admin/faults", {"mode": "session_expired", "count": 1})  # every session is void
    with pytest.raises(GatewayError) as err:
        await gw.client.own_timeline(limit=5, priority=1)
    assert err.value.code == "session_expired"
    assert not gw.app.gateway.ready()
    with pytest.raises(GatewayError) as err:
        await gw.client.post_tweet(f"While logged out {uuid.uuid4().hex[:6]}")
    assert err.value.code == "session_expired"

    await sandbox.admin("/admin/reset-faults")
    await login(gw.settings, username=HANDLE, password=PASSWORD)  # `xbot login`: a new session file
    for _ in range(600):  # the gateway's watch (every simulated minute) notices it and checks it
        if gw.app.gateway.ready():
            break
        await asyncio.sleep(0.05)
    assert gw.app.gateway.ready()
    assert (await gw.client.own_timeline(limit=5, priority=1)) is not None
    with pytest.raises(GatewayError) as err:  # logged in again, but writes wait for the owner
        await gw.client.post_tweet(f"Before the resume {uuid.uuid4().hex[:6]}")
    assert err.value.code == "session_expired" and "xbot resume" in err.value.message

    await (await KillSwitch.open(gw.js, gw.settings.namespace)).resume(by="test")
    assert (await gw.client.post_tweet(f"After the resume {uuid.uuid4().hex[:6]}")).tweet_ids


async def test_an_account_shown_in_another_language_holds_everything_until_it_is_english_again(gw, sandbox) -> None:
    """X shows a signed-in account in its display language, and xbot reads X's English words: a Spanish "you
    already said that" would read as no answer and a duplicate as a post to look for. Nothing is read or written,
    the owner is told what to change, and after the change writes wait for their resume, as after a new login."""
    await (await KillSwitch.open(gw.js, gw.settings.namespace)).resume(by="test")  # the test before held writes
    await sandbox.admin("/admin/display_language", {"lang": "es"})
    try:
        with pytest.raises(GatewayError) as err:
            await gw.client.own_timeline(limit=5, priority=1)
        assert err.value.code == "session_expired" and "display language to English" in err.value.message
        assert not gw.app.gateway.ready()
        text = f"Never typed in Spanish {uuid.uuid4().hex[:6]}"
        with pytest.raises(GatewayError) as err:
            await gw.client.post_tweet(text)
        assert err.value.code == "session_expired"
        assert not (await gw.client.login_check()).logged_in  # the periodic check says so too
    finally:
        await sandbox.admin("/admin/display_language", {"lang": "en"})
    assert (await gw.client.login_check()).logged_in and gw.app.gateway.ready()
    with pytest.raises(GatewayError) as err:  # English again, but writes wait for the owner
        await gw.client.post_tweet(f"Before the resume {uuid.uuid4().hex[:6]}")
    assert err.value.code == "session_expired" and "xbot resume" in err.value.message
    await (await KillSwitch.open(gw.js, gw.settings.namespace)).resume(by="test")
    assert (await gw.client.post_tweet(f"In English again {uuid.uuid4().hex[:6]}")).tweet_ids
    assert all(t.text != text for t in (await gw.client.own_timeline(limit=20, priority=1)).tweets)
