"""What breaks: Chromium killed mid-op, a bug inside an op, a hung Chromium, an expired session, X's DOM drifting
(in this order, one gateway)."""

from __future__ import annotations

import asyncio
import json
import os
import signal
import time

import pytest
import pytest_asyncio

from libs.contracts.base import Envelope
from libs.contracts.events import SessionExpired
from libs.contracts.gateway import GatewayError, LoginCheckRequest, OwnTimelineRequest, PostTweetRequest
from libs.bus.streams import stream_name
from services.browser_gateway.login import login
from tests.e2e.browser_gateway.conftest import HANDLE, PASSWORD, gateway_settings, run_gateway

pytestmark = [pytest.mark.chromium, pytest.mark.asyncio(loop_scope="module")]


@pytest_asyncio.fixture(scope="module", loop_scope="module")
async def gw(servers, sandbox, session_file, clock):
    settings = gateway_settings(servers, sandbox.base_url, session_file)
    async for running in run_gateway(settings, clock):
        yield running


@pytest_asyncio.fixture(autouse=True, loop_scope="module")
async def calm_account(gw):
    yield
    # These failures are X's warnings (a lapsed session holds writes, a lock stops everything): each test starts
    # from a calm account, as the sandbox's faults are reset.
    gw.app.gateway.guardian.restore({})


async def test_chromium_killed_mid_op_fails_retryable_then_relaunches(gw, sandbox) -> None:
    pool = gw.app.gateway.browser.pool
    assert (await gw.client.login_check()).logged_in
    first_pid = pool.browser_pid
    await sandbox.admin("/admin/latency", {"ms": 1500})  # keeps the op inside Chromium long enough to kill it
    op = asyncio.create_task(gw.client.own_timeline(limit=5))
    while gw.app.gateway.browser.arbiter.in_use == 0:
        await asyncio.sleep(0.01)
    await asyncio.sleep(0.3)
    os.kill(first_pid, signal.SIGKILL)
    with pytest.raises(GatewayError) as err:
        await op
    assert err.value.code == "browser_crashed" and err.value.retryable
    await sandbox.admin("/admin/latency", {"ms": 0})
    assert (await gw.client.own_timeline(limit=5)).tweets is not None
    assert pool.restarts == 1 and pool.browser_pid not in (None, first_pid)


# A caller that got no answer would see "timeout" after this many seconds: far less than its usual 420 s, far
# more than any answer below needs.
NO_ANSWER_S = 30.0


async def test_an_unexpected_error_in_an_op_is_answered_at_once_and_its_context_recycled(gw, monkeypatch) -> None:
    site = gw.app.gateway.browser.site
    real = site.own_timeline
    pages = []

    async def buggy(page, request):
        pages.append(page)
        await real(page, request)  # real work in Chromium, then a bug of our own
        raise KeyError("a field the parser did not expect")

    monkeypatch.setattr(site, "own_timeline", buggy)
    started = time.monotonic()
    with pytest.raises(GatewayError) as err:
        await gw.client.request(OwnTimelineRequest(limit=5), timeout=NO_ANSWER_S)
    assert err.value.code == "browser_crashed" and err.value.retryable, err.value
    assert "KeyError" in err.value.message
    assert time.monotonic() - started < NO_ANSWER_S / 2
    assert pages and pages[0].is_closed(), "the context of the failed op is closed, not reused"
    monkeypatch.undo()
    assert (await gw.client.own_timeline(limit=5)).tweets is not None


async def test_an_unexpected_error_outside_the_browser_is_answered_too(gw, monkeypatch) -> None:
    async def broken() -> None:
        raise RuntimeError("pacer state corrupted")

    monkeypatch.setattr(gw.app.gateway.browser.pacer, "before_write", broken)
    with pytest.raises(GatewayError) as err:
        await gw.client.request(PostTweetRequest(text=f"Never sent #{time.time_ns()}"), timeout=NO_ANSWER_S)
    assert err.value.code == "browser_crashed" and err.value.retryable and "RuntimeError" in err.value.message


