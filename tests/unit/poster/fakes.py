"""In-memory stand-ins for what the posting cycle depends on (services/poster/cycle.py), for unit tests.

- :class:`FakeStore` keeps the poster's tables as Python objects. Each method is all-or-nothing like the
  Postgres store's transactions, and hands out copies, so what the cycle holds in memory is lost by a crash
  unless it was saved (tests/integration/poster/test_poster_store.py runs the same contract on both stores).
- :class:`FakeX` is the account on X; :class:`FakeGateway` writes to it and reads it back, and can answer with
  any gateway error, before or after the write landed.
- :class:`FakeOutbox` publishes the store's outbox rows to a stream that drops a repeated message id, as
  JetStream's duplicate window does.
- :class:`Crash` is what a failpoint raises where the real process would be SIGKILLed: a BaseException, so no
  ``except`` of the cycle catches it, and the test restarts a new cycle on the same store, X and stream.
"""

from __future__ import annotations

import copy
import json
import random
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime, timedelta
from typing import Any

from libs.contracts.events import ContentKind, OwnerEditSettled, PostFailed, TweetPosted, WritesHalted
from libs.contracts.gateway import GatewayError, PostResult, SearchTab, TweetCard, TweetList
from libs.core.clock import Clock
from services.poster.account import AccountState
from services.poster.cycle import PostingCycle
from services.poster.pacing import WriteRecord
from services.poster.progress import (
    AttemptKey,
    Intent,
    Item,
    ItemStatus,
    LastAttempt,
    OpenAttempt,
    QueueFigures,
    Settlement,
    edit_verdict,
)
from services.poster.risk import AccountRisk
from services.poster.settings import PosterSettings

T0 = datetime(2025, 3, 3, 9, 0, tzinfo=UTC)
HANDLE = "xbot_demo"
Outcome = TweetPosted | PostFailed
# What the account state announces (WritesHalted) and the verdicts on the owner's edits travel through the same
# outbox.
Announcement = WritesHalted | OwnerEditSettled


class Crash(BaseException):
    """The process dies here (a failpoint)."""


class SteppedClock(Clock):
    """The Clock at scale 1, moved by the test."""

    def __init__(self, start: datetime = T0) -> None:
        super().__init__(scale=1.0, epoch=start)
        self.at = start

    def now(self) -> datetime:
        return self.at

    def advance(self, by: timedelta) -> None:
        self.at += by


# ---------------------------------------------------------------- the store


@dataclass
class Progress:
    status: ItemStatus = "queued"
    attempts: int = 0
    not_before: datetime | None = None
    tweet_ids: list[str] = field(default_factory=list)
    first_attempt_at: datetime | None = None
    reconciled: bool = False
    finished_at: datetime | None = None


@dataclass
class AttemptRow:
    started_at: datetime
    outcome: str | None = None
    answered: bool = False
    error_code: str | None = None
    error: str | None = None
    answered_at: datetime | None = None
    tweet_ids: list[str] | None = None
    finished_at: datetime | None = None


@dataclass
class OutboxRow:
    msg_id: str
    event: Outcome | Announcement
    correlation_id: str | None
    causation_id: str
    published: bool = False


