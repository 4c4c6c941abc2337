"""An irregular job's spacing (``Scheduler.gap``, libs/runtime/scheduler.py), as X's automation detection would
read it: the scraper's follower count, which opens the own profile through the browser every half hour. Its read
costs no post of the reading limit since 2026-12-07 (the gateway leaves the profile's posts unasked), so the
activity budget, which held it to about two reads a day, no longer spaces it: the job's own rhythm is what X sees.
"""

from __future__ import annotations

import random
import statistics
from datetime import timedelta

from libs.core.clock import Clock
from libs.runtime.scheduler import Job, Lease, Scheduler
from sandbox.suspicion import POINTS, Action, Model, score

HALF_HOUR = timedelta(minutes=30)
ACTIVE_HOURS = 16  # the gateway's default active hours, 07:00-23:00: no read at night


def scheduler(seed: int) -> Scheduler:
    return Scheduler(service="scraper", clock=Clock(), lease=Lease(None), rng=random.Random(seed))


async def noop() -> None:
    return None


def day_of_counts(job: Job, seed: int) -> tuple[list[Action], float]:
    """The own profile's page loads over one day's active hours at the job's gaps, and when the day ends."""
    s = scheduler(seed)
    start = 1_764_547_200.0 + 7 * 3600  # 2025-12-01 07:00 UTC
    end, at, actions = start + ACTIVE_HOURS * 3600, start, []
    while at < end:
        actions.append(Action(at, "profile", "xbot_demo"))
        at += s.gap(job)
    return actions, end


def test_irregular_gaps_average_the_interval_and_vary_as_a_persons() -> None:
    job = Job("followers", HALF_HOUR, noop, irregular=True)
    s = scheduler(7)
    gaps = [s.gap(job) for _ in range(20_000)]
    mean = statistics.fmean(gaps)
    assert abs(mean - 1800) < 0.03 * 1800
    assert 0.85 < statistics.pstdev(gaps) / mean < 0.95
    assert min(gaps) >= 0.1 * 1800  # never two reads moments apart


def test_a_day_of_follower_counts_is_no_metronome_to_x() -> None:
    """The sandbox's regularity signal (25 points of the notice's 50) over 20 days of counts: full on every day of
    the scheduler's usual spacing, next to nothing at the irregular one (a day's 30 gaps may measure a
    coefficient of variation under 0.7 by chance: one day in ten)."""
    model = Model()
    steady, irregular = [], []
    for seed in range(20):
        actions, end = day_of_counts(Job("followers", HALF_HOUR, noop), seed)
        steady.append(score(actions, end, model).components["regularity"].points)
        actions, end = day_of_counts(Job("followers", HALF_HOUR, noop, irregular=True), seed)
        irregular.append(score(actions, end, model).components["regularity"].points)
    assert steady == [POINTS["regularity"]] * 20
    assert statistics.fmean(irregular) < 1.0 and sum(p > 0 for p in irregular) <= 4, irregular
