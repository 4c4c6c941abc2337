import pytest

from sandbox.faults import Faults
from sandbox.world import DAY, HALF_HOUR, Limits, limit_refusal, reach_penalty

LIMITS = Limits(daily_posts=5, daily_replies=8, half_hour_posts=2, half_hour_replies=3)


def test_half_hourly_sub_limit_then_daily_cap():
    now = 10 * DAY
    assert limit_refusal("post", [now - 100], now, LIMITS) is None
    assert limit_refusal("post", [now - 100, now - 50], now, LIMITS) == "rate_limit"
    assert limit_refusal("post", [now - HALF_HOUR - 1, now - 50], now, LIMITS) is None
    spread = [now - h * 3600 for h in (1, 3, 5, 7, 9)]
    assert limit_refusal("post", spread, now, LIMITS) == "daily_limit"
    assert limit_refusal("post", [t - DAY for t in spread], now, LIMITS) is None  # the window rolls


def test_replies_have_their_own_limits():
    now = 10 * DAY
    two = [now - 60, now - 30]
    assert limit_refusal("post", two, now, LIMITS) == "rate_limit"
    assert limit_refusal("reply", two, now, LIMITS) is None


def test_near_duplicates_and_spam_lose_reach():
    original = "Morning sunlight within an hour of waking sets your body clock for better sleep."
    assert reach_penalty("Protein at breakfast keeps you full.", [original]) == 0.0
    near = reach_penalty("Morning sunlight within an hour of waking sets your body clock for deeper sleep.",
                         [original])
    assert 0.5 <= near < 1.0
    assert reach_penalty("Sleep #sleep #health #wellness #tips #habits", []) > 0
    assert reach_penalty("BUY NOW THE BEST SLEEP SUPPLEMENT EVER MADE", []) > 0


def test_forced_faults_are_consumed_in_order():
    faults = Faults()
    faults.force("rate_limit", 2)
    faults.force("duplicate", 1)
    assert [faults.take_write_fault() for _ in range(4)] == ["rate_limit", "rate_limit", "duplicate", None]
    faults.force("locked", 1)
    assert faults.locked
    faults.reset()
    assert not faults.locked and faults.describe()["pending"] == {}
    with pytest.raises(ValueError):
        faults.force("meteor", 1)
