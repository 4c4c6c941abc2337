"""The posting cycle: reconcile open attempts, then post what is due, exactly once, through the gateway at P0.

One run of :meth:`PostingCycle.run` (a periodic job, so the kill switch acts within one cycle):

1. publish outcome events left in the outbox (a crash between commit and publish loses none);
2. read the kill switch; an operator's resume also lifts a halt;
3. reconcile every attempt whose outcome is unknown (own-timeline read-back) before anything else is posted;
4. settle the owner's edits (applied while the item has no intent, else too late), ask
   :func:`scheduling.next_due` and act: expire, or post (intent committed first), until it says wait.

Threads are written part by part (first part a post, each next part a reply to the previous one), each part
with its own intent, so a thread cut short by a crash is completed from its first missing part. The kill switch
is read again before each write (each decision, and each part of a thread after the first): a pause stops a
thread after the part in hand, and after the resume it is completed from its first missing part, within the
same attempt (a pause is no failure) and never expired (a started thread is finished).

The cycle depends on the interfaces below, not on Postgres, NATS or the process: the service wires the real ones
(worker.py), the unit tests in-memory fakes (tests/unit/poster/fakes.py), so every branch, crash point included,
runs without servers.
"""

from __future__ import annotations

import logging
import random
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, Protocol

from libs.contracts.events import PostFailed, TweetPosted
from libs.contracts.gateway import RETRYABLE, UNSENT_CODES, GatewayError, PostResult, SearchTab, TweetList
from libs.core.breaker import STATE_CODE
from libs.gates.limits import ContentLimits, check_write
from services.poster import failpoints as process_failpoints
from services.poster import metrics
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
)
from services.poster.reconcile import Readback, TimelineTweet, match_parts
from services.poster.retry import GiveUp, needs_readback
from services.poster.risk import RiskChange
from services.poster.scheduling import Decision, Expire, PostNow, Wait, Withdrawal, next_due
from services.poster.settings import PosterSettings

logger = logging.getLogger("xbot.poster")

# Decisions per cycle: enough to expire a backlog and finish a thread; pacing makes most cycles one or none.
MAX_STEPS = 20
# How far back the write history matters: the longest pacing window (a day) and then some.
HISTORY = timedelta(days=2)
# A write that may still be running or landing (timed out, within XBOT_READBACK_GRACE_REAL or
# XBOT_READBACK_SETTLE_REAL: see settling) is read back about this many times over that wait, not at every cycle.
# At every cycle (7 minutes, 30-second cycles) one timed-out reply cost 15 searches, its read-back being the
# account's search, of the ~40 a day the activity budget gives writes: two in a day left none, and then no
# read-back could settle anything. A gateway restart, which a read-back's answer shows, is still seen within a
# quarter of the grace.
READBACKS_PER_GRACE = 4
# The error a withdrawn item's PostFailed carries (its reason is the withdrawal's name).
WITHDRAWN_BECAUSE: dict[Withdrawal, str] = {
    "rejected": "rejected by the owner in the console",
    "conversation_deleted": "the post of ours this answer is under is gone: the owner deleted it, or X removed it",
}


# ---------------------------------------------------------------- what the cycle depends on


