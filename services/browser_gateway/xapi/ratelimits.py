"""What X's rate-limit headers said, per endpoint: the API driver updates it from every answer and waits (or
refuses) before sending a request the window has no room for; the activity budget reads it.

X sends ``x-rate-limit-limit``, ``x-rate-limit-remaining`` and ``x-rate-limit-reset`` (Unix seconds when the
15-minute window ends) on every v2 answer, and on an answer to a post also the account's 24-hour posting limit
(``x-user-limit-24hour-remaining`` / ``-reset``), which the driver checks before the next post.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field


@dataclass
class Window:
    limit: int
    remaining: int
    reset_at: float  # Unix seconds on the Clock


@dataclass
class RateLimits:
    windows: dict[str, Window] = field(default_factory=dict)
    # The account's 24-hour posting window, when X has said (on an answer to a post).
    daily_posts: Window | None = None

    def update(self, endpoint: str, headers: Mapping[str, str]) -> Window | None:
        window = _window(headers, "x-rate-limit")
        if window is not None:
            self.windows[endpoint] = window
        daily = _window(headers, "x-user-limit-24hour")
        if daily is not None:
            self.daily_posts = daily
        return window

    def wait_s(self, endpoint: str, now: float, needed: int = 1) -> float:
        """Seconds until ``needed`` more requests fit the endpoint's window (0: now)."""
        window = self.windows.get(endpoint)
        if window is None or window.remaining >= needed or window.reset_at <= now:
            return 0.0
        return window.reset_at - now

    def daily_exhausted(self, now: float) -> bool:
        d = self.daily_posts
        return d is not None and d.remaining <= 0 and d.reset_at > now


def _window(headers: Mapping[str, str], prefix: str) -> Window | None:
    try:
        remaining = int(headers[f"{prefix}-remaining"])
        reset_at = float(headers[f"{prefix}-reset"])
    except (KeyError, ValueError):
        return None
    try:
        limit = int(headers.get(f"{prefix}-limit", remaining))
    except ValueError:
        limit = remaining
    return Window(limit=limit, remaining=remaining, reset_at=reset_at)


def seconds_until(headers: Mapping[str, str], names: tuple[str, ...], now: float) -> float | None:
    """Seconds from ``now`` to the first of the reset times X named (Unix seconds), None if it named none."""
    for name in names:
        try:
            return max(0.0, float(headers[name]) - now)
        except (KeyError, ValueError):
            continue
    return None
