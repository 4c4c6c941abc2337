from datetime import UTC, datetime, timedelta

import pytest

from services.poster.risk import AccountRisk, RiskLevel, RiskPolicy

T0 = datetime(2025, 3, 3, 12, 0, tzinfo=UTC)
H = timedelta(hours=1)
MIN = timedelta(minutes=1)


def test_a_fresh_account_is_normal_and_free_to_write():
    risk = AccountRisk()
    assert risk.level(T0) == RiskLevel.NORMAL
    assert not risk.held(T0)
    assert not risk.halted


@pytest.mark.parametrize(
    ("signal", "level", "hold"),
    [
        ("rate_limited", RiskLevel.ELEVATED, timedelta(minutes=15)),
        ("daily_limit", RiskLevel.HIGH, timedelta(hours=6)),
        ("automation_block", RiskLevel.HIGH, timedelta(minutes=30)),
    ],
)
def test_each_warning_raises_the_level_and_holds_writes(signal, level, hold):
    risk = AccountRisk()
    change = risk.record_signal(signal, T0)
    assert change.level == level == risk.level(T0)
    assert change.hold_until == T0 + hold
    assert risk.held(T0 + hold - MIN)
    assert not risk.held(T0 + hold)
    assert not risk.halted


def test_repeated_warnings_climb_and_the_level_cools_one_step_per_period():
    risk = AccountRisk(policy=RiskPolicy(cooling=timedelta(hours=6)))
    risk.record_signal("rate_limited", T0)
    risk.record_signal("rate_limited", T0 + MIN)
    risk.record_signal("rate_limited", T0 + 2 * MIN)
    risk.record_signal("rate_limited", T0 + 3 * MIN)
    assert risk.level(T0 + 3 * MIN) == RiskLevel.SEVERE  # capped at the top
    last = T0 + 3 * MIN
    assert risk.level(last + 6 * H - MIN) == RiskLevel.SEVERE
    assert risk.level(last + 6 * H) == RiskLevel.HIGH
    assert risk.level(last + 12 * H) == RiskLevel.ELEVATED
    assert risk.level(last + 18 * H) == RiskLevel.NORMAL
    assert risk.level(last + 100 * H) == RiskLevel.NORMAL


def test_a_warning_after_partial_cooling_climbs_from_the_cooled_level():
    risk = AccountRisk()
    risk.record_signal("daily_limit", T0)  # HIGH
    assert risk.level(T0 + 13 * H) == RiskLevel.NORMAL
    risk.record_signal("rate_limited", T0 + 13 * H)
    assert risk.level(T0 + 13 * H) == RiskLevel.ELEVATED


class TestAutomationBlockLadder:
    def hold_after(self, risk: AccountRisk, at: datetime) -> timedelta:
        return risk.record_signal("automation_block", at).hold_until - at

    def test_first_second_third_within_the_windows(self):
        risk = AccountRisk()
        assert self.hold_after(risk, T0) == timedelta(minutes=30)
        assert self.hold_after(risk, T0 + 5 * H) == timedelta(hours=2)
        assert self.hold_after(risk, T0 + 20 * H) == timedelta(hours=12)

    def test_a_second_block_after_six_hours_starts_over(self):
        risk = AccountRisk()
        self.hold_after(risk, T0)
        assert self.hold_after(risk, T0 + 7 * H) == timedelta(minutes=30)

    def test_a_third_block_needs_three_within_24_hours(self):
        risk = AccountRisk()
        self.hold_after(risk, T0)
        self.hold_after(risk, T0 + 10 * H)  # 30 min: not within 6 h of the first
        assert self.hold_after(risk, T0 + 23 * H) == timedelta(hours=12)
        # after that 12 h hold, only the last two are within 24 h, and not within 6 h of each other
        assert self.hold_after(risk, T0 + 36 * H) == timedelta(minutes=30)


def test_a_shorter_hold_never_cuts_a_longer_one():
    risk = AccountRisk()
    risk.record_signal("daily_limit", T0)
    risk.record_signal("rate_limited", T0 + MIN)
    assert risk.hold_until == T0 + timedelta(hours=6)
    assert risk.hold_reason == "daily_limit"


@pytest.mark.parametrize("signal", ["locked", "session_expired"])
def test_lock_and_expired_session_halt_until_an_operator_resumes(signal):
    risk = AccountRisk()
    change = risk.record_signal(signal, T0)
    assert change.halted and risk.halted
    assert risk.halted_reason == signal
    assert risk.halted  # time does not heal it
    risk.resume()
    assert not risk.halted


def test_unknown_signals_are_rejected():
    with pytest.raises(ValueError):
        AccountRisk().record_signal("timeout", T0)


class TestCrashLoop:
    def test_three_starts_within_fifteen_minutes_hold_writes(self):
        risk = AccountRisk()
        assert risk.record_start(T0) is None
        assert risk.record_start(T0 + 5 * MIN) is None
        change = risk.record_start(T0 + 14 * MIN)
        assert change is not None and change.signal == "crash_loop"
        assert risk.held(T0 + 14 * MIN)
        assert risk.hold_until == T0 + 14 * MIN + timedelta(minutes=30)
        assert risk.hold_reason == "crash_loop"

    def test_starts_spread_out_are_not_a_loop(self):
        risk = AccountRisk()
        for i in range(6):
            assert risk.record_start(T0 + i * 8 * MIN) is None
        assert not risk.held(T0 + 40 * MIN)


def test_state_survives_a_round_trip_through_a_dict():
    import json

    risk = AccountRisk()
    risk.record_start(T0)
    risk.record_signal("automation_block", T0)
    risk.record_signal("automation_block", T0 + H)
    risk.record_signal("locked", T0 + 2 * H)
    restored = AccountRisk.from_dict(json.loads(json.dumps(risk.to_dict())))
    assert restored.to_dict() == risk.to_dict()
    assert restored.level(T0 + 3 * H) == risk.level(T0 + 3 * H) == RiskLevel.SEVERE
    assert restored.halted_reason == "locked"
    # the ladder continues from the restored history: a third block within 24 h holds 12 h
    assert restored.record_signal("automation_block", T0 + 4 * H).hold_until == T0 + 16 * H
