"""Settings of the poster (``XBOT_*``), and the domain policies they configure.

Durations are seconds (``_s``) so that an environment variable is a plain number. Defaults stay far below X's
published limits (2,400 posts a day, with half-hourly sub-limits): a slow account is recoverable, a locked one
may not be.
"""

from __future__ import annotations

from datetime import timedelta

from pydantic import Field, field_validator, model_validator

from libs.runtime.breaker import CircuitBreaker
from libs.runtime.clock import Clock
from libs.runtime.settings import CommonSettings
from services.poster.live_guard import parse_sandbox_hosts
from services.poster.pacing import Caps, PacingPolicy, QuietHours
from services.poster.retry import RetryPolicy
from services.poster.risk import RiskPolicy


def _s(seconds: float) -> timedelta:
    return timedelta(seconds=seconds)


class PosterSettings(CommonSettings):
    # Pacing and caps (rolling hour and rolling 24 h).
    posts_per_hour: int = Field(default=1, ge=0)
    replies_per_hour: int = Field(default=4, ge=0)
    posts_per_day: int = Field(default=12, ge=0)
    replies_per_day: int = Field(default=40, ge=0)
    # Between any two writes: min_spacing plus a random 0..spacing_jitter.
    min_spacing_s: float = Field(default=480, ge=0)
    spacing_jitter_s: float = Field(default=240, ge=0)
    # Optional quiet hours [start, end) in local time (UTC + offset); both unset = none.
    quiet_hours_start: int | None = Field(default=None, ge=0, le=23)
    quiet_hours_end: int | None = Field(default=None, ge=0, le=23)
    utc_offset_minutes: int = Field(default=0, ge=-14 * 60, le=14 * 60)

    # Retries of retryable failures.
    max_attempts: int = Field(default=3, ge=1)
    retry_backoff_s: float = Field(default=300, gt=0)
    retry_backoff_max_s: float = Field(default=3600, gt=0)

    # Breaker over consecutive write failures.
    breaker_failures: int = Field(default=5, ge=1)
    breaker_reset_s: float = Field(default=60, gt=0)
    breaker_reset_max_s: float = Field(default=480, gt=0)
    breaker_half_open_successes: int = Field(default=3, ge=1)

    # Account risk.
    risk_cooling_s: float = Field(default=6 * 3600, gt=0)
    risk_spacing_factor: float = Field(default=2.0, ge=1)
    risk_cap_factor: float = Field(default=0.5, gt=0, le=1)
    rate_limited_hold_s: float = Field(default=15 * 60, ge=0)
    daily_limit_hold_s: float = Field(default=6 * 3600, ge=0)
    automation_block_holds_s: tuple[float, float, float] = (30 * 60, 2 * 3600, 12 * 3600)
    crash_loop_starts: int = Field(default=3, ge=2)
    crash_loop_window_s: float = Field(default=15 * 60, gt=0)
    crash_loop_hold_s: float = Field(default=30 * 60, ge=0)

    # Live guard (services/poster/live_guard.py): writing anywhere but a sandbox needs XBOT_LIVE=true. A sandbox
    # is a loopback address or a host named in XBOT_X_SANDBOX_HOSTS (comma-separated, e.g. "sandbox" in compose).
    live: bool = False
    x_base_url: str = "http://127.0.0.1:8400"  # `xbot sandbox` listens there by default
    x_sandbox_hosts: str = ""
    # The account's handle: builds the url of TweetPosted and the read-back query of replies.
    x_handle: str = Field(default="xbot_demo", pattern=r"^[A-Za-z0-9_]{1,30}$")

    # The posting cycle (simulated seconds): pause/resume take effect within one cycle.
    cycle_s: float = Field(default=30, gt=0)
    # Real seconds after an intent before a read-back that finds nothing may conclude "not posted": until the
    # gateway's request could still be in flight (queue + op timeouts), its post may appear later.
    readback_grace_s_real: float = Field(default=420, ge=0)
    # Tweets read back per reconciliation (own timeline, or the reply search).
    readback_limit: int = Field(default=50, ge=1, le=100)
    # Real-time limit of one gateway request (must exceed the gateway's queue timeout plus one op).
    gateway_timeout_s_real: float = Field(default=420, gt=0)

    @field_validator("x_sandbox_hosts")
    @classmethod
    def _sandbox_hosts_are_host_names(cls, value: str) -> str:
        parse_sandbox_hosts(value)  # a URL, a port or a real X host stops start-up with the variable named
        return value

    @model_validator(mode="after")
    def _quiet_hours_complete(self) -> PosterSettings:
        if (self.quiet_hours_start is None) != (self.quiet_hours_end is None):
            raise ValueError("set both XBOT_QUIET_HOURS_START and XBOT_QUIET_HOURS_END, or neither")
        if self.quiet_hours_start is not None and self.quiet_hours_start == self.quiet_hours_end:
            raise ValueError("XBOT_QUIET_HOURS_START and XBOT_QUIET_HOURS_END must differ")
        return self

    def pacing(self) -> PacingPolicy:
        quiet = None
        if self.quiet_hours_start is not None and self.quiet_hours_end is not None:
            quiet = QuietHours(self.quiet_hours_start, self.quiet_hours_end,
                               timedelta(minutes=self.utc_offset_minutes))
        return PacingPolicy(
            content=Caps(self.posts_per_hour, self.posts_per_day),
            replies=Caps(self.replies_per_hour, self.replies_per_day),
            min_spacing=_s(self.min_spacing_s),
            max_jitter=_s(self.spacing_jitter_s),
            quiet_hours=quiet,
            risk_spacing_factor=self.risk_spacing_factor,
            risk_cap_factor=self.risk_cap_factor,
        )

    def risk_policy(self) -> RiskPolicy:
        first, second, third = (_s(s) for s in self.automation_block_holds_s)
        return RiskPolicy(
            cooling=_s(self.risk_cooling_s),
            rate_limited_hold=_s(self.rate_limited_hold_s),
            daily_limit_hold=_s(self.daily_limit_hold_s),
            automation_holds=(first, second, third),
            crash_loop_starts=self.crash_loop_starts,
            crash_loop_window=_s(self.crash_loop_window_s),
            crash_loop_hold=_s(self.crash_loop_hold_s),
        )

    def retry_policy(self) -> RetryPolicy:
        return RetryPolicy(
            max_attempts=self.max_attempts,
            backoff=_s(self.retry_backoff_s),
            max_backoff=_s(self.retry_backoff_max_s),
        )

    def breaker(self, clock: Clock) -> CircuitBreaker:
        return CircuitBreaker(
            clock=clock,
            failure_threshold=self.breaker_failures,
            base_reset=_s(self.breaker_reset_s),
            max_reset=_s(self.breaker_reset_max_s),
            half_open_successes=self.breaker_half_open_successes,
        )
