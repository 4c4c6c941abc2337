"""How one demo run is timed and configured. Pure: no I/O.

The simulated period must fit the real budget on a small machine, so the clock runs ``time_scale`` times faster
than real time. Service settings are simulated durations on that clock; at a few hundred times real speed their
defaults (a 30 s posting cycle, a 60 s browser queue timeout) would shrink to fractions of a real second, so the
demo raises each one to a sane real-time floor. Nothing here changes what a service decides, only how often it
wakes up and how long it waits for the one browser.
"""

from __future__ import annotations

import json
import random
from dataclasses import dataclass

from pydantic import TypeAdapter

from libs.core.settings import Duration

# Real seconds spent outside the simulated period: sandbox, Chromium login, provisioning and every service's
# start-up until it answers /ready before it (the period starts then); SIGTERM grace, last reads and the report
# after it. Measured on the 2-core CI machine under load, rounded up (eight services: 79 s at a load average of 8).
STARTUP_RESERVE_S = 90.0
SHUTDOWN_RESERVE_S = 25.0
# Share of the remaining budget given to the simulated period (the rest absorbs a slow start).
HEADROOM = 0.85
MIN_RUN_S = 10.0
MAX_SCALE = 100_000.0  # CommonSettings.time_scale's upper bound

HANDLE = "xbot_demo"
SANDBOX_PASSWORD = "demo-password"


