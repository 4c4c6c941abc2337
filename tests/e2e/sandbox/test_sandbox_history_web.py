"""The account's past posts (XBOT_SANDBOX_HISTORY_POSTS) on its profile page, through real Chromium: newest first,
with the matured counts the world drew for them, and the follower count the world started with. The page loads
them as X's does: 20 with the page, 20 more each time the reader scrolls near the end, and the list keeps only the
cells near the viewport (above and below), so a reader scrolls a screen at a time."""

from __future__ import annotations

import pytest
import pytest_asyncio
from playwright.async_api import Browser

from tests.e2e.sandbox.sandbox_harness import Sandbox, launch_sandbox, logged_in_page, opened
from tests.e2e.sandbox.test_sandbox_web import count_of

pytestmark = [pytest.mark.chromium, pytest.mark.asyncio(loop_scope="module")]

PAST_POSTS = 50


@pytest_asyncio.fixture(scope="module", loop_scope="module")
async def sandbox(tmp_path_factory) -> Sandbox:
    sb = await launch_sandbox(tmp_path_factory.mktemp("history") / "sandbox.sqlite3", history_posts=PAST_POSTS,
                              history_days=30, enforce_reading_limit=False, suspicion=False)
    yield sb
    await sb.stop()


def words(text: str) -> str:
    return " ".join(text.split())


async def test_profile_shows_the_accounts_past_posts_with_their_counts(browser: Browser, sandbox: Sandbox):
    past = (await sandbox.admin("GET", "/admin/history"))["tweets"]
    assert len(past) == PAST_POSTS and all(t["history"] and t["age_hours"] >= 48 for t in past)
    assert (await sandbox.admin("GET", "/admin/tweets"))["tweets"] == []  # the run has written nothing
    page = await logged_in_page(browser, sandbox)
    handle = sandbox.settings.handle
    await opened(page, f"/{handle}")
    followers = await page.locator(f"a[href='/{handle}/verified_followers'] span").first.inner_text()
    assert int(followers.replace(",", "")) == sandbox.settings.start_followers

    before = (await sandbox.admin("GET", "/sim/activity"))["last_24h"]
    await opened(page, f"/{handle}")
    articles = page.locator("article[data-testid=tweet]")
    spinner = page.locator("[data-testid=primaryColumn] [role=progressbar]")
    assert await articles.count() > 0 and await spinner.count() == 1  # the first batch, and more to come
    newest = await articles.first.get_attribute("data-tweet-id")
    shown: dict[str, dict] = {}
    for _ in range(100):  # read, scroll down most of a screen, read on: as a person reads a timeline
        for i in range(await articles.count()):
            article = articles.nth(i)
            tweet_id = await article.get_attribute("data-tweet-id")
            if tweet_id in shown:
                continue
            views = await article.locator("a[href$='/analytics']").get_attribute("aria-label")
            shown[tweet_id] = {
                "id": tweet_id,
                "text": words(await article.locator("[data-testid=tweetText]").inner_text()),
                "time": await article.locator("time").get_attribute("datetime"),
                "counts": {a: count_of(await article.locator(f"[data-testid={a}]").get_attribute("aria-label"))
                           for a in ("reply", "retweet", "like")} | {"views": count_of(views)},
            }
        if not await spinner.count() and await page.evaluate(
                "scrollY + innerHeight >= document.scrollingElement.scrollHeight - 1"):
            break
        await page.mouse.wheel(0, 600)  # at the end, the spinner in view: its batch loads meanwhile
        await page.wait_for_timeout(100)
    # X keeps only the cells near the viewport: the first posts left the DOM, and come back when scrolled to again.
    assert not await page.locator(f"article[data-tweet-id='{newest}']").count()
    await page.mouse.wheel(0, -100_000)
    await page.locator(f"article[data-tweet-id='{newest}']").wait_for()
    assert len(shown) == PAST_POSTS and await spinner.count() == 0
    after = (await sandbox.admin("GET", "/sim/activity"))["last_24h"]
    assert (after["page_loads"] - before["page_loads"], after["posts_viewed"] - before["posts_viewed"]) == (
        1, PAST_POSTS)  # the batches loaded on scroll are posts viewed, not page loads
    shown = list(shown.values())
    newest_first = sorted(past, key=lambda t: t["created_at"], reverse=True)
    assert shown == [{"id": t["id"], "text": words(t["text"]), "time": t["created_at"],
                      "counts": {"reply": t["counts"]["replies"], "retweet": t["counts"]["retweets"],
                                 "like": t["counts"]["likes"], "views": t["counts"]["views"]}}
                     for t in newest_first]
    assert all(s["counts"]["views"] > 0 for s in shown)
    assert sum(s["counts"]["like"] for s in shown) > 0 and sum(s["counts"]["retweet"] for s in shown) > 0
    await page.context.close()
