"""When the owner's own post goes out: at a time the owner picks, or at "the next good slot", the start of the next
hour whose arm the learner's posterior rates best. Pure."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime, timedelta


def best_hour(hour_posterior: Mapping[str, Mapping[str, float]]) -> int | None:
    """The hour (0-23) with the highest posterior mean; None without a usable posterior."""
    rated = [(float(p.get("mean", 0.0)), int(arm)) for arm, p in hour_posterior.items() if arm.isdigit()
             and 0 <= int(arm) <= 23]
    return max(rated)[1] if rated else None


def next_good_slot(now: datetime, hour_posterior: Mapping[str, Mapping[str, float]]) -> datetime:
    """The next start of the best hour (today's when still ahead, else tomorrow's); within the best hour already,
    now. Without a posterior, now: the poster's pacing then chooses."""
    hour = best_hour(hour_posterior)
    if hour is None or now.hour == hour:
        return now
    start = now.replace(hour=hour, minute=0, second=0, microsecond=0)
    return start if start > now else start + timedelta(days=1)
