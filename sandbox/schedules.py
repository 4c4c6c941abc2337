"""Reference schedules of activity on X, for calibrating the suspicion model and proving it can fail.

``legacy_day``: what the legacy project's notes record before its account was locked (about 17 posts made every
25 minutes plus about 200 interactions in a day; its jobs ran around the clock on fixed minutes). ``human_days``:
a person using X: awake 07:00-23:00, a few sessions a day with breaks, irregular gaps, a few dozen writes and a
few hundred posts viewed a day. Both are plans (what to do when), not outcomes: the tests and the calibration in
docs/sandbox.md play them against the model and against the running sandbox.
"""

from __future__ import annotations

import math
import random
from dataclasses import dataclass
from datetime import datetime, time
from zoneinfo import ZoneInfo

from sandbox.suspicion import Action

HOUR = 3600.0
MINUTE = 60.0


@dataclass(frozen=True)
class Step:
    at: float  # simulated seconds since the Unix epoch
    kind: str  # "post" | "reply" | "home" | "search" | "status" | "profile"
    target: str = ""  # a write's text, a search query; for "status"/"reply"/"profile" the player picks a target

    def action(self, key: str | None = None) -> Action:
        return Action(self.at, self.kind, self.target if key is None else key)


def local_midnight(day: datetime, zone: ZoneInfo) -> float:
    return datetime.combine(day.date(), time(0), zone).timestamp()


def legacy_day(midnight: float, *, jitter_s: float = 0.0, seed: int = 0,
               reply_hours: tuple[float, float] = (0.0, 24.0)) -> list[Step]:
    """17 posts every 25 minutes from 09:00 and 200 replies evenly spread over ``reply_hours`` (the whole day: one
    every 7.2 minutes from 00:03), the way a job scheduler fires them; ``jitter_s`` moves each by up to that many
    seconds either way."""
    rng = random.Random(f"legacy:{seed}")
    shift = (lambda: rng.uniform(-jitter_s, jitter_s)) if jitter_s else (lambda: 0.0)
    first, last = reply_hours
    spacing = (last - first) * HOUR / 200
    steps = [Step(midnight + 9 * HOUR + i * 25 * MINUTE + shift(), "post",
                  f"Legacy post {seed}-{i}: one more evidence-based habit for today, number {i}.")
             for i in range(17)]
    steps += [Step(midnight + first * HOUR + 3 * MINUTE + i * spacing + shift(), "reply",
                   f"Legacy reply {seed}-{i}: great point, thanks for sharing this ({i}).")
              for i in range(200)]
    return sorted(steps, key=lambda s: s.at)


def poller_day(midnight: float, *, every_minutes: float = 10.0, offset_minutes: float = 7.0,
               tweets: int = 10) -> list[Step]:
    """The legacy metrics scraper (its notes: "every 10 min" at :07, :17, ...): a status page of one of our
    ``tweets`` latest posts, in turn, around the clock."""
    n = int(24 * 60 / every_minutes)
    return [Step(midnight + (offset_minutes + i * every_minutes) * MINUTE, "status", f"own-{i % tweets}")
            for i in range(n)]


QUERIES = ("sleep", "protein breakfast", "zone 2 cardio", "gut health", "stress", "walk after meals",
           "longevity", "hydration")


def human_days(first_midnight: float, days: int, *, seed: int) -> list[Step]:
    """A person's days: 4-6 sessions between 07:00 and 23:00 local, each a home load, then a few posts opened
    (most answered), sometimes a search, a profile or a post of their own; gaps of about a minute within a
    session (log-normal, so some are seconds and some several minutes), hours between sessions."""
    rng = random.Random(f"human:{seed}")
    steps: list[Step] = []
    n = 0
    for day in range(days):
        midnight = first_midnight + day * 24 * HOUR
        sessions = rng.randint(4, 6)
        # Session starts spread over the waking day, each in its own slice, so sessions do not overlap.
        slice_len = (22.5 - 7.0) * HOUR / sessions
        for s in range(sessions):
            t = midnight + 7.0 * HOUR + s * slice_len + rng.uniform(0, slice_len * 0.5)

            def gap() -> float:
                return rng.lognormvariate(math.log(60.0), 0.9)

            steps.append(Step(t, "home"))
            if rng.random() < 0.5:
                t += gap()
                steps.append(Step(t, "search", rng.choice(QUERIES)))
            for _ in range(rng.randint(4, 7)):
                t += gap()
                steps.append(Step(t, "status"))
                if rng.random() < 0.7:
                    t += gap() + rng.uniform(20, 90)  # typing takes a while
                    n += 1
                    steps.append(Step(t, "reply", f"Reply {seed}-{n}: that matches what I have seen, thanks."))
            if rng.random() < 0.3:
                t += gap()
                steps.append(Step(t, "profile"))
            if rng.random() < 0.9:
                t += gap() + rng.uniform(30, 180)
                n += 1
                steps.append(Step(t, "post", f"Post {seed}-{n}: a small habit that helped me this week."))
    return sorted(steps, key=lambda s: s.at)
