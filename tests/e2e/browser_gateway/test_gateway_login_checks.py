"""`xbot login` through X's checks at sign-in (real Chromium, the real sandbox): "unusual login activity" asks
who is signing in before the password, and an account with two-factor authentication is asked for its
authenticator app's code after it (X's "enter text" step, ocfEnterTextTextInput). Before 2026-12-06 the first
ended the login in a Playwright timeout waiting for a password box, the second in "login refused: no signed-in
shell"."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator

import pytest
import pytest_asyncio

from libs.contracts.gateway import GatewayError
from libs.core.totp import authenticator
from sandbox.settings import SandboxSettings
from services.browser_gateway.login import login
from tests.e2e.browser_gateway.conftest import HANDLE, PASSWORD, Sandbox, gateway_settings, own_sandbox

pytestmark = [pytest.mark.chromium, pytest.mark.asyncio(loop_scope="module")]

EMAIL = "owner@example.org"
SECRET = SandboxSettings().totp_secret.get_secret_value()


@pytest_asyncio.fixture(scope="module", loop_scope="module")
async def sandbox(tmp_path_factory, clock) -> AsyncIterator[Sandbox]:
    async for sb in own_sandbox(tmp_path_factory, clock, login_checks={"identifier", "code"}, email=EMAIL):
        yield sb


@pytest.fixture
def settings(servers, sandbox, tmp_path):
    # A refused step waits this long for the signed-in shell before reading X's words.
    return gateway_settings(servers, sandbox.base_url, tmp_path / "x_session.json", call_timeout_ms_real=4_000)


def signed_in(path) -> bool:
    return {"auth_token", "ct0"} <= {c["name"] for c in json.loads(path.read_text())["cookies"]}


async def test_both_checks_answered_with_the_username_and_the_key(settings) -> None:
    assert signed_in(await login(settings, username=HANDLE, password=PASSWORD, totp_secret=SECRET))


async def test_who_is_signing_in_answered_with_the_email_and_the_code_typed_by_the_owner(settings) -> None:
    asked: list[str] = []

    def owner(said: str) -> str:
        asked.append(said)
        return authenticator(SECRET).now()

    path = await login(settings, username=HANDLE, password=PASSWORD, identifier=EMAIL, ask_code=owner)
    assert signed_in(path) and len(asked) == 1 and "verification code" in asked[0]


async def test_a_wrong_answer_or_no_way_to_the_code_is_a_clear_refusal(settings) -> None:
    with pytest.raises(GatewayError) as err:
        await login(settings, username=HANDLE, password=PASSWORD, identifier="someone@else.org", totp_secret=SECRET)
    assert (err.value.code, err.value.retryable) == ("session_expired", False) and "try again" in err.value.message
    with pytest.raises(GatewayError) as err:
        await login(settings, username=HANDLE, password=PASSWORD)
    assert "XBOT_X_TOTP_SECRET" in err.value.message and "verification code" in err.value.message
    with pytest.raises(GatewayError) as err:
        await login(settings, username=HANDLE, password=PASSWORD, totp_secret="JBSWY3DPEHPK3PXQ")  # another key
    assert "incorrect" in err.value.message
    assert not (settings.session_file).exists()

