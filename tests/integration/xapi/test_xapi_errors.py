"""Every way the sandbox's X API refuses, and the typed error the driver answers with (the README's table):
400 (and a search whose times X would refuse, not sent), 401 (test_xapi_auth.py), 402 (credits spent), 403
(duplicate, automation, lock, reply target gone, an app X does not enroll), 429 (waited out, refused past the
op's time limit, the 24-hour posting limit), 5xx. Simulated time runs 120x so that a 15-minute rate-limit window
resets within 7.5 real seconds."""

from __future__ import annotations

import time
from datetime import timedelta

import pytest
import pytest_asyncio

from libs.contracts.gateway import (
    LoginCheckRequest,
    GatewayError, PostThreadRequest, PostTweetRequest, ProfileSnapshotRequest, ReplyRequest, SearchRequest,
)
from libs.core.clock import Clock
from services.browser_gateway import metrics
from services.browser_gateway.gateway import BrowserGateway
from services.browser_gateway.xapi.driver import CREDITS_RETRY_S
from tests.integration.xapi.conftest import HANDLE, api_driver, api_settings, running_sandbox, sign_in

pytestmark = pytest.mark.asyncio(loop_scope="module")
PROFILE = "GET /2/users/by/username/:username"


@pytest.fixture(scope="module")
def clock() -> Clock:
    return Clock(scale=120)


def unique(text: str) -> str:
    return f"{text} #{time.time_ns()}"


async def refused(gateway, request) -> GatewayError:
    with pytest.raises(GatewayError) as err:
        await gateway.run(request)
    return err.value


@pytest_asyncio.fixture(loop_scope="module")
async def faults(sandbox):
    yield sandbox
    await sandbox.admin("/admin/reset-faults")


async def test_403s(gateway, faults) -> None:
    text = unique("Once only")
    await gateway.run(PostTweetRequest(text=text))
    err = await refused(gateway, PostTweetRequest(text=text))
    assert (err.code, err.retryable) == ("duplicate", False)

    await faults.admin("/admin/faults", {"mode": "automation", "count": 1})
    err = await refused(gateway, PostTweetRequest(text=unique("Looks automated")))
    assert (err.code, err.retryable) == ("automation_block", False)

    await faults.admin("/admin/faults", {"mode": "locked", "count": 1})
    err = await refused(gateway, ProfileSnapshotRequest(handle=HANDLE))
    assert (err.code, err.retryable) == ("locked", False)
    await faults.admin("/admin/reset-faults")
    # The lock held the account's every op since (only a login check runs); the sandbox let it go: so does the
    # login check that looks for the lock's end.
    assert (await refused(gateway, ProfileSnapshotRequest(handle=HANDLE))).code == "locked"
    await gateway.run(LoginCheckRequest())
    assert not gateway.guardian.risk.locked

    # A reply to a post that does not exist: X's 403, the browser's missing status page: the target's doing.
    err = await refused(gateway, ReplyRequest(tweet_id="12345", text=unique("To nobody")))
    assert (err.code, err.retryable) == ("reply_not_allowed", False)


async def test_a_duplicate_in_x_s_numbered_shape_is_duplicate(gateway, sandbox) -> None:
    """403 ``{"errors": [{"code": 187, "message": "Status is a duplicate."}]}`` has none of the words looked for:
    it was session_expired, every write held and the owner asked to sign in again."""
    await sandbox.admin("/admin/xapi/faults", {"mode": "duplicate_v1", "count": 1})
    err = await refused(gateway, PostTweetRequest(text=unique("Said before")))
    assert (err.code, err.retryable) == ("duplicate", False) and gateway.ready()