class FakeStore:
    def __init__(self, new_account: Callable[[], AccountState]) -> None:
        self.new_account = new_account
        # The account_risk projection: the level the gateway last published (AccountRiskChanged).
        self.gateway_level = 0
        self.queue: dict[str, Item] = {}  # what the projection wrote (progress fields left at their defaults)
        self.progress: dict[str, Progress] = {}
        self.attempts: dict[AttemptKey, AttemptRow] = {}
        self.writes: list[tuple[str, int, WriteRecord]] = []  # the history table
        self.state: dict[str, str] = {}  # JSON, as poster_state holds it
        self.outbox: list[OutboxRow] = []
        # The owner_edits projection ((content_id, edited_at) -> parts) and the cycle's verdicts on them.
        self.edits: dict[tuple[str, datetime], list[str]] = {}
        self.verdicts: dict[tuple[str, datetime], bool] = {}

    def enqueue(self, item: Item) -> None:
        """What the queue projection does with ContentQueued: the first one of a content id wins."""
        self.queue.setdefault(item.content_id, copy.deepcopy(item))

    def edit(self, content_id: str, edited_at: datetime, parts: list[str]) -> None:
        """What the owner_edits projection does with ContentEdited."""
        self.edits.setdefault((content_id, edited_at), list(parts))

    # ------------------------------------------------------------------ reads

    async def queued_items(self) -> list[Item]:
        open_ids = {k.content_id for k, a in self.attempts.items() if a.outcome is None}
        items = [await self.item(cid) for cid in self.queue]
        return [i for i in items if i.status == "queued" and i.content_id not in open_ids]

    async def item(self, content_id: str) -> Item:
        if content_id not in self.queue:
            raise LookupError(f"{content_id} is not in the posting queue")
        p = self.progress.get(content_id, Progress())
        applied = sorted((at, parts) for (cid, at), parts in self.edits.items()
                         if cid == content_id and self.verdicts.get((cid, at)))
        item = copy.deepcopy(self.queue[content_id])
        return replace(item, parts=list(applied[-1][1]) if applied else item.parts, status=p.status,
                       attempts=p.attempts,
                       not_before=p.not_before, tweet_ids=list(p.tweet_ids), first_attempt_at=p.first_attempt_at,
                       reconciled=p.reconciled, finished_at=p.finished_at)

    async def last_attempt(self, content_id: str) -> LastAttempt | None:
        mine = [(k, a) for k, a in self.attempts.items() if k.content_id == content_id]
        if not mine:
            return None
        last = max(k.attempt_no for k, _ in mine)
        return LastAttempt(last, all(a.outcome == "posted" for k, a in mine if k.attempt_no == last))

    async def open_attempts(self) -> list[OpenAttempt]:
        rows = sorted(((k, a) for k, a in self.attempts.items() if a.outcome is None), key=lambda r: r[1].started_at)
        return [OpenAttempt(k, a.started_at, a.answered, a.error_code, a.answered_at) for k, a in rows]

    async def history(self, since: datetime) -> list[WriteRecord]:
        return [w for _, _, w in self.writes if w.at > since]

    async def account(self) -> AccountState:
        account = self.new_account()
        account.restore({k: json.loads(v) for k, v in self.state.items()})
        account.gateway_level = self.gateway_level
        return account

    async def figures(self) -> QueueFigures:
        by_status: dict[str, int] = {}
        for cid in self.queue:
            status = self.progress.get(cid, Progress()).status
            by_status[status] = by_status.get(status, 0) + 1
        posted = [p.finished_at for p in self.progress.values() if p.status == "posted" and p.finished_at]
        return QueueFigures(by_status, sum(1 for a in self.attempts.values() if a.outcome is None),
                            max(posted, default=None))

    # ------------------------------------------------------------------ writes

    async def save_account(self, account: AccountState) -> None:
        self._save_account(account)

    async def record_intent(self, intent: Intent) -> None:
        key = intent.key
        if key in self.attempts:
            raise ValueError(f"duplicate intent {key}")  # the primary key of attempts
        if intent.new_attempt:
            p = self.progress.setdefault(key.content_id, Progress())
            p.attempts += 1
            p.first_attempt_at = p.first_attempt_at or intent.started_at
        self.attempts[key] = AttemptRow(intent.started_at)
        if intent.write is not None:
            self.writes.append((key.content_id, key.attempt_no, intent.write))

    async def record_posted(self, item: Item, key: AttemptKey, tweet_ids: Sequence[str], *, reconciled: bool,
                            at: datetime, account: AccountState, outcome: TweetPosted | None) -> None:
        self._settle(Settlement(key, "posted", [tweet_ids[-1]], at))
        p = self.progress.setdefault(key.content_id, Progress())
        p.tweet_ids = list(tweet_ids)
        p.reconciled = p.reconciled or reconciled
        if outcome is not None:
            p.status, p.finished_at = "posted", at
            self._to_outbox(item, outcome)
        self._save_account(account)

    async def record_error(self, key: AttemptKey, code: str, message: str, *, answered: bool, at: datetime,
                           account: AccountState) -> None:
        row = self.attempts[key]
        row.answered, row.error_code, row.error = answered, code, message
        row.answered_at = at if answered else None
        self._save_account(account)

    async def record_refusal(self, key: AttemptKey, code: str, message: str, *, at: datetime,
                             account: AccountState, not_before: datetime | None = None) -> None:
        row = self.attempts[key]
        row.outcome, row.answered, row.error_code, row.error, row.finished_at = "refused", True, code, message, at
        if key.part_index == 0:
            self.writes = [w for w in self.writes if (w[0], w[1]) != (key.content_id, key.attempt_no)]
        if key.content_id in self.progress:
            self.progress[key.content_id].attempts -= 1
            if not_before is not None:
                self.progress[key.content_id].not_before = not_before
        self._save_account(account)

    async def retry_later(self, settlement: Settlement, not_before: datetime) -> None:
        self._settle(settlement)
        self.progress.setdefault(settlement.key.content_id, Progress()).not_before = not_before

    async def fail(self, item: Item, outcome: PostFailed, *, settlement: Settlement | None = None) -> None:
        if settlement is not None:
            self._settle(settlement)
        p = self.progress.setdefault(item.content_id, Progress())
        p.status, p.finished_at = "failed", outcome.failed_at
        self._to_outbox(item, outcome)

    async def settle_edits(self, now: datetime) -> int:
        pending = sorted(k for k in self.edits if k not in self.verdicts and k[0] in self.queue)
        for content_id, edited_at in pending:
            applied, why = edit_verdict(
                started=any(k.content_id == content_id for k in self.attempts),
                status=self.progress.get(content_id, Progress()).status, decision=None, decided_parts=None,
                parts=self.edits[(content_id, edited_at)])
            self.verdicts[(content_id, edited_at)] = applied
            event = OwnerEditSettled(content_id=content_id, edited_at=edited_at, applied=applied, reason=why,
                                     settled_at=now)
            self.outbox.append(OutboxRow(f"{event.TYPE}:{event.dedup_key()}", event, None, ""))
        return len(pending)

    def _settle(self, settlement: Settlement) -> None:
        row = self.attempts[settlement.key]
        row.outcome, row.finished_at = settlement.outcome, settlement.at
        row.tweet_ids = list(settlement.tweet_ids) if settlement.tweet_ids is not None else None

    def _save_account(self, account: AccountState) -> None:
        self.state.update({k: json.dumps(v) for k, v in account.documents().items()})
        for event in account.announcements:
            msg_id = f"{event.TYPE}:{event.dedup_key()}"
            if all(r.msg_id != msg_id for r in self.outbox):
                self.outbox.append(OutboxRow(msg_id, event.model_copy(), None, ""))
        account.announcements.clear()

    def _to_outbox(self, item: Item, event: Outcome) -> None:
        msg_id = f"{event.TYPE}:{event.dedup_key()}"  # what Envelope.msg_id makes of a natural key
        if any(r.msg_id == msg_id for r in self.outbox):
            return  # ON CONFLICT (msg_id) DO NOTHING
        self.outbox.append(OutboxRow(msg_id, event.model_copy(), item.correlation_id, item.queued_event_id))


