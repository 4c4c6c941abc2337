"""What the poster keeps about the account between cycles: the holds and halts X's answers to its own writes set,
its own write breaker, the kill switch's revision when the last halt began, and the account's risk level as the
browser gateway holds it (issue 18: one level for all traffic, published as AccountRiskChanged and projected into
``account_risk``; the poster follows it and keeps no level of its own).

Pure: the posting cycle asks it whether writes are blocked and at what risk level, and tells it what the gateway
answered; the store persists it as three JSON documents (``risk``, ``breaker``, ``halt``). Keeping the account's
side behind this one class is what lets the poster later follow the gateway's risk level instead of its own
(issue 18) without touching the cycle.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from libs.contracts.events import WritesHalted
from libs.core.breaker import CircuitBreaker
from services.poster.risk import HALTS, WARNINGS, AccountRisk, RiskChange, RiskLevel
from services.poster.scheduling import WriteBlock, write_block


@dataclass
class AccountState:
    risk: AccountRisk
    breaker: CircuitBreaker
    # The kill switch's revision when the current halt began (0: unknown yet): only a later write of the switch
    # (an operator's `xbot resume`) lifts the halt.
    halt_revision: int = 0
    # The gateway's level (0 NORMAL .. 3 SEVERE, 4 LOCKED), as last published.
    gateway_level: int = 0
    # Events about the account to publish with the next save of this state, in its transaction (the store
    # records them in the outbox): a halt is announced once, when it begins.
    announcements: list[WritesHalted] = field(default_factory=list)

    # ------------------------------------------------------------ questions

    def block(self, now: datetime, *, paused: bool) -> WriteBlock | None:
        return write_block(now, operator_paused=paused, risk=self.risk, breaker=self.breaker)

    def level(self, now: datetime) -> RiskLevel:
        """The gateway's level; a lock paces as SEVERE (the gateway refuses every write while it lasts)."""
        return RiskLevel(min(self.gateway_level, RiskLevel.SEVERE))

    @property
    def halted(self) -> bool:
        return self.risk.halted

    # ------------------------------------------------------------ what happened

    def signal(self, code: str, now: datetime, *, switch_revision: int) -> RiskChange | None:
        """Feed a gateway error into the account risk; the change when it was an X warning or halting error."""
        if code not in WARNINGS and code not in HALTS:
            return None
        was_halted = self.risk.halted
        change = self.risk.record_signal(code, now)
        if change.halted:
            self.halt_revision = switch_revision
            if not was_halted:
                self.announcements.append(WritesHalted(
                    reason=code, halted_at=now,
                    message=f"X answered {code}: every write stops until an operator runs `xbot resume`"))
        return change

    def record_start(self, now: datetime) -> RiskChange | None:
        """A start of the poster (the crash-loop rule); the change when it started a hold."""
        return self.risk.record_start(now)

    def follow_switch(self, *, paused: bool, revision: int) -> bool:
        """Lift a halt once the kill switch was written (resumed) after the halt began; True when the state changed.

        A readable switch always has a revision of 1 or more; 0 means it could not be read when the halt began
        (it fails closed). Then the first revision read afterwards is taken as the halt's, so that only a later
        write, never the switch becoming readable again, lifts the halt.
        """
        if not self.risk.halted or revision == 0:
            return False
        if self.halt_revision == 0:
            self.halt_revision = revision
            return True
        if paused or revision <= self.halt_revision:
            return False
        self.risk.resume()
        return True

    def write_succeeded(self) -> None:
        self.breaker.record_success()

    def write_failed(self) -> None:
        self.breaker.record_failure()

    # ------------------------------------------------------------ persistence

    def documents(self) -> dict[str, dict[str, Any]]:
        return {"risk": self.risk.to_dict(), "breaker": self.breaker.snapshot(),
                "halt": {"revision": self.halt_revision}}

    def restore(self, documents: Mapping[str, dict[str, Any]]) -> None:
        """Take over what ``documents`` (as :meth:`documents` wrote them) say; a missing one keeps its default."""
        self.risk = AccountRisk.from_dict(documents.get("risk", {}), self.risk.policy)
        if "breaker" in documents:
            self.breaker.restore(documents["breaker"])
        self.halt_revision = int(documents.get("halt", {}).get("revision", 0))
