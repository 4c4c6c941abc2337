"""What the poster does after a write fails: read back, retry later with backoff, or give up (PostFailed).

A write that failed *after* the click may still be on X, so some failures are ambiguous and must be
reconciled (own-timeline read-back) before any retry; X's "Whoops! You already said that." is one of them.
Errors where X visibly refused the write (limits, blocks, lock, login page) posted nothing.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from libs.contracts.gateway import UNSENT_CODES

# X refused in words or by redirect before anything was created: no read-back needed. The gateway's own
# refusals (kill switch, live guard, content limits, budget) and a request no gateway took never reached X.
REFUSED = frozenset({"rate_limited", "daily_limit", "automation_block", "locked", "session_expired"}) | UNSENT_CODES


def needs_readback(error_code: str) -> bool:
    """Whether the write may have happened despite the error (unknown codes are treated as ambiguous)."""
    return error_code not in REFUSED


@dataclass(frozen=True)
class RetryLater:
    not_before: datetime
    attempts: int


@dataclass(frozen=True)
class GiveUp:
    """Becomes PostFailed(reason, retryable, attempts)."""

    reason: str
    retryable: bool
    attempts: int
    # True when the error was retryable but the attempts ran out.
    exhausted: bool = False


@dataclass(frozen=True)
class RetryPolicy:
    max_attempts: int = 3
    backoff: timedelta = timedelta(minutes=5)
    max_backoff: timedelta = timedelta(hours=1)

    def after_failure(
        self, *, attempts: int, error_code: str, retryable: bool, now: datetime
    ) -> RetryLater | GiveUp:
        """``attempts`` counts the attempts made so far, this one included.

        The backoff doubles per attempt (5, 10, 20 min... by default) so a struggling X is not hammered.
        """
        if not retryable:
            return GiveUp(reason=error_code, retryable=False, attempts=attempts)
        if attempts >= self.max_attempts:
            return GiveUp(reason=error_code, retryable=True, attempts=attempts, exhausted=True)
        delay = min(self.backoff * (2 ** max(0, attempts - 1)), self.max_backoff)
        return RetryLater(not_before=now + delay, attempts=attempts)
