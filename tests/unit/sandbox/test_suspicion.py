"""The automation-suspicion score (pure): each signal alone, and the calibration on the reference schedules.

Calibration: the legacy schedule (the legacy project's notes: a lock after about 17 posts every 25 minutes plus
about 200 interactions in a day) must reach the notice and then the lock; a person's days must stay well below
the notice. The thresholds were tuned on human seeds 0-9 and the exact legacy day; seeds 10-39 and the jittered
legacy days are held out.
"""

from __future__ import annotations

from datetime import UTC, datetime, time
from zoneinfo import ZoneInfo

import pytest

from sandbox.schedules import Step, human_days, legacy_day, local_midnight
from sandbox.settings import SandboxSettings
from sandbox.suspicion import Action, Model, Night, Ramp, score

MIDNIGHT = local_midnight(datetime(2025, 3, 3, tzinfo=UTC), ZoneInfo("UTC"))
MODEL = Model()
DEFAULTS = SandboxSettings()
NOTICE, LOCK = DEFAULTS.suspicion_notice, DEFAULTS.suspicion_lock
HOUR = 3600.0


def trajectory(steps: list[Step]) -> list[float]:
    """The score right after each step, as the sandbox computes it (from the last 24 h of actions)."""
    done = [step.action() for step in steps]
    scores, oldest = [], 0
    for i, step in enumerate(steps):
        while done[oldest].at <= step.at - MODEL.window.total_seconds():
            oldest += 1
        scores.append(score(done[oldest:i + 1], step.at, MODEL).score)
    return scores


def first_at(steps: list[Step], threshold: float) -> tuple[float, int, int] | None:
    """(hours after midnight, posts so far, replies so far) when the score first reaches ``threshold``."""
    for i, value in enumerate(trajectory(steps)):
        if value >= threshold:
            so_far = steps[:i + 1]
            return ((steps[i].at - MIDNIGHT) / HOUR, sum(s.kind == "post" for s in so_far),
                    sum(s.kind == "reply" for s in so_far))
    return None


# ---------------------------------------------------------------------------- the pieces


def test_ramps_clamp_and_can_point_down() -> None:
    up, down = Ramp(10, 20), Ramp(0.7, 0.3)
    assert [up(x) for x in (0, 10, 15, 20, 99)] == [0, 0, 0.5, 1, 1]
    assert [down(x) for x in (2.0, 0.7, 0.5, 0.3, 0.0)] == pytest.approx([0, 0, 0.5, 1, 1])


def test_the_night_follows_the_accounts_zone_and_may_wrap_midnight() -> None:
    madrid = Night(ZoneInfo("Europe/Madrid"), time(0), time(6))
    assert madrid.contains(datetime(2025, 3, 3, 23, 30, tzinfo=UTC).timestamp())  # 00:30 in Madrid
    assert not madrid.contains(datetime(2025, 3, 3, 5, 30, tzinfo=UTC).timestamp())  # 06:30 in Madrid
    late = Night(ZoneInfo("UTC"), time(23), time(7))
    assert late.contains(datetime(2025, 3, 3, 23, 10, tzinfo=UTC).timestamp())
    assert late.contains(datetime(2025, 3, 3, 6, 59, tzinfo=UTC).timestamp())
    assert not late.contains(datetime(2025, 3, 3, 7, 0, tzinfo=UTC).timestamp())


def day_at(hour: float) -> float:
    return MIDNIGHT + hour * HOUR