class PostingStore(Protocol):
    """The poster's tables. Each write is one transaction; an outcome's event is recorded in the outbox in the
    transaction that records the outcome (services/poster/store.py)."""

    async def queued_items(self) -> list[Item]:
        """Items still queued with no open attempt: what the scheduler chooses from."""

    async def item(self, content_id: str) -> Item: ...

    async def last_attempt(self, content_id: str) -> LastAttempt | None: ...

    async def open_attempts(self) -> list[OpenAttempt]:
        """Intents without an outcome, oldest first."""

    async def history(self, since: datetime) -> list[WriteRecord]:
        """The writes pacing counts (those that reached X or may have) made after ``since``."""

    async def account(self) -> AccountState: ...

    async def save_account(self, account: AccountState) -> None: ...

    async def record_intent(self, intent: Intent) -> None: ...

    async def record_posted(self, item: Item, key: AttemptKey, tweet_ids: Sequence[str], *, reconciled: bool,
                            at: datetime, account: AccountState, outcome: TweetPosted | None) -> None:
        """Part ``key.part_index`` is on X as ``tweet_ids[-1]`` (``tweet_ids``: every part so far); ``outcome``
        when that was the last part (the item is posted)."""

    async def record_error(self, key: AttemptKey, code: str, message: str, *, answered: bool, at: datetime,
                           account: AccountState) -> None:
        """The write failed in a way that may still have posted it: the attempt stays open for the read-back.
        ``answered``: no request of the write is still on its way to X (X answered it), at ``at``."""

    async def record_refusal(self, key: AttemptKey, code: str, message: str, *, at: datetime,
                             account: AccountState, not_before: datetime | None = None) -> None:
        """X refused before creating anything, for the account's sake: the attempt ends refused and counts
        neither against the item nor against pacing (but for the parts of a thread already on X); with
        ``not_before`` (the refusal said when to retry) the item waits till then."""

    async def retry_later(self, settlement: Settlement, not_before: datetime) -> None: ...

    async def settle_edits(self, now: datetime) -> int:
        """Apply each of the owner's edits not settled yet, or refuse it as too late once the item has an
        intent (or an outcome); each verdict's OwnerEditSettled goes into the outbox. Returns how many."""

    async def fail(self, item: Item, outcome: PostFailed, *, settlement: Settlement | None = None) -> None: ...

    async def figures(self) -> QueueFigures: ...


class PosterGateway(Protocol):
    """What the poster asks of the browser gateway (libs/bus/gateway.py)."""

    async def post_tweet(self, text: str) -> PostResult: ...

    async def reply(self, tweet_id: str, text: str, *, author: str) -> PostResult: ...

    async def own_timeline(self, *, limit: int, priority: int) -> TweetList: ...

    async def search(self, query: str, *, tab: SearchTab, limit: int, priority: int) -> TweetList: ...


class SwitchReading(Protocol):
    @property
    def paused(self) -> bool: ...

    @property
    def revision(self) -> int: ...

    @property
    def reason(self) -> str: ...


class KillSwitch(Protocol):
    """The kill switch (libs/bus/control.py): anything it cannot trust reads as paused."""

    async def read(self) -> SwitchReading: ...


class OutcomePublisher(Protocol):
    """The transactional outbox's publishing side (libs/store/outbox.py)."""

    async def flush(self) -> Sequence[object]: ...

    async def pending(self) -> int: ...


class SimClock(Protocol):
    def now(self) -> datetime: ...

    def sim_seconds(self, real_seconds: float) -> float: ...


class Cancellable(Protocol):
    def cancel(self) -> None: ...


class Failpoints(Protocol):
    """Crash hooks (services/poster/failpoints.py); the unit tests raise where the process would die."""

    def hit(self, name: str) -> None: ...

    def die_later(self, name: str) -> Cancellable | None: ...


@dataclass(frozen=True)
class _Unread:
    """The switch before its first read: paused, like anything untrusted."""

    paused: bool = True
    revision: int = 0
    reason: str = "not read yet"


# ---------------------------------------------------------------- the cycle


