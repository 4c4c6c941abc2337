"""X's reading limit in the running sandbox: pages are served in full until the account has viewed its limit of
posts, then every reading page shows X's rate-limit notice and the GraphQL reads answer 429; the sandbox's counts
are the posts its pages rendered."""

from __future__ import annotations

import json
from datetime import timedelta

import aiohttp
import pytest

from sandbox.app import READ_LIMIT_BODY, READ_LIMIT_TIMELINE
from sandbox.settings import TIER_POSTS_VIEWED_PER_DAY
from tests.e2e.sandbox.sandbox_harness import EPOCH, create_tweet, frozen_clock, http_session, launch_sandbox
from tests.integration.sandbox.guardian_harness import (
    articles, page, rate_limited, set_time, viewed, write_code,
)

QUARTER = timedelta(minutes=15).total_seconds()


async def search(http: aiohttp.ClientSession, q: str = "sleep") -> str:
    return (await page(http, "/search", q=q, src="typed_query"))[1]


def timeline_entries(answer: dict) -> list[dict]:
    timeline = answer["data"]["search_by_raw_query"]["search_timeline"]["timeline"]
    return timeline["instructions"][0]["entries"]


async def graphql_search(http: aiohttp.ClientSession) -> aiohttp.ClientResponse:
    response = await http.get("/i/api/graphql/nK1dw4oV3k4w5TdtcAdSww/SearchTimeline",
                              params={"variables": json.dumps({"rawQuery": "sleep", "product": "Latest"})})
    await response.read()
    return response


@pytest.mark.parametrize("tier", ["new", "unverified"])
async def test_pages_are_served_whole_until_the_daily_limit_then_x_shows_its_rate_limit_page(tmp_path, tier):
    clock = frozen_clock()
    # Reads 20 minutes apart never fill a 15-minute window: only the daily limit can stop them. The suspicion
    # model is off so that only the reading limit acts (a read every 20 minutes is a metronome).
    sb = await launch_sandbox(tmp_path / "world.sqlite3", clock, account_tier=tier, suspicion=False)
    http = await http_session(sb)
    limit = TIER_POSTS_VIEWED_PER_DAY[tier]
    try:
        at, rendered = EPOCH.timestamp(), []
        while True:  # a page, then the GraphQL read behind it (an API read is a read too), and so on
            set_time(clock, at)
            if len(rendered) % 2 == 0:
                last = await search(http)
                if rate_limited(last):
                    break
                rendered.append(viewed(last))
            else:
                answer = await graphql_search(http)
                if answer.status == 429:
                    break
                rendered.append(len(timeline_entries(await answer.json())))
            assert rendered[-1] > 0
            at += 20 * 60
        total = sum(rendered)
        # Served until the limit and not before: the last page served started below it.
        assert total >= limit > total - rendered[-1]
        state = await sb.admin("GET", "/sim/activity")
        assert state["reading_limit"] | {"retry_at": None} == {
            "enforced": True, "tier": tier, "posts_viewed_per_day": limit, "posts_viewed_per_15m": limit // 4,
            "viewed_24h": total, "viewed_15m": 0, "limited": True, "retry_at": None, "since": None}
        assert state["last_24h"]["posts_viewed"] == total and state["last_24h"]["rate_limited"] == 1
        assert state["last_24h"]["page_loads"] + state["last_24h"]["api_reads"] == len(rendered) + 1

        # Past the limit: the frame stays, the posts go, and nothing looks like an empty result.
        last = await search(http)
        assert READ_LIMIT_TIMELINE in last and not articles(last) and 'data-testid="emptyState"' not in last
        assert 'data-testid="SideNav_AccountSwitcher_Button"' in last
        for path in ("/home", "/xbot_demo", "/dana_sleep/status/1896485697745854464"):
            final, html = await page(http, path)
            assert final == path and rate_limited(html) and not articles(html), path
            assert 'data-testid="error-detail"' not in html  # not "this page doesn't exist"
        answer = await graphql_search(http)
        assert answer.status == 429 and await answer.json() == READ_LIMIT_BODY
        # X's reading limit does not stop posting.
        assert write_code(await create_tweet(http, "Still here: a 10 minute walk after dinner.")) == "created"

        # The oldest reads leave the 24-hour window and pages come back, when the 429 said they would.
        retry_at = int(answer.headers["x-rate-limit-reset"])
        set_time(clock, retry_at - 60)
        assert rate_limited(await search(http))
        set_time(clock, retry_at + 1)
        assert articles(await search(http))
    finally:
        await http.close()
        await sb.stop()


async def test_a_quarter_of_the_days_limit_per_15_minutes(tmp_path):
    clock = frozen_clock()
    sb = await launch_sandbox(tmp_path / "world.sqlite3", clock, suspicion=False)
    http = await http_session(sb)
    try:
        set_time(clock, EPOCH.timestamp())
        seen = 0
        while not rate_limited(html := await search(http)):
            seen += viewed(html)
        state = (await sb.admin("GET", "/sim/activity"))["reading_limit"]
        assert seen >= 250 > seen - 40 and state["viewed_15m"] == seen and state["viewed_24h"] < 1000
        set_time(clock, EPOCH.timestamp() + QUARTER + 1)
        assert articles(await search(http))
    finally:
        await http.close()
        await sb.stop()


async def test_off_the_pages_are_never_limited_but_still_counted(tmp_path):
    clock = frozen_clock()
    sb = await launch_sandbox(tmp_path / "world.sqlite3", clock, enforce_reading_limit=False, suspicion=False)
    http = await http_session(sb)
    try:
        set_time(clock, EPOCH.timestamp())
        seen = 0
        while seen <= 1000:  # past the day's limit, in one instant
            html = await search(http)
            assert not rate_limited(html) and articles(html)
            seen += viewed(html)
        assert (await sb.admin("GET", "/sim/activity"))["last_15m"]["posts_viewed"] == seen
    finally:
        await http.close()
        await sb.stop()
