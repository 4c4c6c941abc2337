"""How fast the poster may write: caps per rolling hour and day, minimum spacing with jitter, the account's quiet
hours (outside its active hours, libs.core.account).

Pure: every question takes the posting history and ``now`` explicitly. Content (posts and threads) and replies
have their own caps; spacing applies between any two writes, because a human does not post a reply seconds
after a post either. Jitter is drawn once per write (:meth:`PacingPolicy.record`) and stored with it, so asking
"when may I post next?" twice gives the same answer.
"""

from __future__ import annotations

import math
import random
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from typing import Literal

from libs.core.account import ActiveHours
from services.poster.risk import RiskLevel

Lane = Literal["content", "reply"]
LANES: tuple[Lane, ...] = ("content", "reply")  # also the priority order: content before replies

HOUR = timedelta(hours=1)
DAY = timedelta(days=1)


def lane_of(kind: str) -> Lane:
    """Posts and threads share the content caps; replies have their own."""
    return "reply" if kind == "reply" else "content"


@dataclass(frozen=True)
class WriteRecord:
    """One write that reached X, or may have (an attempt whose outcome is unknown counts too)."""

    lane: Lane
    at: datetime
    # Extra spacing after this write, drawn when it was recorded.
    jitter: timedelta = timedelta(0)


@dataclass(frozen=True)
class Caps:
    per_hour: int
    per_day: int

    def scaled(self, factor: float) -> Caps:
        # A lowered cap never reaches 0 unless configured 0: risk slows the account, it does not stop it
        # (stopping is the job of holds and halts in risk.py).
        def scale(cap: int) -> int:
            return 0 if cap == 0 else max(1, math.floor(cap * factor))

        return Caps(scale(self.per_hour), scale(self.per_day))


@dataclass(frozen=True)
class PacingPolicy:
    content: Caps
    replies: Caps
    min_spacing: timedelta
    max_jitter: timedelta = timedelta(0)
    # The account's active hours (libs.core.account): no writes outside them. None: writes all day.
    active_hours: ActiveHours | None = None
    # How risk slows writing: spacing is multiplied by spacing_factor ** level, caps by cap_factor ** level.
    risk_spacing_factor: float = 2.0
    risk_cap_factor: float = 0.5

    def caps(self, lane: Lane) -> Caps:
        return self.content if lane == "content" else self.replies

    def under(self, level: RiskLevel) -> PacingPolicy:
        """The policy in force at an account risk level: longer spacing and lower caps."""
        if level == RiskLevel.NORMAL:
            return self
        return replace(
            self,
            content=self.content.scaled(self.risk_cap_factor ** level),
            replies=self.replies.scaled(self.risk_cap_factor ** level),
            min_spacing=self.min_spacing * (self.risk_spacing_factor ** level),
            max_jitter=self.max_jitter * (self.risk_spacing_factor ** level),
        )

    def record(self, kind: str, at: datetime, rng: random.Random) -> WriteRecord:
        """The history entry for a write made at ``at``; the jitter comes from ``rng`` (injected for tests)."""
        jitter = timedelta(seconds=rng.uniform(0.0, self.max_jitter.total_seconds()))
        return WriteRecord(lane=lane_of(kind), at=at, jitter=jitter)

    def earliest(self, lane: Lane, history: Sequence[WriteRecord], now: datetime) -> datetime | None:
        """The earliest instant ≥ now at which one more write of ``lane`` keeps every cap and the spacing.

        ``None`` when the lane is switched off (a cap of 0).
        """
        caps = self.caps(lane)
        if caps.per_hour == 0 or caps.per_day == 0:
            return None
        lane_times = sorted(r.at for r in history if r.lane == lane)
        slot = max(
            now,
            _window_slot(lane_times, now, HOUR, caps.per_hour),
            _window_slot(lane_times, now, DAY, caps.per_day),
            self._spacing_slot(history, now),
        )
        if self.active_hours is not None:
            slot = self.active_hours.open_at(slot)
        return slot

    def _spacing_slot(self, history: Iterable[WriteRecord], now: datetime) -> datetime:
        last = max(history, key=lambda r: r.at, default=None)
        if last is None:
            return now
        return last.at + self.min_spacing + last.jitter


def _window_slot(times: Sequence[datetime], now: datetime, window: timedelta, cap: int) -> datetime:
    """When the number of writes in the rolling ``window`` drops below ``cap`` (``now`` if it already is).

    ``times`` is sorted. With n writes in the window the one that must leave it is the (n - cap)-th oldest;
    the window drops to cap - 1 writes once it is ``window`` old.
    """
    inside = [t for t in times if t > now - window]
    if len(inside) < cap:
        return now
    return inside[len(inside) - cap] + window
