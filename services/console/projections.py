"""The console's tables (schema ``console``) and the projections that fill them, from every stream it shows:

- ContentQueued (planner) -> ``items``; TweetPosted / PostFailed (poster) -> their outcome (kept in
  ``outcomes_early`` when the outcome is read before the item: each stream is read on its own);
- ContentEdited / ContentApproved / ContentRejectedByOwner (its own stream) -> the owner's edits (``edits`` too)
  and decision; EvergreenDrafted (planner) and EvergreenDecided (its own stream) -> ``evergreen``, the evergreen
  posts the owner approves or rejects; OwnerPostQueued -> the owner's own post, an item of source ``owner``;
  OwnerEditSettled (poster) -> ``edit_verdicts``, the poster's answer to each edit (applied, or too late);
  TweetDeleted -> ``deletions``;
- MetricsScraped, FollowersSnapshotted (scraper) -> ``metrics``, ``followers``, ``attributed``; TweetGone (scraper: one
  of our tweets X no longer shows, deleted there or removed by X) and CommunityNoteShown -> ``x_marks``;
- ModelUpdated (learner) -> ``models``; AccountRiskChanged (gateway) -> ``risk``;
- ReplyLeftToOwner (harvester: a reply to our tweet left for the owner, a person in a crisis) -> ``left_replies``,
  ReplyLeftDismissed (its own stream) -> ``left_replies_dismissed``, PersonalDataPurged (harvester) -> the retention's
  cut, which forgets them. Of the harvester's stream the console reads these two events alone, through durables
  filtered on their subjects: the rest holds strangers' tweets.

No producer changed to add it: this is a consumer of the streams as they are. The web app's and the approval
job's own tables (``owner``, ``sessions``, ``switch_log``, ``asked``) are job-owned.
"""

from __future__ import annotations

import json
from datetime import datetime
from typing import Any

import asyncpg

from libs.contracts.base import Event
from libs.contracts.events import (
    AccountRiskChanged,
    ContentApproved,
    ContentEdited,
    ContentQueued,
    ContentRejectedByOwner,
    EvergreenDecided,
    EvergreenDrafted,
    FollowersSnapshotted,
    OwnerEditSettled,
    OwnerPostQueued,
    MetricsScraped,
    TweetDeleted,
    TweetGone,
    XMark,
    CommunityNoteShown,
    ModelUpdated,
    PersonalDataPurged,
    PostFailed,
    ReplyLeftDismissed,
    ReplyLeftToOwner,
    TweetPosted,
)
from libs.runtime.service import Service
from libs.store.projection import Applied
from libs.store.x_marks import record_x_marks

JOB_TABLES = ("owner", "sessions", "switch_log", "asked", "dead_letter_log")
LEVEL_NAMES = ("NORMAL", "ELEVATED", "HIGH", "SEVERE", "LOCKED")


async def pair_item_and_outcome(conn: asyncpg.Connection) -> None:
    """Taken by ContentQueued's, OwnerPostQueued's and TweetPosted / PostFailed's handlers before they touch
    ``items`` or ``outcomes_early``, until their batch commits: the planner's and the poster's streams are read by
    two consumers at once, and without it an outcome applied while its item's insert was not yet committed saw no
    item, went to ``outcomes_early`` after the insert had looked there, and was lost (the item stayed 'queued' for
    good). One key for all items: no two batches can wait on each other's."""
    await conn.execute("SELECT pg_advisory_xact_lock(hashtext('console.items.outcomes'))")


async def apply_early_outcome(conn: asyncpg.Connection, content_id: str) -> None:
    """The outcome read before its item (``outcomes_early``), applied to the item just inserted."""
    await conn.execute(
        "UPDATE items i SET status = o.status, failed_reason = o.failed_reason, tweet_id = o.tweet_id,"
        " url = o.url, posted_at = o.posted_at, tweet_ids = o.tweet_ids FROM outcomes_early o"
        " WHERE o.content_id = i.content_id AND i.content_id = $1", content_id)
    await conn.execute("DELETE FROM outcomes_early WHERE content_id = $1", content_id)


