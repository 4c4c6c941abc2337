"""The account's one risk level in BrowserGateway.run, on fake drivers: warnings on reads raise it like those on
writes, it is published as AccountRiskChanged, it shrinks the caps, it cools down, a lock stops every op but
the login check that ends it, and a restart keeps it."""

from __future__ import annotations

from datetime import timedelta

import pytest

from libs.contracts.events import AccountRiskChanged
from libs.contracts.gateway import (
    GatewayError, GatewayRequest, LoginCheckRequest, OwnTimelineRequest, PostTweetRequest, SearchRequest,
)
from services.browser_gateway.gateway import BrowserGateway
from services.browser_gateway.guardian_store import InMemoryGuardianStore
from services.browser_gateway.risk import RiskLevel
from services.browser_gateway.settings import GatewaySettings
from tests.unit.browser_gateway.test_guardian import Driver, StoppedClock, Switch


class World:
    def __init__(self, store: InMemoryGuardianStore | None = None, **settings) -> None:
        self.clock = StoppedClock()
        self.driver = Driver()
        self.events: list[AccountRiskChanged] = []
        self.store = store or InMemoryGuardianStore()

        async def publish(event) -> None:
            self.events.append(event)

        self.gw = BrowserGateway(GatewaySettings(**settings), self.clock, drivers={"browser": self.driver},
                                 kill_switch=Switch(), store=self.store, publish=publish)

    async def start(self) -> None:
        await self.gw.start()
        assert self.gw._watch is not None
        self.gw._watch.cancel()  # the tests call the watch's steps themselves, on their own clock

    async def fails(self, request: GatewayRequest) -> GatewayError:
        with pytest.raises(GatewayError) as err:
            await self.gw.run(request)
        return err.value

    def levels(self) -> list[tuple[str, str | None]]:
        return [(e.level_name, e.signal) for e in self.events]


async def test_a_read_side_rate_limit_raises_the_level_for_all_traffic_and_halves_the_caps() -> None:
    w = World(hard_posts_per_day=4)
    await w.start()
    w.driver.fail["search"] = ("rate_limited", "Sorry, you are rate limited.")
    await w.fails(SearchRequest(query="sleep"))
    assert w.levels() == [("ELEVATED", "rate_limited")]
    assert (w.events[0].operation, w.events[0].budget_share) == ("search", 0.5)
    await w.gw.run(PostTweetRequest(text="one"))
    await w.gw.run(PostTweetRequest(text="two"))
    err = await w.fails(PostTweetRequest(text="three"))  # 4 a day x 0.5 at ELEVATED
    assert err.code == "budget_exhausted" and "ELEVATED" in err.message


async def test_the_level_cools_one_step_per_cooling_period_and_each_step_is_published() -> None:
    w = World(risk_cooling=timedelta(hours=6), activity_budget=False)  # (at HIGH a profile page no longer fits)
    await w.start()
    w.driver.fail["own_timeline"] = ("automation_block", "This request looks like it might be automated.")
    await w.fails(OwnTimelineRequest())
    await w.fails(OwnTimelineRequest())
    assert w.levels() == [("HIGH", "automation_block"), ("SEVERE", "automation_block")]
    w.clock.offset = timedelta(hours=6, minutes=1)
    await w.gw._publish_risk(None)
    w.clock.offset = timedelta(hours=12, minutes=1)
    await w.gw._publish_risk(None)
    await w.gw._publish_risk(None)  # nothing changed since
    assert w.levels()[2:] == [("HIGH", "decay"), ("ELEVATED", "decay")]


async def test_something_went_wrong_warns_only_when_it_repeats() -> None:
    w = World()
    await w.start()
    w.driver.fail["search"] = ("timeout", "Something went wrong. Try reloading.")
    for _ in range(2):
        await w.fails(SearchRequest(query="sleep"))
    assert w.events == []
    await w.fails(SearchRequest(query="sleep"))
    assert w.levels() == [("ELEVATED", "something_went_wrong")]


async def test_a_lock_stops_everything_but_the_login_check_which_ends_it() -> None:
    w = World(lock_check_interval=timedelta(hours=1))
    await w.start()
    w.driver.fail["tweet_metrics"] = ("locked", "X redirected to /account/access")
    from libs.contracts.gateway import TweetMetricsRequest
    await w.fails(TweetMetricsRequest(ids=["1"]))
    assert w.levels() == [("LOCKED", "locked")] and w.events[0].budget_share == 0
    served = list(w.driver.served)
    for request in (SearchRequest(query="sleep"), PostTweetRequest(text="hello"), OwnTimelineRequest()):
        assert (await w.fails(request)).code == "locked"
    assert w.driver.served == served  # refused before any driver was asked
    # Still locked: X sends the login check to /account/access too.
    w.driver.fail["login_check"] = ("locked", "X redirected to /account/access")
    assert (await w.fails(LoginCheckRequest())).code == "locked"
    del w.driver.fail["login_check"]
    assert (await w.gw.run(LoginCheckRequest())).logged_in
    assert w.levels()[-1] == ("SEVERE", "unlocked")
    del w.driver.fail["tweet_metrics"]
    await w.gw.run(TweetMetricsRequest(ids=["1"], author="xbot_demo"))  # a tenth of the budget: own metrics fit
    assert (await w.fails(SearchRequest(query="sleep"))).code == "budget_exhausted"  # a search's 40 posts do not


async def test_the_level_survives_a_restart_and_is_not_published_twice() -> None:
    store = InMemoryGuardianStore()
    w = World(store)
    await w.start()
    w.driver.fail["search"] = ("daily_limit", "over the daily limit")
    await w.fails(SearchRequest(query="sleep"))
    again = World(store)
    again.clock.offset = w.clock.offset
    await again.start()
    assert again.gw.guardian.risk.level(again.clock.now()) == RiskLevel.HIGH
    await again.gw._publish_risk(None)
    assert again.events == []  # the first process published HIGH already


async def test_the_owners_resume_during_a_lock_makes_the_gateway_look_at_once() -> None:
    w = World()
    await w.start()
    switch = w.gw.kill_switch
    w.driver.fail["search"] = ("locked", "X redirected to /account/access")
    await w.fails(SearchRequest(query="sleep"))
    del w.driver.fail["search"]
    assert (await w.fails(PostTweetRequest(text="hello"))).code == "locked"  # no resume yet: no look
    assert "login_check" not in w.driver.served
    switch.revision = 2  # `xbot resume` (the owner saw X let the account in)
    await w.gw.run(PostTweetRequest(text="hello"))
    assert w.driver.served[-2:] == ["login_check", "post_tweet"] and not w.gw.guardian.risk.locked
