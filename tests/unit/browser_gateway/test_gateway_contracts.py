import pytest
from pydantic import ValidationError

from libs.contracts.gateway import (
    OPERATIONS, GatewayError, GatewayReply, PostThreadRequest, PostTweetRequest, SearchRequest, TweetMetricsRequest,
    subject,
)
from services.browser_gateway.errors import FAMILY_OF_CODE, families_for


def test_subjects_are_outside_every_producer_stream() -> None:
    # Streams capture "<ns>.<producer>.>"; "browser" is no producer, so requests are never stored.
    assert subject("t1", "post_tweet") == "t1.browser.post_tweet"
    assert set(OPERATIONS) == {"login_check", "post_tweet", "post_thread", "reply", "tweet_metrics",
                               "profile_snapshot", "search", "own_timeline", "delete_tweet", "tweet_replies"}


def test_priorities_default_per_op_and_can_be_lowered() -> None:
    assert PostTweetRequest(text="hi").effective_priority() == 0
    assert TweetMetricsRequest(ids=["1"]).effective_priority() == 1
    assert TweetMetricsRequest(ids=["1"], priority=2).effective_priority() == 2
    assert PostTweetRequest.WRITES and not SearchRequest.WRITES


def test_invalid_requests_are_refused_before_sending() -> None:
    with pytest.raises(ValidationError):
        PostThreadRequest(parts=["only one"])
    with pytest.raises(ValidationError):
        TweetMetricsRequest(ids=[])


def test_error_round_trips_through_a_reply() -> None:
    err = GatewayError("rate_limited", "Rate limit exceeded", retry_after_s=30.0)
    reply = GatewayReply.model_validate_json(GatewayReply(ok=False, error=err.fault()).model_dump_json())
    back = GatewayError.from_fault(reply.error)
    assert (back.code, back.retryable, back.retry_after_s) == ("rate_limited", True, 30.0)
    assert not GatewayError("duplicate", "x").retryable


def test_write_limit_breakers_do_not_stop_reads() -> None:
    assert "write_limits" in families_for(writes=True)
    assert "write_limits" not in families_for(writes=False)
    assert "dom" in families_for(writes=False)
    assert FAMILY_OF_CODE["dom_changed"] == "dom"


def test_a_malformed_session_stops_start_up_naming_the_variable_not_the_secret(monkeypatch) -> None:
    import pytest

    from libs.core.settings import SettingsError, load_settings
    from services.browser_gateway.settings import GatewaySettings

    monkeypatch.setenv("XBOT_X_SESSION", "canary-not-base64-4711")
    with pytest.raises(SettingsError) as err:
        load_settings(GatewaySettings)
    assert "XBOT_X_SESSION" in str(err.value) and "canary" not in str(err.value)
