"""Sign-in and tokens against the sandbox's OAuth 2.0 server: the PKCE flow (callback pasted or caught by the
local listener), refusals, the token file's mode, refresh before expiry, a 401 answered by one refresh, and a
revoked grant turning the gateway unready with SessionExpired published."""

from __future__ import annotations

import asyncio
import os
import stat
import time

import aiohttp
import pytest

from libs.contracts.events import SessionExpired
from libs.contracts.gateway import GatewayError, LoginCheckRequest, PostTweetRequest, ProfileSnapshotRequest
from libs.core.logging import mask as _mask
from services.browser_gateway.gateway import BrowserGateway
from services.browser_gateway.xapi.login import ApiSignIn, wait_for_callback
from services.browser_gateway.xapi.tokens import load_tokens
from tests.chaos.servers import free_port
from tests.integration.xapi.conftest import HANDLE, api_driver, api_settings, consent, sign_in

pytestmark = pytest.mark.asyncio(loop_scope="module")


async def test_pkce_sign_in_stores_tokens_0600_and_redacted(sandbox, clock, tmp_path, switch) -> None:
    token_file = tmp_path / "var" / "x_api_token.json"
    settings = api_settings(sandbox.base_url, token_file)
    tokens = await sign_in(sandbox, settings, clock)
    assert stat.S_IMODE(os.stat(token_file).st_mode) == 0o600
    stored = load_tokens(token_file)
    assert stored is not None and stored.refresh_token is not None
    assert stored.access_token.get_secret_value() == tokens.access_token.get_secret_value()
    assert "offline.access" in stored.scope.split()
    assert tokens.expires_at is not None and tokens.expires_at > clock.timestamp() + 7000
    # Known to the log redaction from the moment they were read.
    secret = tokens.access_token.get_secret_value()
    assert secret not in _mask(f"header Bearer {secret}")
    assert secret not in repr(stored)


async def test_the_listener_catches_the_redirect(sandbox, clock, tmp_path, switch) -> None:
    redirect = f"http://127.0.0.1:{free_port()}/callback"
    settings = api_settings(sandbox.base_url, tmp_path / "t.json", x_api_redirect_uri=redirect)
    flow = ApiSignIn(settings, clock)
    caught = asyncio.ensure_future(wait_for_callback(redirect))
    location = await consent(sandbox.http, flow.authorization_url())
    await asyncio.sleep(0)  # the listener is up once its task has run (it binds before awaiting)
    for _ in range(100):
        try:
            async with sandbox.http.get(location) as resp:  # the person's browser follows X's redirect
                assert resp.status == 200
                break
        except aiohttp.ClientConnectionError:
            await asyncio.sleep(0.05)
    await flow.complete(await asyncio.wait_for(caught, 10))
    assert load_tokens(settings.x_api_token_file) is not None


async def test_refusals_of_the_flow(sandbox, clock, tmp_path, switch) -> None:
    settings = api_settings(sandbox.base_url, tmp_path / "t.json")
    flow = ApiSignIn(settings, clock)
    denied = await consent(sandbox.http, flow.authorization_url(), decision="deny")
    with pytest.raises(GatewayError) as err:
        await flow.complete(denied)
    assert err.value.code == "session_expired" and "access_denied" in err.value.message
    with pytest.raises(ValueError, match="state"):
        await ApiSignIn(settings, clock).complete(await consent(sandbox.http, flow.authorization_url()))
    # A code bought with another verifier (an intercepted code) is refused by the token endpoint.
    thief = ApiSignIn(settings, clock)
    location = await consent(sandbox.http, flow.authorization_url())
    thief.state = flow.state
    with pytest.raises(GatewayError) as err:
        await thief.complete(location)
    assert err.value.code == "session_expired" and "verifier" in err.value.message
    assert not settings.x_api_token_file.exists()


async def test_refreshes_before_expiry_and_writes_the_rotated_tokens(sandbox, clock, tmp_path, switch) -> None:
    # The sandbox's access tokens live 2 hours: a margin of 3 makes every token due at once.
    settings = api_settings(sandbox.base_url, tmp_path / "t.json", x_api_refresh_margin_s=3 * 3600)
    first = await sign_in(sandbox, settings, clock)
    gw = BrowserGateway(settings, clock, kill_switch=switch)
    await gw.start()
    try:
        assert (await gw.run(LoginCheckRequest())).logged_in
        oauth2 = api_driver(gw).oauth2
        assert oauth2 is not None and oauth2.refreshes == 1
        stored = load_tokens(settings.x_api_token_file)
        assert stored is not None
        assert stored.access_token.get_secret_value() != first.access_token.get_secret_value()
        assert stored.refresh_token.get_secret_value() != first.refresh_token.get_secret_value()
        # Concurrent ops that find the token due refresh it once between them, not once each.
        await asyncio.gather(*(gw.run(ProfileSnapshotRequest(handle=HANDLE)) for _ in range(5)))
        assert oauth2.refreshes == 2
    finally:
        await gw.stop()


