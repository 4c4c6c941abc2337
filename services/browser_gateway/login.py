"""``xbot login``: sign in through the web form and store the browser session (storage_state), mode 0600."""

from __future__ import annotations

import asyncio
import json
import os
from collections.abc import Callable
from pathlib import Path

from playwright.async_api import TimeoutError as PlaywrightTimeout
from playwright.async_api import Page, async_playwright

from libs.contracts.gateway import GatewayError
from libs.core.totp import authenticator
from services.browser_gateway.errors import op_error
from services.browser_gateway.pool import CHROMIUM_ARGS, chromium_executable
from services.browser_gateway.sandbox import SandboxState, launch_chromium
from services.browser_gateway.selectors import SelectorPack, load_pack
from services.browser_gateway.settings import GatewaySettings


# Asks the owner for the code X wants at sign-in, shown X's words (None: nobody to ask, e.g. no terminal).
AskCode = Callable[[str], str]


async def login(settings: GatewaySettings, *, username: str, password: str, session_file: Path | None = None,
                pack: SelectorPack | None = None, identifier: str | None = None, totp_secret: str | None = None,
                ask_code: AskCode | None = None) -> Path:
    """Log in at ``settings.x_base_url`` and write the session to ``session_file`` (default
    ``settings.session_file``). Raises GatewayError (``session_expired`` for refused credentials).

    X may check who is signing in before the password ("unusual login activity": answered with ``identifier``,
    the account's e-mail or phone, else the username) and ask after it for the code of the account's
    authenticator app (from ``totp_secret``, else ``ask_code``); both checks are X's "enter text" step."""
    pack = pack or load_pack()
    target = Path(session_file or settings.session_file)
    timeout = settings.call_timeout_real.total_seconds() * 1000
    async with async_playwright() as pw:
        browser = await launch_chromium(pw, chromium_executable(settings.chromium_path, pw),
                                        mode=settings.chromium_sandbox, headless=settings.headless,
                                        args=CHROMIUM_ARGS, state=SandboxState())
        try:
            context = await browser.new_context()
            context.set_default_timeout(timeout)
            page = await context.new_page()
            await page.goto(settings.x_base_url.rstrip("/") + pack.url("login"))
            await page.locator(pack.css("login_username")).first.fill(username)
            password_box = page.locator(pack.css("login_password")).first
            check = page.locator(pack.css("login_check")).first
            if not await password_box.is_visible():
                await page.locator(pack.css("login_next")).first.click()
                if await _step(page, pack, password=pack.css("login_password"), check=pack.css("login_check")) \
                        == "check":
                    await check.fill(identifier or username)
                    await page.locator(pack.css("login_check_next")).first.click()
                    await _step(page, pack, password=pack.css("login_password"))
            await password_box.fill(password)
            await page.locator(pack.css("login_submit")).first.click()
            if await _step(page, pack, signed_in=pack.css("account_switcher"), check=pack.css("login_check")) \
                    == "check":
                await check.fill(await _login_code(page, pack, totp_secret, ask_code))
                await page.locator(pack.css("login_check_next")).first.click()
                await _step(page, pack, signed_in=pack.css("account_switcher"))
            state = await context.storage_state()
        finally:
            await browser.close()
    target.parent.mkdir(parents=True, exist_ok=True)
    # Create with 0600 from the start: the session is a credential and must never be readable by others.
    fd = os.open(target, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as fh:
        json.dump(state, fh)
    os.chmod(target, 0o600)  # an existing file keeps its old mode through O_CREAT
    return target


async def _step(page: Page, pack: SelectorPack, **steps: str) -> str:
    """The first of the sign-in flow's next steps (name: selector) to show; X's refusal, in its words, when none
    does (a wrong password or answer keeps the step and toasts why)."""
    try:
        await page.locator(", ".join(steps.values())).first.wait_for(state="visible")
    except PlaywrightTimeout:
        said = " ".join(await page.locator(f'{pack.css("toast")}, [role="alert"]').all_inner_texts())
        code = pack.failure_in(said)
        if code:
            raise op_error(code, said.strip()) from None
        raise GatewayError("session_expired", f"login refused: {said.strip() or 'no signed-in shell'}",
                           retryable=False) from None
    for name, css in steps.items():
        if await page.locator(css).first.is_visible():
            return name
    return next(iter(steps))


async def _login_code(page: Page, pack: SelectorPack, totp_secret: str | None, ask_code: AskCode | None) -> str:
    said = " ".join((await page.locator(pack.css("login_check_dialog")).first.inner_text()).split())
    if totp_secret:
        return authenticator(totp_secret).now()
    if ask_code is not None:
        return (await asyncio.to_thread(ask_code, said)).strip()
    raise GatewayError("session_expired", f"X asks for a code to sign in ({said[:160]}): set XBOT_X_TOTP_SECRET to "
                       "the account's two-factor key, or run `xbot login` in a terminal to type the code",
                       retryable=False)
