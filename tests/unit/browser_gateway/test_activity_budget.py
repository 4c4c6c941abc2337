"""The activity budget in BrowserGateway.run, on a fake driver that reports what each page rendered (and waits
for the budget's pace) as the browser's page objects do: shared by priority as ceilings on the account's total,
writes included, the last fifth kept for writes, reservations for ops in flight, a typed retryable
budget_exhausted saying when to retry, the pace of page loads by day, active hours, and a restart keeps the
counts."""

from __future__ import annotations

import asyncio
from datetime import datetime, timedelta, timezone

import pytest

from libs.contracts.gateway import (
    GatewayError, GatewayRequest, OwnTimelineRequest, PostTweetRequest, ProfileSnapshotRequest,
    SearchRequest, TweetMetricsRequest, TweetRepliesRequest,
)
from libs.core.settings import SettingsError, load_settings
from services.browser_gateway.budget import Usage
from services.browser_gateway.gateway import BrowserGateway
from services.browser_gateway.guardian_store import InMemoryGuardianStore
from services.browser_gateway.settings import GatewaySettings
from tests.unit.browser_gateway.test_guardian import Driver, Switch

# What a page of each op renders, as the sandbox renders it.
RENDERS = {"search": 40, "profile_snapshot": 40, "own_timeline": 40, "post_tweet": 30, "tweet_metrics": 3,
           "tweet_replies": 6}


class Clock:
    """Noon UTC on a fixed day, moved by hand and by sleeping (a sleeper wakes at its time: the clock moves there
    unless another sleeper took it further)."""

    def __init__(self) -> None:
        self.at = datetime(2026, 5, 4, 12, 0, tzinfo=timezone.utc)
        self.slept = 0.0

    def now(self) -> datetime:
        return self.at

    async def sleep(self, seconds: float) -> None:
        wake = self.at + timedelta(seconds=seconds)
        self.slept += seconds
        await asyncio.sleep(0)  # other ops run meanwhile
        self.at = max(self.at, wake)


def gateway(store=None, clock=None, renders=RENDERS, **settings) -> BrowserGateway:
    return BrowserGateway(GatewaySettings(**settings), clock or Clock(), drivers={"browser": Driver(renders=renders)},  # type: ignore[arg-type]
                          kill_switch=Switch(), store=store or InMemoryGuardianStore())


async def refusal(gw: BrowserGateway, request: GatewayRequest) -> GatewayError:
    with pytest.raises(GatewayError) as err:
        await gw.run(request)
    return err.value


async def test_classes_give_way_lowest_first_and_the_total_never_passes_the_budget() -> None:
    # 100 posts viewed a day (and per 15 min): writes may take the account's total to 100, own metrics to 80,
    # harvesting to 65, background to 40; reads never past 80, floors included.
    gw = gateway(posts_viewed_per_day=100, posts_viewed_per_15m=100, page_loads_per_day=1000)
    for _ in range(2):
        await gw.run(PostTweetRequest(text="a post"))  # writes: 60
    err = await refusal(gw, SearchRequest(query="sleep"))  # harvesting: 60 + 40 > 65, and past its floor
    assert (err.code, err.retryable) == ("budget_exhausted", True) and "harvesting" in err.message
    # When the 15-minute window has let go of the first post (the pace moved the clock by its pages' gaps).
    first = gw.guardian.budget.records[0].at
    assert err.retry_after_s == pytest.approx((first + timedelta(minutes=15) - gw.clock.now()).total_seconds())
    # Past its ceiling, a read class still uses its floor (20 % of the budget, counted on its own use) while the
    # total stays under the reads' most, 80: two deletion checks (harvesting, 5 a page at first guess) 70 <= 80.
    await gw.run(TweetMetricsRequest(ids=["1", "2"], author="someone"))  # 3 a page: total 66
    err = await refusal(gw, SearchRequest(query="sleep", priority=2))  # background: 66 + 40 > 40
    assert err.code == "budget_exhausted" and "background" in err.message
    await gw.run(TweetMetricsRequest(ids=["1"], author="xbot_demo"))  # own metrics: 69 <= 80
    # What the own metrics and the follower count have not used of their floors (14 - 3, and 6) is kept from the
    # writes too: the total never passes the budget, and a posting day cannot leave the learner without its reads.
    err = await refusal(gw, PostTweetRequest(text="a post"))  # 69 + 30 > 100 - 17
    assert err.code == "budget_exhausted" and "writes" in err.message
    assert "17 kept for own metrics and followers" in err.message
    await gw.run(TweetMetricsRequest(ids=["1", "2"], author="someone"))  # harvesting's floor: own 12 <= 20: 75
    # Within their floor the own metrics go past the reads' most (80), up to the budget itself.
    await gw.run(TweetMetricsRequest(ids=[str(i) for i in range(3)], author="xbot_demo"))  # own 12 <= 14: 84
    err = await refusal(gw, TweetMetricsRequest(ids=["1"], author="xbot_demo"))  # own 15 > 14, and 87 > 80
    assert err.code == "budget_exhausted" and "metrics" in err.message
    status = gw.guardian_status()["budget"]
    assert status["day"]["posts_viewed"] == "84/100"
    assert status["day_by_class"] == {"writes": 60, "metrics": 12, "followers": 0, "conversations": 0,
                                      "harvesting": 12, "background": 0}
    assert status["left_by_class"] == {"writes": 8, "metrics": 0, "followers": 0, "conversations": 0,
                                       "harvesting": 0, "background": 0}