class PostingCycle:
    def __init__(self, settings: PosterSettings, *, store: PostingStore, gateway: PosterGateway,
                 kill_switch: KillSwitch, outbox: OutcomePublisher, clock: SimClock,
                 failpoints: Failpoints = process_failpoints, rng: random.Random | None = None) -> None:
        self.settings = settings
        self.store = store
        self.gateway = gateway
        self.kill_switch = kill_switch
        self.outbox = outbox
        self.clock = clock
        self.failpoints = failpoints
        self.rng = rng or random.Random()
        self.pacing = settings.pacing()
        self.retry = settings.retry_policy()
        # The gateway's own hard limits, checked again here so an invalid item fails with a reason, not refusals.
        self.limits = ContentLimits(thread_max_parts=settings.thread_max_parts)
        self.control: SwitchReading = _Unread()
        self.last_decision = "not run yet"
        # Loaded from the store at each decision; changed and saved by what the gateway answers.
        self._account: AccountState | None = None
        # When each attempt still within its grace was last read back and not found (see reconcile).
        self._read_back_at: dict[AttemptKey, datetime] = {}

    async def start(self) -> None:
        """Count this start for the crash-loop rule (N starts within the window hold writes)."""
        account = await self.store.account()
        change = account.record_start(self.clock.now())
        await self.store.save_account(account)
        if change is not None:
            logger.error("ALERT crash loop: %d starts within %s; writes held until %s",
                         len(account.risk.starts), account.risk.policy.crash_loop_window, change.hold_until)

    @property
    def account(self) -> AccountState:
        if self._account is None:
            raise RuntimeError("the account state is read at the start of each run")
        return self._account

    async def refresh_control(self) -> SwitchReading:
        """Read the kill switch (fails closed) into ``self.control`` and the paused gauge."""
        self.control = await self.kill_switch.read()
        metrics.writes_paused.set(1 if self.control.paused else 0)
        return self.control

    async def run(self) -> None:
        await self.outbox.flush()
        await self.refresh_control()
        self._account = await self.store.account()
        # A halt (locked, session expired) ends with the operator's `xbot resume`: a later write of the switch.
        halted_by = self.account.risk.halted_reason
        if self.account.follow_switch(paused=self.control.paused, revision=self.control.revision):
            if not self.account.halted:
                logger.warning("operator resumed writes after %s", halted_by)
            await self.store.save_account(self.account)
        self._export_state()
        # Also here: a cycle that waits for an open attempt's read-back takes no decision, and an edit of another
        # item should not wait for that.
        if await self.store.settle_edits(self.clock.now()):
            await self.outbox.flush()
        for _ in range(MAX_STEPS):
            if not await self.reconcile_open():
                self.last_decision = "waiting for open attempts to settle"
                return
            decision = await self.decide()
            if isinstance(decision, Wait):
                self.last_decision = f"wait until {decision.until} ({decision.reason})"
                return
            if isinstance(decision, Expire):
                await self.expire(decision.item.content_id, withdrawn=decision.item.withdrawn)
            elif isinstance(decision, PostNow):
                await self.post(decision.item.content_id)
            await self.outbox.flush()

    def _export_state(self) -> None:
        # The paused gauge follows every read of the switch (refresh_control); the caps gauges each decision.
        metrics.risk_level.set(int(self.account.level(self.clock.now())))
        metrics.writes_halted.set(1 if self.account.halted else 0)
        metrics.breaker_state.set(STATE_CODE[self.account.breaker.current()])

    async def decide(self) -> Decision:
        # A cycle may write several items (and the gateway spaces writes by minutes): read the kill switch
        # again before each decision so a pause stops the next write, not only the next cycle's.
        await self.refresh_control()
        now = self.clock.now()
        # The owner's edits first: the cycle is the only writer of intents, so an edit settled here is either
        # before every intent of its item (applied: the item below carries its text) or after one (too late).
        if await self.store.settle_edits(now):
            await self.outbox.flush()
        items = await self.store.queued_items()
        history = await self.store.history(now - HISTORY)
        self._account = await self.store.account()
        block = self.account.block(now, paused=self.control.paused)
        pacing = self.pacing.under(self.account.level(now))
        metrics.show_pacing(pacing, history, now)  # the caps in force against the writes they count
        kinds = self.settings.approval_kinds()
        return next_due([i.queued_item(kinds) for i in items], history, now, pacing=pacing, block=block)

    # ------------------------------------------------------------------ writing

    async def post(self, content_id: str) -> None:
        item = await self.store.item(content_id)
        # ContentQueued is not trusted: a buggy or forged planner could queue 25 parts or a reply with a link.
        broken = check_write(item.kind, item.parts, self.limits)
        if broken is not None:
            await self._fail(item, "invalid_content", retryable=False, error=str(broken), now=self.clock.now())
            return
        last = await self.store.last_attempt(content_id)
        first = len(item.tweet_ids)
        # A thread whose last attempt posted every part it tried stopped between parts without failing (a
        # pause, or a crash before the next intent): completing it continues that attempt rather than
        # counting a new one against the item.
        resuming = first > 0 and last is not None and last.all_posted
        attempt_no = (last.attempt_no if last else 0) + (0 if resuming else 1)
        for index in range(first, len(item.parts)):
            if index > first and await self._writes_stopped(item, index):
                return
            now = self.clock.now()
            key = AttemptKey(content_id, attempt_no, index)
            new_attempt = index == first and not resuming
            # Pacing counts an item once, when its first part may reach X.
            write = self.pacing.record(item.kind, now, self.rng) if index == 0 else None
            self.failpoints.hit("poster.before_intent")
            await self.store.record_intent(Intent(key, now, new_attempt=new_attempt, write=write))
            if new_attempt:
                item.attempts += 1
                item.first_attempt_at = item.first_attempt_at or now
            self.failpoints.hit("poster.after_intent")
            timer = self.failpoints.die_later("poster.during_call")
            try:
                result = await self.write_part(item, index)
            except GatewayError as err:
                await self.on_write_error(key, err)
                if err.code in ("invalid_content", "reply_not_allowed"):
                    # The gateway's limits differ from ours (its settings), or X will not take a reply to that
                    # tweet (gone, replies limited by its author): the same write would be refused again.
                    await self._fail(item, err.code, retryable=False, error=err.message, now=self.clock.now())
                return
            if timer is not None:
                timer.cancel()
            if item.kind == "thread" and index == 1:
                self.failpoints.hit("poster.after_part2")
            self.failpoints.hit("poster.after_call")
            item.tweet_ids.append(result.tweet_ids[0])
            self.account.write_succeeded()
            await self._part_posted(item, key, result.tweet_ids[0], reconciled=False)
        self.failpoints.hit("poster.before_publish")

    async def _writes_stopped(self, item: Item, index: int) -> bool:
        """Before the next part of a thread: has the operator paused (or a halt stopped) writes meanwhile?

        Nothing of the next part is recorded yet, so stopping here leaves no open attempt: the thread waits,
        partly posted (never expired), and is completed from this part after the resume.
        """
        await self.refresh_control()  # an unreadable switch reads as paused: stop, the next cycle reads again
        self._account = await self.store.account()
        if not self.control.paused and not self.account.halted:
            return False
        why = (f"paused ({self.control.reason})" if self.control.paused
               else f"halted after {self.account.risk.halted_reason}")
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

    async def on_write_error(self, key: AttemptKey, err: GatewayError) -> None:
        now = self.clock.now()
        self._signal(err.code, now)
        if err.code not in UNSENT_CODES:
            # The gateway's own refusals (budget, caps, pause, live guard) and a request no gateway took say
            # nothing of X's health: only X's failures count towards the write breaker.
            self.account.write_failed()
        if needs_readback(err.code):
            # The write may be on X anyway: the attempt stays open for the read-back, which concludes at once
            # unless the request may still be running or landing (a timeout: see settling). A timeout is answered
            # only when X itself answered it; one where the gateway or the client gave up waiting is not.
            await self.store.record_error(key, err.code, err.message, at=now, account=self.account,
                                          answered=err.code != "timeout" or err.x_answered)
        else:
            # X refused before anything was created, for reasons of the account, not of this item: the item
            # waits (unchanged attempts) behind the hold or halt the signal set.
            # A refusal that says when to retry (the gateway's budget or hard caps) holds the item till then,
            # instead of asking again at every cycle.
            retry_at = now + timedelta(seconds=err.retry_after_s) if err.retry_after_s else None
            await self.store.record_refusal(key, err.code, err.message, at=now, account=self.account,
                                            not_before=retry_at)

    def _signal(self, code: str, now: datetime) -> RiskChange | None:
        """Feed an X warning or halting error into the account risk; the change when it was one."""
        change = self.account.signal(code, now, switch_revision=self.control.revision)
        if change is None:
            return None
        if change.halted:
            logger.error("ALERT %s: all writes stopped until an operator runs `xbot resume`", code)
        else:
            logger.warning("X warning %s: risk level %s, writes held until %s",
                           code, change.level.name, change.hold_until)
        return change

    # ------------------------------------------------------------------ reconciling

    async def reconcile_open(self) -> bool:
        """Settle every attempt whose outcome is unknown; False while one must still wait (may be in flight)."""
        settled = True
        attempts = await self.store.open_attempts()
        self._read_back_at = {a.key: at for a in attempts if (at := self._read_back_at.get(a.key)) is not None}
        for attempt in attempts:
            settled = await self.reconcile(attempt) and settled
        return settled

    async def reconcile(self, attempt: OpenAttempt) -> bool:
        now = self.clock.now()
        settles_at, wait = self.settling(attempt, now)
        within_grace = now < settles_at
        last = self._read_back_at.get(attempt.key)
        if within_grace and last is not None and now < last + wait / READBACKS_PER_GRACE:
            return False  # read back too recently to learn anything new (READBACKS_PER_GRACE)
        item = await self.store.item(attempt.key.content_id)
        try:
            timeline, gateway_started_at = await self.read_back(item)
        except GatewayError as err:
            logger.warning("read-back of %s failed (%s); retrying next cycle", item.content_id, err)
            if self._signal(err.code, now) is not None:
                await self.store.save_account(self.account)
            return False
        found = match_parts(item.parts, timeline, since=item.first_attempt_at or attempt.started_at,
                            reply_to=item.reply_to_tweet_id if item.kind == "reply" else None)
        # Parts recorded as posted are facts; the read-back only fills in what is unknown.
        readback = Readback(tuple(item.tweet_ids[i] if i < len(item.tweet_ids) else found.parts[i]
                                  for i in range(len(item.parts))))
        key = attempt.key
        index = key.part_index
        if readback.status == "inconsistent":
            logger.error("ALERT read-back of %s is inconsistent (%s): not posting; an operator should look",
                         item.content_id, readback.parts)
            await self._fail(item, "inconsistent", retryable=False, error=str(readback.parts), now=now,
                             settlement=Settlement(key, "inconsistent", readback.tweet_ids, now))
            return True
        # Found: on X after all (a "duplicate" too, when X was right that we already said it).
        if (tweet_id := readback.parts[index]) is not None:
            logger.info("read-back found %s part %d on X: recording it as posted", item.content_id, index)
            item.tweet_ids = readback.tweet_ids[:index]
            self.account.write_succeeded()
            await self._part_posted(item, key, tweet_id, reconciled=True)
            return True
        # A gateway started after the intent cannot be writing it (TweetList.gateway_started_at says why); the
        # request was sent just after the intent, so one that reached the new gateway is ahead of this read-back
        # in its P0 queue and already on X.
        writer_gone = gateway_started_at is not None and gateway_started_at > attempt.started_at
        if within_grace and not writer_gone:
            # The gateway may still be writing it: read again later, never post twice.
            self._read_back_at[attempt.key] = now
            logger.info("read-back of %s part %d found nothing yet; no conclusion before %s (gateway up since %s)",
                        item.content_id, index, settles_at, gateway_started_at)
            return False
        not_posted = Settlement(key, "not_posted", None, now)
        code = attempt.error_code
        if code == "duplicate":
            # X says we already said it, yet it is nowhere: the same text would be refused again.
            await self._fail(item, "duplicate", retryable=False, now=now, settlement=not_posted,
                             error="X reported a duplicate that the read-back cannot find")
            return True
        decision = self.retry.after_failure(
            attempts=item.attempts, error_code=code or "interrupted",
            retryable=True if code is None else RETRYABLE.get(code, False), now=now)
        if isinstance(decision, GiveUp):
            await self._fail(item, decision.reason, retryable=decision.retryable, now=now, settlement=not_posted,
                             error=f"after {decision.attempts} attempts")
        else:
            await self.store.retry_later(not_posted, decision.not_before)
        logger.info("read-back: %s part %d is not on X; %s", item.content_id, index, decision)
        return True

    def settling(self, attempt: OpenAttempt, now: datetime) -> tuple[datetime, timedelta]:
        """Until when a read-back that finds nothing proves nothing, and how long that wait is.

        A `timeout` nobody answered (the gateway or the client gave up waiting) may still be on its way to X: the
        grace from the intent. A `timeout` X itself answered (its "Something went wrong", its API's 5xx) has
        nothing on its way, yet X may still show the post a moment later: X's own delay from the answer, not the
        grace (7 real minutes that the growth week's x656 turned into 76 simulated hours of no writes). Any other
        answer: no wait.
        """
        if not attempt.answered:
            since, real = attempt.started_at, self.settings.readback_grace_real
        elif attempt.error_code == "timeout":
            since, real = attempt.answered_at or attempt.started_at, self.settings.readback_settle_real
        else:
            return now, timedelta(0)
        wait = timedelta(seconds=self.clock.sim_seconds(real.total_seconds()))
        return since + wait, wait

    async def read_back(self, item: Item) -> tuple[list[TimelineTweet], datetime | None]:
        """The account's latest tweets, and when the gateway that read them started."""
        limit = self.settings.readback_limit
        if item.kind == "reply":
            # X's Posts tab leaves replies to others out; the account's latest search shows them.
            found = await self.gateway.search(f"from:{self.settings.x_handle}", tab="latest", limit=limit,
                                              priority=0)
        else:
            found = await self.gateway.own_timeline(limit=limit, priority=0)
        return [TimelineTweet.from_card(c) for c in found.tweets], found.gateway_started_at

    # ------------------------------------------------------------------ outcomes

    async def _part_posted(self, item: Item, key: AttemptKey, tweet_id: str, *, reconciled: bool) -> None:
        now = self.clock.now()
        ids = [*item.tweet_ids[:key.part_index], tweet_id]
        outcome = None
        if len(ids) == len(item.parts):
            outcome = TweetPosted(
                content_id=item.content_id, kind=item.kind, tweet_ids=ids,
                url=f"{self.settings.x_base_url.rstrip('/')}/{self.settings.x_handle}/status/{ids[0]}",
                posted_at=now, reply_to_tweet_id=item.reply_to_tweet_id, reply_to_author=item.reply_to_author,
                text="\n\n".join(item.parts), reconciled=reconciled or item.reconciled)
        await self.store.record_posted(item, key, ids, reconciled=reconciled, at=now, account=self.account,
                                       outcome=outcome)
        item.reconciled = item.reconciled or reconciled
        if outcome is not None:
            metrics.outcomes.labels(item.kind, "posted").inc()

    async def expire(self, content_id: str, *, withdrawn: Withdrawal | None = None) -> None:
        item = await self.store.item(content_id)
        if withdrawn is not None:
            await self._fail(item, withdrawn, retryable=False, error=WITHDRAWN_BECAUSE[withdrawn],
                             now=self.clock.now())
            return
        await self._fail(item, "expired", retryable=False, error=f"expired at {item.expires_at}",
                         now=self.clock.now())

    async def _fail(self, item: Item, reason: str, *, retryable: bool, error: str | None, now: datetime,
                    settlement: Settlement | None = None) -> None:
        event = PostFailed(content_id=item.content_id, kind=item.kind, reason=reason, error=error,
                           retryable=retryable, attempts=item.attempts, failed_at=now)
        logger.warning("%s failed: %s (%s)", item.content_id, reason, error)
        await self.store.fail(item, event, settlement=settlement)
        metrics.outcomes.labels(item.kind, reason).inc()

    # ------------------------------------------------------------------ status

    async def describe(self) -> dict[str, Any]:
        now = self.clock.now()
        figures = await self.store.figures()
        account = await self.store.account()  # not self.account: /status may be asked in the middle of a run
        hold = account.risk.hold_until if account.risk.held(now) else None
        return {"queue": figures.by_status,
                "last_post_at": figures.last_post_at.isoformat() if figures.last_post_at else None,
                "open_attempts": figures.open_attempts, "unpublished_outcomes": await self.outbox.pending(),
                "paused": self.control.paused, "risk_level": account.level(now).name,
                "hold_until": hold.isoformat() if hold else None,
                "halted": account.risk.halted_reason, "breaker": account.breaker.current(),
                "last_decision": self.last_decision}

