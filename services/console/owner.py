"""What the owner does in the console, as events in the console's outbox: approve, edit, reject a draft; approve or
reject an evergreen post.

Each action is one transaction that reads the item (the console's projection of the planner's and the poster's
streams) and records the event; the outbox publishes it after the commit. A draft that waits for approval may be
edited and decided until it is: the poster records no intent to post it before its approval, and after the
approval its text is the poster's (the console says it is too late). An item of a kind that does not wait
(XBOT_APPROVAL) may be edited until the poster records its intent to post it: the poster settles each edit before
each of its decisions (applied, or too late: OwnerEditSettled), so an edit and a write never race, and the console
shows the answer and refuses further edits once one came too late.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime, timedelta

import asyncpg

from libs.contracts.base import uuid7
from libs.contracts.events import (
    ContentApproved,
    ContentEdited,
    ContentRejectedByOwner,
    EvergreenDecided,
    ModelRollbackRequested,
    OwnerPostQueued,
    ReplyLeftDismissed,
    TweetDeleted,
)
from libs.gates.posts import RecentPosts, check_banned, check_length, gate_post
from libs.gates.medical import check_medical_safety
from libs.gates.verdict import Rejection
from libs.niche import NicheConfig
from libs.store.outbox import Outbox
from services.console.projections import record_decision, record_dismissal, record_edit


@dataclass(frozen=True)
class Refused:
    """An action the console did not take, with the reason shown to the owner."""

    reason: str


async def _waiting(conn: asyncpg.Connection, content_id: str, approval_kinds: frozenset[str]
                   ) -> asyncpg.Record | Refused:
    row = await conn.fetchrow("SELECT * FROM items WHERE content_id = $1", content_id)
    if row is None:
        return Refused(f"no item {content_id}")
    if row["status"] != "queued":
        return Refused(f"too late: the item is already {row['status']}")
    if row["decision"] is not None:
        return Refused(f"too late: the item was already {row['decision']} — the poster has its text")
    if row["kind"] not in approval_kinds:
        return Refused(f"too late: {row['kind']}s do not wait for approval (XBOT_APPROVAL), the poster may be "
                       "posting it")
    return row


async def _editable(conn: asyncpg.Connection, content_id: str, approval_kinds: frozenset[str]
                    ) -> asyncpg.Record | Refused:
    """An item the owner may still edit: one that waits for approval, or (a kind that does not wait) one the poster
    has not refused an edit of as too late. Whether the poster had started posting it by the time the edit
    reaches it, only the poster knows: it answers the edit (OwnerEditSettled), shown on the Queue page."""
    row = await conn.fetchrow("SELECT * FROM items WHERE content_id = $1", content_id)
    if row is None:
        return Refused(f"no item {content_id}")
    if row["status"] != "queued":
        return Refused(f"too late: the item is already {row['status']}")
    if row["decision"] is not None:
        return Refused(f"too late: the item was already {row['decision']} — the poster has its text")
    if row["kind"] not in approval_kinds:
        late = await conn.fetchval("SELECT reason FROM edit_verdicts WHERE content_id = $1 AND NOT applied"
                                   " ORDER BY edited_at LIMIT 1", content_id)
        if late is not None:
            return Refused(late)
    return row


def gate_edit(parts: list[str], *, kind: str, topic: str, config: NicheConfig, now: datetime) -> Rejection | None:
    """The planner's gates on the owner's text. The history gates (duplicates, topic freshness) and the model
    review need the planner's memory and budget, so the console runs the rule gates: length, banned phrases and
    subjects, hashtags, medical safety, readability (posts and threads; a reply gets length, banned, medical)."""
    if kind == "reply":
        text = "\n".join(parts)
        return (check_length(parts, kind, config) or check_banned(text, config, kind=kind)
                or check_medical_safety(text))
    return gate_post(parts, kind=kind, topic=topic, config=config, recent=RecentPosts(), vector=None,
                     embedder_kind="hash", now=now)


def split_parts(text: str, kind: str) -> list[str]:
    """The edit box's text as parts: a thread's parts are separated by a line holding only ``---``."""
    if kind != "thread":
        return [text.strip()]
    return [p.strip() for p in text.replace("\r\n", "\n").split("\n---\n")]


async def edit(pool: asyncpg.Pool, outbox: Outbox, content_id: str, text: str, *, by: str, now: datetime,
               config: NicheConfig, approval_kinds: frozenset[str]) -> Refused | ContentEdited:
    async with pool.acquire() as conn, conn.transaction():
        row = await _editable(conn, content_id, approval_kinds)
        if isinstance(row, Refused):
            return row
        parts = split_parts(text, row["kind"])
        topic = json.loads(row["choice"])["topic"]
        verdict = gate_edit(parts, kind=row["kind"], topic=topic, config=config, now=now)
        if verdict is not None:
            return Refused(f"refused by the {verdict.gate} gate: {verdict.reason}")
        previous = json.loads(row["edited_parts"] or row["parts"])
        event = ContentEdited(content_id=content_id, kind=row["kind"], parts=parts, previous_parts=previous,
                              edited_by=by, edited_at=now)
        await outbox.record(conn, event)
        await record_edit(conn, event)
    await outbox.flush()
    return event


async def approve(pool: asyncpg.Pool, outbox: Outbox, content_id: str, *, by: str, now: datetime,
                  approval_kinds: frozenset[str]) -> Refused | ContentApproved:
    async with pool.acquire() as conn, conn.transaction():
        row = await _waiting(conn, content_id, approval_kinds)
        if isinstance(row, Refused):
            return row
        edited = row["edited_parts"] is not None
        event = ContentApproved(content_id=content_id, kind=row["kind"],
                                parts=json.loads(row["edited_parts"] if edited else row["parts"]), edited=edited,
                                approved_by=by, approved_at=now)
        await outbox.record(conn, event)
        await record_decision(conn, event)
    await outbox.flush()
    return event


async def reject(pool: asyncpg.Pool, outbox: Outbox, content_id: str, reason: str, *, by: str, now: datetime,
                 approval_kinds: frozenset[str]) -> Refused | ContentRejectedByOwner:
    reason = reason.strip()
    if not reason:
        return Refused("a rejection needs a reason (the planner learns from it)")
    async with pool.acquire() as conn, conn.transaction():
        row = await _waiting(conn, content_id, approval_kinds)
        if isinstance(row, Refused):
            return row
        event = ContentRejectedByOwner(content_id=content_id, kind=row["kind"], reason=reason[:500], rejected_by=by,
                                       rejected_at=now)
        await outbox.record(conn, event)
        await record_decision(conn, event)
    await outbox.flush()
    return event


async def decide_evergreen(pool: asyncpg.Pool, outbox: Outbox, evergreen_id: str, decision: str, reason: str = "",
                           *, by: str, now: datetime) -> Refused | EvergreenDecided:
    """The owner's word on an evergreen post (EvergreenDrafted): approved (the planner may queue it while the model
    cannot be used; the console approves the queued item at once) or rejected (never queued). The first decision
    stands, as for any draft."""
    reason = reason.strip()
    if decision not in ("approved", "rejected"):
        return Refused(f"unknown decision {decision!r}")
    if decision == "rejected" and not reason:
        return Refused("a rejection needs a reason (the planner learns from it)")
    async with pool.acquire() as conn, conn.transaction():
        row = await conn.fetchrow("SELECT decision FROM evergreen WHERE evergreen_id = $1 FOR UPDATE", evergreen_id)
        if row is None:
            return Refused(f"no evergreen post {evergreen_id}")
        if row["decision"] is not None:
            return Refused(f"already {row['decision']}")
        event = EvergreenDecided(evergreen_id=evergreen_id, decision=decision, reason=reason[:500] or None,
                                 decided_by=by, decided_at=now)
        await outbox.record(conn, event)
    await outbox.flush()
    return event


# The gates the owner may override on their own post (a warning about style); the others (length: X refuses it;
# banned phrases, subjects and hashtags; medical safety) always apply.
OVERRIDABLE = frozenset({"readability", "hashtags"})
# An owner's post not posted within this long after its time is dropped like a planner's (pacing, a pause).
OWN_POST_LIFETIME = timedelta(hours=12)


async def write(pool: asyncpg.Pool, outbox: Outbox, text: str, *, kind: str, scheduled_for: datetime,
                override: bool, by: str, now: datetime, config: NicheConfig) -> Refused | OwnerPostQueued:
    """The owner's own post or thread, queued for the poster (OwnerPostQueued) once it passes the gates."""
    if kind not in ("post", "thread"):
        return Refused("write a post or a thread")
    parts = split_parts(text, kind)
    overridden: list[str] = []
    verdict = gate_edit(parts, kind=kind, topic="", config=config, now=now)
    if verdict is not None and override and verdict.gate in OVERRIDABLE:
        overridden.append(verdict.gate)
        verdict = _safety_gates(parts, kind=kind, config=config)
    if verdict is not None:
        hint = " (tick “override” to post it anyway)" if verdict.gate in OVERRIDABLE else ""
        return Refused(f"refused by the {verdict.gate} gate: {verdict.reason}{hint}")
    when = max(scheduled_for, now)
    event = OwnerPostQueued(content_id=uuid7(), kind=kind, parts=parts, scheduled_for=when,
                            expires_at=when + OWN_POST_LIFETIME, queued_by=by, overridden=overridden)
    async with pool.acquire() as conn, conn.transaction():
        await outbox.record(conn, event)
    await outbox.flush()
    return event


