"""The sandbox's web client through real Chromium: log in, post through each composer, read the toast's id,
read metrics and followers, search with operators."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
import pytest_asyncio
from playwright.async_api import Browser, Page

from sandbox.xformat import profile_count
from tests.e2e.sandbox.sandbox_harness import PASSWORD, Sandbox, advance, launch_sandbox, logged_in_page, opened

pytestmark = [pytest.mark.chromium, pytest.mark.asyncio(loop_scope="module")]


@pytest_asyncio.fixture(scope="module", loop_scope="module")
async def sandbox(tmp_path_factory) -> Sandbox:
    # Pages and search operators, not X's limits (tests/integration/sandbox/test_reading_limit.py): the module's
    # searches would cross the 15-minute reading limit depending on the order its tests run in.
    sb = await launch_sandbox(tmp_path_factory.mktemp("web") / "sandbox.sqlite3", enforce_reading_limit=False,
                              suspicion=False)
    yield sb
    await sb.stop()


@pytest_asyncio.fixture(loop_scope="module")
async def page(browser: Browser, sandbox: Sandbox) -> Page:
    p = await logged_in_page(browser, sandbox)
    yield p
    await p.context.close()


def count_of(label: str) -> int:
    """The number in an X action label ("12 Likes. Like"); X labels a button with no count "Like"."""
    m = re.match(r"(\d+) ", label)
    return int(m.group(1)) if m else 0


async def toast_status_id(page: Page, text: str, handle: str) -> str:
    toast = page.locator("[data-testid=toast]")
    await toast.get_by_text(text).wait_for()
    href = await toast.get_by_role("link", name="View").get_attribute("href")
    m = re.fullmatch(rf"/{handle}/status/(\d+)", href or "")
    assert m, href
    return m.group(1)


async def test_login_sets_cookies_and_wrong_password_is_refused(browser: Browser, sandbox: Sandbox):
    context = await browser.new_context(base_url=sandbox.url)
    page = await context.new_page()
    await page.goto("/home")
    assert "/i/flow/login" in page.url
    await page.fill("input[autocomplete=username]", sandbox.settings.handle)
    await page.click("text=Next")
    await page.fill("input[name=password]", PASSWORD + "x")
    await page.click("[data-testid=LoginForm_Login_Button]")
    await page.locator("[data-testid=toast]", has_text="Wrong password!").wait_for()
    await page.fill("input[name=password]", PASSWORD)
    await page.click("[data-testid=LoginForm_Login_Button]")
    await page.locator("[data-testid=SideNav_AccountSwitcher_Button]").wait_for()
    names = {c["name"] for c in await context.cookies()}
    assert {"auth_token", "ct0"} <= names
    await context.close()


async def test_inline_composer_posts_a_single_tweet(page: Page, sandbox: Sandbox):
    box = page.locator("[data-testid=tweetTextarea_0]")
    assert await box.get_attribute("role") == "textbox"
    assert await box.get_attribute("aria-label") == "Post text"
    assert await box.get_attribute("placeholder") == "What's happening?"
    button = page.locator("[data-testid=tweetButtonInline]")
    assert await button.is_disabled()
    text = "Sleep myth: you can catch up on lost sleep at the weekend. You can't, fully."
    await box.fill(text)
    assert await button.is_enabled()
    await button.click()
    tweet_id = await toast_status_id(page, "Your post was sent.", sandbox.settings.handle)
    stored = await sandbox.admin("GET", f"/admin/tweets/{tweet_id}")
    assert stored["text"] == text and stored["kind"] == "post" and stored["in_reply_to"] is None
    assert stored["choice"]["format"] == "single" and stored["choice"]["topic"] == "sleep"


async def test_inline_composer_posts_a_three_part_thread(page: Page, sandbox: Sandbox):
    parts = ["3 habits that fixed my energy levels:", "1. Morning light within an hour of waking.",
             "2. Protein at breakfast. 3. A walk after lunch."]
    await page.fill("[data-testid=tweetTextarea_0]", parts[0])
    for i in (1, 2):
        await page.click("[data-testid=addButton]")
        await page.fill(f"[data-testid=tweetTextarea_{i}]", parts[i])
    button = page.locator("[data-testid=tweetButtonInline]")
    assert (await button.inner_text()).strip() == "Post all"
    await button.click()
    first = await toast_status_id(page, "Your posts were sent.", sandbox.settings.handle)
    tweets = (await sandbox.admin("GET", "/admin/tweets"))["tweets"]
    chain = [t for t in tweets if t["id"] == first or t["thread_root"] == first]
    assert [t["text"] for t in chain] == parts
    assert [t["in_reply_to"] for t in chain] == [None, chain[0]["id"], chain[1]["id"]]
    assert all(t["choice"]["format"] == "thread" for t in chain)
    # X shows a reply's ancestors above it, root first: the last part's status page shows the whole thread.
    await opened(page, f"/{sandbox.settings.handle}/status/{chain[2]['id']}")
    shown = await page.locator("article[data-testid=tweet] [data-testid=tweetText]").all_inner_texts()
    assert shown[:3] == parts


async def test_modal_composer_posts(page: Page, sandbox: Sandbox):
    await page.goto("/compose/post")
    dialog = page.get_by_role("dialog")
    await dialog.locator("[data-testid=tweetTextarea_0]").fill("What is the one sleep habit you would never give up?")
    await dialog.locator("[data-testid=tweetButton]").click()
    tweet_id = await toast_status_id(page, "Your post was sent.", sandbox.settings.handle)
    assert await page.get_by_role("dialog").count() == 0
    assert (await sandbox.admin("GET", f"/admin/tweets/{tweet_id}"))["kind"] == "post"


async def viral_target(page: Page) -> tuple[str, str]:
    """(handle, id) of a big fresh niche tweet found through search, the way the harvester finds one."""
    await opened(page, "/search?q=sleep%20min_faves%3A2000%20-filter%3Areplies&src=typed_query&f=live")
    href = await page.locator("article[data-testid=tweet] a[href*='/status/']").first.get_attribute("href")
    handle, _, tweet_id = href.strip("/").split("/")
    return handle, tweet_id


async def test_reply_through_status_page_box_and_reply_modal(page: Page, sandbox: Sandbox):
    handle, target = await viral_target(page)
    await opened(page, f"/{handle}/status/{target}")
    await page.fill("[data-testid=tweetTextarea_0]", "Morning light made the biggest difference for me too.")
    await page.click("[data-testid=tweetButtonInline]")
    inline_id = await toast_status_id(page, "Your post was sent.", sandbox.settings.handle)

    await page.locator("article[data-testid=tweet]").first.locator("[data-testid=reply]").click()
    dialog = page.get_by_role("dialog")
    await dialog.locator("[data-testid=tweetTextarea_0]").fill("Great point. Consistent wake times matter most.")
    await dialog.locator("[data-testid=tweetButton]").click()
    modal_id = await toast_status_id(page, "Your post was sent.", sandbox.settings.handle)

    for tweet_id in (inline_id, modal_id):
        stored = await sandbox.admin("GET", f"/admin/tweets/{tweet_id}")
        assert stored["kind"] == "reply" and stored["in_reply_to"] == target
    await opened(page, f"/{handle}/status/{target}")
    shown = await page.locator("article[data-testid=tweet] [data-testid=tweetText]").all_inner_texts()
    assert "Morning light made the biggest difference for me too." in shown
    # Our reply's own page: the tweet it answers above it.
    await opened(page, f"/{sandbox.settings.handle}/status/{inline_id}")
    links = page.locator("article[data-testid=tweet] a[href*='/status/']:has(time)")
    ids = [href.split("/")[-1] for href in await links.evaluate_all("els => els.map(e => e.getAttribute('href'))")]
    assert ids[:2] == [target, inline_id]


async def test_metrics_on_status_page_grow_with_age_and_follow_the_world(page: Page, sandbox: Sandbox):
    await page.fill("[data-testid=tweetTextarea_0]", "Study: a 10 minute walk after meals lowers blood sugar spikes.")
    await page.click("[data-testid=tweetButtonInline]")
    tweet_id = await toast_status_id(page, "Your post was sent.", sandbox.settings.handle)
    seen = []
    for hours in (1, 1, 10, 12):
        advance(sandbox.clock, hours=hours)
        await opened(page, f"/{sandbox.settings.handle}/status/{tweet_id}")
        focal = page.locator("article[data-testid=tweet]").first
        likes = count_of(await focal.locator("[data-testid=like]").get_attribute("aria-label"))
        # As X shows its focal post: no views link, the views in the row under it ("5:38 AM · Oct 4, 2026 · 7,154
        # Views", abbreviated from 10,000).
        assert not await focal.locator("a[href$='/analytics']").count()
        row = " ".join((await focal.locator(".time-row").inner_text()).split())
        stored = await sandbox.admin("GET", f"/admin/tweets/{tweet_id}")
        views = stored["counts"]["views"]
        assert likes == stored["counts"]["likes"]
        assert row.endswith(f" · {profile_count(views)} {'View' if views == 1 else 'Views'}"), row
        seen.append(stored["counts"]["views"])
    assert seen == sorted(seen) and seen[0] < seen[-1]  # 1h < 2h < 12h < 24h as the post matures


async def test_profile_shows_followers_and_newest_first_timeline(page: Page, sandbox: Sandbox):
    handle = sandbox.settings.handle
    # Posts of its own: under xdist this test may share its sandbox with none of the posting tests.
    for text in ("Morning light sets the body clock.", "Caffeine after 2 pm costs deep sleep.",
                 "A cool bedroom helps you fall asleep."):
        await page.goto("/home")
        await page.fill("[data-testid=tweetTextarea_0]", text)
        await page.click("[data-testid=tweetButtonInline]")
        await toast_status_id(page, "Your post was sent.", handle)
    await opened(page, f"/{handle}")
    assert handle in await page.locator("[data-testid=UserName]").inner_text()
    assert await page.locator("[data-testid=UserDescription]").inner_text() == sandbox.settings.bio
    followers_text = await page.locator(f"a[href='/{handle}/verified_followers'] span").first.inner_text()
    account = await sandbox.admin("GET", "/admin/account")
    assert int(followers_text.replace(",", "")) == account["followers"]
    assert await page.locator(f"a[href='/{handle}/following']").count() == 1
    times = await page.locator("article[data-testid=tweet] time").evaluate_all(
        "els => els.map(e => e.getAttribute('datetime'))")
    assert len(times) >= 3 and times == sorted(times, reverse=True)


# A post's own time (a quote post's card holds its quoted post's time too), and how to read them.
OWN_TIME = "> [data-testid=User-Name] time"
DATETIMES = "els => els.map(e => e.getAttribute('datetime'))"


async def test_search_operators(page: Page, sandbox: Sandbox):
    await opened(page, "/search?q=sleep%20min_faves%3A2000&src=typed_query")
    # The search's posts (their own parts are the article's children: a quote post's card holds the
    # quoted post's name, time and text); X's ad among them (sandbox/ads.py) sits in a wrapper of its own,
    # with "Ad" for a time.
    articles = page.locator("[data-testid=cellInnerDiv] > article[data-testid=tweet]")
    assert await articles.count() > 0
    ad = page.locator("[data-testid=placementTracking] > article[data-testid=tweet]")
    assert await ad.count() == 1 and await ad.locator("time").count() == 0
    assert "Ad" in await ad.locator("span").all_inner_texts()
    for label in await articles.locator("[data-testid=like]").evaluate_all(
            "els => els.map(e => e.getAttribute('aria-label'))"):
        assert count_of(label) >= 2000
    # (each post's own text: a quote post's card holds its quoted post's text too)
    own_texts = await articles.locator("> [data-testid=tweetText]").all_inner_texts()
    assert all("sleep" in t.lower() for t in own_texts)

    await opened(page, "/search?q=min_replies%3A200%20-filter%3Areplies&src=typed_query&f=live")
    times = await articles.locator(OWN_TIME).evaluate_all(DATETIMES)
    assert len(times) > 0 and times == sorted(times, reverse=True)
    assert await page.locator("article .replying").count() == 0

    handle, _ = await viral_target(page)
    await opened(page, f"/search?q=from%3A{handle}&src=typed_query&f=live")
    names = await articles.locator("> [data-testid=User-Name]").all_inner_texts()
    assert names and all(f"@{handle}" in n for n in names)

    await opened(page, "/search?q=lang%3Aes&src=typed_query&f=live")
    langs = await articles.locator("> [data-testid=tweetText]").evaluate_all("els => els.map(e => e.lang)")
    assert langs and set(langs) == {"es"}

    # Since yesterday: today may be minutes old on the simulated clock, with nothing posted yet.
    day = (sandbox.clock.now() - timedelta(days=1)).strftime("%Y-%m-%d")
    await opened(page, f"/search?q=sleep%20since%3A{day}&src=typed_query&f=live")
    times = await articles.locator(OWN_TIME).evaluate_all(DATETIMES)
    assert times and all(t >= day for t in times)
    await opened(page, f"/search?q=sleep%20until%3A{day}&src=typed_query&f=live")
    times = await articles.locator(OWN_TIME).evaluate_all(DATETIMES)
    assert times and all(t < day for t in times)