async def test_reading_our_conversations_is_a_read_class_between_own_metrics_and_harvesting() -> None:
    # Issue 24, item 5: the replies our posts got (one status page each, 20 posts at first guess) may take the
    # total to 70, above harvesting's 65 and below the own metrics' 80.
    gw = gateway(posts_viewed_per_day=100, posts_viewed_per_15m=100, page_loads_per_day=1000)
    await gw.run(PostTweetRequest(text="a post"))  # writes: 30
    await gw.run(TweetRepliesRequest(tweet_id="1"))  # conversations: 30 + 20 <= 70; the page showed 6: total 36
    err = await refusal(gw, SearchRequest(query="sleep"))  # harvesting: 36 + 40 > 65
    assert "harvesting" in err.message
    await gw.run(TweetMetricsRequest(ids=["1"], author="someone"))  # harvesting's floor: 39
    await gw.run(PostTweetRequest(text="another post"))  # writes: 69
    err = await refusal(gw, TweetRepliesRequest(tweet_id="1"))  # 69 + 6 > 70, past its floor of 5 (6 used)
    assert err.code == "budget_exhausted" and "conversations" in err.message
    assert gw.guardian_status()["budget"]["day_by_class"]["conversations"] == 6


async def test_writes_take_the_whole_budget_once_the_own_metrics_and_followers_had_their_floors() -> None:
    gw = gateway(posts_viewed_per_day=100, posts_viewed_per_15m=100, page_loads_per_day=1000,
                 renders={**RENDERS, "profile_snapshot": 8})
    await gw.run(TweetMetricsRequest(ids=[str(i) for i in range(4)], author="xbot_demo"))  # 4 x 5 expected: 12 seen
    await gw.run(TweetMetricsRequest(ids=[str(i) for i in range(3)], author="xbot_demo"))  # metrics 21: floor used
    await gw.run(ProfileSnapshotRequest(handle="xbot_demo"))  # the follower count: 8, its floor of 6 used: 29
    for _ in range(2):
        await gw.run(PostTweetRequest(text="a post"))  # 89: past the reads' most, the writes' last fifth
    err = await refusal(gw, PostTweetRequest(text="one too many"))  # 89 + 30 > 100: the budget holds the writes too
    assert err.code == "budget_exhausted" and "writes" in err.message and "kept" not in err.message
    assert gw.guardian.budget.used(gw.clock.now(), "day")["posts_viewed"] == 89


