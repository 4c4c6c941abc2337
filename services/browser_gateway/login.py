"""``xbot login``: sign in through the web form and store the browser session (storage_state), mode 0600."""

from __future__ import annotations

import json
import os
from pathlib import Path

from playwright.async_api import TimeoutError as PlaywrightTimeout
from playwright.async_api import async_playwright

from libs.contracts.gateway import GatewayError
from services.browser_gateway.errors import op_error
from services.browser_gateway.pool import CHROMIUM_ARGS, chromium_executable
from services.browser_gateway.sandbox import SandboxState, launch_chromium
from services.browser_gateway.selectors import SelectorPack, load_pack
from services.browser_gateway.settings import GatewaySettings


async def login(settings: GatewaySettings, *, username: str, password: str, session_file: Path | None = None,
                pack: SelectorPack | None = None) -> Path:
    """Log in at ``settings.x_base_url`` and write the session to ``session_file`` (default
    ``settings.session_file``). Raises GatewayError (``session_expired`` for refused credentials)."""
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
            if not await password_box.is_visible():
                await page.locator(pack.css("login_next")).first.click()
            await password_box.fill(password)
            await page.locator(pack.css("login_submit")).first.click()
            try:
                await page.locator(pack.css("account_switcher")).first.wait_for(state="attached")
            except PlaywrightTimeout:
                said = " ".join(await page.locator(f'{pack.css("toast")}, [role="alert"]').all_inner_texts())
                code = pack.failure_in(said)
                if code:
                    raise op_error(code, said.strip()) from None
                raise GatewayError("session_expired", f"login refused: {said.strip() or 'no signed-in shell'}",
                                   retryable=False) from None
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
