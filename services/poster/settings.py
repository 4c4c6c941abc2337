"""Settings of the poster (``XBOT_*``), and the domain policies they configure.

Durations are ``timedelta``: ``XBOT_MIN_SPACING=PT8M`` or a number of seconds (``480``). Each duration was once
a number of seconds named ``*_S`` (``XBOT_MIN_SPACING_S``, ``XBOT_CYCLE_S``, ``XBOT_READBACK_GRACE_S_REAL``):
those names are still read (``RENAMED``, libs.core.settings), so deployments keep working; when both are set the
new name wins. Defaults stay far
below X's published limits (2,400 posts a day, with half-hourly sub-limits): a slow account is recoverable, a
locked one may not be.
"""

from __future__ import annotations

from datetime import timedelta

from typing import ClassVar

from pydantic import Field

from libs.core.breaker import CircuitBreaker
from libs.core.clock import Clock
from libs.core.live_guard import WriteTargetSettings
from libs.core.settings import Duration, Unit
from services.poster.pacing import Caps, PacingPolicy
from services.poster.retry import RetryPolicy
from services.poster.risk import RiskPolicy

ZERO = timedelta(0)


class PosterSettings(WriteTargetSettings):
    # The live guard, the handle and the thread maximum (XBOT_LIVE, XBOT_X_BASE_URL, XBOT_X_SANDBOX_HOSTS,
    # XBOT_X_HANDLE, XBOT_THREAD_MAX_PARTS) are libs/core/live_guard.py's, shared with the gateway.
    RENAMED: ClassVar[dict[str, tuple[str, Unit | None]]] = {
        "min_spacing": ("XBOT_MIN_SPACING_S", "s"),
        "spacing_jitter": ("XBOT_SPACING_JITTER_S", "s"),
        "retry_backoff": ("XBOT_RETRY_BACKOFF_S", "s"),
        "retry_backoff_max": ("XBOT_RETRY_BACKOFF_MAX_S", "s"),
        "breaker_reset": ("XBOT_BREAKER_RESET_S", "s"),
        "breaker_reset_max": ("XBOT_BREAKER_RESET_MAX_S", "s"),
        "risk_cooling": ("XBOT_RISK_COOLING_S", "s"),
        "rate_limited_hold": ("XBOT_RATE_LIMITED_HOLD_S", "s"),
        "daily_limit_hold": ("XBOT_DAILY_LIMIT_HOLD_S", "s"),
        "automation_block_holds": ("XBOT_AUTOMATION_BLOCK_HOLDS_S", "s"),
        "crash_loop_window": ("XBOT_CRASH_LOOP_WINDOW_S", "s"),
        "crash_loop_hold": ("XBOT_CRASH_LOOP_HOLD_S", "s"),
        "posting_cycle": ("XBOT_CYCLE_S", "s"),
        "readback_grace_real": ("XBOT_READBACK_GRACE_S_REAL", "s"),
    }

    # The caps on posts and replies are the account's (libs.core.account): the planner reads the same ones.
    # Between any two writes: min_spacing plus a random 0..spacing_jitter.
    min_spacing: Duration = Field(default=timedelta(minutes=8), ge=ZERO)
    spacing_jitter: Duration = Field(default=timedelta(minutes=4), ge=ZERO)
    # No writes outside the account's active hours (libs.core.account: XBOT_ACTIVE_HOURS_START/_END in
    # XBOT_ACCOUNT_TIMEZONE), the same hours the gateway reads in and the planner schedules posts in.

    # Retries of retryable failures.
    max_attempts: int = Field(default=3, ge=1)
    retry_backoff: Duration = Field(default=timedelta(minutes=5), gt=ZERO)
    retry_backoff_max: Duration = Field(default=timedelta(hours=1), gt=ZERO)

    # Breaker over consecutive write failures.
    breaker_failures: int = Field(default=5, ge=1)
    breaker_reset: Duration = Field(default=timedelta(minutes=1), gt=ZERO)
    breaker_reset_max: Duration = Field(default=timedelta(minutes=8), gt=ZERO)
    breaker_half_open_successes: int = Field(default=3, ge=1)

    # Account risk.
    risk_cooling: Duration = Field(default=timedelta(hours=6), gt=ZERO)
    risk_spacing_factor: float = Field(default=2.0, ge=1)
    risk_cap_factor: float = Field(default=0.5, gt=0, le=1)
    rate_limited_hold: Duration = Field(default=timedelta(minutes=15), ge=ZERO)
    daily_limit_hold: Duration = Field(default=timedelta(hours=6), ge=ZERO)
    # After the first automation block, a second within 6 h, a third within 24 h (XBOT_..._HOLDS='[1800,7200,43200]'
    # or '["PT30M","PT2H","PT12H"]').
    automation_block_holds: tuple[Duration, Duration, Duration] = Field(
        default=(timedelta(minutes=30), timedelta(hours=2), timedelta(hours=12)))
    crash_loop_starts: int = Field(default=3, ge=2)
    crash_loop_window: Duration = Field(default=timedelta(minutes=15), gt=ZERO)
    crash_loop_hold: Duration = Field(default=timedelta(minutes=30), ge=ZERO)

    # The posting cycle (simulated time): pause/resume take effect within one cycle.
    posting_cycle: Duration = Field(default=timedelta(seconds=30), gt=ZERO)
    # Real time after an intent before a read-back that finds nothing may conclude "not posted": until the
    # gateway's request could still be in flight (queue + op timeouts), its post may appear later.
    readback_grace_real: Duration = Field(default=timedelta(minutes=7), ge=ZERO)
    # Real time after the gateway answered `timeout` (X's "Something went wrong", an op it cancelled over its time
    # limit) before a read-back that finds nothing may conclude: nothing runs at the gateway any more, but a
    # request already sent may still be landing on X.
    readback_settle_real: Duration = Field(default=timedelta(seconds=30), ge=ZERO)
    # Tweets read back per reconciliation (own timeline, or the reply search).
    readback_limit: int = Field(default=50, ge=1, le=100)

    def pacing(self) -> PacingPolicy:
        return PacingPolicy(
            content=Caps(self.posts_per_hour, self.posts_per_day),
            replies=Caps(self.replies_per_hour, self.replies_per_day),
            min_spacing=self.min_spacing,
            max_jitter=self.spacing_jitter,
            active_hours=self.active_hours(),
            risk_spacing_factor=self.risk_spacing_factor,
            risk_cap_factor=self.risk_cap_factor,
        )

    def risk_policy(self) -> RiskPolicy:
        return RiskPolicy(
            cooling=self.risk_cooling,
            rate_limited_hold=self.rate_limited_hold,
            daily_limit_hold=self.daily_limit_hold,
            automation_holds=self.automation_block_holds,
            crash_loop_starts=self.crash_loop_starts,
            crash_loop_window=self.crash_loop_window,
            crash_loop_hold=self.crash_loop_hold,
        )

    def retry_policy(self) -> RetryPolicy:
        return RetryPolicy(
            max_attempts=self.max_attempts,
            backoff=self.retry_backoff,
            max_backoff=self.retry_backoff_max,
        )

    def breaker(self, clock: Clock) -> CircuitBreaker:
        return CircuitBreaker(
            clock=clock,
            failure_threshold=self.breaker_failures,
            base_reset=self.breaker_reset,
            max_reset=self.breaker_reset_max,
            half_open_successes=self.breaker_half_open_successes,
        )
