"""The caps in force and the writes they count, as the posting cycle exports them once per cycle."""

from __future__ import annotations

from contextlib import asynccontextmanager
from datetime import UTC, datetime, timedelta

from prometheus_client import REGISTRY

from services.poster import metrics
from services.poster.pacing import LANES, Caps, PacingPolicy, WriteRecord
from services.poster.risk import RiskLevel
from services.poster.settings import PosterSettings
from services.poster.worker import PostingCycle

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


class FakeConn:
    def __init__(self, rows: list[dict]) -> None:
        self.rows = rows
        self.queries: list[tuple] = []

    async def fetch(self, query: str, *args):
        self.queries.append((query, args))
        return [r for r in self.rows if r["at"] > args[0]]


class FakePool:
    def __init__(self, conn: FakeConn) -> None:
        self.conn = conn

    @asynccontextmanager
    async def acquire(self):
        yield self.conn


class StoppedClock:
    def now(self) -> datetime:
        return T0


async def test_the_cycle_exports_the_caps_at_its_risk_level_against_its_history():
    conn = FakeConn([{"lane": "content", "at": T0 - 30 * MIN}, {"lane": "reply", "at": T0 - 3 * H},
                     {"lane": "reply", "at": T0 - 30 * H}])
    settings = PosterSettings(posts_per_hour=2, posts_per_day=12, replies_per_hour=4, replies_per_day=40,
                              risk_cap_factor=0.5)
    cycle = PostingCycle(settings=settings, clock=StoppedClock(), pool=FakePool(conn),  # type: ignore[arg-type]
                         gateway=None, publisher=None, control_kv=None)  # type: ignore[arg-type]
    cycle.risk.record_signal("rate_limited", T0 - MIN)
    assert cycle.risk.level(T0) == RiskLevel.ELEVATED
    await cycle._export_pacing()
    assert conn.queries[0][1] == (T0 - 24 * H,)
    assert sample("xbot_poster_cap", "post", "hour") == 1
    assert sample("xbot_poster_cap", "reply", "day") == 20
    assert sample("xbot_poster_writes_in_window", "post", "hour") == 1
    assert sample("xbot_poster_writes_in_window", "reply", "hour") == 0
    assert sample("xbot_poster_writes_in_window", "reply", "day") == 1