async def test_the_last_fifth_is_kept_for_writes() -> None:
    gw = gateway(posts_viewed_per_day=200, posts_viewed_per_15m=200, page_loads_per_day=1000)
    ten = [str(i) for i in range(10)]
    for _ in range(5):  # own metrics up to their ceiling, 80 % of the budget: 5 x 10 pages x 3 + 2 x 3 = 156
        await gw.run(TweetMetricsRequest(ids=ten, author="xbot_demo"))
    await gw.run(TweetMetricsRequest(ids=ten[:2], author="xbot_demo"))
    err = await refusal(gw, TweetMetricsRequest(ids=["1", "2"], author="xbot_demo"))  # 156 + 6 > 160
    assert err.code == "budget_exhausted" and "metrics" in err.message
    # 200 less the follower count's unused floor (12) is the writes' ceiling: 156 + 30 <= 188.
    await gw.run(PostTweetRequest(text="the reads left room for this"))
    assert gw.guardian.budget.used(gw.clock.now(), "day")["posts_viewed"] == 186


async def test_the_follower_count_keeps_a_floor_the_checkpoint_reads_cannot_spend() -> None:
    # A growth week through the browser counted the followers 3 times in 7 days: the checkpoint reads had spent the
    # own metrics' floor, which the own profile shared, and the total was past the reads' most. Budget 500: the
    # own metrics' floor is 70, the follower count's 30 (a profile page renders 15 here, as the sandbox's).
    gw = gateway(posts_viewed_per_day=500, posts_viewed_per_15m=500, page_loads_per_day=10_000,
                 renders={**RENDERS, "profile_snapshot": 15})
    await gw.run(ProfileSnapshotRequest(handle="xbot_demo"))  # followers 15
    for _ in range(2):
        await gw.run(TweetMetricsRequest(ids=[str(i) for i in range(50)], author="someone"))  # harvesting: 315
    await gw.run(TweetMetricsRequest(ids=[str(i) for i in range(28)], author="xbot_demo"))  # metrics 84: 399
    err = await refusal(gw, TweetMetricsRequest(ids=["1"], author="xbot_demo"))  # own 87 > 70, and 402 > 400
    assert err.code == "budget_exhausted" and "(metrics)" in err.message
    # The checkpoint reads are out, the follower count is not: within its own floor, past the reads' most.
    await gw.run(ProfileSnapshotRequest(handle="xbot_demo"))  # followers 30 <= 30: 414
    err = await refusal(gw, ProfileSnapshotRequest(handle="xbot_demo"))  # 45 > 30, and 429 > 400
    assert err.code == "budget_exhausted" and "(followers)" in err.message
    assert gw.guardian_status()["budget"]["day_by_class"]["followers"] == 30


async def test_ops_in_flight_reserve_their_cost() -> None:
    # Two searches at once, each expected to view 40: the first reserves its 40 while its page waits for the pace,
    # so the second sees 80 > 65 (harvesting's ceiling) although nothing has been recorded yet.
    gw = gateway(posts_viewed_per_day=100, posts_viewed_per_15m=100, page_loads_per_day=1000)
    await gw.run(TweetMetricsRequest(ids=["1"], author="xbot_demo"))  # a page first: the next one waits its turn
    outcomes = await asyncio.gather(gw.run(SearchRequest(query="sleep")), gw.run(SearchRequest(query="sleep")),
                                    return_exceptions=True)
    refused = [o for o in outcomes if isinstance(o, GatewayError)]
    assert len(refused) == 1 and refused[0].code == "budget_exhausted" and "harvesting" in refused[0].message
    assert gw.guardian.budget.in_flight == {}  # recorded or refused: nothing stays reserved
    assert gw.guardian.budget.used(gw.clock.now(), "day")["posts_viewed"] == 43


