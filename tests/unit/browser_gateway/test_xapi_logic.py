"""The X API driver's pure parts: the web search syntax in API terms, the spend cap, the rate-limit windows,
the typed error of each API answer, and the settings that choose and configure the drivers."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from libs.contracts.gateway import GatewayError
from libs.core.clock import Clock
from libs.core.settings import SettingsError, load_settings
from services.browser_gateway.settings import GatewaySettings
from services.browser_gateway.xapi.driver import api_error, can_reply
from services.browser_gateway.xapi.query import to_api_search
from services.browser_gateway.xapi.ratelimits import RateLimits
from services.browser_gateway.xapi.spend import Prices, SpendCap

NOON = datetime(2026, 3, 2, 12, 0, tzinfo=UTC)


def test_web_operators_become_api_operators_and_local_thresholds() -> None:
    s = to_api_search('sleep OR "deep sleep" lang:en since:2026-03-01_06:00:00_UTC -filter:replies '
                      "min_faves:50 min_replies:5 -melatonin from:someone")
    # The API combines AND before OR: the web's OR chain is grouped, so the operators hold for every keyword.
    assert s.query == '(sleep OR "deep sleep") lang:en -is:reply -melatonin from:someone -is:retweet'
    assert s.start_time == datetime(2026, 3, 1, 6, tzinfo=UTC) and s.end_time is None
    assert (s.min_likes, s.min_retweets, s.min_replies) == (50, 0, 5) and s.filters_locally
    assert s.keeps(likes=50, retweets=0, replies=5) and not s.keeps(likes=49, retweets=9, replies=9)
    plain = to_api_search("hydration filter:links until:2026-03-02")
    assert plain.query == "hydration has:links -is:retweet" and not plain.filters_locally
    assert plain.end_time == datetime(2026, 3, 2, tzinfo=UTC)
    # Not a date, not a number: searched as words, as the web does.
    assert to_api_search("since:yesterday min_faves:lots").query == "since:yesterday min_faves:lots -is:retweet"
    # The web leaves native reposts out of a search unless asked; the API includes them unless told.
    assert to_api_search("sleep include:nativeretweets").query == "sleep"
    assert to_api_search("sleep filter:retweets").query == "sleep is:retweet"
    # Two chains, each grouped; one the writer grouped stays as written.
    assert to_api_search("a OR b c OR d").query == "(a OR b) (c OR d) -is:retweet"
    assert to_api_search("(a OR b) lang:en").query == "(a OR b) lang:en -is:retweet"


def test_search_window_is_clamped_to_what_recent_search_accepts() -> None:
    s = to_api_search("sleep since:2026-01-01 until:2026-04-01")
    window = s.window(NOON)
    assert window is not None
    start, end = window
    assert start is not None and NOON - timedelta(days=7) < start < NOON - timedelta(days=6)
    assert end == NOON - timedelta(seconds=10)
    # Nothing of the span in the window: no search (start_time was pushed past the kept end_time: X's 400).
    assert to_api_search("sleep until:2026-02-20").window(NOON) is None
    assert to_api_search("sleep since:2026-03-01 until:2026-02-28").window(NOON) is None
    assert to_api_search("sleep since:2026-03-03").window(NOON) is None
    assert to_api_search("sleep until:2026-02-25").window(NOON) == (None, datetime(2026, 2, 25, tzinfo=UTC))


def cap_at(now: datetime, **kw) -> tuple[SpendCap, Clock]:
    clock = Clock(epoch=now, anchor=None, scale=1e-9)  # time stands (almost) still
    return SpendCap(clock, prices=Prices(), daily_cap_usd=kw.pop("cap", 1.0), read_share=kw.pop("share", 0.5)), clock


def test_reads_stop_first_writes_last() -> None:
    cap, _ = cap_at(NOON)
    cap.charge("post_read", [str(i) for i in range(100)])  # $0.50: the reads' share of $1
    with pytest.raises(GatewayError) as err:
        cap.hold(writes=False)
    # The gateway's own refusal, not X's rate limit (which would raise the account's risk level).
    assert err.value.code == "budget_exhausted" and err.value.retryable
    assert err.value.retry_after_s == pytest.approx(12 * 3600, abs=1)  # until midnight UTC
    cap.hold(writes=True, cost=0.2)  # writes go on
    cap.charge("post_create_url", ["a", "b"])  # $0.90
    cap.hold(writes=True, cost=0.015)
    with pytest.raises(GatewayError):
        cap.hold(writes=True, cost=0.2)  # $1.10 would pass the cap


def test_a_read_reserves_its_worst_case() -> None:
    cap, _ = cap_at(NOON)  # reads stop at $0.50
    cap.charge("post_read", [str(i) for i in range(90)])  # $0.45
    cap.hold_read(posts=10)  # $0.05 more at most: fits exactly
    with pytest.raises(GatewayError):
        cap.hold_read(posts=10, users=1)  # may cost $0.06: it could pass the share, so it is not sent


def test_each_resource_is_charged_once_per_utc_day() -> None:
    cap, clock = cap_at(datetime(2026, 3, 2, 23, 59, 59, tzinfo=UTC))
    assert cap.charge("post_read", ["1", "2"]) == pytest.approx(0.010)
    assert cap.charge("post_read", ["2", "3"]) == pytest.approx(0.005)
    assert cap.charge("user_read", ["2"]) == pytest.approx(0.010)  # a user is another resource than a post
    assert cap.spent_today() == pytest.approx(0.025)
    assert cap.ledger.counts(cap.today()) == {"post_read": 3, "user_read": 1}
    clock.epoch += timedelta(seconds=2)  # past midnight: a new day, charged again
    assert cap.spent_today() == 0 and cap.charge("post_read", ["1"]) == pytest.approx(0.005)


def test_todays_charges_are_saved_and_merged_once() -> None:
    cap, _ = cap_at(NOON)
    cap.charge("post_read", ["1", "2"])
    saved = cap.ledger.to_dict(cap.today())
    other, _ = cap_at(NOON)  # a restarted gateway, or another replica that charged "2" and "3" meanwhile
    other.charge("post_read", ["2", "3"])
    other.ledger.merge(saved)
    other.ledger.merge(saved)  # merging twice charges nothing twice
    assert other.spent_today() == pytest.approx(0.015)
    assert other.charge("post_read", ["1"]) == 0  # read before the restart: free for the rest of the day
    other.ledger.merge({"something": "else"})  # an older gateway's document: ignored
    assert other.spent_today() == pytest.approx(0.015)


def test_a_post_with_a_url_costs_the_url_price() -> None:
    prices = Prices()
    assert prices.post_create_kind("Sleep well tonight") == "post_create"
    assert prices.post_create_kind("Read more at example.com/sleep") == "post_create_url"
    assert prices.of("post_create_url") == 0.20


def test_rate_limit_windows_from_headers() -> None:
    limits = RateLimits()
    limits.update("GET /2/tweets", {"x-rate-limit-limit": "900", "x-rate-limit-remaining": "2",
                                    "x-rate-limit-reset": "1000"})
    assert limits.wait_s("GET /2/tweets", now=900) == 0
    assert limits.wait_s("GET /2/tweets", now=900, needed=3) == 100
    assert limits.wait_s("GET /2/tweets", now=1001, needed=3) == 0  # the window has reset
    assert limits.wait_s("POST /2/tweets", now=900) == 0  # nothing known: go
    limits.update("POST /2/tweets", {"x-user-limit-24hour-remaining": "0", "x-user-limit-24hour-reset": "5000"})
    assert limits.daily_exhausted(now=900) and not limits.daily_exhausted(now=5001)


@pytest.mark.parametrize(("status", "detail", "headers", "code", "retryable"), [
    # One request's values (a query too long, times out of the window): that op, not a changed site.
    (400, "Invalid Request", {}, "invalid_content", False),
    (400, "The query parameters [foo] is not one of [query,max_results]", {}, "dom_changed", False),
    (401, "Unauthorized", {}, "session_expired", False),
    # X's pay-per-use credits are spent: hold and ask again later (it was dom_changed: every item failed for good).
    (402, "Your enrolled account does not have any credits to fulfill this request.", {}, "budget_exhausted", True),
    # A plan's monthly cap is not the account's pacing: not rate_limited, which raises its risk level.
    (429, "Usage cap exceeded: Monthly product cap", {}, "budget_exhausted", True),
    (429, "Too Many Requests", {"x-app-limit-24hour-remaining": "0"}, "budget_exhausted", True),
    (403, "You are not allowed to create a Tweet with duplicate content.", {}, "duplicate", False),
    (403, "this account is temporarily locked.", {}, "locked", False),
    (403, "Your account is suspended", {}, "locked", False),
    (403, "This request looks like it might be automated.", {}, "automation_block", False),
    # Replies X will not take to that post: the target's doing, never the token's (it was session_expired, which
    # halts every write and asks the owner to sign in again).
    (403, "You attempted to reply to a Tweet that is deleted or not visible to you.", {}, "reply_not_allowed", False),
    (403, "You can only reply to or quote posts where you are mentioned or are the author.", {}, "reply_not_allowed",
     False),
    (403, "Reply to this conversation is not allowed because you have not been mentioned or otherwise engaged by "
          "the author of the post you are replying to.", {}, "reply_not_allowed", False),
    (403, "You are not permitted to perform this action.", {}, "session_expired", False),
    # DELETE /2/tweets/:id on someone else's post: nothing deleted, and asking again changes nothing.
    (403, "You are not allowed to delete this Tweet.", {}, "invalid_content", False),
    (404, "Not Found", {}, "dom_changed", False),
    (429, "Too Many Requests", {}, "rate_limited", True),
    (429, "Too Many Requests", {"x-user-limit-24hour-remaining": "0"}, "daily_limit", False),
    (500, "Internal Error", {}, "timeout", True),
    (503, "Service Unavailable", {}, "timeout", True),
])
def test_every_api_answer_maps_to_a_typed_error(status, detail, headers, code, retryable) -> None:
    err = api_error("post_tweet", status, detail, headers)
    assert (err.code, err.retryable) == (code, retryable) and str(status) in err.message


@pytest.mark.parametrize(("body", "code", "retryable"), [
    # X's numbered errors, as a v2 write can still be answered: tweepy's api_codes, not words.
    ({"errors": [{"code": 187, "message": "Status is a duplicate."}]}, "duplicate", False),
    ({"errors": [{"code": 185, "message": "User is over daily status update limit."}]}, "daily_limit", False),
    # An app X does not let use the endpoint: the owner's console, not a sign-in (it was session_expired).
    ({"type": "https://api.twitter.com/2/problems/client-forbidden", "reason": "client-not-enrolled",
      "detail": "You currently have access to a subset of X API V2 endpoints"}, "budget_exhausted", True),
    ({"type": "https://api.x.com/2/problems/client-forbidden", "reason": "insufficient-scope"}, "session_expired",
     False),
])
def test_a_403_is_read_by_its_problem_and_codes(body, code, retryable) -> None:
    err = api_error("search", 403, "Forbidden", {}, body=body)
    assert (err.code, err.retryable) == (code, retryable)


def test_driver_settings() -> None:
    s = GatewaySettings(x_base_url="http://127.0.0.1:8400", x_write_driver="api", x_api_client_id="id")
    assert s.api_base_url == "http://127.0.0.1:8400"
    assert s.api_authorize_url == "http://127.0.0.1:8400/i/oauth2/authorize"
    real = GatewaySettings(x_base_url="https://x.com")
    assert real.api_base_url == "https://api.x.com" and real.api_authorize_url == "https://x.com/i/oauth2/authorize"
    assert not real.uses_oauth1 and real.x_read_driver == real.x_write_driver == "browser"
    with pytest.raises(SettingsError, match="XBOT_X_API_CLIENT_ID"):
        load_settings(GatewaySettings, x_read_driver="api")
    with pytest.raises(SettingsError, match="set all four"):
        load_settings(GatewaySettings, x_api_consumer_key="k")
    with pytest.raises(SettingsError, match="XBOT_X_WRITE_DRIVER"):
        load_settings(GatewaySettings, x_write_driver="carrier-pigeon")
    oauth1 = GatewaySettings(x_write_driver="api", x_api_consumer_key="a", x_api_consumer_secret="b",
                             x_api_access_token="c", x_api_access_token_secret="d")
    assert oauth1.uses_oauth1


ME = ("42", "our_account")


@pytest.mark.parametrize(("tweet", "rule", "expected"), [
    # X's rule since 2026-02-23: only a post that mentions us, a reply to one of ours, or our own.
    ({"author_id": "7", "text": "Sleep is a skill", "reply_settings": "everyone"}, "mentioned", False),
    ({"author_id": "7", "text": "@our_account what about naps?", "reply_settings": "everyone"}, "mentioned", True),
    ({"author_id": "7", "text": "Does this work?", "in_reply_to_user_id": "42", "reply_settings": "everyone"},
     "mentioned", True),
    ({"author_id": "42", "text": "Our own post", "reply_settings": "following"}, "mentioned", True),
    # A handle inside a longer one, or an e-mail address, is no mention.
    ({"author_id": "7", "text": "ask @our_account_fan or me@our_account", "reply_settings": "everyone"},
     "mentioned", False),
    # The author's own limit holds under either rule.
    ({"author_id": "7", "text": "Sleep is a skill", "reply_settings": "following"}, "any", False),
    ({"author_id": "7", "text": "@our_account agreed?", "reply_settings": "following"}, "any", False),
    ({"author_id": "7", "text": "@our_account agreed?", "reply_settings": "mentionedUsers"}, "any", True),
    ({"author_id": "7", "text": "Sleep is a skill", "reply_settings": "mentionedUsers"}, "any", False),
    ({"author_id": "7", "text": "Sleep is a skill", "reply_settings": "everyone"}, "any", True),
    # X did not say: unknown, not assumed either way.
    ({"author_id": "7", "text": "Sleep is a skill"}, "any", None),
])
def test_which_posts_the_api_lets_us_reply_to(tweet, rule, expected) -> None:
    assert can_reply(tweet, me=ME, rule=rule) is expected