async def test_a_401_is_answered_by_one_refresh(gateway, sandbox) -> None:
    await sandbox.admin("/admin/xapi/expire-tokens")
    oauth2 = api_driver(gateway).oauth2
    assert oauth2 is not None
    before = oauth2.refreshes
    posted = await gateway.run(PostTweetRequest(text=f"After a refresh #{time.time_ns()}"))
    assert posted.tweet_ids and oauth2.refreshes == before + 1


async def test_a_busy_token_endpoint_is_waited_for_not_a_lost_session(sandbox, clock, tmp_path, switch) -> None:
    """A 429 from the token endpoint was read as a refused grant (oauthlib finds no token in it): session_expired,
    writes held till the owner signed in again, though the refresh token was good. Now rate_limited with X's
    reset; the next refresh works and the gateway stayed ready."""
    settings = api_settings(sandbox.base_url, tmp_path / "t.json")
    await sign_in(sandbox, settings, clock)
    gw = BrowserGateway(settings, clock, kill_switch=switch)
    await gw.start()
    try:
        await sandbox.admin("/admin/xapi/expire-tokens")
        await sandbox.admin("/admin/xapi/faults", {"mode": "token_rate_limit", "count": 1})
        with pytest.raises(GatewayError) as err:
            await gw.run(ProfileSnapshotRequest(handle=HANDLE))
        assert (err.value.code, err.value.retryable) == ("rate_limited", True) and "429" in err.value.message
        assert err.value.retry_after_s is not None and 0 < err.value.retry_after_s <= 15 * 60
        assert gw.ready()
        assert (await gw.run(ProfileSnapshotRequest(handle=HANDLE))).handle == HANDLE
    finally:
        await gw.stop()


async def test_a_revoked_grant_is_session_expired_unready_and_published(sandbox, clock, tmp_path, switch) -> None:
    settings = api_settings(sandbox.base_url, tmp_path / "t.json")
    await sign_in(sandbox, settings, clock)
    published: list = []

    async def publish(event) -> None:
        published.append(event)

    gw = BrowserGateway(settings, clock, publish=publish, kill_switch=switch)
    await gw.start()
    try:
        await sandbox.admin("/admin/xapi/expire-tokens", {"revoke": True})
        with pytest.raises(GatewayError) as err:
            await gw.run(PostTweetRequest(text=f"Never sent #{time.time_ns()}"))
        assert err.value.code == "session_expired" and not err.value.retryable
        assert "xbot login --api" in err.value.message
        assert not gw.ready() and "xbot login --api" in gw.not_ready_reason()
        # (a login wall also raises the account's risk level: AccountRiskChanged beside it)
        assert [type(e) for e in published if isinstance(e, SessionExpired)] == [SessionExpired]
        assert not (await gw.run(LoginCheckRequest())).logged_in
        # `xbot login --api` again; the running gateway picks the new tokens up.
        await sign_in(sandbox, settings, clock)
        await gw.reload_session()
        assert (await gw.run(LoginCheckRequest())).logged_in and gw.ready()
    finally:
        await gw.stop()


async def test_tokens_never_reach_a_log_line(gateway, sandbox) -> None:
    """tweepy logs each request's headers (the bearer token among them) at DEBUG: the redaction masks it."""
    import io
    import logging

    from libs.core.logging import JsonFormatter

    out = io.StringIO()
    handler = logging.StreamHandler(out)
    handler.setFormatter(JsonFormatter("browser_gateway"))
    tweepy_log = logging.getLogger("tweepy")
    tweepy_log.addHandler(handler)
    tweepy_log.setLevel(logging.DEBUG)
    try:
        await sandbox.admin("/admin/xapi/expire-tokens")  # a refresh too: the new tokens are masked as well
        await gateway.run(ProfileSnapshotRequest(handle=HANDLE))
    finally:
        tweepy_log.removeHandler(handler)
        tweepy_log.setLevel(logging.NOTSET)
    tokens = api_driver(gateway).oauth2.tokens
    logged = out.getvalue()
    assert "Authorization" in logged, "tweepy logged the request headers"
    assert tokens.access_token.get_secret_value() not in logged
    assert tokens.refresh_token.get_secret_value() not in logged
