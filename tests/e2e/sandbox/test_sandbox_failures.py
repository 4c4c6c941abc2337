"""X's failures in X's words: the ones the world's rules produce and the ones the admin API forces."""

from __future__ import annotations

import pytest
import pytest_asyncio
from playwright.async_api import Browser, Page

from sandbox.world import REFUSALS
from tests.e2e.sandbox.sandbox_harness import Sandbox, advance, launch_sandbox, logged_in_page

pytestmark = [pytest.mark.chromium, pytest.mark.asyncio(loop_scope="module")]


@pytest_asyncio.fixture(scope="module", loop_scope="module")
async def sandbox(tmp_path_factory) -> Sandbox:
    # Tight limits so that the world's own rules trip after a few posts. The clock stands still here, so the
    # reading limit (tests/integration/sandbox/test_reading_limit.py) would never roll over: these tests are
    # about writes, and switch it off.
    sb = await launch_sandbox(tmp_path_factory.mktemp("failures") / "sandbox.sqlite3",
                              daily_posts=3, half_hour_posts=2, enforce_reading_limit=False)
    yield sb
    await sb.stop()


@pytest_asyncio.fixture(loop_scope="module")
async def page(browser: Browser, sandbox: Sandbox) -> Page:
    await sandbox.admin("POST", "/admin/reset-faults")
    p = await logged_in_page(browser, sandbox)
    yield p
    await p.context.close()


async def post(page: Page, text: str) -> str:
    """Post through the inline composer and return the toast's text."""
    await page.goto("/home")
    await page.fill("[data-testid=tweetTextarea_0]", text)
    await page.click("[data-testid=tweetButtonInline]")
    toast = page.locator("[data-testid=toast] span")
    await toast.wait_for()
    return await toast.inner_text()


@pytest.mark.parametrize("mode", ["rate_limit", "automation", "daily_limit", "error", "duplicate"])
async def test_forced_write_failure_shows_xs_words_once(page: Page, sandbox: Sandbox, mode: str):
    await sandbox.admin("POST", "/admin/faults", {"mode": mode, "count": 1})
    assert await post(page, f"Forced {mode}: hydration check, a glass of water first thing.") == REFUSALS[mode]
    assert (await sandbox.admin("GET", "/admin/faults"))["pending"] == {}


async def test_world_rules_refuse_duplicates_then_half_hourly_then_daily(page: Page, sandbox: Sandbox):
    text = "Your gut microbiome loves fibre: beans, oats, berries."
    assert await post(page, text) == "Your post was sent."
    assert await post(page, text) == "Whoops! You already said that."
    assert await post(page, "Fermented foods twice a day for a calmer gut.") == "Your post was sent."
    # Two posts in this half hour: the sub-limit answers before the daily cap.
    assert await post(page, "Kefir or yogurt? Both help the gut.") == REFUSALS["rate_limit"]
    advance(sandbox.clock, hours=1)
    assert await post(page, "Kefir or yogurt? Both help the gut.") == "Your post was sent."
    advance(sandbox.clock, hours=1)
    assert await post(page, "Prebiotic fibre feeds the good bacteria.") == REFUSALS["daily_limit"]
    advance(sandbox.clock, hours=24)
    assert await post(page, "Prebiotic fibre feeds the good bacteria.") == "Your post was sent."


async def test_expired_session_redirects_to_login(page: Page, sandbox: Sandbox):
    await sandbox.admin("POST", "/admin/faults", {"mode": "session_expired", "count": 1})
    await page.goto("/home")
    assert "/i/flow/login" in page.url
    assert await page.locator("[data-testid=SideNav_AccountSwitcher_Button]").count() == 0


async def test_expired_session_during_a_post_sends_the_client_to_login(page: Page, sandbox: Sandbox):
    await page.fill("[data-testid=tweetTextarea_0]", "Breathing slowly for five minutes lowers stress.")
    await sandbox.admin("POST", "/admin/faults", {"mode": "session_expired", "count": 1})
    await page.click("[data-testid=tweetButtonInline]")
    await page.wait_for_url("**/i/flow/login**")


async def test_locked_account_redirects_to_account_access(page: Page, sandbox: Sandbox):
    await sandbox.admin("POST", "/admin/faults", {"mode": "locked", "count": 1})
    await page.goto("/home")
    assert page.url.endswith("/account/access")
    await page.get_by_text("Your account has been locked.").wait_for()
    await sandbox.admin("POST", "/admin/reset-faults")
    await page.goto("/home")
    await page.locator("[data-testid=SideNav_AccountSwitcher_Button]").wait_for()


async def test_dom_variant_two_renames_test_ids_and_still_posts(page: Page, sandbox: Sandbox):
    await sandbox.admin("POST", "/admin/dom_variant", {"variant": 2})
    await page.goto("/home")
    assert await page.locator("[data-testid=tweetTextarea_0]").count() == 0
    assert await page.locator("[data-testid=SideNav_AccountSwitcher_Button]").count() == 0
    await page.locator("[data-testid=SideNav_AccountSwitcher_Btn]").wait_for()
    assert await page.locator("article[data-testid=post]").count() > 0
    await page.fill("[data-testid=postTextarea_0]", "Heart health: resting heart rate drops as fitness rises.")
    await page.click("[data-testid=postBtnInline]")
    # "toast" has nothing to rename, so it keeps its id in variant 2.
    await page.locator("[data-testid=toast]", has_text="Your post was sent.").wait_for()


async def test_latency_is_applied_to_pages_and_reported(page: Page, sandbox: Sandbox):
    state = await sandbox.admin("POST", "/admin/latency", {"ms": 150})
    assert state["latency_ms"] == 150
    await page.goto("/home")  # still served, only later
    await page.locator("[data-testid=tweetTextarea_0]").wait_for()
