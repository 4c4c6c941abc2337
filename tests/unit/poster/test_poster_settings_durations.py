"""The poster's durations are timedelta: new names take ISO 8601 or seconds, and every name a deployment set
before (``XBOT_*_S``, seconds) still works; a bad value stops start-up naming the variable that holds it."""

from __future__ import annotations

from datetime import timedelta

import pytest

from libs.core.settings import SettingsError, load_settings
from services.poster.settings import PosterSettings

# (field, the variable's name now, its name before, a value in seconds)
DURATIONS = [
    ("min_spacing", "XBOT_MIN_SPACING", "XBOT_MIN_SPACING_S", 480),
    ("spacing_jitter", "XBOT_SPACING_JITTER", "XBOT_SPACING_JITTER_S", 240),
    ("retry_backoff", "XBOT_RETRY_BACKOFF", "XBOT_RETRY_BACKOFF_S", 30),
    ("retry_backoff_max", "XBOT_RETRY_BACKOFF_MAX", "XBOT_RETRY_BACKOFF_MAX_S", 7200),
    ("breaker_reset", "XBOT_BREAKER_RESET", "XBOT_BREAKER_RESET_S", 90),
    ("breaker_reset_max", "XBOT_BREAKER_RESET_MAX", "XBOT_BREAKER_RESET_MAX_S", 900),
    ("risk_cooling", "XBOT_RISK_COOLING", "XBOT_RISK_COOLING_S", 3600),
    ("rate_limited_hold", "XBOT_RATE_LIMITED_HOLD", "XBOT_RATE_LIMITED_HOLD_S", 60),
    ("daily_limit_hold", "XBOT_DAILY_LIMIT_HOLD", "XBOT_DAILY_LIMIT_HOLD_S", 60),
    ("crash_loop_window", "XBOT_CRASH_LOOP_WINDOW", "XBOT_CRASH_LOOP_WINDOW_S", 600),
    ("crash_loop_hold", "XBOT_CRASH_LOOP_HOLD", "XBOT_CRASH_LOOP_HOLD_S", 1200),
    ("posting_cycle", "XBOT_POSTING_CYCLE", "XBOT_CYCLE_S", 300),
    ("readback_grace_real", "XBOT_READBACK_GRACE_REAL", "XBOT_READBACK_GRACE_S_REAL", 15),
]


def test_every_duration_is_a_timedelta_with_the_defaults_of_before() -> None:
    s = PosterSettings()
    assert {f: getattr(s, f) for f, *_ in DURATIONS} == {
        "min_spacing": timedelta(seconds=480), "spacing_jitter": timedelta(seconds=240),
        "retry_backoff": timedelta(seconds=300), "retry_backoff_max": timedelta(seconds=3600),
        "breaker_reset": timedelta(seconds=60), "breaker_reset_max": timedelta(seconds=480),
        "risk_cooling": timedelta(hours=6), "rate_limited_hold": timedelta(minutes=15),
        "daily_limit_hold": timedelta(hours=6), "crash_loop_window": timedelta(minutes=15),
        "crash_loop_hold": timedelta(minutes=30), "posting_cycle": timedelta(seconds=30),
        "readback_grace_real": timedelta(seconds=420)}
    assert s.automation_block_holds == (timedelta(minutes=30), timedelta(hours=2), timedelta(hours=12))


@pytest.mark.parametrize("field,now,before,seconds", DURATIONS)
def test_the_name_of_before_still_sets_it_in_seconds(monkeypatch, field, now, before, seconds) -> None:
    monkeypatch.setenv(before, str(seconds))
    assert getattr(load_settings(PosterSettings), field) == timedelta(seconds=seconds)


@pytest.mark.parametrize("field,now,before,seconds", DURATIONS)
def test_the_new_name_takes_iso_8601_or_seconds_and_wins_over_the_old(monkeypatch, field, now, before,
                                                                       seconds) -> None:
    monkeypatch.setenv(now, f"PT{seconds}S")
    assert getattr(load_settings(PosterSettings), field) == timedelta(seconds=seconds)
    monkeypatch.setenv(now, str(seconds))
    monkeypatch.setenv(before, str(seconds + 1))
    assert getattr(load_settings(PosterSettings), field) == timedelta(seconds=seconds)


def test_fractions_of_a_second_and_the_automation_ladder(monkeypatch) -> None:
    monkeypatch.setenv("XBOT_SPACING_JITTER_S", "0.25")
    monkeypatch.setenv("XBOT_AUTOMATION_BLOCK_HOLDS_S", "[60, 60, 90.5]")  # as tests/e2e/poster sets it
    s = load_settings(PosterSettings)
    assert s.spacing_jitter == timedelta(milliseconds=250)
    assert s.automation_block_holds == (timedelta(seconds=60), timedelta(seconds=60), timedelta(seconds=90.5))
    monkeypatch.setenv("XBOT_AUTOMATION_BLOCK_HOLDS", '["PT30M", "PT2H", 43200]')
    assert load_settings(PosterSettings).risk_policy().automation_holds == (
        timedelta(minutes=30), timedelta(hours=2), timedelta(hours=12))


def test_the_policies_read_the_durations(monkeypatch) -> None:
    monkeypatch.setenv("XBOT_MIN_SPACING_S", "600")
    monkeypatch.setenv("XBOT_RETRY_BACKOFF", "PT1M")
    monkeypatch.setenv("XBOT_CRASH_LOOP_HOLD_S", "60")
    s = load_settings(PosterSettings)
    assert s.pacing().min_spacing == timedelta(minutes=10)
    assert s.retry_policy().backoff == timedelta(minutes=1)
    assert s.risk_policy().crash_loop_hold == timedelta(minutes=1)


def test_code_sets_them_by_field_name(monkeypatch) -> None:
    s = PosterSettings(min_spacing=timedelta(0), posting_cycle=timedelta(seconds=2))
    assert (s.min_spacing, s.posting_cycle) == (timedelta(0), timedelta(seconds=2))


def test_a_variable_without_the_prefix_is_not_read(monkeypatch) -> None:
    monkeypatch.setenv("MIN_SPACING", "1")
    monkeypatch.setenv("CYCLE_S", "1")
    s = load_settings(PosterSettings)
    assert (s.min_spacing, s.posting_cycle) == (timedelta(minutes=8), timedelta(seconds=30))


@pytest.mark.parametrize("env,message", [
    ({"XBOT_MIN_SPACING_S": "-3"}, "invalid setting XBOT_MIN_SPACING_S (got '-3'): Input should be greater than or"
                                   " equal to 0"),
    ({"XBOT_CYCLE_S": "soon"}, "invalid setting XBOT_CYCLE_S (got 'soon'): Input should be a valid timedelta"),
    ({"XBOT_POSTING_CYCLE": "PT0S"}, "invalid setting XBOT_POSTING_CYCLE (got 'PT0S'): Input should be greater"),
    ({"XBOT_CYCLE_S": "30", "XBOT_POSTING_CYCLE": "never"}, "invalid setting XBOT_POSTING_CYCLE (got 'never')"),
    ({"XBOT_AUTOMATION_BLOCK_HOLDS_S": "[60, 60]"}, "invalid setting XBOT_AUTOMATION_BLOCK_HOLDS_S"),
])
def test_an_invalid_value_stops_start_up_naming_the_variable_that_holds_it(monkeypatch, env, message) -> None:
    for k, v in env.items():
        monkeypatch.setenv(k, v)
    with pytest.raises(SettingsError) as err:
        load_settings(PosterSettings)
    assert message in str(err.value)
