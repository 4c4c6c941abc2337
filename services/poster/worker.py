"""The posting cycle: reconcile open attempts, then post what is due, exactly once, through the gateway at P0.

One run of :meth:`PostingCycle.run` (a periodic job, so the kill switch acts within one cycle):

1. publish outcome events left in the outbox (a crash between commit and publish loses none);
2. read the kill switch (KV ``<ns>_control`` / ``writes.paused``); an operator's resume also lifts a halt;
3. reconcile every attempt whose outcome is unknown (own-timeline read-back) before anything else is posted;
4. ask :func:`scheduling.next_due` and act: expire, or post (intent committed first), until it says wait.

Threads are written part by part (first part a post, each next part a reply to the previous one), each part
with its own intent, so a thread cut short by a crash is completed from its first missing part. The kill switch
is read again before each write (each decision, and each part of a thread after the first): a pause stops a
thread after the part in hand, and after the resume it is completed from its first missing part, within the
same attempt (a pause is no failure) and never expired (a started thread is finished).
"""

from __future__ import annotations

import json
import logging
import random
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import asyncpg
from nats.js.errors import KeyNotFoundError

from libs.bus.publish import EventPublisher
from libs.contracts.events import PostFailed, TweetPosted
from libs.contracts.gateway import RETRYABLE, GatewayClient, GatewayError, PostResult
from libs.runtime.breaker import STATE_CODE
from libs.runtime.clock import Clock
from services.poster import failpoints, metrics
from services.poster.pacing import WriteRecord
from services.poster.reconcile import Readback, TimelineTweet, judge_duplicate, match_parts
from services.poster.retry import GiveUp, needs_readback
from services.poster.risk import HALTS, WARNINGS, AccountRisk
from services.poster.scheduling import Expire, PostNow, QueuedItem, Wait, next_due, write_block
from services.poster.settings import PosterSettings

logger = logging.getLogger("xbot.poster")

PAUSE_KEY = "writes.paused"
# Decisions per cycle: enough to expire a backlog and finish a thread; pacing makes most cycles one or none.
MAX_STEPS = 20
OUTCOMES = {"TweetPosted": TweetPosted, "PostFailed": PostFailed}


@dataclass(frozen=True)
class Control:
    paused: bool
    revision: int


@dataclass
class Item:
    """A queue row as the cycle works on it."""

    content_id: str
    kind: str
    parts: list[str]
    reply_to_tweet_id: str | None
    reply_to_author: str | None
    scheduled_for: datetime
    expires_at: datetime
    attempts: int
    not_before: datetime | None
    tweet_ids: list[str]
    first_attempt_at: datetime | None
    correlation_id: str | None
    queued_event_id: str

    @classmethod
    def of(cls, row: asyncpg.Record) -> Item:
        return cls(
            content_id=row["content_id"], kind=row["kind"], parts=json.loads(row["parts"]),
            reply_to_tweet_id=row["reply_to_tweet_id"], reply_to_author=row["reply_to_author"],
            scheduled_for=row["scheduled_for"], expires_at=row["expires_at"], attempts=row["attempts"],
            not_before=row["not_before"], tweet_ids=json.loads(row["tweet_ids"]),
            first_attempt_at=row["first_attempt_at"], correlation_id=row["correlation_id"],
            queued_event_id=row["queued_event_id"])

    def queued_item(self) -> QueuedItem:
        return QueuedItem(content_id=self.content_id, kind=self.kind, scheduled_for=self.scheduled_for,
                          expires_at=self.expires_at, attempts=self.attempts, not_before=self.not_before,
                          partially_posted=bool(self.tweet_ids))


