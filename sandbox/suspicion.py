"""How bot-like an account's activity looks to X: the sandbox's ground truth, a pure function of its actions.

X does not publish its automation detection; it names the signals (its automation rules and the reports of locked
accounts): how much an account does, how regular the gaps between its actions are, whether it acts while its
owner should sleep, bursts, and the same action over and over. Each signal is measured over the last 24 simulated
hours and turned into a level between 0 and 1 by a ramp from a value a person reaches to one only a program
reaches; the levels are weighted in points and the score is their sum, at most 100. The thresholds that turn a
score into X's automation notice and a lock are settings (sandbox/settings.py); sandbox/activity.py applies them.
docs/sandbox.md ("Automation suspicion") gives the calibration.
"""

from __future__ import annotations

import statistics
from collections import Counter, defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime, time, timedelta
from zoneinfo import ZoneInfo

WRITE_KINDS = frozenset({"post", "reply"})
# Reads are named by what they showed (a page of the web client and the GraphQL call behind it count the same).
READ_KINDS = frozenset({"home", "search", "status", "profile", "analytics", "settings", "login"})
# Pages a person lands on again and again: loading them repeatedly is not "the same action repeated".
LANDING_KINDS = frozenset({"home", "login"})
# The weight of each signal in points (they add up to more than 100: two strong signals are enough to lock).
POINTS: dict[str, float] = {"rate": 40.0, "regularity": 25.0, "night": 15.0, "burst": 15.0, "repetition": 15.0}


@dataclass(frozen=True)
class Action:
    at: float  # simulated seconds since the Unix epoch
    kind: str  # one of WRITE_KINDS or READ_KINDS
    key: str = ""  # what it acted on: a search query, a tweet id, a handle, a write's normalised text


@dataclass(frozen=True)
class Ramp:
    """0 at ``low``, 1 at ``high``, linear between and flat outside (``low > high`` ramps downwards)."""

    low: float
    high: float

    def __call__(self, value: float) -> float:
        return min(1.0, max(0.0, (value - self.low) / (self.high - self.low)))


@dataclass(frozen=True)
class Night:
    """The account's night: [start, end) in its time zone; may wrap midnight (23:00-06:00)."""

    zone: ZoneInfo = ZoneInfo("UTC")
    start: time = time(0, 0)
    end: time = time(6, 0)

    def contains(self, at: float) -> bool:
        local = datetime.fromtimestamp(at, self.zone).time()
        if self.start <= self.end:
            return self.start <= local < self.end
        return local >= self.start or local < self.end


@dataclass(frozen=True)
class Model:
    """The measuring sticks; every figure is documented and justified in docs/sandbox.md."""

    night: Night = field(default_factory=Night)
    window: timedelta = timedelta(hours=24)
    # Rate: writes (posts, thread parts, replies; refused attempts too) and reads in the window.
    writes: Ramp = Ramp(60, 250)
    reads: Ramp = Ramp(400, 2000)
    # Regularity: coefficient of variation (sd / mean) of the gaps between consecutive actions of one kind.
    regularity: Ramp = Ramp(0.7, 0.3)
    min_gaps: int = 8  # fewer gaps say nothing about a kind's rhythm ...
    full_gaps: int = 20  # ... and from this many the measure counts in full
    night_actions: Ramp = Ramp(4, 40)
    burst_span: timedelta = timedelta(seconds=60)
    burst: Ramp = Ramp(6, 20)  # most actions within any burst_span
    free_repeats: int = 3  # the same action up to this many times in the window is what people do
    repeats: Ramp = Ramp(10, 60)


@dataclass(frozen=True)
class Component:
    value: float  # the measured signal
    level: float  # 0..1 after its ramp
    points: float  # level x its weight
    detail: dict = field(default_factory=dict)


@dataclass(frozen=True)
class Suspicion:
    score: float  # 0..100
    components: dict[str, Component]
    actions: int  # how many actions the window held

    def as_json(self) -> dict:
        return {"score": round(self.score, 2), "actions": self.actions,
                "components": {name: {"value": round(c.value, 4), "level": round(c.level, 4),
                                      "points": round(c.points, 2), "max_points": POINTS[name], **c.detail}
                               for name, c in self.components.items()}}


def _component(name: str, value: float, level: float, **detail: object) -> Component:
    return Component(value=value, level=level, points=level * POINTS[name], detail=detail)


def _rate(actions: list[Action], model: Model) -> Component:
    writes = sum(1 for a in actions if a.kind in WRITE_KINDS)
    reads = len(actions) - writes
    level = max(model.writes(writes), model.reads(reads))
    return _component("rate", float(max(writes, reads)), level, writes=writes, reads=reads)


def _regularity(actions: list[Action], model: Model) -> Component:
    """The most regular kind decides: a metronome among irregular actions is still a metronome."""
    times: dict[str, list[float]] = defaultdict(list)
    for a in actions:
        times[a.kind].append(a.at)
    best = _component("regularity", float("nan"), 0.0, kind=None, gaps=0)
    for kind, ts in sorted(times.items()):
        gaps = [b - a for a, b in zip(ts, ts[1:])]
        if len(gaps) < model.min_gaps:
            continue
        mean = statistics.fmean(gaps)
        cv = statistics.pstdev(gaps) / mean if mean > 0 else 0.0
        level = model.regularity(cv) * min(1.0, len(gaps) / model.full_gaps)
        if level > best.level or best.detail["kind"] is None:
            best = _component("regularity", cv, level, kind=kind, gaps=len(gaps))
    return best


def _night(actions: list[Action], model: Model) -> Component:
    count = sum(1 for a in actions if model.night.contains(a.at))
    return _component("night", float(count), model.night_actions(count))


def _burst(actions: list[Action], model: Model) -> Component:
    span = model.burst_span.total_seconds()
    most, start = 0, 0
    for end, a in enumerate(actions):
        while a.at - actions[start].at >= span:
            start += 1
        most = max(most, end - start + 1)
    return _component("burst", float(most), model.burst(most))


def _repetition(actions: list[Action], model: Model) -> Component:
    counts = Counter((a.kind, a.key) for a in actions if a.key and a.kind not in LANDING_KINDS)
    repeats = sum(max(0, n - model.free_repeats) for n in counts.values())
    top = counts.most_common(1)
    return _component("repetition", float(repeats), model.repeats(repeats),
                      most_repeated=f"{top[0][0][0]}:{top[0][0][1]}" if top else None,
                      most_repeated_count=top[0][1] if top else 0)


def score(actions: Iterable[Action], now: float, model: Model, *, since: float | None = None) -> Suspicion:
    """The suspicion of the actions in the window ending at ``now`` (and not before ``since``: a reset or the
    end of a lock starts the account afresh)."""
    oldest = now - model.window.total_seconds()
    window = sorted((a for a in actions if oldest < a.at <= now and (since is None or a.at >= since)),
                    key=lambda a: a.at)
    components = {c: f(window, model) for c, f in (("rate", _rate), ("regularity", _regularity),
                                                    ("night", _night), ("burst", _burst),
                                                    ("repetition", _repetition))}
    return Suspicion(score=min(100.0, sum(c.points for c in components.values())), components=components,
                     actions=len(window))