class FakeOutbox:
    """Publishes the store's outbox to ``stream``; a message id already on the stream is dropped."""

    def __init__(self, store: FakeStore) -> None:
        self.store = store
        self.stream: list[OutboxRow] = []
        self.fail_next = 0  # publications that fail (the broker unreachable) before the next one goes through

    async def flush(self) -> list[str]:
        published = []
        for row in self.store.outbox:
            if row.published:
                continue
            if self.fail_next:
                self.fail_next -= 1
                raise ConnectionError("no PubAck")
            if all(r.msg_id != row.msg_id for r in self.stream):
                self.stream.append(copy.deepcopy(row))
            row.published = True
            published.append(row.msg_id)
        return published

    async def pending(self) -> int:
        return sum(1 for r in self.store.outbox if not r.published)


# ---------------------------------------------------------------- X and the gateway


@dataclass
class Tweet:
    tweet_id: str
    text: str
    author: str
    created_at: datetime
    in_reply_to: str | None = None


class FakeX:
    """The account's side of X: every tweet that exists, in the order it was created."""

    def __init__(self, clock: SteppedClock) -> None:
        self.clock = clock
        self.tweets: list[Tweet] = []
        self._next_id = 1_000

    def create(self, text: str, *, author: str = HANDLE, in_reply_to: str | None = None,
               at: datetime | None = None) -> Tweet:
        self._next_id += 1
        tweet = Tweet(str(self._next_id), text, author, at or self.clock.now(), in_reply_to)
        self.tweets.append(tweet)
        return tweet

    def copies(self, text: str) -> list[Tweet]:
        return [t for t in self.tweets if t.text == text and t.author == HANDLE]

    def by_id(self, tweet_id: str) -> Tweet:
        return next(t for t in self.tweets if t.tweet_id == tweet_id)


