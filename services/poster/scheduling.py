"""What the poster does next: post an item now, expire one, or wait until a time.

The service loads a snapshot of its posting queue and its write history from Postgres, asks :func:`next_due`,
does what the decision says, records the outcome and asks again. Nothing here does I/O or reads a clock.

Items with an open attempt (outcome unknown) must be reconciled before they appear in the snapshot again; a
thread that is partly on X comes back with ``partially_posted=True`` and is completed ahead of everything else,
since caps and spacing already counted it when its first part went out.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Literal

from libs.contracts.events import ContentQueued
from libs.core.breaker import CircuitBreaker
from services.poster.pacing import LANES, PacingPolicy, WriteRecord, lane_of
from services.poster.risk import AccountRisk

Withdrawal = Literal["rejected", "conversation_deleted"]


@dataclass(frozen=True)
class QueuedItem:
    content_id: str
    kind: str  # "post" | "thread" | "reply"
    scheduled_for: datetime
    expires_at: datetime
    attempts: int = 0
    # Set by the retry backoff.
    not_before: datetime | None = None
    partially_posted: bool = False
    # Waiting for the owner's approval (XBOT_APPROVAL): never posted, still expired as it would be.
    held: bool = False
    # Why it ends at once, never posted, as PostFailed with this reason: "rejected" (the owner refused it in the
    # console), "conversation_deleted" (an answer under a post of ours since deleted or gone from X).
    withdrawn: Withdrawal | None = None

    @classmethod
    def from_queued(cls, event: ContentQueued) -> QueuedItem:
        return cls(content_id=event.content_id, kind=event.kind, scheduled_for=event.scheduled_for,
                   expires_at=event.expires_at)

    @property
    def ready_at(self) -> datetime:
        return max(self.scheduled_for, self.not_before or self.scheduled_for)

    def expired(self, now: datetime) -> bool:
        # Half a thread on X is worse than a late second half: a started item is finished, not expired.
        return not self.partially_posted and self.expires_at <= now


@dataclass(frozen=True)
class PostNow:
    item: QueuedItem


@dataclass(frozen=True)
class Expire:
    """Becomes PostFailed(reason="expired", or the item's withdrawal, retryable=False)."""

    item: QueuedItem


@dataclass(frozen=True)
class Wait:
    # None: nothing will change by waiting (empty queue, or an operator must act).
    until: datetime | None
    reason: str


Decision = PostNow | Expire | Wait


@dataclass(frozen=True)
class WriteBlock:
    reason: str
    until: datetime | None  # None: until an operator acts


def write_block(
    now: datetime,
    *,
    operator_paused: bool,
    risk: AccountRisk,
    breaker: CircuitBreaker | None = None,
) -> WriteBlock | None:
    """Whether any write is forbidden now, and why; the first, hardest reason wins."""
    if operator_paused:
        return WriteBlock("paused by operator", None)
    if risk.halted:
        return WriteBlock(f"halted after {risk.halted_reason}: an operator must resume", None)
    if risk.held(now):
        return WriteBlock(f"holding after {risk.hold_reason}", risk.hold_until)
    if breaker is not None and not breaker.allows():
        return WriteBlock("breaker open", now + timedelta(seconds=breaker.retry_after()))
    return None


def _order(item: QueuedItem) -> tuple[datetime, datetime, str]:
    return (item.ready_at, item.scheduled_for, item.content_id)


def next_due(
    queue: Sequence[QueuedItem],
    history: Sequence[WriteRecord],
    now: datetime,
    *,
    pacing: PacingPolicy,
    block: WriteBlock | None = None,
) -> Decision:
    """The single next thing to do. ``pacing`` is the policy in force (already ``.under(risk level)``)."""
    # Expiring is not a write, so it happens even while writes are blocked.
    # A withdrawn item (the owner's rejection, its conversation deleted) ends like an expiry (neither is a write),
    # and goes first.
    withdrawn = [i for i in queue if i.withdrawn and not i.partially_posted]
    if withdrawn:
        return Expire(min(withdrawn, key=lambda i: i.content_id))
    expired = [i for i in queue if i.expired(now)]
    if expired:
        return Expire(min(expired, key=lambda i: (i.expires_at, i.content_id)))
    if not queue:
        return Wait(None, "queue empty")
    if all(i.held for i in queue):
        return Wait(min(i.expires_at for i in queue), "waiting for the owner's approval")
    if block is not None:
        # Still wake for the next expiry: expiring is allowed while writes are blocked.
        expiries = [i.expires_at for i in queue if not i.partially_posted]
        wake_at = min([t for t in (block.until, *expiries) if t is not None], default=None)
        return Wait(wake_at, block.reason)

    unfinished = sorted((i for i in queue if i.partially_posted and i.ready_at <= now), key=_order)
    if unfinished:
        return PostNow(unfinished[0])

    # Candidates for the next wake-up: when a lane opens for an item that is or will be ready, or an expiry.
    wake: list[tuple[datetime, str]] = [(i.expires_at, "next expiry") for i in queue if not i.partially_posted]
    for item in queue:
        if item.partially_posted and item.ready_at > now:
            wake.append((item.ready_at, "thread to complete"))

    for lane in LANES:  # content before replies
        items = [i for i in queue if lane_of(i.kind) == lane and not i.partially_posted and not i.held]
        if not items:
            continue
        first = min(items, key=_order)
        slot = pacing.earliest(lane, history, max(now, first.ready_at))
        if slot is None:
            continue  # lane switched off (a cap of 0): its items will expire
        if slot <= now:
            return PostNow(first)
        wake.append((slot, f"pacing ({lane})" if first.ready_at <= now else f"next {lane} scheduled"))

    until, reason = min(wake)
    return Wait(until, reason)
