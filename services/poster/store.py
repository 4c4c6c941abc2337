"""Every SQL statement of the posting cycle, behind the :class:`~services.poster.cycle.PostingStore` interface.

Tables: ``queue``, ``owner_decisions``, ``owner_edits``, ``deleted_tweets`` and ``x_marks`` (projections, read only
here) and the job-owned ``item_progress``, ``attempts`` (durable intents), ``history`` (the writes pacing counts),
``poster_state`` (the account's risk, breaker and halt revision as JSON documents) and ``edit_verdicts`` (the
owner's edits settled).
Each write is one transaction; an outcome's event goes into the outbox (libs/store/outbox.py) in the transaction
that records the outcome, so both commit or neither does.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence
from datetime import datetime, timedelta

import asyncpg

from libs.contracts.events import OwnerEditSettled, PostFailed, TweetPosted
from libs.store.outbox import Outbox
from services.poster.account import AccountState
from services.poster.pacing import WriteRecord
from services.poster.progress import (
    AttemptKey,
    Intent,
    Item,
    LastAttempt,
    OpenAttempt,
    QueueFigures,
    Settlement,
    edit_verdict,
)

# A queued item as the cycle sees it: what ContentQueued carried (the projection's queue) with what the cycle did
# to it so far (its own item_progress; no row yet = queued and untouched).
ITEMS = ("SELECT q.*, COALESCE(p.status, 'queued') AS status, COALESCE(p.attempts, 0) AS attempts, p.not_before,"
         " COALESCE(p.tweet_ids, '[]'::jsonb) AS tweet_ids, p.first_attempt_at,"
         " COALESCE(p.reconciled, false) AS reconciled, p.finished_at, d.decision, d.parts AS decided_parts,"
         " (SELECT e.parts FROM owner_edits e JOIN edit_verdicts v USING (content_id, edited_at)"
         "  WHERE e.content_id = q.content_id AND v.applied ORDER BY e.edited_at DESC LIMIT 1) AS edited_parts,"
         " (EXISTS (SELECT 1 FROM deleted_tweets x WHERE x.tweet_id = q.conversation_id)"
         # The scraper reads a thread by its head: the head gone from X is the whole thread gone (by its content id).
         "  OR EXISTS (SELECT 1 FROM x_marks m LEFT JOIN item_progress t ON t.content_id = m.content_id"
         "   WHERE m.mark = 'gone' AND (m.tweet_id = q.conversation_id OR t.tweet_ids ? q.conversation_id)))"
         " AS conversation_deleted"
         " FROM queue q LEFT JOIN item_progress p USING (content_id) LEFT JOIN owner_decisions d USING (content_id)")


def _item(row: asyncpg.Record) -> Item:
    return Item(
        # An approved item is posted with the text the owner approved (edits included); else with the owner's
        # latest edit the cycle applied (settle_edits), else as queued.
        content_id=row["content_id"], kind=row["kind"],
        parts=json.loads(next(p for p in (row["decided_parts"], row["edited_parts"], row["parts"]) if p is not None)),
        reply_to_tweet_id=row["reply_to_tweet_id"], reply_to_author=row["reply_to_author"],
        scheduled_for=row["scheduled_for"], expires_at=row["expires_at"], correlation_id=row["correlation_id"],
        queued_event_id=row["queued_event_id"], status=row["status"], attempts=row["attempts"],
        not_before=row["not_before"], tweet_ids=json.loads(row["tweet_ids"]),
        first_attempt_at=row["first_attempt_at"], reconciled=row["reconciled"], finished_at=row["finished_at"],
        decision=row["decision"], conversation_deleted=row["conversation_deleted"])


class PgPostingStore:
    def __init__(self, pool: asyncpg.Pool, outbox: Outbox, *, new_account: Callable[[], AccountState],
                 handle: str = "xbot_demo") -> None:
        self.pool = pool
        # Whose risk level (account_risk, projected from the gateway's AccountRiskChanged) the account follows.
        self.handle = handle
        self.outbox = outbox
        # A fresh account state (policy and breaker from the settings) that the stored documents are laid over.
        self.new_account = new_account

    # ------------------------------------------------------------------ reads

    async def queued_items(self) -> list[Item]:
        rows = await self.pool.fetch(
            f"SELECT * FROM ({ITEMS}) i WHERE status = 'queued' AND NOT EXISTS"
            " (SELECT 1 FROM attempts a WHERE a.content_id = i.content_id AND a.outcome IS NULL)")
        return [_item(r) for r in rows]

    async def item(self, content_id: str) -> Item:
        row = await self.pool.fetchrow(f"{ITEMS} WHERE q.content_id = $1", content_id)
        if row is None:
            raise LookupError(f"{content_id} is not in the posting queue")
        return _item(row)

    async def last_attempt(self, content_id: str) -> LastAttempt | None:
        rows = await self.pool.fetch(
            "SELECT attempt_no, outcome FROM attempts WHERE content_id = $1 AND attempt_no ="
            " (SELECT max(attempt_no) FROM attempts WHERE content_id = $1)", content_id)
        if not rows:
            return None
        return LastAttempt(rows[0]["attempt_no"], all(r["outcome"] == "posted" for r in rows))

    async def open_attempts(self) -> list[OpenAttempt]:
        rows = await self.pool.fetch(
            "SELECT content_id, attempt_no, part_index, started_at, answered, error_code, answered_at"
            " FROM attempts WHERE outcome IS NULL ORDER BY started_at")
        return [OpenAttempt(AttemptKey(r["content_id"], r["attempt_no"], r["part_index"]), r["started_at"],
                            r["answered"], r["error_code"], r["answered_at"]) for r in rows]

    async def history(self, since: datetime) -> list[WriteRecord]:
        rows = await self.pool.fetch("SELECT lane, at, jitter_s FROM history WHERE at > $1", since)
        return [WriteRecord(lane=r["lane"], at=r["at"], jitter=timedelta(seconds=r["jitter_s"])) for r in rows]

    async def account(self) -> AccountState:
        rows = await self.pool.fetch("SELECT key, value FROM poster_state")
        account = self.new_account()
        account.restore({r["key"]: json.loads(r["value"]) for r in rows})
        account.gateway_level = await self.pool.fetchval(
            "SELECT level FROM account_risk WHERE handle = $1", self.handle.lower()) or 0
        return account

    async def figures(self) -> QueueFigures:
        async with self.pool.acquire() as conn:
            counts = {r["status"]: r["n"] for r in await conn.fetch(
                f"SELECT status, count(*) AS n FROM ({ITEMS}) i GROUP BY status")}
            open_attempts = await conn.fetchval("SELECT count(*) FROM attempts WHERE outcome IS NULL")
            last_post = await conn.fetchval("SELECT max(finished_at) FROM item_progress WHERE status = 'posted'")
        return QueueFigures(counts, open_attempts, last_post)

    # ------------------------------------------------------------------ writes (one transaction each)

    async def save_account(self, account: AccountState) -> None:
        async with self.pool.acquire() as conn, conn.transaction():
            await self._save_account(conn, account)

    async def record_intent(self, intent: Intent) -> None:
        key = intent.key
        async with self.pool.acquire() as conn, conn.transaction():
            if intent.new_attempt:
                await conn.execute(
                    "INSERT INTO item_progress AS p (content_id, attempts, first_attempt_at) VALUES ($1, 1, $2)"
                    " ON CONFLICT (content_id) DO UPDATE SET attempts = p.attempts + 1,"
                    " first_attempt_at = COALESCE(p.first_attempt_at, $2)", key.content_id, intent.started_at)
            await conn.execute(
                "INSERT INTO attempts (content_id, attempt_no, part_index, started_at) VALUES ($1, $2, $3, $4)",
                key.content_id, key.attempt_no, key.part_index, intent.started_at)
            if intent.write is not None:
                await conn.execute(
                    "INSERT INTO history (content_id, attempt_no, lane, at, jitter_s) VALUES ($1, $2, $3, $4, $5)",
                    key.content_id, key.attempt_no, intent.write.lane, intent.write.at,
                    intent.write.jitter.total_seconds())

    async def record_posted(self, item: Item, key: AttemptKey, tweet_ids: Sequence[str], *, reconciled: bool,
                            at: datetime, account: AccountState, outcome: TweetPosted | None) -> None:
        async with self.pool.acquire() as conn, conn.transaction():
            await self._settle(conn, Settlement(key, "posted", [tweet_ids[-1]], at))
            await conn.execute(
                "INSERT INTO item_progress AS p (content_id, tweet_ids, reconciled) VALUES ($1, $2::jsonb, $3)"
                " ON CONFLICT (content_id) DO UPDATE SET tweet_ids = $2::jsonb, reconciled = p.reconciled OR $3",
                key.content_id, json.dumps(list(tweet_ids)), reconciled)
            if outcome is not None:
                await conn.execute(
                    "UPDATE item_progress SET status = 'posted', finished_at = $2 WHERE content_id = $1",
                    key.content_id, at)
                await self._to_outbox(conn, item, outcome)
            await self._save_account(conn, account)

    async def record_error(self, key: AttemptKey, code: str, message: str, *, answered: bool, at: datetime,
                           account: AccountState) -> None:
        async with self.pool.acquire() as conn, conn.transaction():
            await conn.execute(
                "UPDATE attempts SET answered = $4, error_code = $5, error = $6,"
                " answered_at = CASE WHEN $4 THEN $7::timestamptz END"
                " WHERE content_id = $1 AND attempt_no = $2 AND part_index = $3",
                key.content_id, key.attempt_no, key.part_index, answered, code, message, at)
            await self._save_account(conn, account)

    async def record_refusal(self, key: AttemptKey, code: str, message: str, *, at: datetime,
                             account: AccountState, not_before: datetime | None = None) -> None:
        """``not_before``: when the refusal said to retry (the gateway's budget or caps): the item waits till then."""
        async with self.pool.acquire() as conn, conn.transaction():
            await conn.execute(
                "UPDATE attempts SET outcome = 'refused', answered = true, error_code = $4, error = $5,"
                " finished_at = $6 WHERE content_id = $1 AND attempt_no = $2 AND part_index = $3",
                key.content_id, key.attempt_no, key.part_index, code, message, at)
            if key.part_index == 0:
                # Nothing reached X: pacing no longer counts the item. (A later part's refusal leaves the record
                # of its first part, which is on X, in place.)
                await conn.execute("DELETE FROM history WHERE content_id = $1 AND attempt_no = $2",
                                   key.content_id, key.attempt_no)
            await conn.execute("UPDATE item_progress SET attempts = attempts - 1, not_before = COALESCE($2, not_before)"
                               " WHERE content_id = $1", key.content_id, not_before)
            await self._save_account(conn, account)

    async def retry_later(self, settlement: Settlement, not_before: datetime) -> None:
        async with self.pool.acquire() as conn, conn.transaction():
            await self._settle(conn, settlement)
            await conn.execute(
                "INSERT INTO item_progress AS p (content_id, not_before) VALUES ($1, $2)"
                " ON CONFLICT (content_id) DO UPDATE SET not_before = $2", settlement.key.content_id, not_before)

    async def fail(self, item: Item, outcome: PostFailed, *, settlement: Settlement | None = None) -> None:
        async with self.pool.acquire() as conn, conn.transaction():
            if settlement is not None:
                await self._settle(conn, settlement)
            await conn.execute(
                "INSERT INTO item_progress AS p (content_id, status, finished_at) VALUES ($1, 'failed', $2)"
                " ON CONFLICT (content_id) DO UPDATE SET status = 'failed', finished_at = $2",
                item.content_id, outcome.failed_at)
            await self._to_outbox(conn, item, outcome)

    async def settle_edits(self, now: datetime) -> int:
        """Apply or refuse (too late) each of the owner's edits not settled yet, oldest first, recording the
        verdict and its OwnerEditSettled; an edit of an item the queue does not hold yet waits."""
        async with self.pool.acquire() as conn, conn.transaction():
            rows = await conn.fetch(
                "SELECT e.content_id, e.edited_at, e.parts, COALESCE(p.status, 'queued') AS status, d.decision,"
                " d.parts AS decided_parts, EXISTS (SELECT 1 FROM attempts a WHERE a.content_id = e.content_id)"
                " AS started FROM owner_edits e JOIN queue q USING (content_id)"
                " LEFT JOIN item_progress p USING (content_id) LEFT JOIN owner_decisions d USING (content_id)"
                " WHERE NOT EXISTS (SELECT 1 FROM edit_verdicts v WHERE v.content_id = e.content_id"
                " AND v.edited_at = e.edited_at) ORDER BY e.edited_at, e.content_id")
            for r in rows:
                applied, why = edit_verdict(
                    started=r["started"], status=r["status"], decision=r["decision"], parts=json.loads(r["parts"]),
                    decided_parts=json.loads(r["decided_parts"]) if r["decided_parts"] is not None else None)
                await conn.execute("INSERT INTO edit_verdicts (content_id, edited_at, applied, settled_at)"
                                   " VALUES ($1, $2, $3, $4)", r["content_id"], r["edited_at"], applied, now)
                await self.outbox.record(conn, OwnerEditSettled(
                    content_id=r["content_id"], edited_at=r["edited_at"], applied=applied, reason=why,
                    settled_at=now))
        return len(rows)

    # ------------------------------------------------------------------ within a transaction

    async def _settle(self, conn: asyncpg.Connection, settlement: Settlement) -> None:
        key = settlement.key
        ids = json.dumps(settlement.tweet_ids) if settlement.tweet_ids is not None else None
        await conn.execute(
            "UPDATE attempts SET outcome = $4, tweet_ids = $5::jsonb, finished_at = $6"
            " WHERE content_id = $1 AND attempt_no = $2 AND part_index = $3",
            key.content_id, key.attempt_no, key.part_index, settlement.outcome, ids, settlement.at)

    async def _save_account(self, conn: asyncpg.Connection, account: AccountState) -> None:
        await conn.executemany(
            "INSERT INTO poster_state (key, value) VALUES ($1, $2::jsonb)"
            " ON CONFLICT (key) DO UPDATE SET value = EXCLUDED.value",
            [(k, json.dumps(v)) for k, v in account.documents().items()])
        for event in account.announcements:
            await self.outbox.record(conn, event)
        account.announcements.clear()

    async def _to_outbox(self, conn: asyncpg.Connection, item: Item, event: TweetPosted | PostFailed) -> None:
        await self.outbox.record(conn, event, correlation_id=item.correlation_id, causation_id=item.queued_event_id)
