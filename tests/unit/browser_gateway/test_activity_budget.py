"""The activity budget in BrowserGateway.run, on a fake driver that reports what each page rendered as the
browser's page objects do: shared by priority as ceilings on the account's total, writes never refused but
counted, a typed retryable budget_exhausted saying when to retry, active hours, and a restart keeps the counts."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest

from libs.contracts.gateway import (
    GatewayError, GatewayRequest, PostTweetRequest, ProfileSnapshotRequest,
    SearchRequest, TweetMetricsRequest,
)
from libs.core.settings import SettingsError, load_settings
from services.browser_gateway.gateway import BrowserGateway
from services.browser_gateway.guardian_store import InMemoryGuardianStore
from services.browser_gateway.settings import GatewaySettings
from tests.unit.browser_gateway.test_guardian import Driver, Switch

# What a page of each op renders, as the sandbox renders it.
RENDERS = {"search": 40, "profile_snapshot": 40, "own_timeline": 40, "post_tweet": 30, "tweet_metrics": 3}


class Clock:
    """Noon UTC on a fixed day, moved by hand."""

    def __init__(self) -> None:
        self.at = datetime(2026, 5, 4, 12, 0, tzinfo=timezone.utc)

    def now(self) -> datetime:
        return self.at

    async def sleep(self, seconds: float) -> None: ...


def gateway(store=None, clock=None, **settings) -> BrowserGateway:
    return BrowserGateway(GatewaySettings(**settings), clock or Clock(), drivers={"browser": Driver(renders=RENDERS)},  # type: ignore[arg-type]
                          kill_switch=Switch(), store=store or InMemoryGuardianStore())


async def refusal(gw: BrowserGateway, request: GatewayRequest) -> GatewayError:
    with pytest.raises(GatewayError) as err:
        await gw.run(request)
    return err.value


async def test_classes_give_way_lowest_first_and_writes_go_on() -> None:
    # 100 posts viewed a day (and per 15 min): writes may take the account to 180, own metrics to 100,
    # harvesting to 80, background to 50.
    gw = gateway(posts_viewed_per_day=100, posts_viewed_per_15m=100, page_loads_per_day=1000)
    await gw.run(SearchRequest(query="sleep"))  # harvesting: 40
    err = await refusal(gw, ProfileSnapshotRequest(handle="someone"))  # background: 40 + 40 > 50
    assert (err.code, err.retryable) == ("budget_exhausted", True) and "background" in err.message
    assert err.retry_after_s == pytest.approx(timedelta(minutes=15).total_seconds())  # the 15-minute window
    await gw.run(SearchRequest(query="sleep"))  # harvesting: 80 <= 80
    err = await refusal(gw, SearchRequest(query="sleep"))  # 120 > 80
    assert err.code == "budget_exhausted" and "harvesting" in err.message
    await gw.run(TweetMetricsRequest(ids=["1"], author="xbot_demo"))  # own metrics: 83 <= 100
    for _ in range(3):  # own writes go on past the budget: 173 <= 180
        await gw.run(PostTweetRequest(text="a post"))
    status = gw.guardian_status()["budget"]
    assert status["day"]["posts_viewed"] == "173/100"
    assert status["day_by_class"] == {"writes": 90, "metrics": 3, "harvesting": 80, "background": 0}
    assert status["left_by_class"] == {"writes": 7, "metrics": 0, "harvesting": 0, "background": 0}
    # Past its ceiling, a read class still uses its floor (20 % of the budget, counted on its own use) while the
    # total stays under the writes' ceiling: own metrics 3 + 3 <= 20, total 176 <= 180.
    await gw.run(TweetMetricsRequest(ids=["1"], author="xbot_demo"))
    err = await refusal(gw, TweetMetricsRequest(ids=["1", "2", "3", "4", "5"], author="xbot_demo"))  # 6 + 15 > 20
    assert err.code == "budget_exhausted" and "metrics" in err.message
    # Near X's own limit even a write stops: X would show its rate-limit notice on the home page.
    err = await refusal(gw, PostTweetRequest(text="one too many"))
    assert err.code == "budget_exhausted" and "writes" in err.message


async def test_the_expected_cost_follows_what_pages_rendered() -> None:
    gw = gateway(posts_viewed_per_day=100, posts_viewed_per_15m=100, page_loads_per_day=1000)
    # A status page rendered 3 posts: 25 reads of 1 fit in 80 where the first guess (5 a page) would allow 16.
    for _ in range(25):
        await gw.run(TweetMetricsRequest(ids=["1"], author="someone"))  # harvesting (deletion checks)
    assert gw.guardian.budget.used(gw.clock.now(), "day")["posts_viewed"] == 75


async def test_searches_have_their_own_limit() -> None:
    gw = gateway(searches_per_day=4)  # 1 per 15 minutes; harvesting may reach 80 % of it: 1
    await gw.run(SearchRequest(query="sleep"))
    err = await refusal(gw, SearchRequest(query="sleep"))
    assert "searches" in err.message


async def test_outside_active_hours_only_writes_run() -> None:
    clock = Clock()
    clock.at = datetime(2026, 5, 4, 23, 30, tzinfo=timezone.utc)
    gw = gateway(clock=clock, active_hours_start=7, active_hours_end=23)
    err = await refusal(gw, TweetMetricsRequest(ids=["1"], author="xbot_demo"))
    assert err.code == "budget_exhausted" and "active hours" in err.message
    assert err.retry_after_s == pytest.approx(timedelta(hours=7, minutes=30).total_seconds())
    await gw.run(PostTweetRequest(text="the owner posts late"))
    clock.at = datetime(2026, 5, 5, 7, 0, tzinfo=timezone.utc)
    await gw.run(TweetMetricsRequest(ids=["1"], author="xbot_demo"))


async def test_the_counts_survive_a_restart_and_an_off_budget_counts_without_refusing() -> None:
    store, clock = InMemoryGuardianStore(), Clock()
    gw = gateway(store, clock, posts_viewed_per_day=60, posts_viewed_per_15m=60, searches_per_day=40)
    await gw.run(SearchRequest(query="sleep"))
    again = gateway(store, clock, posts_viewed_per_day=60, posts_viewed_per_15m=60, searches_per_day=40)
    await again.start()
    assert again._watch is not None
    again._watch.cancel()
    assert (await refusal(again, SearchRequest(query="sleep"))).code == "budget_exhausted"
    off = gateway(store, clock, posts_viewed_per_day=60, posts_viewed_per_15m=60, searches_per_day=40,
                  activity_budget=False)
    await off.start()
    assert off._watch is not None
    off._watch.cancel()
    await off.run(SearchRequest(query="sleep"))
    assert off.guardian.budget.used(clock.now(), "day")["posts_viewed"] == 80


def test_a_budget_above_x_reading_limit_stops_the_gateway_naming_the_variable() -> None:
    with pytest.raises(SettingsError, match="XBOT_POSTS_VIEWED_PER_DAY=600 .*new accounts"):
        load_settings(GatewaySettings, posts_viewed_per_day=600, x_account_tier="new")
    assert load_settings(GatewaySettings, x_account_tier="verified").budget_limits().day["posts_viewed"] == 5000
    assert load_settings(GatewaySettings, x_account_tier="new").budget_limits().quarter["posts_viewed"] == 62
