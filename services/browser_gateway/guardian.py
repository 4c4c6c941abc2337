"""The account's guardian: what the gateway checks before it lets a write reach X, whoever asked (issue 18).

The gateway is the only component that touches X, so the account is protected here and not only in the poster,
which a raw NATS request to ``<ns>.browser.post_tweet`` bypasses. Before every write op, in this order, none of
which costs a navigation:

1. the live guard (libs/core/live_guard.py, the poster's rule): a target that is not a sandbox needs
   ``XBOT_LIVE=true``, else ``not_live``;
2. the content limits (libs/gates/limits.py, the poster's too): parts, 280 as X counts, no link, mention or
   cashtag in a reply to someone else, else ``invalid_content`` naming the limit;
3. the kill switch (read by the gateway, gateway.py; it fails closed), else ``writes_paused``;
4. the hard daily write caps, counting each thread part as a post as X counts it, else ``budget_exhausted``
   with when a write will fit again.

Pure: the gateway reads the clock and the switch and persists :meth:`AccountGuardian.to_dict` (guardian_store.py),
so the caps survive a restart (a crash loop must not reset them).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any, Literal

from libs.contracts.gateway import (
    DeleteTweetRequest, GatewayError, GatewayRequest, PostThreadRequest, PostTweetRequest, ReplyRequest,
)
from libs.core.live_guard import LiveGuardRefusal
from libs.gates.limits import ContentLimits, WriteKind, check_write
from services.browser_gateway.budget import ActivityBudget, new_uid, uid_of
from services.browser_gateway.risk import AccountRisk, RiskChange, RiskLevel, warning_of
from services.browser_gateway.settings import GatewaySettings

CapClass = Literal["posts", "replies", "deletes"]
DAY = timedelta(days=1)


@dataclass(frozen=True)
class WriteRecord:
    """Writes that may have reached X: ``count`` posts (thread parts) or replies at ``at``."""

    at: datetime
    cap: CapClass
    count: int
    # Which write this is: replicas merge their records as sets (guardian_store.py), and two writes of one kind
    # at the same instant are still two.
    uid: str = field(default_factory=new_uid)

    def as_list(self) -> list[Any]:
        return [self.at.isoformat(), self.cap, self.count, self.uid]

    @classmethod
    def from_list(cls, row: list[Any]) -> WriteRecord:
        return cls(datetime.fromisoformat(row[0]), row[1], int(row[2]), uid_of(row, 3))


@dataclass(frozen=True)
class WriteShape:
    """What a write request is, as the limits and caps see it."""

    kind: WriteKind | Literal["delete"]
    # The texts a write posts; a deletion's one "part" is the post it deletes (one unit of its cap).
    parts: list[str]
    cap: CapClass


def shape_of(request: GatewayRequest[Any], own_handle: str) -> WriteShape:
    if isinstance(request, PostTweetRequest):
        return WriteShape("post", [request.text], "posts")
    if isinstance(request, PostThreadRequest):
        return WriteShape("thread", list(request.parts), "posts")
    if isinstance(request, DeleteTweetRequest):
        return WriteShape("delete", [request.tweet_id], "deletes")
    if isinstance(request, ReplyRequest):
        # A reply to the account's own post is the next part of its thread: a post as X counts it.
        if request.author.lower() == own_handle.lower():
            return WriteShape("thread_part", [request.text], "posts")
        return WriteShape("reply", [request.text], "replies")
    raise TypeError(f"{request.OP} is not a write")


class AccountGuardian:
    def __init__(self, settings: GatewaySettings) -> None:
        self.settings = settings
        self.handle = settings.x_handle
        self.limits = ContentLimits(thread_max_parts=settings.thread_max_parts)
        self.caps: dict[CapClass, int] = {"posts": settings.hard_posts_per_day,
                                          "replies": settings.hard_replies_per_day,
                                          "deletes": settings.hard_deletes_per_day}
        try:
            self.target = settings.write_target(refusing="writes refused")
            self.not_live: str | None = None
        except LiveGuardRefusal as err:
            self.target = "refused"
            self.not_live = str(err)
        self.writes: list[WriteRecord] = []
        self.risk = AccountRisk(cooling=settings.risk_cooling)
        # Writes held since a session expired: the kill switch's revision then (0: unknown yet); only a later
        # write of the switch (the owner's `xbot resume`) lifts it, unless XBOT_SESSION_AUTO_RESUME is on.
        self.session_hold: int | None = None
        # The kill switch's revision when the account was locked: the owner's later `xbot resume` (they saw X let
        # the account in) makes the gateway look at once instead of at its next periodic login check.
        self.lock_revision = 0
        self.budget = ActivityBudget(settings.budget_limits(), settings.active_hours(),
                                     enabled=settings.activity_budget)
        # The level last published as AccountRiskChanged: a difference from risk.level(now) is a change to publish.
        self.published_level = RiskLevel.NORMAL

    # ------------------------------------------------------------ the risk level

    def check_not_locked(self, op: str) -> None:
        """A lock stops everything but the login check that looks for its end."""
        if self.risk.locked and op != "login_check":
            raise GatewayError("locked", f"{op} refused: the account is locked (since {self.risk.locked_since}); "
                                         "only a periodic login check runs until X lets it in again")

    def warned(self, code: str, message: str, now: datetime) -> RiskChange | None:
        warning = warning_of(code, message)
        return self.risk.signal(warning, now) if warning else None

    def pending_change(self, now: datetime) -> RiskChange | None:
        """The level now, when it differs from the last one published (a raise, a decay, a lock's end)."""
        level = self.risk.level(now)
        if level == self.published_level:
            return None
        signal = self.risk.last_signal if level > self.published_level or level == RiskLevel.SEVERE else None
        return RiskChange(level, self.published_level, signal)

    # ------------------------------------------------------------ checks before a write

    def check_static(self, request: GatewayRequest[Any]) -> WriteShape:
        """The live guard and the content limits: what no waiting changes."""
        if self.not_live is not None:
            raise GatewayError("not_live", self.not_live)
        shape = shape_of(request, self.handle)
        if shape.kind == "delete":
            return shape  # no text: no content limit applies
        broken = check_write(shape.kind, shape.parts, self.limits)
        if broken is not None:
            raise GatewayError("invalid_content", str(broken))
        return shape

    def check_caps(self, shape: WriteShape, now: datetime) -> None:
        """Room in the hard daily cap (rolling 24 h) for every part of this write, else ``budget_exhausted``."""
        share = self.risk.budget_share(now)
        cap = int(self.caps[shape.cap] * share)
        window = [w for w in self.writes if w.cap == shape.cap and w.at > now - DAY]
        used = sum(w.count for w in window)
        needed = len(shape.parts)
        if used + needed <= cap:
            return
        # The earliest time enough of the window's writes have left it.
        freed, retry_at = 0, now + DAY
        for w in sorted(window, key=lambda w: w.at):
            freed += w.count
            if used - freed + needed <= cap:
                retry_at = w.at + DAY
                break
        raise GatewayError(
            "budget_exhausted",
            f"hard cap: {used} {shape.cap} in the last 24 h, {needed} more would pass the gateway's limit of {cap} "
            f"(XBOT_HARD_{shape.cap.upper()}_PER_DAY x {share:g} at risk level {self.risk.level(now).name})",
            retry_after_s=max(1.0, (retry_at - now).total_seconds()))

    # ------------------------------------------------------------ what happened

    def record_write(self, shape: WriteShape, now: datetime) -> WriteRecord:
        """Counted before the write leaves (it may reach X even if its answer is lost)."""
        record = WriteRecord(now, shape.cap, len(shape.parts))
        self.writes = [w for w in self.writes if w.at > now - DAY] + [record]
        return record

    def forget_write(self, record: WriteRecord) -> None:
        """X refused before creating anything (a limit, a block, a lock, the login page)."""
        if record in self.writes:
            self.writes.remove(record)

    # ------------------------------------------------------------ status and persistence

    def used(self, now: datetime) -> dict[str, int]:
        return {cap: sum(w.count for w in self.writes if w.cap == cap and w.at > now - DAY) for cap in self.caps}

    def status(self, now: datetime) -> dict[str, Any]:
        used = self.used(now)
        return {"target": self.target, "not_live": self.not_live, "risk_level": self.risk.level(now).name,
                "writes_held_after_session_expiry": self.session_hold is not None,
                "risk_signal": self.risk.last_signal,
                "writes_24h": {cap: f"{used[cap]}/{limit}" for cap, limit in self.caps.items()},
                "thread_max_parts": self.limits.thread_max_parts,
                "budget": self.budget.status(now, self.risk.budget_share(now))}

    def to_dict(self) -> dict[str, Any]:
        return {"writes": [w.as_list() for w in self.writes], "risk": self.risk.to_dict(),
                "budget": self.budget.to_dict(), "session_hold": self.session_hold,
                "lock_revision": self.lock_revision,
                "published_level": int(self.published_level)}

    def restore(self, data: dict[str, Any]) -> None:
        self.writes = [WriteRecord.from_list(row) for row in data.get("writes", [])]
        self.risk = AccountRisk.from_dict(data.get("risk", {}), cooling=self.settings.risk_cooling)
        self.published_level = RiskLevel(int(data.get("published_level", 0)))
        self.budget.restore(data.get("budget", {}))
        self.session_hold = data.get("session_hold")
        self.lock_revision = int(data.get("lock_revision", 0))

    def merge(self, data: dict[str, Any], now: datetime) -> None:
        """Take in what another replica saved meanwhile: the union of both sides' records."""
        theirs = [WriteRecord.from_list(row) for row in data.get("writes", [])]
        self.writes = sorted(set(self.writes) | set(theirs), key=lambda w: w.at)
        self.budget.merge(data.get("budget", {}))
        if "risk" in data:
            other = AccountRisk.from_dict(data["risk"], cooling=self.settings.risk_cooling)
            self.risk.merge(other, now)
        self.published_level = RiskLevel(max(self.published_level, int(data.get("published_level", 0))))
