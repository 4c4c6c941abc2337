"""Account risk: how warnings from X slow or stop the poster's writes.

Three effects, from mild to hard:
- a **risk level** (NORMAL..SEVERE) that lengthens spacing and lowers caps (pacing.PacingPolicy.under). Each
  warning raises it one step (at least to the warning's floor); it falls back one step per cooling period
  without warnings. The level is computed from (level, raised_at, now), so no decay job is needed.
- a **hold**: no writes until a time (rate_limited, daily_limit, the automation_block ladder, a crash loop).
- a **halt**: no writes until an operator resumes (locked, session_expired), because neither heals by waiting.

State is plain data with ``to_dict``/``from_dict`` for the service to persist; the policy (durations) is
configuration and is not persisted with it.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta
from enum import IntEnum
from typing import Any, Literal

Signal = Literal["automation_block", "daily_limit", "rate_limited", "locked", "session_expired"]
WARNINGS: frozenset[str] = frozenset({"automation_block", "daily_limit", "rate_limited"})
HALTS: frozenset[str] = frozenset({"locked", "session_expired"})


class RiskLevel(IntEnum):
    NORMAL = 0
    ELEVATED = 1
    HIGH = 2
    SEVERE = 3


# The level a warning raises the account to at least; a repeated warning climbs further.
WARNING_FLOOR: dict[str, RiskLevel] = {
    "rate_limited": RiskLevel.ELEVATED,
    "daily_limit": RiskLevel.HIGH,
    "automation_block": RiskLevel.HIGH,
}


@dataclass(frozen=True)
class RiskPolicy:
    cooling: timedelta = timedelta(hours=6)
    rate_limited_hold: timedelta = timedelta(minutes=15)
    daily_limit_hold: timedelta = timedelta(hours=6)
    # The legacy ladder: 30 min after the first block, 2 h after a second within 6 h, 12 h after a third
    # within 24 h.
    automation_holds: tuple[timedelta, timedelta, timedelta] = (
        timedelta(minutes=30),
        timedelta(hours=2),
        timedelta(hours=12),
    )
    automation_second_within: timedelta = timedelta(hours=6)
    automation_third_within: timedelta = timedelta(hours=24)
    crash_loop_starts: int = 3
    crash_loop_window: timedelta = timedelta(minutes=15)
    crash_loop_hold: timedelta = timedelta(minutes=30)


@dataclass(frozen=True)
class RiskChange:
    """What one signal did, for the service to log, alert on and expose as metrics."""

    signal: str
    level: RiskLevel
    hold_until: datetime | None
    halted: bool


@dataclass
class AccountRisk:
    policy: RiskPolicy = field(default_factory=RiskPolicy)
    raised_level: RiskLevel = RiskLevel.NORMAL
    raised_at: datetime | None = None
    hold_until: datetime | None = None
    hold_reason: str | None = None
    halted_reason: str | None = None
    automation_blocks: list[datetime] = field(default_factory=list)
    starts: list[datetime] = field(default_factory=list)

    # ------------------------------------------------------------ questions

    def level(self, now: datetime) -> RiskLevel:
        if self.raised_at is None:
            return RiskLevel.NORMAL
        cooled = int((now - self.raised_at) / self.policy.cooling)
        return RiskLevel(max(RiskLevel.NORMAL, self.raised_level - max(0, cooled)))

    def held(self, now: datetime) -> bool:
        return self.hold_until is not None and now < self.hold_until

    @property
    def halted(self) -> bool:
        return self.halted_reason is not None

    # ------------------------------------------------------------ signals

    def record_signal(self, signal: str, now: datetime) -> RiskChange:
        """Apply a warning or halting error reported by the gateway for a write."""
        if signal in HALTS:
            self.halted_reason = signal
            return RiskChange(signal, self.level(now), self.hold_until, halted=True)
        if signal not in WARNINGS:
            raise ValueError(f"not a risk signal: {signal!r}")
        self.raised_level = RiskLevel(min(RiskLevel.SEVERE, max(WARNING_FLOOR[signal], self.level(now) + 1)))
        self.raised_at = now
        self._hold(now + self._hold_for(signal, now), signal)
        return RiskChange(signal, self.raised_level, self.hold_until, halted=self.halted)

    def record_start(self, now: datetime) -> RiskChange | None:
        """Note a start of the poster; a crash loop (N starts within the window) holds writes."""
        window_start = now - self.policy.crash_loop_window
        self.starts = [t for t in self.starts if t > window_start] + [now]
        if len(self.starts) < self.policy.crash_loop_starts:
            return None
        self._hold(now + self.policy.crash_loop_hold, "crash_loop")
        return RiskChange("crash_loop", self.level(now), self.hold_until, halted=self.halted)

    def resume(self) -> None:
        """An operator's resume clears a halt. Holds and the level stay: they expire on their own, and X's
        warnings are no less true because a person looked at the account."""
        self.halted_reason = None

    # ------------------------------------------------------------ internals

    def _hold_for(self, signal: str, now: datetime) -> timedelta:
        if signal == "rate_limited":
            return self.policy.rate_limited_hold
        if signal == "daily_limit":
            return self.policy.daily_limit_hold
        p = self.policy
        horizon = max(p.automation_second_within, p.automation_third_within)
        self.automation_blocks = [t for t in self.automation_blocks if t > now - horizon] + [now]
        within_third = [t for t in self.automation_blocks if t > now - p.automation_third_within]
        within_second = [t for t in self.automation_blocks if t > now - p.automation_second_within]
        if len(within_third) >= 3:
            return p.automation_holds[2]
        if len(within_second) >= 2:
            return p.automation_holds[1]
        return p.automation_holds[0]

    def _hold(self, until: datetime, reason: str) -> None:
        # A new hold never shortens a longer one already in force.
        if self.hold_until is None or until >= self.hold_until:
            self.hold_until = until
            self.hold_reason = reason

    # ------------------------------------------------------------ persistence

    def to_dict(self) -> dict[str, Any]:
        def iso(t: datetime | None) -> str | None:
            return t.isoformat() if t else None

        return {
            "raised_level": int(self.raised_level),
            "raised_at": iso(self.raised_at),
            "hold_until": iso(self.hold_until),
            "hold_reason": self.hold_reason,
            "halted_reason": self.halted_reason,
            "automation_blocks": [t.isoformat() for t in self.automation_blocks],
            "starts": [t.isoformat() for t in self.starts],
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any], policy: RiskPolicy | None = None) -> AccountRisk:
        def when(value: str | None) -> datetime | None:
            return datetime.fromisoformat(value) if value else None

        return cls(
            policy=policy or RiskPolicy(),
            raised_level=RiskLevel(int(data.get("raised_level", 0))),
            raised_at=when(data.get("raised_at")),
            hold_until=when(data.get("hold_until")),
            hold_reason=data.get("hold_reason"),
            halted_reason=data.get("halted_reason"),
            automation_blocks=[datetime.fromisoformat(t) for t in data.get("automation_blocks", [])],
            starts=[datetime.fromisoformat(t) for t in data.get("starts", [])],
        )