def register(svc: Service[Any]) -> None:
    items = svc.projection("items")

    @items.on(ContentQueued)
    async def on_queued(conn: asyncpg.Connection, item: Applied[ContentQueued]) -> None:
        e = item.event
        await pair_item_and_outcome(conn)
        await conn.execute(
            "INSERT INTO items (content_id, kind, parts, choice, propensity, policy_version, reply_to_tweet_id,"
            " reply_to_author, scheduled_for, expires_at, queued_at, evergreen_id) VALUES ($1,$2,$3::jsonb,$4::jsonb,"
            "$5,$6,$7,$8,$9,$10,$11,$12) ON CONFLICT (content_id) DO NOTHING",
            e.content_id, e.kind, json.dumps(e.parts), e.choice.model_dump_json(), e.propensity, e.policy_version,
            e.reply_to_tweet_id, e.reply_to_author, e.scheduled_for, e.expires_at, item.envelope.occurred_at,
            e.evergreen_id)
        await apply_early_outcome(conn, e.content_id)

    @items.on(OwnerPostQueued)
    async def on_owner_post(conn: asyncpg.Connection, item: Applied[OwnerPostQueued]) -> None:
        e = item.event
        # No choice of the policy: the owner wrote it, and it is approved as written. Its outcome may come first
        # too (a replay reads the console's stream and the poster's apart).
        await pair_item_and_outcome(conn)
        await conn.execute(
            "INSERT INTO items (content_id, kind, parts, choice, propensity, policy_version, scheduled_for,"
            " expires_at, queued_at, source, decision, decided_by, decided_at) VALUES ($1,$2,$3::jsonb,'{}'::jsonb,"
            " 1, 'owner', $4, $5, $6, 'owner', 'approved', $7, $6) ON CONFLICT (content_id) DO NOTHING",
            e.content_id, e.kind, json.dumps(e.parts), e.scheduled_for, e.expires_at, item.envelope.occurred_at,
            e.queued_by)
        await apply_early_outcome(conn, e.content_id)

    @items.on(TweetPosted, PostFailed)
    async def on_outcome(conn: asyncpg.Connection, item: Applied[Event]) -> None:
        e = item.event
        row: tuple[str, str | None, str | None, str | None, datetime | None]
        ids: str | None = None
        if isinstance(e, TweetPosted):
            row = ("posted", None, e.tweet_ids[0], e.url, e.posted_at)
            ids = json.dumps(e.tweet_ids)
        else:
            assert isinstance(e, PostFailed)
            row = ("failed", e.reason, None, None, None)
        await pair_item_and_outcome(conn)
        done = await conn.execute(
            "UPDATE items SET status = $2, failed_reason = $3, tweet_id = $4, url = $5, posted_at = $6,"
            " tweet_ids = $7::jsonb WHERE content_id = $1", e.content_id, *row, ids)
        if done == "UPDATE 0":
            await conn.execute(
                "INSERT INTO outcomes_early (content_id, status, failed_reason, tweet_id, url, posted_at, tweet_ids)"
                " VALUES ($1,$2,$3,$4,$5,$6,$7::jsonb) ON CONFLICT (content_id) DO NOTHING", e.content_id, *row, ids)

    @items.on(TweetDeleted)
    async def on_deleted(conn: asyncpg.Connection, item: Applied[TweetDeleted]) -> None:
        e = item.event
        await conn.execute("INSERT INTO deletions (content_id, tweet_ids, deleted_by, deleted_at) VALUES"
                           " ($1, $2::jsonb, $3, $4) ON CONFLICT (content_id) DO NOTHING",
                           e.content_id, json.dumps(e.tweet_ids), e.deleted_by, e.deleted_at)

    @items.on(ContentEdited)
    async def on_edited(conn: asyncpg.Connection, item: Applied[ContentEdited]) -> None:
        await record_edit(conn, item.event)

    @items.on(OwnerEditSettled)
    async def on_edit_settled(conn: asyncpg.Connection, item: Applied[OwnerEditSettled]) -> None:
        e = item.event
        await conn.execute(
            "INSERT INTO edit_verdicts (content_id, edited_at, applied, reason, settled_at) VALUES ($1,$2,$3,$4,$5)"
            " ON CONFLICT DO NOTHING", e.content_id, e.edited_at, e.applied, e.reason, e.settled_at)

    @items.on(ContentApproved, ContentRejectedByOwner)
    async def on_decision(conn: asyncpg.Connection, item: Applied[Event]) -> None:
        assert isinstance(item.event, ContentApproved | ContentRejectedByOwner)
        await record_decision(conn, item.event)

    @items.on(EvergreenDrafted)
    async def on_evergreen(conn: asyncpg.Connection, item: Applied[EvergreenDrafted]) -> None:
        e = item.event
        await conn.execute(
            "INSERT INTO evergreen (evergreen_id, kind, parts, choice, drafted_at) VALUES ($1,$2,$3::jsonb,$4::jsonb,"
            "$5) ON CONFLICT (evergreen_id) DO NOTHING",
            e.evergreen_id, e.kind, json.dumps(e.parts), e.choice.model_dump_json(), e.drafted_at)
        await conn.execute(
            "UPDATE evergreen v SET decision = d.decision, reason = d.reason, decided_by = d.decided_by,"
            " decided_at = d.decided_at FROM evergreen_decided_early d WHERE d.evergreen_id = v.evergreen_id"
            " AND v.evergreen_id = $1", e.evergreen_id)
        await conn.execute("DELETE FROM evergreen_decided_early WHERE evergreen_id = $1", e.evergreen_id)

    @items.on(EvergreenDecided)
    async def on_evergreen_decided(conn: asyncpg.Connection, item: Applied[EvergreenDecided]) -> None:
        e = item.event
        row = (e.evergreen_id, e.decision, e.reason, e.decided_by, e.decided_at)
        done = await conn.execute("UPDATE evergreen SET decision = $2, reason = $3, decided_by = $4,"
                                  " decided_at = $5 WHERE evergreen_id = $1", *row)
        if done == "UPDATE 0":
            await conn.execute(
                "INSERT INTO evergreen_decided_early (evergreen_id, decision, reason, decided_by, decided_at)"
                " VALUES ($1,$2,$3,$4,$5) ON CONFLICT (evergreen_id) DO UPDATE SET decision = EXCLUDED.decision,"
                " reason = EXCLUDED.reason, decided_by = EXCLUDED.decided_by, decided_at = EXCLUDED.decided_at",
                *row)

    growth = svc.projection("growth")

    @growth.on_batch(MetricsScraped)
    async def on_metrics(conn: asyncpg.Connection, batch: list[Applied[MetricsScraped]]) -> None:
        await conn.executemany(
            "INSERT INTO metrics (tweet_id, checkpoint, content_id, hours, likes, retweets, replies, views,"
            " observed_at) VALUES ($1,$2,$3,$4,$5,$6,$7,$8,$9) ON CONFLICT DO NOTHING",
            [(e.tweet_id, e.checkpoint, e.content_id, e.checkpoint_hours, e.likes, e.retweets, e.replies, e.views,
              e.observed_at) for e in (i.event for i in batch)])

    @growth.on_batch(TweetGone, CommunityNoteShown)
    async def on_x_marks(conn: asyncpg.Connection, batch: list[Applied[XMark]]) -> None:
        await record_x_marks(conn, [i.event for i in batch])

    @growth.on(FollowersSnapshotted)
    async def on_followers(conn: asyncpg.Connection, item: Applied[FollowersSnapshotted]) -> None:
        e = item.event
        await conn.execute("INSERT INTO followers (observed_at, followers, delta) VALUES ($1, $2, $3)"
                           " ON CONFLICT DO NOTHING", e.observed_at, e.followers, e.delta)
        await conn.executemany(
            "INSERT INTO attributed (content_id, observed_at, followers) VALUES ($1, $2, $3) ON CONFLICT DO NOTHING",
            [(a.content_id, e.observed_at, a.followers) for a in e.attribution])

    @growth.on(ModelUpdated)
    async def on_model(conn: asyncpg.Connection, item: Applied[ModelUpdated]) -> None:
        e = item.event
        await conn.execute(
            "INSERT INTO models (version, parent, created_at, posteriors, evaluation, training_size, rollback_of)"
            " VALUES ($1,$2,$3,$4::jsonb,$5::jsonb,$6,$7) ON CONFLICT DO NOTHING", e.version, e.parent_version,
            e.created_at, json.dumps(e.posteriors), json.dumps(e.evaluation), e.training_size, e.rollback_of)

    @growth.on(AccountRiskChanged)
    async def on_risk(conn: asyncpg.Connection, item: Applied[AccountRiskChanged]) -> None:
        e = item.event
        await conn.execute(
            "INSERT INTO risk AS r (handle, level, level_name, signal, budget_share, changed_at)"
            " VALUES ($1,$2,$3,$4,$5,$6) ON CONFLICT (handle) DO UPDATE SET level = $2, level_name = $3,"
            " signal = $4, budget_share = $5, changed_at = $6 WHERE r.changed_at <= $6",
            e.handle.lower(), e.level, e.level_name or LEVEL_NAMES[min(e.level, 4)], e.signal, e.budget_share,
            e.changed_at)

    # Read through a durable per event (filtered): the three arrive in no order among themselves, so each handler
    # holds whatever order they come in (a reply found before the retention's cut is never kept, whichever of the
    # two came first).
    left = svc.projection("left_replies", filtered=True)

    @left.on(ReplyLeftToOwner)
    async def on_left(conn: asyncpg.Connection, item: Applied[ReplyLeftToOwner]) -> None:
        e = item.event
        await conn.execute(
            "INSERT INTO left_replies (tweet_id, author, conversation_id, reason, tweet_created_at, found_at)"
            " SELECT $1, $2, $3, $4, $5, $6 WHERE NOT EXISTS (SELECT 1 FROM personal_data_cut WHERE before > $6)"
            " ON CONFLICT DO NOTHING", e.tweet_id, e.author, e.conversation_id, e.reason, e.tweet_created_at,
            e.found_at)

    @left.on(ReplyLeftDismissed)
    async def on_dismissed(conn: asyncpg.Connection, item: Applied[ReplyLeftDismissed]) -> None:
        await record_dismissal(conn, item.event)

    @left.on(PersonalDataPurged)
    async def on_purged(conn: asyncpg.Connection, item: Applied[PersonalDataPurged]) -> None:
        before = item.event.before
        await conn.execute("INSERT INTO personal_data_cut AS c (id, before) VALUES (1, $1) ON CONFLICT (id)"
                           " DO UPDATE SET before = greatest(c.before, EXCLUDED.before)", before)
        await conn.execute("DELETE FROM left_replies WHERE found_at < $1", before)
        await conn.execute("DELETE FROM left_replies_dismissed d WHERE NOT EXISTS"
                           " (SELECT 1 FROM left_replies r WHERE r.tweet_id = d.tweet_id)")