@dataclass(frozen=True)
class Fault:
    """How the gateway answers the next write: ``code`` as an error, after the write landed on X if ``lands``;
    if ``lands_later``, the write is still running when the error comes back and lands on :meth:`land_late`."""

    code: str
    lands: bool = False
    lands_later: bool = False
    retry_after_s: float | None = None  # the gateway's budget and caps say when to retry
    # X itself answered the error (its "Something went wrong"); by default nobody did (a request timed out).
    x_answered: bool = False

    def error(self, message: str, **kw: Any) -> GatewayError:
        return GatewayError(self.code, message, x_answered=self.x_answered, **kw)


class FakeGateway:
    def __init__(self, x: FakeX) -> None:
        self.x = x
        self.faults: list[Fault] = []  # for the next writes, in order
        self.readback_faults: list[str] = []  # error codes of the next read-backs
        self.writes: list[tuple[str, str | None]] = []  # (text, in reply to) of every write request
        self.readbacks: list[str] = []  # "own_timeline" | "search" per read-back
        self.crash_in_flight = False  # set by a during_call failpoint: the poster dies while X is written
        self.while_writing: Callable[[], None] | None = None  # e.g. the operator pauses meanwhile
        self.in_flight: list[tuple[str, str | None]] = []  # writes still running after their error came back
        self.started_at: datetime | None = None  # when the gateway answering read-backs started (restart())

    async def post_tweet(self, text: str) -> PostResult:
        return self._write(text, None)

    async def reply(self, tweet_id: str, text: str, *, author: str) -> PostResult:
        assert author, "the status URL needs the author's handle"
        return self._write(text, tweet_id)

    def _write(self, text: str, in_reply_to: str | None) -> PostResult:
        self.writes.append((text, in_reply_to))
        fault = self.faults.pop(0) if self.faults else None
        if self.while_writing is not None:
            self.while_writing()
        if fault is not None and fault.lands_later:
            self.in_flight.append((text, in_reply_to))
        if fault is not None and not fault.lands:
            raise fault.error(f"X answered {fault.code}", retry_after_s=fault.retry_after_s)
        tweet = self.x.create(text, in_reply_to=in_reply_to)
        if self.crash_in_flight:
            raise Crash("poster.during_call")
        if fault is not None:
            raise fault.error(f"X answered {fault.code} (yet the post is there)")
        return PostResult(tweet_ids=[tweet.tweet_id], id_source="create_tweet_response")

    def restart(self, at: datetime) -> None:
        """The gateway died with its Chromium and came back at ``at``: what it was writing is gone."""
        self.in_flight = []
        self.started_at = at

    def land_late(self) -> None:
        for text, in_reply_to in self.in_flight:
            self.x.create(text, in_reply_to=in_reply_to)
        self.in_flight = []

    async def own_timeline(self, *, limit: int, priority: int) -> TweetList:
        # The Posts tab: the account's posts and its own threads, not its replies to others.
        own = {t.tweet_id for t in self.x.tweets if t.author == HANDLE}
        return self._read("own_timeline", [t for t in self.x.tweets if t.author == HANDLE
                                           and (t.in_reply_to is None or t.in_reply_to in own)], limit)

    async def search(self, query: str, *, tab: SearchTab, limit: int, priority: int) -> TweetList:
        assert query == f"from:{HANDLE}" and tab == "latest"
        return self._read("search", [t for t in self.x.tweets if t.author == HANDLE], limit)

    def _read(self, op: str, tweets: list[Tweet], limit: int) -> TweetList:
        self.readbacks.append(op)
        if self.readback_faults:
            code = self.readback_faults.pop(0)
            raise GatewayError(code, f"X answered {code} to a read")
        # Newest first, as X lists them (ids grow with time, which orders tweets of the same second).
        newest = sorted(tweets, key=lambda t: (t.created_at, int(t.tweet_id)), reverse=True)[:limit]
        return TweetList(tweets=[TweetCard(tweet_id=t.tweet_id, author=t.author, text=t.text,
                                           created_at=t.created_at.isoformat(),
                                           url=f"https://x.example/{t.author}/status/{t.tweet_id}")
                                 for t in newest], gateway_started_at=self.started_at)


