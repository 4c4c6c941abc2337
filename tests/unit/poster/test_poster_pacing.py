import random
from datetime import UTC, datetime, time, timedelta
from zoneinfo import ZoneInfo

from libs.core.account import ActiveHours
from services.poster.pacing import Caps, PacingPolicy, WriteRecord, lane_of
from services.poster.settings import PosterSettings
from services.poster.risk import RiskLevel

T0 = datetime(2025, 3, 3, 12, 0, tzinfo=UTC)
MIN = timedelta(minutes=1)


def policy(**overrides) -> PacingPolicy:
    base = dict(content=Caps(1, 12), replies=Caps(4, 40), min_spacing=timedelta(minutes=8))
    base.update(overrides)
    return PacingPolicy(**base)


def test_lanes_group_posts_and_threads_apart_from_replies():
    assert lane_of("post") == lane_of("thread") == "content"
    assert lane_of("reply") == "reply"


def test_empty_history_allows_now():
    assert policy().earliest("content", [], T0) == T0


def test_hourly_cap_opens_one_hour_after_the_write_that_filled_it():
    history = [WriteRecord("content", T0 - 20 * MIN)]
    assert policy().earliest("content", history, T0) == T0 + 40 * MIN


def test_replies_have_their_own_hourly_cap():
    p = policy(min_spacing=timedelta(0))
    history = [WriteRecord("reply", T0 - m * MIN) for m in (50, 30, 20, 10)]
    # the fourth-newest (the oldest, 50 min ago) must leave the hour before a fifth reply
    assert p.earliest("reply", history, T0) == T0 + 10 * MIN
    # content is not counted against replies' cap
    assert p.earliest("content", history, T0) == T0


def test_daily_cap_is_a_rolling_24_hours():
    p = policy(content=Caps(per_hour=10, per_day=3), min_spacing=timedelta(0))
    history = [WriteRecord("content", T0 - h * timedelta(hours=1)) for h in (23, 5, 2)]
    assert p.earliest("content", history, T0) == T0 + timedelta(hours=1)
    # a write exactly 24 h old has left the window
    history = [WriteRecord("content", T0 - h * timedelta(hours=1)) for h in (24, 5, 2)]
    assert p.earliest("content", history, T0) == T0


def test_spacing_applies_across_lanes_and_includes_the_stored_jitter():
    history = [WriteRecord("content", T0 - 2 * MIN, jitter=timedelta(seconds=90))]
    assert policy().earliest("reply", history, T0) == T0 - 2 * MIN + 8 * MIN + timedelta(seconds=90)


def test_jitter_comes_from_the_injected_random_and_stays_within_bounds():
    p = policy(max_jitter=timedelta(minutes=4))
    a = [p.record("reply", T0, random.Random(7)).jitter for _ in range(3)]
    assert a[0] == a[1] == a[2]  # same seed, same draw
    jitters = {p.record("reply", T0, rng).jitter for rng in [random.Random(1)] for _ in range(50)}
    assert len(jitters) > 1
    assert all(timedelta(0) <= j <= timedelta(minutes=4) for j in jitters)


def test_a_cap_of_zero_switches_the_lane_off():
    assert policy(replies=Caps(0, 40)).earliest("reply", [], T0) is None


def test_risk_levels_lengthen_spacing_and_lower_caps():
    p = policy()
    assert p.under(RiskLevel.NORMAL) is p
    high = p.under(RiskLevel.HIGH)
    assert high.min_spacing == timedelta(minutes=32)
    assert high.replies == Caps(1, 10)
    # lowered caps never reach 0: risk slows, holds stop
    assert high.content == Caps(1, 3)
    assert p.under(RiskLevel.SEVERE).content == Caps(1, 1)


def active(start: int, end: int, zone: str = "UTC") -> ActiveHours:
    return ActiveHours(time(start), time(end), ZoneInfo(zone))


class TestQuietHours:
    """The poster's quiet hours are the account's (libs.core.account): the day outside its active hours."""

    def test_window_within_a_day(self):
        a = active(6, 1)  # quiet 01:00-06:00
        assert not a.contains(T0.replace(hour=1))
        assert not a.contains(T0.replace(hour=5, minute=59))
        assert a.contains(T0.replace(hour=6))
        assert a.open_at(T0.replace(hour=3, minute=17)) == T0.replace(hour=6, minute=0)

    def test_window_wrapping_midnight_in_a_time_zone(self):
        # active 07:00-23:00 in Africa/Cairo (UTC+2 in March, no DST): quiet 21:00-05:00 UTC
        a = active(7, 23, "Africa/Cairo")
        assert not a.contains(T0.replace(hour=21, minute=30))
        assert not a.contains(T0.replace(hour=2))
        assert a.contains(T0.replace(hour=5))
        assert a.contains(T0.replace(hour=20, minute=59))
        assert a.open_at(T0.replace(hour=22)) == (T0 + timedelta(days=1)).replace(hour=5)
        assert a.open_at(T0.replace(hour=1)) == T0.replace(hour=5)

    def test_next_close_is_the_end_of_the_open_window(self):
        # While open, when it closes (the planner's reply horizon); a window wrapping midnight closes tomorrow.
        assert active(6, 23).next_close(T0.replace(hour=22, minute=58)) == T0.replace(hour=23)
        assert active(6, 1).next_close(T0.replace(hour=22)) == (T0 + timedelta(days=1)).replace(hour=1)
        assert active(7, 23, "Africa/Cairo").next_close(T0.replace(hour=20, minute=30)) == T0.replace(hour=21)

    def test_open_returns_now(self):
        assert active(6, 1).open_at(T0) == T0

    def test_equal_start_and_end_is_no_quiet_hours(self):
        assert PosterSettings(active_hours_start=4, active_hours_end=4).pacing().active_hours is None
        assert PosterSettings(active_hours_start=0, active_hours_end=24).pacing().active_hours is None

    def test_pacing_defers_a_slot_in_quiet_hours_to_their_end(self):
        p = policy(active_hours=active(15, 13))
        history = [WriteRecord("content", T0 - 10 * MIN)]  # hourly cap opens at 12:50, spacing fine
        assert p.earliest("content", history, T0) == T0 + 50 * MIN
        history = [WriteRecord("content", T0 + 10 * MIN)]  # opens at 13:10, inside quiet hours
        assert p.earliest("content", history, T0 + 20 * MIN) == T0.replace(hour=15)
