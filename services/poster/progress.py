"""The records the posting cycle reads from and writes to its store: a queued item with its progress, the
intents (attempts) before each write, and how an attempt was settled. Plain data, no I/O."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Literal

from libs.contracts.events import ContentKind
from services.poster.pacing import WriteRecord
from services.poster.scheduling import QueuedItem

ItemStatus = Literal["queued", "posted", "failed"]
Decision = Literal["approved", "rejected"]
# posted: the part is on X; refused: X refused for the account's sake (nothing created); not_posted: the
# read-back did not find it; inconsistent: the read-back found a later part but not an earlier one.
AttemptOutcome = Literal["posted", "refused", "not_posted", "inconsistent"]


@dataclass
class Item:
    """A queued item as the cycle works on it: what ContentQueued carried (the projection's queue) with what the
    cycle did to it so far (its own progress; none yet = queued and untouched)."""

    content_id: str
    kind: ContentKind
    parts: list[str]
    reply_to_tweet_id: str | None
    reply_to_author: str | None
    scheduled_for: datetime
    expires_at: datetime
    correlation_id: str | None
    queued_event_id: str
    status: ItemStatus = "queued"
    # Tries that count against the item (a refusal for the account's sake does not).
    attempts: int = 0
    not_before: datetime | None = None
    # Ids of the parts on X so far, first part first (a thread is completed from the first missing part).
    tweet_ids: list[str] = field(default_factory=list)
    first_attempt_at: datetime | None = None
    # A read-back found one of its parts on X.
    reconciled: bool = False
    finished_at: datetime | None = None
    # The owner's decision in the console (ContentApproved, ContentRejectedByOwner): None, approved, rejected.
    decision: Decision | None = None
    # An answer in our own conversation whose post is gone since: the owner deleted it in the console (TweetDeleted),
    # or it is gone from X (TweetGone: deleted there, or removed by X).
    conversation_deleted: bool = False

    def queued_item(self, approval_kinds: frozenset[str] = frozenset()) -> QueuedItem:
        """The item as the scheduler sees it; ``approval_kinds``: the kinds that wait for the owner's approval."""
        return QueuedItem(content_id=self.content_id, kind=self.kind, scheduled_for=self.scheduled_for,
                          expires_at=self.expires_at, attempts=self.attempts, not_before=self.not_before,
                          partially_posted=bool(self.tweet_ids),
                          held=self.kind in approval_kinds and self.decision != "approved",
                          withdrawn="rejected" if self.decision == "rejected"
                          else "conversation_deleted" if self.conversation_deleted else None)


@dataclass(frozen=True)
class AttemptKey:
    """One durable intent: a part of an item, within one attempt (a thread's parts share their attempt)."""

    content_id: str
    attempt_no: int
    part_index: int


@dataclass(frozen=True)
class Intent:
    """What is committed before a part is written."""

    key: AttemptKey
    started_at: datetime
    # The first intent of a new attempt: it counts against the item (and dates its first try).
    new_attempt: bool
    # The pacing record of the item, when this part is its first one to reach X (a thread counts once).
    write: WriteRecord | None


@dataclass(frozen=True)
class OpenAttempt:
    """An intent without an outcome: the write may or may not be on X."""

    key: AttemptKey
    started_at: datetime
    # No request of the write is still on its way to X (an error X answered, or one that is not a timeout): a
    # read-back may conclude at once, or, after a `timeout` X answered, once X's own delay is over (from
    # answered_at).
    answered: bool
    error_code: str | None
    answered_at: datetime | None = None


@dataclass(frozen=True)
class LastAttempt:
    attempt_no: int
    # Every part it tried is on X: a thread that stopped between parts (a pause, a crash before the next intent)
    # is completed within this attempt rather than counting a new one.
    all_posted: bool


@dataclass(frozen=True)
class Settlement:
    """How an open attempt ends."""

    key: AttemptKey
    outcome: AttemptOutcome
    tweet_ids: list[str] | None
    at: datetime


@dataclass(frozen=True)
class QueueFigures:
    """What ``/status`` shows of the posting queue."""

    by_status: dict[str, int]
    open_attempts: int
    last_post_at: datetime | None


def edit_verdict(*, started: bool, status: ItemStatus, decision: Decision | None,
                 decided_parts: list[str] | None, parts: list[str]) -> tuple[bool, str]:
    """Whether an owner's edit (its ``parts``) comes in time: (applied, why not). In time while the poster has
    recorded no intent to post the item; an approval hands the approved text to the poster, so an edit is applied
    after it only when it is that text (the approval of an edited draft)."""
    if status != "queued":
        return False, f"too late: the item is already {status}"
    if started:
        return False, "too late: the poster had already recorded its intent to post it; its text stands"
    if decision == "rejected":
        return False, "too late: the owner rejected it"
    if decision == "approved" and decided_parts != parts:
        return False, "too late: the approved text stands"
    return True, ""