class PostingCycle:
    def __init__(self, *, settings: PosterSettings, clock: Clock, pool: asyncpg.Pool, gateway: GatewayClient,
                 publisher: EventPublisher, control_kv: Any, rng: random.Random | None = None) -> None:
        self.settings = settings
        self.clock = clock
        self.pool = pool
        self.gateway = gateway
        self.publisher = publisher
        self.control_kv = control_kv
        self.rng = rng or random.Random()
        self.pacing = settings.pacing()
        self.retry = settings.retry_policy()
        self.risk = AccountRisk(policy=settings.risk_policy())
        self.breaker = settings.breaker(clock)
        self.halt_revision = 0
        self.control = Control(False, 0)
        self.last_decision: str = "not run yet"

    # ------------------------------------------------------------------ state

    async def load_state(self, conn: asyncpg.Connection) -> None:
        rows = {r["key"]: json.loads(r["value"]) for r in await conn.fetch("SELECT key, value FROM poster_state")}
        self.risk = AccountRisk.from_dict(rows.get("risk", {}), self.settings.risk_policy())
        self.breaker = self.settings.breaker(self.clock)
        if "breaker" in rows:
            self.breaker.restore(rows["breaker"])
        self.halt_revision = int(rows.get("halt", {}).get("revision", 0))

    async def save_state(self, conn: asyncpg.Connection) -> None:
        values = {"risk": self.risk.to_dict(), "breaker": self.breaker.snapshot(),
                  "halt": {"revision": self.halt_revision}}
        await conn.executemany(
            "INSERT INTO poster_state (key, value) VALUES ($1, $2::jsonb)"
            " ON CONFLICT (key) DO UPDATE SET value = EXCLUDED.value",
            [(k, json.dumps(v)) for k, v in values.items()])

    async def record_start(self) -> None:
        """Count this start for the crash-loop rule (3 starts within 15 min hold writes)."""
        async with self.pool.acquire() as conn, conn.transaction():
            await self.load_state(conn)
            change = self.risk.record_start(self.clock.now())
            await self.save_state(conn)
        if change is not None:
            logger.error("ALERT crash loop: %d starts within %s; writes held until %s",
                         len(self.risk.starts), self.risk.policy.crash_loop_window, change.hold_until)

    async def refresh_control(self) -> Control:
        """Read the kill switch (KV) into ``self.control`` and the paused gauge."""
        self.control = await self._read_control()
        metrics.writes_paused.set(1 if self.control.paused else 0)
        return self.control

    async def _read_control(self) -> Control:
        try:
            entry = await self.control_kv.get(PAUSE_KEY)
        except KeyNotFoundError:
            return Control(False, 0)
        if entry.value is None or entry.operation in ("DEL", "PURGE"):
            return Control(False, entry.revision or 0)
        return Control(bool(json.loads(entry.value).get("paused", False)), entry.revision or 0)

    # ------------------------------------------------------------------ the cycle

    async def run(self) -> None:
        await self.publish_outbox()
        await self.refresh_control()
        async with self.pool.acquire() as conn, conn.transaction():
            await self.load_state(conn)
            # A halt (locked, session expired) ends with the operator's `xbot resume`: a later KV write.
            if self.risk.halted and not self.control.paused and self.control.revision > self.halt_revision:
                logger.warning("operator resumed writes after %s", self.risk.halted_reason)
                self.risk.resume()
                await self.save_state(conn)
        self._export_state()
        for _ in range(MAX_STEPS):
            if not await self.reconcile_open():
                self.last_decision = "waiting for open attempts to settle"
                return
            decision = await self.decide()
            if isinstance(decision, Wait):
                self.last_decision = f"wait until {decision.until} ({decision.reason})"
                return
            if isinstance(decision, Expire):
                await self.expire(decision.item.content_id)
            elif isinstance(decision, PostNow):
                await self.post(decision.item.content_id)
            await self.publish_outbox()

    def _export_state(self) -> None:
        # The paused gauge follows every read of the switch (refresh_control); the caps gauges each decision.
        metrics.risk_level.set(int(self.risk.level(self.clock.now())))
        metrics.writes_halted.set(1 if self.risk.halted else 0)
        metrics.breaker_state.set(STATE_CODE[self.breaker.current()])

    async def decide(self):
        # A cycle may write several items (and the gateway spaces writes by minutes): read the kill switch
        # again before each decision so a pause stops the next write, not only the next cycle's.
        await self.refresh_control()
        now = self.clock.now()
        async with self.pool.acquire() as conn:
            rows = await conn.fetch(
                "SELECT * FROM queue q WHERE status = 'queued' AND NOT EXISTS"
                " (SELECT 1 FROM attempts a WHERE a.content_id = q.content_id AND a.outcome IS NULL)")
            history = [WriteRecord(lane=r["lane"], at=r["at"], jitter=timedelta(seconds=r["jitter_s"]))
                       for r in await conn.fetch("SELECT lane, at, jitter_s FROM history WHERE at > $1",
                                                 now - timedelta(days=2))]
            await self.load_state(conn)
        block = write_block(now, operator_paused=self.control.paused, risk=self.risk, breaker=self.breaker)
        pacing = self.pacing.under(self.risk.level(now))
        metrics.show_pacing(pacing, history, now)  # the caps in force against the writes they count
        return next_due([Item.of(r).queued_item() for r in rows], history, now, pacing=pacing, block=block)

    # ------------------------------------------------------------------ writing

    async def post(self, content_id: str) -> None:
        async with self.pool.acquire() as conn:
            item = Item.of(await conn.fetchrow("SELECT * FROM queue WHERE content_id = $1", content_id))
            # Numbers every try; queue.attempts counts only those that may count against the item (a refusal
            # for the account's sake does not).
            last = await conn.fetch(
                "SELECT attempt_no, outcome FROM attempts WHERE content_id = $1 AND attempt_no ="
                " (SELECT max(attempt_no) FROM attempts WHERE content_id = $1)", content_id)
        first = len(item.tweet_ids)
        # A thread whose last attempt posted every part it tried stopped between parts without failing (a
        # pause, or a crash before the next intent): completing it continues that attempt rather than
        # counting a new one against the item.
        resuming = first > 0 and bool(last) and all(r["outcome"] == "posted" for r in last)
        attempt_no = (last[0]["attempt_no"] if last else 0) + (0 if resuming else 1)
        for index in range(first, len(item.parts)):
            if index > first and await self._writes_stopped(item, index):
                return
            now = self.clock.now()
            failpoints.hit("poster.before_intent")
            async with self.pool.acquire() as conn, conn.transaction():
                if index == first and not resuming:
                    await conn.execute(
                        "UPDATE queue SET attempts = attempts + 1, first_attempt_at = COALESCE(first_attempt_at, $2)"
                        " WHERE content_id = $1", content_id, now)
                    item.attempts += 1
                    item.first_attempt_at = item.first_attempt_at or now
                await conn.execute(
                    "INSERT INTO attempts (content_id, attempt_no, part_index, started_at) VALUES ($1, $2, $3, $4)",
                    content_id, attempt_no, index, now)
                if index == 0:  # pacing counts an item once, when its first part may reach X
                    record = self.pacing.record(item.kind, now, self.rng)
                    await conn.execute(
                        "INSERT INTO history (content_id, attempt_no, lane, at, jitter_s) VALUES ($1, $2, $3, $4, $5)",
                        content_id, attempt_no, record.lane, record.at, record.jitter.total_seconds())
            failpoints.hit("poster.after_intent")
            timer = failpoints.die_later("poster.during_call")
            try:
                result = await self.write_part(item, index)
            except GatewayError as err:
                await self.on_write_error(item, attempt_no, index, err)
                return
            if timer is not None:
                timer.cancel()
            if item.kind == "thread" and index == 1:
                failpoints.hit("poster.after_part2")
            failpoints.hit("poster.after_call")
            item.tweet_ids.append(result.tweet_ids[0])
            async with self.pool.acquire() as conn, conn.transaction():
                await self._part_posted(conn, item, attempt_no, index, result.tweet_ids[0], reconciled=False)
                self.breaker.record_success()
                await self.save_state(conn)
        failpoints.hit("poster.before_publish")

    async def _writes_stopped(self, item: Item, index: int) -> bool:
        """Before the next part of a thread: has the operator paused (or a halt stopped) writes meanwhile?

        Nothing of the next part is recorded yet, so stopping here leaves no open attempt: the thread waits,
        partly posted (never expired), and is completed from this part after the resume.
        """
        try:
            await self.refresh_control()
        except Exception:  # noqa: BLE001 - unsure whether writes are allowed: stop, the next cycle reads again
            logger.exception("reading the kill switch before part %d of %s failed; stopping the thread here",
                             index + 1, item.content_id)
            self.last_decision = f"kill switch unreadable before part {index + 1} of {item.content_id}"
            return True
        if not self.control.paused and not self.risk.halted:
            return False
        why = "paused by operator" if self.control.paused else f"halted after {self.risk.halted_reason}"
        logger.warning("%s: stopping thread %s after part %d of %d; it is completed from part %d after the resume",
                       why, item.content_id, index, len(item.parts), index + 1)
        self.last_decision = f"thread {item.content_id} stopped after part {index} of {len(item.parts)} ({why})"
        return True

    async def write_part(self, item: Item, index: int) -> PostResult:
        text = item.parts[index]
        if index > 0:
            return await self.gateway.reply(item.tweet_ids[-1], text, author=self.settings.x_handle)
        if item.kind == "reply":
            if not item.reply_to_tweet_id:
                raise GatewayError("dom_changed", "a reply without the tweet id it answers", retryable=False)
            return await self.gateway.reply(item.reply_to_tweet_id, text, author=item.reply_to_author or "i")
        return await self.gateway.post_tweet(text)

    async def on_write_error(self, item: Item, attempt_no: int, index: int, err: GatewayError) -> None:
        now = self.clock.now()
        self._signal(err.code, now)
        self.breaker.record_failure()
        async with self.pool.acquire() as conn, conn.transaction():
            if needs_readback(err.code):
                # The write may be on X anyway: the attempt stays open for the read-back, which concludes at
                # once unless the request may still be running (a timeout: then after the grace period).
                await conn.execute(
                    "UPDATE attempts SET answered = $6, error_code = $4, error = $5"
                    " WHERE content_id = $1 AND attempt_no = $2 AND part_index = $3",
                    item.content_id, attempt_no, index, err.code, err.message, err.code != "timeout")
            else:
                # X refused before anything was created, for reasons of the account, not of this item: the
                # item waits (unchanged attempts) behind the hold or halt the signal set.
                await conn.execute(
                    "UPDATE attempts SET outcome = 'refused', answered = true, error_code = $4, error = $5,"
                    " finished_at = $6 WHERE content_id = $1 AND attempt_no = $2 AND part_index = $3",
                    item.content_id, attempt_no, index, err.code, err.message, now)
                await conn.execute("DELETE FROM history WHERE content_id = $1 AND attempt_no = $2",
                                   item.content_id, attempt_no)
                await conn.execute("UPDATE queue SET attempts = attempts - 1 WHERE content_id = $1", item.content_id)
            await self.save_state(conn)

    def _signal(self, code: str, now: datetime) -> bool:
        """Feed an X warning or halting error into the account risk; True when it was one."""
        if code not in WARNINGS and code not in HALTS:
            return False
        change = self.risk.record_signal(code, now)
        if change.halted:
            self.halt_revision = self.control.revision
            logger.error("ALERT %s: all writes stopped until an operator runs `xbot resume`", code)
        else:
            logger.warning("X warning %s: risk level %s, writes held until %s",
                           code, change.level.name, change.hold_until)
        return True

    # ------------------------------------------------------------------ reconciling

    async def reconcile_open(self) -> bool:
        """Settle every attempt whose outcome is unknown; False while one must still wait (may be in flight)."""
        async with self.pool.acquire() as conn:
            open_rows = await conn.fetch(
                "SELECT a.content_id, a.attempt_no, a.part_index, a.started_at, a.answered, a.error_code"
                " FROM attempts a WHERE a.outcome IS NULL ORDER BY a.started_at")
        settled = True
        for attempt in open_rows:
            settled = await self.reconcile(attempt) and settled
        return settled

    async def reconcile(self, attempt: asyncpg.Record) -> bool:
        async with self.pool.acquire() as conn:
            item = Item.of(await conn.fetchrow("SELECT * FROM queue WHERE content_id = $1", attempt["content_id"]))
        now = self.clock.now()
        try:
            timeline = await self.read_back(item)
        except GatewayError as err:
            logger.warning("read-back of %s failed (%s); retrying next cycle", item.content_id, err)
            if self._signal(err.code, now):
                async with self.pool.acquire() as conn:
                    await self.save_state(conn)
            return False
        found = match_parts(item.parts, timeline, since=item.first_attempt_at or attempt["started_at"],
                            reply_to=item.reply_to_tweet_id if item.kind == "reply" else None)
        # Parts recorded as posted are facts; the read-back only fills in what is unknown.
        readback = Readback(tuple(item.tweet_ids[i] if i < len(item.tweet_ids) else found.parts[i]
                                  for i in range(len(item.parts))))
        index, attempt_no = attempt["part_index"], attempt["attempt_no"]
        key = (item.content_id, attempt_no, index)
        if readback.status == "inconsistent":
            logger.error("ALERT read-back of %s is inconsistent (%s): not posting; an operator should look",
                         item.content_id, readback.parts)
            async with self.pool.acquire() as conn, conn.transaction():
                await self._settle(conn, key, "inconsistent", readback.tweet_ids, now)
                await self._fail(conn, item, "inconsistent", retryable=False, error=str(readback.parts), now=now)
            return True
        verdict = judge_duplicate(readback, index)
        if verdict.found:
            logger.info("read-back found %s part %d on X: recording it as posted", item.content_id, index)
            item.tweet_ids = readback.tweet_ids[:index]
            async with self.pool.acquire() as conn, conn.transaction():
                await self._part_posted(conn, item, attempt_no, index, readback.parts[index], reconciled=True)
                self.breaker.record_success()
                await self.save_state(conn)
            item.tweet_ids = readback.tweet_ids
            return True
        grace = timedelta(seconds=self.clock.sim_seconds(self.settings.readback_grace_s_real))
        if not attempt["answered"] and attempt["started_at"] > now - grace:
            return False  # the gateway may still be writing it: read again later, never post twice
        code = attempt["error_code"]
        async with self.pool.acquire() as conn, conn.transaction():
            await self._settle(conn, key, "not_posted", None, now)
            if code == "duplicate":
                # X says we already said it, yet it is nowhere: the same text would be refused again.
                await self._fail(conn, item, "duplicate", retryable=False,
                                 error="X reported a duplicate that the read-back cannot find", now=now)
                return True
            decision = self.retry.after_failure(
                attempts=item.attempts, error_code=code or "interrupted",
                retryable=True if code is None else RETRYABLE.get(code, False), now=now)
            if isinstance(decision, GiveUp):
                await self._fail(conn, item, decision.reason, retryable=decision.retryable,
                                 error=f"after {decision.attempts} attempts", now=now)
            else:
                await conn.execute("UPDATE queue SET not_before = $2 WHERE content_id = $1",
                                   item.content_id, decision.not_before)
        logger.info("read-back: %s part %d is not on X; %s", item.content_id, index, decision)
        return True

    async def read_back(self, item: Item) -> list[TimelineTweet]:
        limit = self.settings.readback_limit
        if item.kind == "reply":
            # X's Posts tab leaves replies to others out; the account's latest search shows them.
            found = await self.gateway.search(f"from:{self.settings.x_handle}", tab="latest", limit=limit,
                                              priority=0)
        else:
            found = await self.gateway.own_timeline(limit=limit, priority=0)
        return [TimelineTweet.from_card(c) for c in found.tweets]

    # ------------------------------------------------------------------ outcomes

    async def _settle(self, conn: asyncpg.Connection, key: tuple, outcome: str, tweet_ids: list[str] | None,
                      now: datetime) -> None:
        await conn.execute(
            "UPDATE attempts SET outcome = $4, tweet_ids = $5::jsonb, finished_at = $6"
            " WHERE content_id = $1 AND attempt_no = $2 AND part_index = $3",
            *key, outcome, json.dumps(tweet_ids) if tweet_ids is not None else None, now)

    async def _part_posted(self, conn: asyncpg.Connection, item: Item, attempt_no: int, index: int,
                           tweet_id: str, *, reconciled: bool) -> None:
        now = self.clock.now()
        await self._settle(conn, (item.content_id, attempt_no, index), "posted", [tweet_id], now)
        ids = [*item.tweet_ids[:index], tweet_id]
        await conn.execute("UPDATE queue SET tweet_ids = $2::jsonb, reconciled = reconciled OR $3"
                           " WHERE content_id = $1", item.content_id, json.dumps(ids), reconciled)
        if len(ids) < len(item.parts):
            return
        was_reconciled = reconciled or await conn.fetchval(
            "SELECT reconciled FROM queue WHERE content_id = $1", item.content_id)
        event = TweetPosted(
            content_id=item.content_id, kind=item.kind, tweet_ids=ids,
            url=f"{self.settings.x_base_url.rstrip('/')}/{self.settings.x_handle}/status/{ids[0]}",
            posted_at=now, reply_to_tweet_id=item.reply_to_tweet_id, reply_to_author=item.reply_to_author,
            text="\n\n".join(item.parts), reconciled=bool(was_reconciled))
        await conn.execute("UPDATE queue SET status = 'posted', finished_at = $2 WHERE content_id = $1",
                           item.content_id, now)
        await self._to_outbox(conn, item, event, now)
        metrics.outcomes.labels(item.kind, "posted").inc()

    async def expire(self, content_id: str) -> None:
        now = self.clock.now()
        async with self.pool.acquire() as conn, conn.transaction():
            item = Item.of(await conn.fetchrow("SELECT * FROM queue WHERE content_id = $1", content_id))
            await self._fail(conn, item, "expired", retryable=False, error=f"expired at {item.expires_at}", now=now)

    async def _fail(self, conn: asyncpg.Connection, item: Item, reason: str, *, retryable: bool, error: str | None,
                    now: datetime) -> None:
        await conn.execute("UPDATE queue SET status = 'failed', finished_at = $2 WHERE content_id = $1",
                           item.content_id, now)
        event = PostFailed(content_id=item.content_id, kind=item.kind, reason=reason, error=error,
                           retryable=retryable, attempts=item.attempts, failed_at=now)
        logger.warning("%s failed: %s (%s)", item.content_id, reason, error)
        await self._to_outbox(conn, item, event, now)
        metrics.outcomes.labels(item.kind, reason).inc()

    async def _to_outbox(self, conn: asyncpg.Connection, item: Item, event: TweetPosted | PostFailed,
                         now: datetime) -> None:
        await conn.execute(
            "INSERT INTO outbox (content_id, event_type, payload, correlation_id, causation_id, created_at)"
            " VALUES ($1, $2, $3::jsonb, $4, $5, $6)",
            item.content_id, event.TYPE, event.model_dump_json(), item.correlation_id, item.queued_event_id, now)

    async def publish_outbox(self) -> int:
        async with self.pool.acquire() as conn:
            rows = await conn.fetch("SELECT * FROM outbox WHERE published_at IS NULL ORDER BY id")
        for row in rows:
            event = OUTCOMES[row["event_type"]].model_validate_json(row["payload"])
            await self.publisher.publish(event, correlation_id=row["correlation_id"],
                                         causation_id=row["causation_id"])
            async with self.pool.acquire() as conn:
                await conn.execute("UPDATE outbox SET published_at = $2 WHERE id = $1", row["id"], self.clock.now())
        return len(rows)

    # ------------------------------------------------------------------ status

    async def describe(self) -> dict:
        now = self.clock.now()
        async with self.pool.acquire() as conn:
            counts = {r["status"]: r["n"] for r in await conn.fetch(
                "SELECT status, count(*) AS n FROM queue GROUP BY status")}
            open_attempts = await conn.fetchval("SELECT count(*) FROM attempts WHERE outcome IS NULL")
            unpublished = await conn.fetchval("SELECT count(*) FROM outbox WHERE published_at IS NULL")
            last_post = await conn.fetchval("SELECT max(finished_at) FROM queue WHERE status = 'posted'")
            await self.load_state(conn)
        return {"queue": counts, "last_post_at": last_post.isoformat() if last_post else None,
                "open_attempts": open_attempts, "unpublished_outcomes": unpublished,
                "paused": self.control.paused, "risk_level": self.risk.level(now).name,
                "hold_until": self.risk.hold_until.isoformat() if self.risk.held(now) else None,
                "halted": self.risk.halted_reason, "breaker": self.breaker.current(),
                "last_decision": self.last_decision}