async def test_pages_are_paced_by_day_and_a_read_that_would_wait_too_long_is_told_when_to_retry() -> None:
    clock = Clock()
    gw = gateway(clock=clock)  # the defaults: a page every 10-16 s and now and then a reader's pause
    for _ in range(12):  # one after another: each waits for its page's slot
        await gw.run(TweetMetricsRequest(ids=["1"], author="xbot_demo"))
    times = [r.at for r in gw.guardian.budget.records]
    gaps = [(b - a).total_seconds() for a, b in zip(times, times[1:])]
    assert min(gaps) >= 10 and max(gaps) <= 16 + 40, gaps
    assert all(sum(1 for t in times if s <= t < s + timedelta(minutes=1)) <= 6 for s in times)
    # A burst sent at once: reads queue for their slots while the wait for the first page stays within 150 s; the
    # rest are refused at once with when the queue ahead of them will be short enough, background reads past 60 s.
    burst = await asyncio.gather(*(gw.run(TweetMetricsRequest(ids=["1"], author="xbot_demo")) for _ in range(20)),
                                 return_exceptions=True)
    refused = [o for o in burst if isinstance(o, GatewayError)]
    served = len(burst) - len(refused)
    mean, longest = gw.pace.mean_gap, gw.pace.longest_gap
    # (each page queued counts at the mean gap; the next free slot is up to one gap away, two once the first in
    # line has taken its slot: a CI run served 4 of a mean 19.25 s after two long gaps, under one-gap's 4.9)
    assert (150 - 2 * longest) / mean <= served <= 150 / gw.pace.min_gap_s + 1 and refused, (served, mean)
    assert {e.code for e in refused} == {"budget_exhausted"} and all("pace" in e.message for e in refused)
    assert all(1 <= (e.retry_after_s or 0) <= mean + longest for e in refused), [e.retry_after_s for e in refused]
    fresh = gateway(clock=Clock())  # a budget the reads above did not use (background may take 40 % of it)
    background = await asyncio.gather(*(fresh.run(TweetMetricsRequest(ids=["1"], author="someone", priority=2))
                                        for i in range(10)), return_exceptions=True)
    paced = [o for o in background if isinstance(o, GatewayError)]
    assert all("PAGE_WAIT_MAX_BACKGROUND" in e.message for e in paced), paced
    assert 1 <= len(background) - len(paced) <= 60 / gw.pace.min_gap_s + 1 and paced
    # Writes never wait for the pace (the pacer spaces them); with the budget off nothing is paced.
    before = clock.slept
    await gw.run(PostTweetRequest(text="now"))
    assert clock.slept == before
    off = gateway(clock=Clock(), activity_budget=False)
    for _ in range(5):
        await off.run(TweetMetricsRequest(ids=["1"], author="xbot_demo"))
    assert off.clock.slept == 0


async def test_the_expected_cost_follows_what_pages_rendered() -> None:
    gw = gateway(posts_viewed_per_day=100, posts_viewed_per_15m=100, page_loads_per_day=1000)
    # A status page rendered 3 posts: 21 reads of 1 fit in 65 where the first guess (5 a page) would allow 13.
    for _ in range(21):
        await gw.run(TweetMetricsRequest(ids=["1"], author="someone"))  # harvesting (deletion checks)
    assert gw.guardian.budget.used(gw.clock.now(), "day")["posts_viewed"] == 63


async def test_a_post_composed_over_a_page_without_posts_is_expected_to_cost_none_until_one_costs_more() -> None:
    # The posts are composed in the dialog over a page that renders none; the first post, before any was seen,
    # is expected to cost the home page (30), as is one after a day's post rendered it (the dialog's fallback).
    gw = gateway(posts_viewed_per_day=100, posts_viewed_per_15m=100, page_loads_per_day=1000,
                 renders={**RENDERS, "post_tweet": 0})
    for _ in range(2):
        await gw.run(ProfileSnapshotRequest(handle="xbot_demo"))  # the reads' 80: 20 left of the budget
    err = await refusal(gw, PostTweetRequest(text="the first post"))  # 30 expected: none seen yet
    assert err.code == "budget_exhausted" and "writes" in err.message
    gw.clock.at += timedelta(days=1, minutes=1)
    await gw.run(PostTweetRequest(text="seen to cost none"))
    for _ in range(2):
        await gw.run(ProfileSnapshotRequest(handle="xbot_demo"))
    await gw.run(PostTweetRequest(text="composed over the page without posts"))  # 80 + 0: admitted
    gw.clock.at += timedelta(days=1, minutes=1)
    gw.guardian.budget.record(PostTweetRequest(text="composed from home"), "writes",
                              Usage(page_loads=1, posts_viewed=30), gw.clock.now())  # the dialog did not open
    await gw.run(ProfileSnapshotRequest(handle="xbot_demo"))  # 70
    # The average of what the posts' pages rendered is 9 now (70 + 9 would fit in 86); today's most is 30.
    err = await refusal(gw, PostTweetRequest(text="after the fallback"))
    assert err.code == "budget_exhausted" and "about 30" in err.message, err