def _safety_gates(parts: list[str], *, kind: str, config: NicheConfig) -> Rejection | None:
    """The gates an owner's override leaves: length, banned phrases, subjects and hashtags (without the count of
    hashtags), medical safety."""
    text = "\n".join(parts)
    any_count = config.hashtags.model_copy(update={"max_per_post": 25, "max_per_reply": 25})
    return (check_length(parts, kind, config) or check_banned(text, config.model_copy(update={"hashtags": any_count}),
                                                              kind=kind)
            or check_medical_safety(text))


async def request_rollback(pool: asyncpg.Pool, outbox: Outbox, version: str, *, by: str,
                           now: datetime) -> ModelRollbackRequested:
    """The learner's rollback, as the command event it consumes (it acts while ``version`` is still in force)."""
    event = ModelRollbackRequested(version=version, requested_by=by, requested_at=now)
    async with pool.acquire() as conn, conn.transaction():
        await outbox.record(conn, event)
    await outbox.flush()
    return event


async def record_deleted(pool: asyncpg.Pool, outbox: Outbox, content_id: str, tweet_ids: list[str], *, by: str,
                         now: datetime) -> TweetDeleted:
    """Once the gateway has deleted every part: the fact, for the scraper (it stops reading the item) and the
    Posted page. Its natural key makes a second click's event a duplicate."""
    event = TweetDeleted(content_id=content_id, tweet_ids=tweet_ids, deleted_by=by, deleted_at=now)
    async with pool.acquire() as conn, conn.transaction():
        await outbox.record(conn, event)
    await outbox.flush()
    return event


# The owner's verdicts on a reply left to them (ReplyLeftDismissed.verdict).
LEFT_VERDICTS = ("seen_to", "not_a_crisis")


async def dismiss_left_reply(pool: asyncpg.Pool, outbox: Outbox, tweet_id: str, verdict: str, *, by: str,
                             now: datetime) -> Refused | ReplyLeftDismissed:
    """The owner takes a reply left to them off the list: seen to (read, answered as a person), or not a crisis."""
    if verdict not in LEFT_VERDICTS:
        return Refused(f"unknown verdict {verdict!r}: {' or '.join(LEFT_VERDICTS)}")
    async with pool.acquire() as conn, conn.transaction():
        if not await conn.fetchval("SELECT count(*) FROM left_replies WHERE tweet_id = $1", tweet_id):
            return Refused(f"no reply {tweet_id} is left to you (forgotten with the harvested tweets?)")
        event = ReplyLeftDismissed(tweet_id=tweet_id, dismissed_by=by, dismissed_at=now,
                                   verdict="not_a_crisis" if verdict == "not_a_crisis" else "seen_to")
        await outbox.record(conn, event)
        await record_dismissal(conn, event)
    await outbox.flush()
    return event