# ---------------------------------------------------------------- kill switch and failpoints


@dataclass(frozen=True)
class Reading:
    paused: bool
    revision: int
    reason: str = ""


class FakeSwitch:
    """The kill switch's KV entry: every write is a new revision; an unreadable one reads as paused."""

    def __init__(self) -> None:
        self.paused = False
        self.revision = 1  # `xbot provision` wrote "resumed"
        self.unreadable = False

    async def read(self) -> Reading:
        if self.unreadable:
            return Reading(True, 0, "the kill switch is unreadable (TimeoutError)")
        return Reading(self.paused, self.revision, "by test" if self.paused else "resumed")

    def pause(self) -> None:
        self.paused, self.revision = True, self.revision + 1

    def resume(self) -> None:
        self.paused, self.revision = False, self.revision + 1


class Timer:
    def __init__(self, gateway: FakeGateway) -> None:
        self.gateway = gateway

    def cancel(self) -> None:
        self.gateway.crash_in_flight = False


class FakeFailpoints:
    """Crash at the ``nth`` hit of failpoint ``name`` (none armed: never)."""

    def __init__(self, gateway: FakeGateway, name: str | None = None, nth: int = 1) -> None:
        self.gateway = gateway
        self.name = name
        self.nth = nth
        self.hits: dict[str, int] = {}
        self.crashed = False

    def _armed(self, name: str) -> bool:
        self.hits[name] = self.hits.get(name, 0) + 1
        return name == self.name and self.hits[name] == self.nth

    def hit(self, name: str) -> None:
        if self._armed(name):
            self.crashed = True
            raise Crash(name)

    def die_later(self, name: str) -> Timer | None:
        if not self._armed(name):
            return None
        self.crashed = True
        self.gateway.crash_in_flight = True
        return Timer(self.gateway)


# ---------------------------------------------------------------- a poster against all of it


TEST_SETTINGS: dict[str, Any] = {
    # Generous caps and no spacing unless a test says otherwise; restarts are the tests' own, not a crash loop.
    "min_spacing": timedelta(0), "spacing_jitter": timedelta(0), "posts_per_hour": 100, "posts_per_day": 1000,
    "replies_per_hour": 100, "replies_per_day": 1000, "crash_loop_starts": 1000, "x_handle": HANDLE,
    "x_base_url": "http://127.0.0.1:8400",
}
CYCLE = timedelta(seconds=30)