async def test_an_app_x_does_not_enroll_holds_that_kind_of_op_not_the_session(gateway, sandbox) -> None:
    """X's 403 client-not-enrolled (the app not attached to a project; the free tier's reads) is the app's
    configuration: signing in again gets the same. It was session_expired; now the reads wait an hour without a
    call to X, with what to do in X's developer console, and the writes go on."""
    await sandbox.admin("/admin/xapi/enrollment", {"enrollment": "free"})
    try:
        err = await refused(gateway, SearchRequest(query="sleep lang:en", limit=10))
        assert (err.code, err.retryable) == ("budget_exhausted", True)
        assert "client-not-enrolled" in err.message and "developer console" in err.message
        assert err.retry_after_s == pytest.approx(CREDITS_RETRY_S)
        sent = (await sandbox.admin_get("/admin/xapi/usage"))["requests"]
        assert (await refused(gateway, ProfileSnapshotRequest(handle=HANDLE))).code == "budget_exhausted"
        assert (await sandbox.admin_get("/admin/xapi/usage"))["requests"] == sent
        assert (await gateway.run(PostTweetRequest(text=unique("Free tier writes")))).tweet_ids
        assert gateway.ready() and gateway.guardian_status()["risk_level"] == "NORMAL"
    finally:
        await sandbox.admin("/admin/xapi/enrollment", {"enrollment": "project"})
        api_driver(gateway).spent_until["reads"] = 0.0


async def test_5xx_is_a_retryable_timeout(gateway, faults) -> None:
    await faults.admin("/admin/faults", {"mode": "error", "count": 1})
    err = await refused(gateway, PostTweetRequest(text=unique("Server trouble")))
    assert (err.code, err.retryable) == ("timeout", True) and "503" in err.message


async def test_a_400_fails_that_op_not_every_op(gateway) -> None:
    """Longer than the 512 characters recent search takes: X's 400 about this request's values. It was
    dom_changed, whose breaker opened and stopped every op; now the op fails and the next one runs."""
    err = await refused(gateway, SearchRequest(query=" ".join(["sleep"] * 120)))
    assert (err.code, err.retryable) == ("invalid_content", False) and "400" in err.message
    assert (await gateway.run(SearchRequest(query="sleep lang:en", limit=10))).tweets


async def test_a_search_older_than_the_7_days_answers_nothing_without_asking_x(gateway, sandbox, clock) -> None:
    """``until:`` before the 7 days recent search covers: start_time was pushed into the window, end_time kept,
    and X answered 400 to start after end. Nothing there can match: no posts, and no request."""
    sent = (await sandbox.admin_get("/admin/xapi/usage"))["requests"]
    old = (clock.now() - timedelta(days=9)).strftime("%Y-%m-%d")
    assert (await gateway.run(SearchRequest(query=f"sleep until:{old}", limit=10))).tweets == []
    assert (await sandbox.admin_get("/admin/xapi/usage"))["requests"] == sent


async def test_a_429_waits_for_the_reset_when_it_fits(gateway, sandbox) -> None:
    driver = api_driver(gateway)
    await sandbox.admin("/admin/xapi/limits", {"endpoint": PROFILE, "limit": 1})
    try:
        await gateway.run(ProfileSnapshotRequest(handle=HANDLE))
        driver.rate_limits.windows.clear()  # the driver forgets: X's 429 itself must make it wait
        profile = await gateway.run(ProfileSnapshotRequest(handle=HANDLE))
        assert profile.handle == HANDLE
        # Counted over every day: at 120x the wait for the reset may cross the sandbox's midnight (a suite run at
        # 23:45 UTC counted 1 for the new day), and the usage's own fields are the day's.
        days = (await sandbox.admin_get("/admin/xapi/usage"))["days"]
        # The first, the refused one, the one after the reset.
        assert sum(day["requests"].get(PROFILE, 0) for day in days) >= 3
    finally:
        await sandbox.admin("/admin/xapi/limits", {"endpoint": PROFILE, "limit": 900})