def test_a_metronome_is_regular_and_a_person_is_not() -> None:
    metronome = [Action(day_at(9) + i * 600, "status", str(i)) for i in range(25)]
    assert score(metronome, day_at(14), MODEL).components["regularity"].level == 1.0
    # The same count with a person's uneven gaps (seconds to an hour).
    gaps = [20, 700, 45, 2400, 90, 15, 1300, 60, 3600, 30, 500, 75, 2000, 10, 400, 1500, 35, 900, 50, 3000,
            120, 25, 1800, 65]
    person, t = [], day_at(9)
    for i, g in enumerate(gaps):
        person.append(Action(t, "status", str(i)))
        t += g
    assert score(person, t, MODEL).components["regularity"].level == 0.0
    # Too few gaps say nothing, and the measure grows with the number of gaps up to full_gaps.
    assert score(metronome[:MODEL.min_gaps], day_at(14), MODEL).components["regularity"].level == 0.0
    half = score(metronome[:MODEL.full_gaps // 2 + 1], day_at(14), MODEL).components["regularity"]
    assert half.level == pytest.approx(0.5) and half.detail["kind"] == "status"


def test_night_bursts_repeats_and_rate_each_score_alone() -> None:
    night = [Action(day_at(0.5) + i * 300, "search", f"q{i}") for i in range(40)]
    assert score(night, day_at(7), MODEL).components["night"].level == 1.0
    burst = [Action(day_at(10) + i * 2.5, "status", f"{i}") for i in range(20)]
    assert score(burst, day_at(11), MODEL).components["burst"].value == 20
    same = [Action(day_at(10) + i * 600, "status", "42") for i in range(63)]
    rep = score(same, day_at(23), MODEL).components["repetition"]
    assert rep.level == 1.0 and rep.detail["most_repeated"] == "status:42"
    # The landing page is loaded again and again by everyone: not a repeated action.
    homes = [Action(day_at(8) + i * 613, "home") for i in range(63)]
    assert score(homes, day_at(23), MODEL).components["repetition"].value == 0
    writes = [Action(day_at(8) + i * 211.0, "reply", f"text {i}") for i in range(250)]
    assert score(writes, day_at(23), MODEL).components["rate"].level == 1.0


def test_only_the_last_day_since_the_last_reset_counts() -> None:
    old = [Action(day_at(1) + i, "status", "1") for i in range(30)]
    assert score(old, day_at(1) + 30, MODEL).components["burst"].value == 30
    assert score(old, day_at(25) + 31, MODEL).actions == 0  # a day later
    assert score(old, day_at(1) + 30, MODEL, since=day_at(1) + 20).actions == 10


def test_the_score_is_at_most_100_and_reports_every_component() -> None:
    everything = [Action(day_at(1) + i * 3.0, "reply", "same text") for i in range(400)]
    s = score(everything, day_at(2), MODEL)
    assert s.score == 100
    assert set(s.as_json()["components"]) == {"rate", "regularity", "night", "burst", "repetition"}


# ---------------------------------------------------------------------------- calibration


def test_the_legacy_day_gets_the_notice_then_the_lock_after_about_17_posts_and_200_replies() -> None:
    steps = legacy_day(MIDNIGHT)
    notice, lock = first_at(steps, NOTICE), first_at(steps, LOCK)
    assert notice is not None and lock is not None
    assert notice[0] < lock[0]
    hours, posts, replies = lock
    # "About 17 posts every 25 minutes plus about 200 interactions in a day": not after a handful.
    assert posts >= 15 and replies >= 150, lock


@pytest.mark.parametrize("jitter_s,seed", [(60.0, 1), (150.0, 2), (150.0, 3)])
def test_held_out_a_jittered_legacy_day_still_gets_locked(jitter_s: float, seed: int) -> None:
    """A job scheduler's slack (a minute or two either way) does not make the legacy schedule human."""
    steps = legacy_day(MIDNIGHT, jitter_s=jitter_s, seed=seed)
    assert first_at(steps, NOTICE) is not None and first_at(steps, LOCK) is not None


def highest(steps: list[Step]) -> float:
    return max(trajectory(steps))


@pytest.mark.parametrize("seeds", [range(0, 10), range(10, 40)], ids=["tuning", "held-out"])
def test_a_persons_week_stays_well_below_the_notice(seeds: range) -> None:
    for seed in seeds:
        steps = human_days(MIDNIGHT, 7, seed=seed)
        writes_per_day = sum(s.kind in ("post", "reply") for s in steps) / 7
        assert 15 <= writes_per_day <= 50  # "a few dozen writes a day"
        assert highest(steps) <= 0.25 * NOTICE, seed
