"""The caps in force and the writes they count, as the posting cycle exports them once per cycle (the cycle's
query runs in every poster e2e test; the demo test finds the names on a running poster's /metrics)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from prometheus_client import REGISTRY

from services.poster import metrics
from services.poster.pacing import LANES, Caps, PacingPolicy, WriteRecord
from services.poster.risk import RiskLevel

T0 = datetime(2025, 3, 3, 12, 0, tzinfo=UTC)
MIN = timedelta(minutes=1)
H = timedelta(hours=1)


def sample(name: str, kind: str, window: str) -> float | None:
    return REGISTRY.get_sample_value(name, {"kind": kind, "window": window})


def policy() -> PacingPolicy:
    return PacingPolicy(content=Caps(2, 12), replies=Caps(4, 40), min_spacing=timedelta(minutes=8))


def test_every_lane_has_a_kind_label():
    assert sorted(metrics.KINDS.values()) == sorted(LANES)


def test_caps_and_writes_counted_per_rolling_window():
    history = [
        WriteRecord("content", T0 - 10 * MIN),
        WriteRecord("content", T0 - 2 * H),
        WriteRecord("content", T0 - 24 * H),  # exactly a day old: out of the window, as PacingPolicy counts
        WriteRecord("reply", T0 - 59 * MIN),
        WriteRecord("reply", T0 - H),  # exactly an hour old: out of the hour, in the day
        WriteRecord("reply", T0 - 5 * H),
    ]
    metrics.show_pacing(policy(), history, T0)
    assert sample("xbot_poster_cap", "post", "hour") == 2
    assert sample("xbot_poster_cap", "post", "day") == 12
    assert sample("xbot_poster_cap", "reply", "hour") == 4
    assert sample("xbot_poster_cap", "reply", "day") == 40
    assert sample("xbot_poster_writes_in_window", "post", "hour") == 1
    assert sample("xbot_poster_writes_in_window", "post", "day") == 2
    assert sample("xbot_poster_writes_in_window", "reply", "hour") == 1
    assert sample("xbot_poster_writes_in_window", "reply", "day") == 3


def test_caps_are_the_ones_in_force_after_risk_scaling():
    metrics.show_pacing(policy().under(RiskLevel.HIGH), [], T0)
    assert sample("xbot_poster_cap", "post", "hour") == 1  # floor(2 * 0.25), never below 1
    assert sample("xbot_poster_cap", "post", "day") == 3
    assert sample("xbot_poster_cap", "reply", "hour") == 1
    assert sample("xbot_poster_cap", "reply", "day") == 10
    assert sample("xbot_poster_writes_in_window", "reply", "day") == 0