class World:
    """One poster's world: its store, X, the gateway, the kill switch and the POSTER stream, on a stepped clock.

    :meth:`start` starts a poster process (the runtime publishes the outbox, then the worker starts); a crash
    drops that process, and the next :meth:`start` is its restart on the same store, X and stream.
    """

    def __init__(self, **settings: Any) -> None:
        self.clock = SteppedClock()
        self.settings = PosterSettings(**{**TEST_SETTINGS, **settings})
        policy = self.settings.risk_policy()
        self.store = FakeStore(lambda: AccountState(AccountRisk(policy=policy), self.settings.breaker(self.clock)))
        self.outbox = FakeOutbox(self.store)
        self.x = FakeX(self.clock)
        self.gateway = FakeGateway(self.x)
        self.switch = FakeSwitch()
        self.failpoints = FakeFailpoints(self.gateway)
        self.cycle: PostingCycle | None = None
        self._ids = 0

    async def start(self, failpoint: str | None = None, nth: int = 1) -> PostingCycle:
        self.gateway.crash_in_flight = False
        self.failpoints = FakeFailpoints(self.gateway, failpoint, nth)
        await self.outbox.flush()
        self.cycle = PostingCycle(self.settings, store=self.store, gateway=self.gateway, kill_switch=self.switch,
                                  outbox=self.outbox, clock=self.clock, failpoints=self.failpoints,
                                  rng=random.Random(7))
        await self.cycle.start()
        return self.cycle

    def queue(self, *parts: str, kind: ContentKind = "post", reply_to: str | None = None,
              reply_to_author: str | None = None, expires_in: timedelta = timedelta(days=2),
              scheduled_in: timedelta = timedelta(0)) -> str:
        self._ids += 1
        content_id = f"c{self._ids}"
        now = self.clock.now()
        self.store.enqueue(Item(content_id=content_id, kind=kind, parts=list(parts), reply_to_tweet_id=reply_to,
                                reply_to_author=reply_to_author, scheduled_for=now + scheduled_in,
                                expires_at=now + expires_in, correlation_id=f"corr-{content_id}",
                                queued_event_id=f"evt-{content_id}"))
        return content_id

    async def run(self) -> None:
        """One posting cycle (and what the runtime does after every job run: publish the outbox)."""
        assert self.cycle is not None, "start the poster first"
        await self.cycle.run()
        await self.outbox.flush()

    async def cycles(self, n: int, every: timedelta = CYCLE) -> None:
        for _ in range(n):
            await self.run()
            self.clock.advance(every)

    async def until_outcome(self, content_id: str, *, limit: int = 400, every: timedelta = CYCLE) -> Outcome:
        for _ in range(limit):
            await self.run()
            found = self.outcomes(content_id)
            if found:
                return found[0]
            self.clock.advance(every)
        raise AssertionError(f"no outcome for {content_id} after {limit} cycles")

    def outcomes(self, content_id: str) -> list[Outcome]:
        """Every TweetPosted / PostFailed of this item on the POSTER stream."""
        return [r.event for r in self.outbox.stream
                if isinstance(r.event, TweetPosted | PostFailed) and r.event.content_id == content_id]

    def halts(self) -> list[WritesHalted]:
        """Every WritesHalted the poster published."""
        return [r.event for r in self.outbox.stream if isinstance(r.event, WritesHalted)]

    def attempts(self, content_id: str) -> list[tuple[int, int, str | None]]:
        return sorted((k.attempt_no, k.part_index, a.outcome) for k, a in self.store.attempts.items()
                      if k.content_id == content_id)

    def progress(self, content_id: str) -> Progress:
        return self.store.progress.get(content_id, Progress())

    async def risk(self) -> AccountRisk:
        return (await self.store.account()).risk
