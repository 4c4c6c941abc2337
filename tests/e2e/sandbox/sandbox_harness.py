"""Harness of the sandbox e2e tests: a real sandbox on a free loopback port and one Chromium per test module.

The clock is a real ``Clock`` run at a negligible scale, so time stands still while a test reads a page and
moves only when the test shifts the epoch (``advance``): metrics at a given age are then exact, not racy.
"""

from __future__ import annotations

import re
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from html import unescape
from pathlib import Path

import aiohttp
import pytest_asyncio
from playwright.async_api import Browser, Page, async_playwright

from libs.core.clock import Clock
from sandbox.app import start_sandbox
from sandbox.settings import SandboxSettings

CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update", "--disable-sync"]
ADMIN_TOKEN = "test-admin-token"
PASSWORD = "correct horse"
EPOCH = datetime(2025, 3, 3, 9, 0, tzinfo=UTC)


def frozen_clock() -> Clock:
    return Clock(scale=1e-9, epoch=EPOCH)


def advance(clock: Clock, *, hours: float) -> None:
    clock.epoch += timedelta(hours=hours)


@dataclass
class Sandbox:
    url: str
    clock: Clock
    settings: SandboxSettings
    runner: object

    async def admin(self, method: str, path: str, json: dict | None = None) -> dict:
        async with aiohttp.ClientSession() as http:
            async with http.request(method, self.url + path, json=json,
                                    headers={"Authorization": f"Bearer {ADMIN_TOKEN}"}) as response:
                assert response.status == 200, await response.text()
                return await response.json()

    async def stop(self) -> None:
        await self.runner.cleanup()


async def launch_sandbox(db_path: Path, clock: Clock | None = None, **overrides) -> Sandbox:
    # These tests click through the sandbox's own pages: X's interstitial sheets (sandbox/sheets.py), which the
    # gateway closes, only where a test asks for them.
    settings = SandboxSettings(port=0, db_path=db_path, seed=overrides.pop("seed", 7), admin_token=ADMIN_TOKEN,
                               password=PASSWORD, sheet_rate=overrides.pop("sheet_rate", 0.0), **overrides)
    clock = clock or frozen_clock()
    runner, url = await start_sandbox(settings, clock)
    return Sandbox(url=url, clock=clock, settings=settings, runner=runner)


@pytest_asyncio.fixture(scope="module", loop_scope="module")
async def browser() -> AsyncIterator[Browser]:
    async with async_playwright() as pw:
        b = await pw.chromium.launch(executable_path="/usr/bin/chromium", headless=True, args=CHROMIUM_ARGS)
        yield b
        await b.close()


async def logged_in_page(browser: Browser, sandbox: Sandbox) -> Page:
    """A fresh context logged in through the login form, the way the gateway does it."""
    context = await browser.new_context(base_url=sandbox.url)
    context.set_default_timeout(10_000)
    page = await context.new_page()
    await page.goto("/i/flow/login")
    await page.fill("input[autocomplete=username]", sandbox.settings.handle)
    await page.click("text=Next")
    await page.fill("input[name=password]", PASSWORD)
    await page.click("[data-testid=LoginForm_Login_Button]")
    await page.wait_for_url("**/home")
    return page



async def opened(page: Page, path: str) -> None:
    """Go to ``path`` as a reader does: until the first batch of its timeline is there, which the page's script
    asks for after the page (a profile's posts, a search's results, a post's conversation; static/x.js)."""
    await page.goto(path)
    await page.locator("section[role=region] :is([data-testid=cellInnerDiv], [data-testid=emptyState], "
                       ".timeline-error)").first.wait_for(state="attached")


async def http_session(sandbox: Sandbox) -> aiohttp.ClientSession:
    """An HTTP client logged in through the login form (for checks that need no browser)."""
    # unsafe=True: aiohttp otherwise drops cookies set by an IP address such as 127.0.0.1.
    http = aiohttp.ClientSession(base_url=sandbox.url, cookie_jar=aiohttp.CookieJar(unsafe=True))
    async with http.post("/i/flow/login", data={"text": sandbox.settings.handle, "password": PASSWORD},
                         allow_redirects=False) as response:
        assert response.status == 302, await response.text()
    return http


# A timeline whose first batch the page's script asks for on load (a profile's posts, a search's results).
FIRST_BATCH = re.compile(r'<section [^>]*data-more="([^"]+)" data-first="1"')


async def web_page(http: aiohttp.ClientSession, path: str, **params: str) -> tuple[str, str]:
    """(final path after redirects, HTML) of a page as X's web client shows it once loaded: with the first batch
    its script asks for after the page (static/x.js), or X's rate-limit toast where that is refused."""
    async with http.get(path, params=params) as response:
        final, html = response.url.path, await response.text()
    if (first := FIRST_BATCH.search(html)) is None:
        return final, html
    async with http.get(unescape(first.group(1))) as batch:
        return final, html + (await batch.text())


async def create_tweet(http: aiohttp.ClientSession, text: str, reply_to: str | None = None) -> dict:
    """The CreateTweet call X's web client makes, with the ct0 cookie echoed as the CSRF header."""
    ct0 = next(c.value for c in http.cookie_jar if c.key == "ct0")
    variables: dict = {"tweet_text": text}
    if reply_to:
        variables["reply"] = {"in_reply_to_tweet_id": reply_to, "exclude_reply_user_ids": []}
    async with http.post("/i/api/graphql/q/CreateTweet", json={"variables": variables},
                         headers={"x-csrf-token": ct0}) as response:
        return await response.json()
