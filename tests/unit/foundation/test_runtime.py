"""Pure runtime pieces: settings errors, the scaled Clock, the circuit breaker."""

from __future__ import annotations

import subprocess
import sys
import time
from datetime import UTC, datetime, timedelta

import pytest

from libs.core.breaker import CircuitBreaker
from libs.core.clock import Clock
from libs.core.settings import CommonSettings, SettingsError, load_settings


def test_invalid_setting_names_the_variable(monkeypatch):
    monkeypatch.setenv("XBOT_TIME_SCALE", "-3")
    with pytest.raises(SettingsError, match=r"invalid setting XBOT_TIME_SCALE \(got '-3'\)"):
        load_settings(CommonSettings)


def test_secret_values_are_not_echoed_in_errors(monkeypatch):
    monkeypatch.setenv("XBOT_HTTP_PORT", "70000")
    monkeypatch.setenv("XBOT_DATABASE_URL", "postgresql://u:hunter2secret@h/db")
    with pytest.raises(SettingsError) as err:
        load_settings(CommonSettings)
    assert "XBOT_HTTP_PORT" in str(err.value) and "hunter2secret" not in str(err.value)
    monkeypatch.delenv("XBOT_HTTP_PORT")
    s = CommonSettings()
    assert "hunter2secret" not in repr(s) and s.dsn.endswith("@h/db")


@pytest.mark.slow  # starts a process: not in the fast tier
def test_a_service_with_a_bad_setting_stops_at_start_with_the_variable_named():
    env = {"XBOT_LOG_LEVEL": "LOUD", "PATH": "/usr/bin:/bin"}
    proc = subprocess.run([sys.executable, "-m", "services.planner"], env=env, capture_output=True, text=True,
                          timeout=60)
    assert proc.returncode == 2
    assert "invalid setting XBOT_LOG_LEVEL" in proc.stderr
    assert "Traceback" not in proc.stderr


def test_clock_scales_time_from_a_shared_epoch_and_anchor():
    epoch = datetime(2026, 1, 1, tzinfo=UTC)
    anchor = time.time() - 10  # started 10 real seconds ago
    clock = Clock(scale=360, epoch=epoch, anchor=anchor)
    elapsed = (clock.now() - epoch).total_seconds()
    assert 3590 <= elapsed <= 3700  # one simulated hour
    twin = Clock(scale=float(clock.env()["XBOT_TIME_SCALE"]),
                 epoch=datetime.fromisoformat(clock.env()["XBOT_SIM_EPOCH"]),
                 anchor=float(clock.env()["XBOT_SIM_ANCHOR"]))
    assert abs((twin.now() - clock.now()).total_seconds()) < 5
    assert clock.real_seconds(3600) == 10


class StepClock(Clock):
    def __init__(self) -> None:
        super().__init__()
        self.t = datetime(2026, 1, 1, tzinfo=UTC)

    def now(self) -> datetime:
        return self.t


def test_breaker_opens_after_five_failures_and_doubles_its_reset_up_to_480s():
    clock = StepClock()
    b = CircuitBreaker(clock, half_open_successes=3)
    for _ in range(4):
        b.record_failure()
    assert b.allows()
    b.record_failure()
    assert b.current() == "open" and not b.allows()
    delays = []
    for _ in range(5):
        delays.append(b.reset_delay.total_seconds())
        clock.t += b.reset_delay
        assert b.current() == "half_open"
        b.record_failure()  # the probe fails
    assert delays == [60, 120, 240, 480, 480]
    clock.t += b.reset_delay
    for _ in range(3):
        assert b.allows()
        b.record_success()
    assert b.current() == "closed" and b.reset_delay == timedelta(seconds=60)
    restored = CircuitBreaker(clock)
    restored.restore(b.snapshot())
    assert restored.snapshot() == b.snapshot()