async def test_searches_have_their_own_limit() -> None:
    # 1 per 15 minutes; harvesting may reach 65 % of it: 1 (and room for two searches' posts)
    gw = gateway(searches_per_day=4, posts_viewed_per_day=1000)
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
    gw = gateway(store, clock, posts_viewed_per_day=70, posts_viewed_per_15m=70, searches_per_day=40)
    await gw.run(SearchRequest(query="sleep"))
    again = gateway(store, clock, posts_viewed_per_day=70, posts_viewed_per_15m=70, searches_per_day=40)
    await again.start()
    assert again._watch is not None
    again._watch.cancel()
    assert (await refusal(again, SearchRequest(query="sleep"))).code == "budget_exhausted"
    off = gateway(store, clock, posts_viewed_per_day=70, posts_viewed_per_15m=70, searches_per_day=40,
                  activity_budget=False)
    await off.start()
    assert off._watch is not None
    off._watch.cancel()
    await off.run(SearchRequest(query="sleep"))
    assert off.guardian.budget.used(clock.now(), "day")["posts_viewed"] == 80


def test_a_budget_above_x_reading_limit_stops_the_gateway_naming_the_variable() -> None:
    with pytest.raises(SettingsError, match="XBOT_POSTS_VIEWED_PER_DAY=600 .*new accounts"):
        load_settings(GatewaySettings, posts_viewed_per_day=600, x_account_tier="new")
    # Half of X's limit less a login's home timeline, which `xbot login` views outside the gateway.
    assert load_settings(GatewaySettings, x_account_tier="verified").budget_limits().day["posts_viewed"] == 4970
    assert load_settings(GatewaySettings).budget_limits().day["posts_viewed"] == 470
    assert load_settings(GatewaySettings, x_account_tier="new").budget_limits().quarter["posts_viewed"] == 55


def test_a_timeline_that_comes_after_its_page_is_counted_once_it_is_there() -> None:
    """X's web client asks for a page's posts after the page (a profile's, a search's, a conversation's): the
    posts counted on arrival are what the page had then, and the first batch read adds the rest, once."""
    usage = Usage()
    usage.page(0)  # x.com's page at DOMContentLoaded: no post yet
    usage.rendered(20)  # the first batch read
    usage.rendered(20)  # read again: nothing new
    usage.scrolled(20)  # the next batch, on scrolling
    assert (usage.page_loads, usage.posts_viewed) == (1, 40)
    usage.page(3)  # a page that rendered its posts with it (a status page here): counted on arrival, not again
    usage.rendered(3)
    assert (usage.page_loads, usage.posts_viewed) == (2, 43)


async def test_a_read_may_view_what_its_class_has_room_for_and_no_more() -> None:
    """A read that scrolls decides how much it views (the page objects stop scrolling at Usage.may_view): the
    budget admits it for its expected cost and allows it the room its class has left under its ceiling in every
    window, so what was served stays under the ceilings, not only what was expected."""
    gw = gateway(posts_viewed_per_day=100, posts_viewed_per_15m=100, page_loads_per_day=1000)
    budget, now = gw.guardian.budget, gw.clock.now()
    background = budget.admit(OwnTimelineRequest(limit=100, priority=2), "background", now, 1.0)
    assert budget.reserved_posts(background) == 40  # background's ceiling: 40 % of 100, nothing used yet
    budget.release(background)
    search = budget.admit(SearchRequest(query="sleep", limit=100), "harvesting", now, 1.0)
    assert budget.reserved_posts(search) == 65  # more than the 40 a search is expected to view
    usage = Usage(allowance=budget.reserved_posts(search))
    usage.page(20)
    assert usage.may_view(20) and usage.may_view(45) and not usage.may_view(46)
    budget.record(SearchRequest(query="sleep", limit=100), "harvesting", Usage(page_loads=1, posts_viewed=30), now,
                  search)
    assert budget.reserved_posts(search) is None  # released with its record
    own = budget.admit(OwnTimelineRequest(limit=100), "metrics", now, 1.0)
    assert budget.reserved_posts(own) == 50  # the own metrics' ceiling, 80, less the search's 30
    assert Usage().may_view(10_000)  # the budget off: no allowance
