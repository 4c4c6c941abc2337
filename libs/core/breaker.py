"""A circuit breaker on the Clock, shared by the gateway (per error family) and the poster.

closed --(N consecutive failures)--> open --(reset delay elapsed)--> half_open
half_open --(K successes)--> closed;  half_open --(a failure)--> open, with the reset delay doubled
(60 s -> 120 -> 240 -> 480 s at most). Closing resets the delay to its base.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any, Literal

from libs.core.clock import Clock

BreakerState = Literal["closed", "open", "half_open"]
STATE_CODE = {"closed": 0, "half_open": 1, "open": 2}


@dataclass
class CircuitBreaker:
    clock: Clock
    failure_threshold: int = 5
    base_reset: timedelta = timedelta(seconds=60)
    max_reset: timedelta = timedelta(seconds=480)
    half_open_successes: int = 1
    state: BreakerState = "closed"
    consecutive_failures: int = 0
    successes_in_half_open: int = 0
    reset_delay: timedelta = field(init=False)
    opened_at: datetime | None = None

    def __post_init__(self) -> None:
        self.reset_delay = self.base_reset

    def current(self) -> BreakerState:
        """The state now, moving open -> half_open once the reset delay has passed."""
        if self.state == "open" and self.opened_at is not None:
            if self.clock.now() - self.opened_at >= self.reset_delay:
                self.state = "half_open"
                self.successes_in_half_open = 0
        return self.state

    def allows(self) -> bool:
        return self.current() != "open"

    def retry_after(self) -> float:
        """Simulated seconds until a probe is allowed (0 when allowed now)."""
        if self.current() != "open" or self.opened_at is None:
            return 0.0
        return max(0.0, (self.opened_at + self.reset_delay - self.clock.now()).total_seconds())

    def record_success(self) -> None:
        state = self.current()
        self.consecutive_failures = 0
        if state == "half_open":
            self.successes_in_half_open += 1
            if self.successes_in_half_open >= self.half_open_successes:
                self.state = "closed"
                self.reset_delay = self.base_reset
                self.opened_at = None

    def record_failure(self) -> None:
        state = self.current()
        self.consecutive_failures += 1
        if state == "half_open":
            self.reset_delay = min(self.reset_delay * 2, self.max_reset)
            self._open()
        elif state == "closed" and self.consecutive_failures >= self.failure_threshold:
            self._open()

    def _open(self) -> None:
        self.state = "open"
        self.opened_at = self.clock.now()
        self.successes_in_half_open = 0

    def snapshot(self) -> dict[str, Any]:
        return {
            "state": self.current(),
            "consecutive_failures": self.consecutive_failures,
            "reset_delay_s": self.reset_delay.total_seconds(),
            "opened_at": self.opened_at.isoformat() if self.opened_at else None,
        }

    def restore(self, data: dict[str, Any]) -> None:
        self.state = data.get("state", "closed")
        self.consecutive_failures = int(data.get("consecutive_failures", 0))
        self.reset_delay = timedelta(seconds=float(data.get("reset_delay_s", self.base_reset.total_seconds())))
        opened = data.get("opened_at")
        self.opened_at = datetime.fromisoformat(opened) if opened else None