async def test_a_429_past_the_time_limit_is_rate_limited_with_retry_after(sandbox, clock, tmp_path, switch) -> None:
    settings = api_settings(sandbox.base_url, tmp_path / "t.json", op_timeout_s_real=0.5)
    await sign_in(sandbox, settings, clock)
    gw = BrowserGateway(settings, clock, kill_switch=switch)
    await gw.start()
    await sandbox.admin("/admin/xapi/limits", {"endpoint": PROFILE, "limit": 1})
    try:
        await gw.run(ProfileSnapshotRequest(handle=HANDLE))
        err = await refused(gw, ProfileSnapshotRequest(handle=HANDLE))
        assert (err.code, err.retryable) == ("rate_limited", True)
        assert err.retry_after_s is not None and 0 < err.retry_after_s <= 15 * 60
    finally:
        await sandbox.admin("/admin/xapi/limits", {"endpoint": PROFILE, "limit": 900})
        await gw.stop()


async def test_the_24_hour_posting_limit_is_daily_limit(gateway, faults) -> None:
    await faults.admin("/admin/faults", {"mode": "daily_limit", "count": 1})
    err = await refused(gateway, PostTweetRequest(text=unique("One too many")))
    assert (err.code, err.retryable) == ("daily_limit", False)
    assert err.retry_after_s is not None and err.retry_after_s > 0
    assert api_driver(gateway).rate_limits.daily_posts is not None


async def test_a_post_that_used_the_last_of_the_day_stops_the_next_without_asking_x(tmp_path, clock, switch) -> None:
    """X tells the account's 24-hour posting limit on every answer to a post. Once a successful post said
    ``x-user-limit-24hour-remaining: 0`` the next one was still sent and drew X's 429, one more strike against the
    account; now it is refused here, daily_limit till X's reset, and X hears nothing."""
    async with running_sandbox(tmp_path, clock, daily_posts=1) as sandbox:
        settings = api_settings(sandbox.base_url, tmp_path / "t.json")
        await sign_in(sandbox, settings, clock)
        gw = BrowserGateway(settings, clock, kill_switch=switch)
        await gw.start()
        try:
            assert (await gw.run(PostTweetRequest(text=unique("The day's only post")))).tweet_ids
            sent = (await sandbox.admin_get("/admin/xapi/usage"))["requests"]
            err = await refused(gw, PostTweetRequest(text=unique("One too many")))
            assert (err.code, err.retryable) == ("daily_limit", False) and "not sent" in err.message
            assert err.retry_after_s is not None and 0 < err.retry_after_s <= 24 * 3600
            assert (await sandbox.admin_get("/admin/xapi/usage"))["requests"] == sent
        finally:
            await gw.stop()


async def test_spent_credits_hold_every_op_for_an_hour_without_asking_x(gateway, sandbox, clock) -> None:
    """X's pay-per-use API answers 402 CreditsDepleted once the app's credits are spent. It was dom_changed: every
    queued item failed for good and the DOM breaker opened, telling the owner X had changed. Now a refusal with a
    time to ask again (the poster holds its items till then), counted for the owner's alert, the account's risk
    unmoved, and no request to X within the hour."""
    counted = metrics.api_credits_depleted._value.get()
    await sandbox.admin("/admin/xapi/credits", {"usd": 0})
    try:
        err = await refused(gateway, PostTweetRequest(text=unique("No credits left")))
        assert (err.code, err.retryable) == ("budget_exhausted", True)
        assert "402" in err.message and "top up" in err.message
        assert err.retry_after_s == pytest.approx(CREDITS_RETRY_S)
        assert metrics.api_credits_depleted._value.get() == counted + 1
        sent = (await sandbox.admin_get("/admin/xapi/usage"))["requests"]
        err = await refused(gateway, SearchRequest(query="sleep lang:en", limit=10))
        assert err.code == "budget_exhausted" and 0 < err.retry_after_s <= CREDITS_RETRY_S
        assert (await sandbox.admin_get("/admin/xapi/usage"))["requests"] == sent
        await sandbox.admin("/admin/xapi/credits", {"usd": 5})  # the owner tops up
        clock.epoch += timedelta(seconds=CREDITS_RETRY_S)
        assert (await gateway.run(PostTweetRequest(text=unique("Credits again")))).tweet_ids
        assert gateway.guardian_status()["risk_level"] == "NORMAL"
    finally:
        await sandbox.admin("/admin/xapi/credits", {"usd": None})


