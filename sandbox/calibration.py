"""``python -m sandbox.calibration``: the suspicion model on the reference schedules, as the table in
docs/sandbox.md ("Automation suspicion"). Pure and deterministic: no server, no clock."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from zoneinfo import ZoneInfo

from sandbox.schedules import HOUR, Step, human_days, legacy_day, local_midnight, poller_day
from sandbox.settings import SandboxSettings
from sandbox.suspicion import Model, score

MIDNIGHT = local_midnight(datetime(2025, 3, 3, tzinfo=UTC), ZoneInfo("UTC"))


@dataclass(frozen=True)
class Run:
    name: str
    days: int
    writes: int
    reads: int
    highest: float
    components: dict[str, float]  # points of each component when the score was highest
    notice: str  # when the notice threshold was first reached: "h 11.9 (8 posts, 100 replies)" or "-"
    lock: str


def play(name: str, steps: list[Step], days: int, model: Model, notice: float, lock: float) -> Run:
    actions = [s.action() for s in steps]
    highest, components, firsts, oldest = -1.0, {}, {}, 0
    for i, step in enumerate(steps):
        while actions[oldest].at <= step.at - model.window.total_seconds():
            oldest += 1
        now = score(actions[oldest:i + 1], step.at, model)
        if now.score > highest:
            highest, components = now.score, {k: round(c.points, 1) for k, c in now.components.items()}
        for label, threshold in (("notice", notice), ("lock", lock)):
            if now.score >= threshold and label not in firsts:
                done = steps[:i + 1]
                firsts[label] = (f"h {(step.at - MIDNIGHT) / HOUR:.1f} ({sum(s.kind == 'post' for s in done)} posts, "
                                 f"{sum(s.kind == 'reply' for s in done)} replies)")
    writes = sum(s.kind in ("post", "reply") for s in steps)
    return Run(name, days, writes, len(steps) - writes, highest, components, firsts.get("notice", "-"),
               firsts.get("lock", "-"))


def runs() -> list[Run]:
    settings = SandboxSettings()
    model, notice, lock = Model(), settings.suspicion_notice, settings.suspicion_lock
    out = [
        play("legacy day (exact)", legacy_day(MIDNIGHT), 1, model, notice, lock),
        play("legacy day, +/-60 s jitter (held out)", legacy_day(MIDNIGHT, jitter_s=60, seed=1), 1, model, notice,
             lock),
        play("legacy day, +/-150 s jitter (held out)", legacy_day(MIDNIGHT, jitter_s=150, seed=2), 1, model, notice,
             lock),
        play("legacy day, replies only 07-23 h", legacy_day(MIDNIGHT, reply_hours=(7, 23)), 1, model, notice, lock),
        play("legacy metrics poller alone (every 10 min)", poller_day(MIDNIGHT), 1, model, notice, lock),
    ]
    for label, seeds in (("person, 7 days, seeds 0-9 (tuning)", range(10)),
                         ("person, 7 days, seeds 10-39 (held out)", range(10, 40))):
        people = [play(label, human_days(MIDNIGHT, 7, seed=s), 7, model, notice, lock) for s in seeds]
        worst = max(people, key=lambda r: r.highest)
        out.append(Run(label, 7, sum(r.writes for r in people) // len(people),
                       sum(r.reads for r in people) // len(people), worst.highest, worst.components,
                       next((r.notice for r in people if r.notice != "-"), "-"),
                       next((r.lock for r in people if r.lock != "-"), "-")))
    return out


def main() -> None:
    settings = SandboxSettings()
    print(f"thresholds: notice {settings.suspicion_notice:g}, lock {settings.suspicion_lock:g}\n")
    print("| schedule | writes / day | reads / day | highest score | points then (rate, regularity, night, burst, "
          "repetition) | notice | lock |")
    print("|---|---|---|---|---|---|---|")
    for r in runs():
        points = ", ".join(f"{v:g}" for v in r.components.values())
        print(f"| {r.name} | {r.writes / r.days:.0f} | {r.reads / r.days:.0f} | {r.highest:.1f} | {points} | "
              f"{r.notice} | {r.lock} |")


if __name__ == "__main__":
    main()
