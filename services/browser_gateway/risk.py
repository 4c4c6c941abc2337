"""One risk level for the account, for all traffic, held by the gateway (issue 18 item 3).

Any warning from X on a read or a write raises it: a rate limit (the reading limit's page included), the daily
limit, the automation notice, a login wall, "Something went wrong. Try reloading." when it repeats, and a lock.
Every class's activity budget shrinks with the level (:data:`BUDGET_SHARE`); a lock stops everything but a
periodic login check, which ends it when X lets the account in again. The level falls one step per cooling
period (``XBOT_RISK_COOLING``, 6 h) without warnings; it is computed from (level, raised_at, now), so no job is
needed to decay it, only to publish the change (gateway.py publishes ``AccountRiskChanged`` whenever
:meth:`AccountRisk.level` differs from what it last published).

Pure and serialisable: the gateway keeps it in its KV entry with the caps and the budget, so a restart (a crash
loop) does not reset it.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta
from enum import IntEnum
from typing import Any


class RiskLevel(IntEnum):
    NORMAL = 0
    ELEVATED = 1
    HIGH = 2
    SEVERE = 3
    LOCKED = 4


# The share of every class's activity budget left at each level (the write caps shrink alike).
BUDGET_SHARE: dict[RiskLevel, float] = {
    RiskLevel.NORMAL: 1.0, RiskLevel.ELEVATED: 0.5, RiskLevel.HIGH: 0.25, RiskLevel.SEVERE: 0.1,
    RiskLevel.LOCKED: 0.0,
}
# The level a warning raises the account to at least; a repeated warning climbs one step further.
WARNING_FLOOR: dict[str, RiskLevel] = {
    "rate_limited": RiskLevel.ELEVATED,
    "session_expired": RiskLevel.ELEVATED,  # a login wall
    "something_went_wrong": RiskLevel.ELEVATED,
    "daily_limit": RiskLevel.HIGH,
    "automation_block": RiskLevel.HIGH,
}
# "Something went wrong. Try reloading." is also what a slow page says once: it warns when it repeats.
WENT_WRONG_REPEATS = 3
WENT_WRONG_WITHIN = timedelta(minutes=15)


def warning_of(code: str, message: str) -> str | None:
    """The warning an op's typed error carries, if it is one (locked included); None for the others."""
    if code in WARNING_FLOOR or code == "locked":
        return code
    if code == "timeout" and "something went wrong" in message.lower():
        return "something_went_wrong"
    return None


@dataclass(frozen=True)
class RiskChange:
    level: RiskLevel
    previous: RiskLevel
    signal: str | None


@dataclass
class AccountRisk:
    cooling: timedelta = timedelta(hours=6)
    raised: RiskLevel = RiskLevel.NORMAL
    raised_at: datetime | None = None
    locked_since: datetime | None = None
    last_signal: str | None = None
    went_wrong: list[datetime] = field(default_factory=list)

    def level(self, now: datetime) -> RiskLevel:
        if self.locked_since is not None:
            return RiskLevel.LOCKED
        if self.raised_at is None:
            return RiskLevel.NORMAL
        cooled = max(0, int((now - self.raised_at) / self.cooling))
        return RiskLevel(max(RiskLevel.NORMAL, self.raised - cooled))

    @property
    def locked(self) -> bool:
        return self.locked_since is not None

    def budget_share(self, now: datetime) -> float:
        return BUDGET_SHARE[self.level(now)]

    def signal(self, warning: str, now: datetime) -> RiskChange | None:
        """Apply one warning (:func:`warning_of`); the change of level, or None when it did not raise it."""
        before = self.level(now)
        if warning == "locked":
            self.locked_since = self.locked_since or now
        elif warning == "something_went_wrong":
            self.went_wrong = [t for t in self.went_wrong if t > now - WENT_WRONG_WITHIN] + [now]
            if len(self.went_wrong) < WENT_WRONG_REPEATS:
                return None
            self.went_wrong = []
            self._raise(WARNING_FLOOR[warning], before, now)
        else:
            self._raise(WARNING_FLOOR[warning], before, now)
        self.last_signal = warning
        after = self.level(now)
        return RiskChange(after, before, warning)

    def _raise(self, floor: RiskLevel, before: RiskLevel, now: datetime) -> None:
        self.raised = RiskLevel(min(RiskLevel.SEVERE, max(floor, before + 1)))
        self.raised_at = now

    def unlocked(self, now: datetime) -> RiskChange | None:
        """A login check got in: the lock is over, and the account starts again from SEVERE (then cools)."""
        if self.locked_since is None:
            return None
        self.locked_since = None
        self.raised, self.raised_at, self.last_signal = RiskLevel.SEVERE, now, "unlocked"
        return RiskChange(RiskLevel.SEVERE, RiskLevel.LOCKED, "unlocked")

    # ------------------------------------------------------------ persistence

    def to_dict(self) -> dict[str, Any]:
        def iso(t: datetime | None) -> str | None:
            return t.isoformat() if t else None

        return {"raised": int(self.raised), "raised_at": iso(self.raised_at), "locked_since": iso(self.locked_since),
                "last_signal": self.last_signal, "went_wrong": [t.isoformat() for t in self.went_wrong]}

    @classmethod
    def from_dict(cls, data: dict[str, Any], *, cooling: timedelta) -> AccountRisk:
        def when(value: str | None) -> datetime | None:
            return datetime.fromisoformat(value) if value else None

        return cls(cooling=cooling, raised=RiskLevel(int(data.get("raised", 0))), raised_at=when(data.get("raised_at")),
                   locked_since=when(data.get("locked_since")), last_signal=data.get("last_signal"),
                   went_wrong=[datetime.fromisoformat(t) for t in data.get("went_wrong", [])])

    def merge(self, other: AccountRisk, now: datetime) -> None:
        """Another replica's view: the higher level wins, a lock on either side holds."""
        if other.locked_since and not self.locked_since:
            self.locked_since = other.locked_since
        if other.level(now) > self.level(now):
            self.raised, self.raised_at, self.last_signal = other.raised, other.raised_at, other.last_signal