# The owner's own actions (owner.py) write these with their event, in one transaction: the next action sees them at
# once, not when the projection reads the event back from the stream (an approval right after an edit approved the
# text before it; an edit right after an approval was accepted). Applied again from the stream, nothing changes.

async def record_edit(conn: asyncpg.Connection, e: ContentEdited) -> None:
    await conn.execute("UPDATE items SET edited_parts = $2::jsonb WHERE content_id = $1 AND decision IS NULL",
                       e.content_id, json.dumps(e.parts))
    await conn.execute("INSERT INTO edits (content_id, edited_at, parts) VALUES ($1, $2, $3::jsonb)"
                       " ON CONFLICT DO NOTHING", e.content_id, e.edited_at, json.dumps(e.parts))


async def record_decision(conn: asyncpg.Connection, e: ContentApproved | ContentRejectedByOwner) -> None:
    row: tuple[str, str | None, str, datetime]
    if isinstance(e, ContentApproved):
        row = ("approved", None, e.approved_by, e.approved_at)
    else:
        row = ("rejected", e.reason, e.rejected_by, e.rejected_at)
    # The first decision stands (the poster keeps the first one too).
    await conn.execute(
        "UPDATE items SET decision = $2, decision_reason = $3, decided_by = $4, decided_at = $5"
        " WHERE content_id = $1 AND decision IS NULL", e.content_id, *row)


async def record_dismissal(conn: asyncpg.Connection, e: ReplyLeftDismissed) -> None:
    await conn.execute("INSERT INTO left_replies_dismissed (tweet_id, dismissed_by, dismissed_at, verdict)"
                       " VALUES ($1, $2, $3, $4) ON CONFLICT DO NOTHING", e.tweet_id, e.dismissed_by, e.dismissed_at,
                       e.verdict)
