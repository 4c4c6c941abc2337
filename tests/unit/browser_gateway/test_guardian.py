"""The account's guardian in BrowserGateway.run, on fake drivers: every write passes the live guard, the content
limits, the kill switch and the hard caps before any driver is asked, whoever sent it."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from libs.bus.control import WriteSwitch
from libs.contracts.gateway import (
    DeleteTweetRequest, GatewayError, GatewayRequest, LoginCheckRequest, LoginCheckResult, OwnTimelineRequest,
    PostResult, PostThreadRequest, PostTweetRequest, ReplyRequest, TweetList, TweetMetricsRequest,
)
from libs.core.clock import Clock
from libs.core.settings import SettingsError, load_settings
from libs.gates.limits import ContentLimits, check_write
from services.browser_gateway.budget import current_usage
from services.browser_gateway.gateway import BrowserGateway
from services.browser_gateway.guardian import AccountGuardian
from services.browser_gateway.guardian_store import InMemoryGuardianStore
from services.browser_gateway.settings import GatewaySettings


class Driver:
    """A driver that answers every op without X (the unit tests of the guardian, the risk level and the budget):
    it records what it served, fails every op with ``fail_with`` or the ops named in ``fail`` (op -> code,
    message), and, given ``renders`` (posts a page of each op shows), reports its pages to the activity budget."""

    name = "browser"

    def __init__(self, fail_with: str | None = None, *, renders: dict[str, int] | None = None) -> None:
        self.served: list[str] = []
        self.fail_with = fail_with
        self.fail: dict[str, tuple[str, str]] = {}
        self.renders = renders

    async def start(self) -> None: ...

    async def stop(self) -> None: ...

    async def reload_session(self) -> None: ...

    def session_hint(self) -> str:
        return "log in"

    async def perform(self, request: GatewayRequest):
        self.served.append(request.OP)
        if self.fail_with:
            raise GatewayError(self.fail_with, "fake")
        if request.OP in self.fail:
            raise GatewayError(*self.fail[request.OP])
        if self.renders is not None:
            for _ in range(len(request.ids) if isinstance(request, TweetMetricsRequest) else 1):
                await current_usage().before_page()  # the budget's pace, as XSite.open waits for it
                current_usage().page(self.renders[request.OP])
        if isinstance(request, LoginCheckRequest):
            return LoginCheckResult(logged_in=True)
        return PostResult(tweet_ids=["1"], id_source="create_tweet_response") if request.WRITES \
            else TweetList(tweets=[])


class Switch:
    def __init__(self, paused: bool = False) -> None:
        self.paused = paused
        self.revision = 1
        self.reads = 0

    async def read(self) -> WriteSwitch:
        self.reads += 1
        return WriteSwitch(self.paused, self.revision, "test pause" if self.paused else "")


class StoppedClock(Clock):
    def __init__(self) -> None:
        super().__init__()
        self.offset = timedelta(0)
        self.start = super().now()

    def now(self):  # type: ignore[override]
        return self.start + self.offset


def gateway(switch: Switch | None = None, driver: Driver | None = None, store=None, clock=None,
            **settings) -> tuple[BrowserGateway, Driver]:
    driver = driver or Driver()
    gw = BrowserGateway(GatewaySettings(**settings), clock or Clock(), drivers={"browser": driver},
                        kill_switch=switch or Switch(), store=store)
    return gw, driver


async def refused(gw: BrowserGateway, request: GatewayRequest) -> GatewayError:
    with pytest.raises(GatewayError) as err:
        await gw.run(request)
    return err.value


async def test_a_real_x_target_without_xbot_live_refuses_writes_before_the_driver_but_reads_go_on() -> None:
    gw, driver = gateway(x_base_url="https://x.com")
    err = await refused(gw, PostTweetRequest(text="hello"))
    assert err.code == "not_live" and not err.retryable and "XBOT_LIVE" in err.message
    assert driver.served == []
    await gw.run(OwnTimelineRequest())
    assert driver.served == ["own_timeline"]
    live, driver = gateway(x_base_url="https://x.com", live=True)
    await live.run(PostTweetRequest(text="hello"))
    assert driver.served == ["post_tweet"]


async def test_a_paused_switch_refuses_every_write_and_no_switch_at_all_reads_as_paused() -> None:
    gw, driver = gateway(Switch(paused=True))
    err = await refused(gw, PostTweetRequest(text="hello"))
    assert err.code == "writes_paused" and err.retryable and "test pause" in err.message
    assert driver.served == []
    unwired = BrowserGateway(GatewaySettings(), Clock(), drivers={"browser": driver})
    assert (await refused(unwired, ReplyRequest(tweet_id="5", text="hi", author="someone"))).code == "writes_paused"
    assert driver.served == []


@pytest.mark.parametrize("request_, limit", [
    (PostThreadRequest(parts=[f"part {i}" for i in range(25)]), "thread_max_parts"),
    (PostTweetRequest(text="x" * 281), "max_length"),
    (PostTweetRequest(text="🙂" * 141), "max_length"),  # an emoji weighs 2 as X counts
    (ReplyRequest(tweet_id="5", author="someone", text="see sleepfix.health for more"), "reply_link"),
    (ReplyRequest(tweet_id="5", author="someone", text="ask @coach_amy about it"), "reply_mention"),
    (ReplyRequest(tweet_id="5", author="someone", text="buy $BTC now"), "reply_cashtag"),
])
async def test_content_beyond_the_hard_limits_is_invalid_content_naming_the_limit(request_, limit) -> None:
    gw, driver = gateway()
    err = await refused(gw, request_)
    assert err.code == "invalid_content" and not err.retryable and err.message.startswith(limit)
    assert driver.served == []


async def test_a_part_of_the_own_thread_follows_the_post_rules() -> None:
    gw, driver = gateway()
    await gw.run(ReplyRequest(tweet_id="5", author="xbot_demo", text="2/ more on @coach_amy's study"))
    assert driver.served == ["reply"]
    assert check_write("post", ["x" * 280], ContentLimits()) is None


async def test_hard_caps_count_thread_parts_as_posts_and_say_when_to_retry() -> None:
    clock = StoppedClock()
    gw, driver = gateway(clock=clock, hard_posts_per_day=5)
    await gw.run(PostThreadRequest(parts=["one", "two", "three"]))
    clock.offset = timedelta(hours=1)
    await gw.run(PostTweetRequest(text="four"))
    await gw.run(ReplyRequest(tweet_id="9", author="xbot_demo", text="five"))  # the own thread's next part
    await gw.run(ReplyRequest(tweet_id="9", author="someone", text="a reply counts elsewhere"))
    err = await refused(gw, PostTweetRequest(text="six"))
    assert err.code == "budget_exhausted" and err.retryable and "XBOT_HARD_POSTS_PER_DAY" in err.message
    assert err.retry_after_s == pytest.approx(timedelta(hours=23).total_seconds())  # the thread leaves the window
    assert driver.served == ["post_thread", "post_tweet", "reply", "reply"]
    clock.offset = timedelta(hours=24, seconds=1)
    await gw.run(PostTweetRequest(text="six"))


async def test_a_write_x_refused_does_not_count_and_the_counts_survive_a_restart() -> None:
    store = InMemoryGuardianStore()
    gw, _ = gateway(driver=Driver(fail_with="rate_limited"), store=store, hard_posts_per_day=1)
    await refused(gw, PostTweetRequest(text="one"))
    assert gw.guardian.used(gw.clock.now())["posts"] == 0
    store = InMemoryGuardianStore()  # (the rate limit raised the risk level, which halves the caps: a fresh start)
    ok, _ = gateway(store=store, hard_posts_per_day=1)
    await ok.start()
    await ok.run(PostTweetRequest(text="one"))
    restarted, _ = gateway(store=store, hard_posts_per_day=1)
    await restarted.start()
    assert (await refused(restarted, PostTweetRequest(text="two"))).code == "budget_exhausted"


def test_caps_above_x_published_limits_stop_the_gateway_naming_the_variable() -> None:
    with pytest.raises(SettingsError, match="XBOT_HARD_POSTS_PER_DAY=51 .*unverified"):
        load_settings(GatewaySettings, hard_posts_per_day=51)
    with pytest.raises(SettingsError, match="XBOT_HARD_REPLIES_PER_DAY=201"):
        load_settings(GatewaySettings, hard_replies_per_day=201, x_account_tier="new")
    load_settings(GatewaySettings, hard_posts_per_day=1000, x_account_tier="verified")
    with pytest.raises(SettingsError, match="XBOT_THREAD_MAX_PARTS"):
        load_settings(GatewaySettings, thread_max_parts=26)


def test_a_deletion_is_a_write_with_its_own_cap_and_no_content_limit() -> None:
    guardian = AccountGuardian(GatewaySettings(x_base_url="http://127.0.0.1:8400", hard_deletes_per_day=1))
    shape = guardian.check_static(DeleteTweetRequest(tweet_id="123"))
    assert (shape.kind, shape.cap, shape.parts) == ("delete", "deletes", ["123"])
    now = datetime(2026, 1, 1, 12, tzinfo=UTC)
    guardian.check_caps(shape, now)
    guardian.record_write(shape, now)
    with pytest.raises(GatewayError) as err:
        guardian.check_caps(shape, now)
    assert err.value.code == "budget_exhausted" and "XBOT_HARD_DELETES_PER_DAY" in err.value.message
    assert guardian.used(now) == {"posts": 0, "replies": 0, "deletes": 1}