@pytest.mark.parametrize("hung", ["new_context", "new_page"])
async def test_a_hung_chromium_is_browser_crashed_and_relaunched(gw, monkeypatch, hung) -> None:
    pool = gw.app.gateway.browser.pool
    assert (await gw.client.login_check()).logged_in
    await pool.replace_session(pool.storage_state)  # no warm context left: the next op opens one
    browser, pid, restarts = pool._browser, pool.browser_pid, pool.restarts
    # A short call timeout for this test alone: the hung open is given up after it (the pages of the other tests
    # keep the 20 s a loaded box needs to render them).
    monkeypatch.setattr(pool, "call_timeout_ms", 3_000)

    async def forever(*args, **kwargs):
        await asyncio.Event().wait()

    if hung == "new_context":
        monkeypatch.setattr(browser, "new_context", forever)
    else:
        real = browser.new_context

        async def context_without_pages(**kwargs):
            context = await real(**kwargs)
            monkeypatch.setattr(context, "new_page", forever)
            return context

        monkeypatch.setattr(browser, "new_context", context_without_pages)
    started = time.monotonic()
    with pytest.raises(GatewayError) as err:
        await gw.client.request(LoginCheckRequest(), timeout=NO_ANSWER_S)
    assert err.value.code == "browser_crashed" and err.value.retryable, err.value
    assert "did not open" in err.value.message
    # Within the call timeout, not the caller's request timeout.
    assert time.monotonic() - started < NO_ANSWER_S / 2
    monkeypatch.undo()
    assert (await gw.client.login_check()).logged_in  # on a fresh Chromium: the hung one was killed
    assert pool.restarts == restarts + 1 and pool.browser_pid not in (None, pid)


async def test_expired_session_publishes_event_and_turns_unready(gw, sandbox, session_file, servers) -> None:
    async with sandbox.http.get(gw.side_url + "/ready") as resp:
        assert resp.status == 200
    await sandbox.admin("/admin/faults", {"mode": "session_expired", "count": 1})
    with pytest.raises(GatewayError) as err:
        await gw.client.profile_snapshot(HANDLE)
    assert err.value.code == "session_expired" and not err.value.retryable
    async with sandbox.http.get(gw.side_url + "/ready") as resp:
        assert resp.status == 503
        assert "session" in (await resp.json())["checks"]
    ns = gw.settings.namespace
    msg = await gw.js.get_last_msg(stream_name(ns, "browser_gateway"), SessionExpired.subject(ns))
    envelope = Envelope.model_validate(json.loads(msg.data))
    assert envelope.type == "SessionExpired" and envelope.producer == "browser_gateway"
    assert envelope.payload["handle"] == HANDLE and envelope.payload["operation"] == "profile_snapshot"

    # `xbot login` again, then the gateway picks the new session up and is ready once a check passes.
    await login(gateway_settings(servers, sandbox.base_url, session_file), username=HANDLE, password=PASSWORD)
    await gw.app.gateway.reload_session()
    assert (await gw.client.login_check()).logged_in
    async with sandbox.http.get(gw.side_url + "/ready") as resp:
        assert resp.status == 200


async def test_dom_variant_two_is_dom_changed_and_opens_the_breaker(gw, sandbox, monkeypatch) -> None:
    # Each attempt waits for an element that never comes: 3 s each here, not 20. The page's load keeps the
    # context's 20 s: a load that slow is a timeout, rightly, and a loaded CI box made one take over 3 s.
    monkeypatch.setattr(gw.app.gateway.browser.site, "call_timeout_ms", 3_000)
    await sandbox.admin("/admin/dom_variant", {"variant": 2})
    try:
        breaker = gw.app.gateway.breakers["browser"]["dom"]
        attempts = [lambda: gw.client.search("sleep"), lambda: gw.client.post_tweet("Renamed test ids?"),
                    lambda: gw.client.search("sleep", tab="top"), lambda: gw.client.search("sleep", limit=3),
                    lambda: gw.client.login_check()]
        assert len(attempts) == gw.settings.breaker_failures
        for attempt in attempts:
            with pytest.raises(GatewayError) as err:
                await attempt()
            assert err.value.code == "dom_changed" and not err.value.retryable
        assert breaker.current() == "open"
        # Open: refused at once, without touching the browser, and saying when to retry.
        ops_before = len(gw.app.gateway.browser.op_seconds)
        with pytest.raises(GatewayError) as err:
            await gw.client.search("sleep")
        assert err.value.code == "dom_changed" and err.value.retry_after_s and err.value.retry_after_s > 0
        assert len(gw.app.gateway.browser.op_seconds) == ops_before
    finally:
        await sandbox.admin("/admin/reset-faults")