async def test_a_plans_monthly_read_cap_holds_reads_not_writes_and_raises_no_risk(gateway, sandbox, clock) -> None:
    """X's Basic and Pro plans cap posts read a month: 429 UsageCapExceeded. Read as an ordinary 429 it was
    rate_limited, an X warning that raised the account's risk level and held its writes; now the reads wait an
    hour without a call to X, and the writes go on."""
    await sandbox.admin("/admin/xapi/plan", {"monthly_post_reads": 0})
    try:
        err = await refused(gateway, SearchRequest(query="sleep lang:en", limit=10))
        assert (err.code, err.retryable) == ("budget_exhausted", True) and "Usage cap exceeded" in err.message
        sent = (await sandbox.admin_get("/admin/xapi/usage"))["requests"]
        assert (await refused(gateway, ProfileSnapshotRequest(handle=HANDLE))).code == "budget_exhausted"
        assert (await sandbox.admin_get("/admin/xapi/usage"))["requests"] == sent
        assert (await gateway.run(PostTweetRequest(text=unique("Writes are not capped")))).tweet_ids
        assert gateway.guardian_status()["risk_level"] == "NORMAL"
        await sandbox.admin("/admin/xapi/plan", {"monthly_post_reads": None})  # the month turned
        clock.epoch += timedelta(seconds=CREDITS_RETRY_S)
        await gateway.run(ProfileSnapshotRequest(handle=HANDLE))
    finally:
        await sandbox.admin("/admin/xapi/plan", {"monthly_post_reads": None})


async def test_the_apps_24_hour_post_limit_holds_writes_till_its_reset_not_the_reads(gateway, sandbox) -> None:
    """X counts an app's posts over every account using it (a small plan's 17 a day): 429 with
    x-app-limit-24hour-remaining 0. Read as an ordinary 429 it was rate_limited, an X warning that raised the
    account's risk level although the account did nothing wrong; now the writes wait for the app's reset, without
    a call to X, and the reads go on."""
    await sandbox.admin("/admin/xapi/plan", {"app_daily_posts": 0})
    try:
        err = await refused(gateway, PostTweetRequest(text=unique("Past the app's day")))
        assert (err.code, err.retryable) == ("budget_exhausted", True) and "24-hour post limit" in err.message
        assert err.retry_after_s is not None and err.retry_after_s > CREDITS_RETRY_S  # the app's reset, hours away
        sent = (await sandbox.admin_get("/admin/xapi/usage"))["requests"]
        assert (await refused(gateway, PostTweetRequest(text=unique("Again")))).code == "budget_exhausted"
        assert (await sandbox.admin_get("/admin/xapi/usage"))["requests"] == sent
        await gateway.run(ProfileSnapshotRequest(handle=HANDLE))
        assert gateway.guardian_status()["risk_level"] == "NORMAL"
    finally:
        await sandbox.admin("/admin/xapi/plan", {"app_daily_posts": None})
        api_driver(gateway).spent_until["writes"] = 0.0  # the app's day is over, as if its reset had come


async def test_a_forced_rate_limit_on_a_write_is_waited_out(gateway, faults) -> None:
    await faults.admin("/admin/faults", {"mode": "rate_limit", "count": 1})
    posted = await gateway.run(PostTweetRequest(text=unique("Patience")))
    assert posted.tweet_ids


async def test_a_thread_broken_midway_names_the_parts_posted(gateway, sandbox) -> None:
    said = unique("Already said")
    await gateway.run(PostTweetRequest(text=said))
    err = await refused(gateway, PostThreadRequest(parts=[unique("Part one"), said, unique("Part three")]))
    assert err.code == "duplicate" and "thread broken after part 1 of 3" in err.message
    first_id = err.message.rsplit("posted ", 1)[1].rstrip(")")
    assert (await sandbox.admin_get(f"/admin/tweets/{first_id}"))["own"]
