from datetime import UTC, datetime, timedelta

import pytest

from libs.core.settings import SettingsError, load_settings
from libs.core.live_guard import LiveGuardRefusal, check_target, is_loopback
from services.poster.pacing import Caps
from services.poster.retry import GiveUp, RetryLater, RetryPolicy, needs_readback
from services.poster.settings import PosterSettings

T0 = datetime(2025, 3, 3, 12, 0, tzinfo=UTC)
MIN = timedelta(minutes=1)


class TestRetry:
    def test_retryable_failures_back_off_doubling_then_give_up_at_three_attempts(self):
        policy = RetryPolicy()
        first = policy.after_failure(attempts=1, error_code="timeout", retryable=True, now=T0)
        second = policy.after_failure(attempts=2, error_code="timeout", retryable=True, now=T0)
        assert first == RetryLater(not_before=T0 + 5 * MIN, attempts=1)
        assert second == RetryLater(not_before=T0 + 10 * MIN, attempts=2)
        third = policy.after_failure(attempts=3, error_code="timeout", retryable=True, now=T0)
        assert third == GiveUp(reason="timeout", retryable=True, attempts=3, exhausted=True)

    def test_backoff_is_capped(self):
        policy = RetryPolicy(max_attempts=10, backoff=timedelta(minutes=20), max_backoff=timedelta(hours=1))
        assert policy.after_failure(attempts=5, error_code="timeout", retryable=True, now=T0).not_before == (
            T0 + timedelta(hours=1))

    def test_non_retryable_fails_at_once(self):
        out = RetryPolicy().after_failure(attempts=1, error_code="dom_changed", retryable=False, now=T0)
        assert out == GiveUp(reason="dom_changed", retryable=False, attempts=1)

    @pytest.mark.parametrize("code", ["timeout", "browser_crashed", "dom_changed", "duplicate", "never_seen"])
    def test_ambiguous_failures_need_a_readback_before_retrying(self, code):
        assert needs_readback(code)

    @pytest.mark.parametrize("code", ["rate_limited", "daily_limit", "automation_block", "locked",
                                      "session_expired", "budget_exhausted", "unreachable"])
    def test_refusals_posted_nothing(self, code):
        assert not needs_readback(code)


class TestLiveGuard:
    @pytest.mark.parametrize("url", ["http://127.0.0.1:8700", "http://localhost:9000/", "http://[::1]:80",
                                     "http://127.5.0.1", "http://sandbox.localhost:8080"])
    def test_loopback_is_the_sandbox(self, url):
        assert is_loopback(url)
        assert check_target(url, live=False) == "sandbox"

    @pytest.mark.parametrize("url", ["https://x.com", "https://twitter.com", "http://10.0.0.5:8700",
                                     "http://127.0.0.1.example.com"])
    def test_anything_else_is_refused_without_live(self, url):
        with pytest.raises(LiveGuardRefusal) as err:
            check_target(url, live=False)
        assert "XBOT_LIVE" in str(err.value) and url in str(err.value)
        assert isinstance(err.value, SystemExit)

    def test_live_true_allows_a_real_target(self):
        assert check_target("https://x.com", live=True) == "live"

    def test_a_url_without_host_is_refused_even_when_live(self):
        with pytest.raises(LiveGuardRefusal):
            check_target("x.com", live=True)


class TestSettings:
    def test_defaults_follow_the_issue(self, monkeypatch):
        monkeypatch.delenv("XBOT_ACTIVE_HOURS_START", raising=False)  # tests/conftest.py opens the whole day
        monkeypatch.delenv("XBOT_ACTIVE_HOURS_END", raising=False)
        s = PosterSettings()
        pacing = s.pacing()
        assert pacing.content == Caps(per_hour=1, per_day=12)
        assert pacing.replies == Caps(per_hour=4, per_day=40)
        active = pacing.active_hours  # quiet 23:00-07:00 UTC, the account's (libs.core.account)
        assert active is not None and (active.start.hour, active.end.hour, str(active.zone)) == (7, 23, "UTC")
        assert s.retry_policy().max_attempts == 3
        risk = s.risk_policy()
        assert risk.automation_holds == (timedelta(minutes=30), timedelta(hours=2), timedelta(hours=12))
        assert (risk.crash_loop_starts, risk.crash_loop_window) == (3, timedelta(minutes=15))
        assert s.live is False
        assert check_target(s.x_base_url, live=s.live) == "sandbox"

    def test_breaker_settings(self):
        from libs.core.clock import Clock

        b = PosterSettings().breaker(Clock())
        assert (b.failure_threshold, b.base_reset, b.max_reset, b.half_open_successes) == (
            5, timedelta(seconds=60), timedelta(seconds=480), 3)

    def test_from_environment(self, monkeypatch):
        monkeypatch.setenv("XBOT_LIVE", "true")
        monkeypatch.setenv("XBOT_X_BASE_URL", "https://x.com")
        monkeypatch.setenv("XBOT_ACTIVE_HOURS_START", "7")
        monkeypatch.setenv("XBOT_ACTIVE_HOURS_END", "23")
        monkeypatch.setenv("XBOT_ACCOUNT_TIMEZONE", "America/New_York")
        monkeypatch.setenv("XBOT_MIN_SPACING_S", "600")
        s = load_settings(PosterSettings)
        assert check_target(s.x_base_url, live=s.live) == "live"
        a = s.pacing().active_hours
        assert a is not None and (a.start.hour, a.end.hour, str(a.zone)) == (7, 23, "America/New_York")
        assert s.pacing().min_spacing == timedelta(minutes=10)

    def test_the_posters_old_quiet_hours_stop_start_up_naming_their_replacement(self, monkeypatch):
        monkeypatch.setenv("XBOT_QUIET_HOURS_START", "23")
        with pytest.raises(SettingsError, match="XBOT_QUIET_HOURS_START is no longer read.*XBOT_ACTIVE_HOURS_START"):
            load_settings(PosterSettings)

    def test_an_unknown_time_zone_stops_start_up(self, monkeypatch):
        monkeypatch.setenv("XBOT_ACCOUNT_TIMEZONE", "Mars/Olympus")
        with pytest.raises(SettingsError, match="XBOT_ACCOUNT_TIMEZONE"):
            load_settings(PosterSettings)