@dataclass(frozen=True)
class DemoPlan:
    hours: float = 72.0
    minutes: float = 10.0
    seed: int = 42
    kills: int = 0  # services SIGKILLed at random moments of the period (chaos, issue 10); 0 = none
    # A fixed clock speed instead of the one that fits the period into ``minutes`` (bench/safety.py: runs of
    # different lengths at the same speed; ``minutes`` is then only the real-time limit).
    scale: float | None = None
    # How the gateway reaches the sandbox's X: its web client in Chromium, or its X API (reads and writes both).
    driver: str = "browser"
    # XBOT_APPROVAL for the run: none by default (the sandbox demo posts on its own); all or posts make the
    # poster wait for the owner's approval in the console.
    approval: str = "none"

    def __post_init__(self) -> None:
        if self.driver not in ("browser", "api"):
            raise ValueError("--driver is browser or api")
        if self.hours <= 0:
            raise ValueError("--hours must be positive")
        if self.approval not in ("all", "posts", "none"):
            raise ValueError("--approval is all, posts or none")
        if self.kills < 0:
            raise ValueError("--kills must not be negative")
        if self.minutes * 60 < STARTUP_RESERVE_S + SHUTDOWN_RESERVE_S + MIN_RUN_S:
            need = (STARTUP_RESERVE_S + SHUTDOWN_RESERVE_S + MIN_RUN_S) / 60
            raise ValueError(f"--minutes must be at least {need:.2f}: start-up and shutdown alone take about "
                             f"{STARTUP_RESERVE_S + SHUTDOWN_RESERVE_S:.0f} real seconds")
        if self.time_scale > MAX_SCALE:
            raise ValueError(f"{self.hours} simulated hours in {self.minutes} real minutes needs a time scale "
                             f"above {MAX_SCALE:.0f}; give more minutes or fewer hours")

    @property
    def run_real_s(self) -> float:
        """Real seconds the simulated period is planned to take."""
        if self.scale:
            return self.hours * 3600 / self.scale
        return max(MIN_RUN_S, (self.minutes * 60 - STARTUP_RESERVE_S - SHUTDOWN_RESERVE_S) * HEADROOM)

    def period_deadline(self, t0: float, period_start: float) -> float:
        """When (real time) the simulated period must have ended, for a run that started at ``t0`` and whose
        period starts at ``period_start`` (every service ready): within ``minutes`` (less the shutdown), unless
        the start took more than its reserve (a slow or loaded machine: 160-175 s against 90 on one, and the period
        then ran out of real time a third unsimulated); the period keeps its planned real time then, and the run
        ends late rather than leave it unfinished."""
        return max(self.budget_deadline(t0), period_start + self.run_real_s / HEADROOM)

    def budget_deadline(self, t0: float) -> float:
        """When the period must have ended for the run to stop within ``minutes``."""
        return t0 + self.minutes * 60 - SHUTDOWN_RESERVE_S

    @property
    def time_scale(self) -> float:
        return self.scale or self.hours * 3600 / self.run_real_s

    def kill_schedule(self, services: tuple[str, ...]) -> list[tuple[float, str]]:
        """(real seconds after the period starts, service) for each kill, in time order, from the seed.

        Services are drawn in shuffled rounds, so every one is hit before any is hit twice; moments are uniform
        over the first 80 % of the period, so the last victim has time to come back before the invariants are
        read.
        """
        rng = random.Random(f"kills:{self.seed}")
        victims: list[str] = []
        while len(victims) < self.kills:
            round_ = list(services)
            rng.shuffle(round_)
            victims += round_
        moments = sorted(rng.uniform(0.02, 0.8) * self.run_real_s for _ in range(self.kills))
        return list(zip(moments, victims[:self.kills], strict=True))

    def real_floor(self, default_sim_s: float, real_s: float) -> float:
        """A simulated duration that is at least ``real_s`` real seconds at this scale."""
        return max(default_sim_s, real_s * self.time_scale)

    def tuning_env(self, first_checkpoint_s: float = 3600.0) -> dict[str, str]:
        """Settings (``XBOT_*``) that keep the services' waits and wake-ups sane in real time at this scale.
        ``first_checkpoint_s``: the scraper's first metric read (simulated seconds after a post)."""
        f = self.real_floor
        # The scraper's interval may not exceed its first checkpoint: it must look often enough (and a larger one
        # stops the scraper at start).
        scrape = min(first_checkpoint_s, f(300, 5))
        values = {
            # browser_gateway: a request may wait minutes of real time for the one browser, and an idle context
            # should not be closed between two operations a real second apart.
            "XBOT_QUEUE_TIMEOUT_P0": f(60, 120), "XBOT_QUEUE_TIMEOUT_P1": f(120, 180),
            "XBOT_QUEUE_TIMEOUT_P2": f(300, 240), "XBOT_CONTEXT_IDLE": f(300, 300),
            # poster: one cycle every 2 real seconds is plenty for pacing measured in simulated minutes.
            "XBOT_POSTING_CYCLE": f(30, 2),
            # planner: keep the queue topped up without calling the LLM in a tight loop.
            "XBOT_PLAN_INTERVAL": f(30 * 60, 10),
            # scraper and harvester: every read is a page in the one browser, so runs are spaced in real time
            # and kept small; posting (P0) must not starve behind them.
            "XBOT_SCRAPE_INTERVAL": scrape, "XBOT_FOLLOWERS_INTERVAL": f(1800, 20),
            "XBOT_FOLLOWERS_READ_ITEMS_MAX": 10,
            # A harvest round at least 15 real seconds apart: at 600x every 2.5 simulated hours. Spaced by a
            # minute (10 simulated hours) the rounds found their targets in lumps the poster could not reply to
            # within a reply's 3 hours (16 of 17 expired in an earlier 7-day run); the budget, not the interval,
            # bounds how much they search.
            "XBOT_HARVEST_INTERVAL": f(1800, 15), "XBOT_DISCOVERY_INTERVAL": f(5400, 120),
            "XBOT_HARVEST_PROFILE_READS": 5, "XBOT_HARVEST_DELETION_CHECKS": 5, "XBOT_DISCOVERY_MAX_PROFILES": 5,
        }
        # Durations (every one a timedelta setting) in ISO 8601, counts as integers.
        counts = {"XBOT_FOLLOWERS_READ_ITEMS_MAX", "XBOT_HARVEST_PROFILE_READS", "XBOT_HARVEST_DELETION_CHECKS",
                  "XBOT_DISCOVERY_MAX_PROFILES"}
        return {k: str(int(v)) if k in counts else f"PT{round(v)}S" for k, v in values.items()}


def first_checkpoint_s(env: dict[str, str]) -> float:
    """The scraper's first checkpoint age (simulated seconds) as the operator set it, else its default (1 h). A value
    the scraper would refuse is left to the scraper, which stops at start naming the variable."""
    try:
        if raw := env.get("XBOT_SCRAPE_CHECKPOINTS"):
            return TypeAdapter(tuple[Duration, ...]).validate_json(raw)[0].total_seconds()
        if raw := env.get("XBOT_SCRAPE_CHECKPOINT_HOURS"):
            return float(json.loads(raw)[0]) * 3600
    except (ValueError, TypeError, IndexError):
        pass
    return 3600.0
