"""The posting store's contract, run on the Postgres store (services/poster/store.py, a real database) and on the
in-memory one the unit tests of the cycle use (tests/unit/poster/fakes.py): both answer the same way, so what
the unit tests prove with the fake holds for the service."""

from __future__ import annotations

import json
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass
from datetime import datetime, timedelta

import asyncpg
import pytest

from libs.bus.broker import make_broker
from libs.bus.publish import EventPublisher
from libs.contracts.events import ContentKind, PostFailed, TweetPosted
from libs.core.settings import CommonSettings
from libs.store.migrations import migrate
from libs.store.outbox import Outbox
from libs.store.pool import create_pool
from services.poster.account import AccountState
from services.poster.app import MIGRATIONS
from services.poster.cycle import PostingStore
from services.poster.pacing import WriteRecord
from services.poster.progress import AttemptKey, Intent, Item, LastAttempt, OpenAttempt, Settlement
from services.poster.risk import AccountRisk
from services.poster.settings import PosterSettings
from services.poster.store import PgPostingStore
from tests.unit.poster.fakes import FakeStore, SteppedClock

MIN = timedelta(minutes=1)


@dataclass
class Backend:
    store: PostingStore
    clock: SteppedClock
    enqueue: Callable[[Item], Awaitable[None]]
    # What the owner_edits projection writes for ContentEdited: (content_id, edited_at, parts)
    edit: Callable[[str, datetime, list[str]], Awaitable[None]]
    # (msg_id, event type, content id, correlation id, causation id) of each outbox row, in order
    outbox: Callable[[], Awaitable[list[tuple[str, str, str, str | None, str]]]]


def fresh_account(clock: SteppedClock) -> Callable[[], AccountState]:
    settings = PosterSettings()
    return lambda: AccountState(AccountRisk(policy=settings.risk_policy()), settings.breaker(clock))


@pytest.fixture(params=["postgres", "fake"])
async def backend(request: pytest.FixtureRequest, settings: CommonSettings) -> AsyncIterator[Backend]:
    clock = SteppedClock()
    if request.param == "fake":
        fake = FakeStore(fresh_account(clock))

        async def enqueue_fake(item: Item) -> None:
            fake.enqueue(item)

        async def outbox_fake() -> list[tuple[str, str, str, str | None, str]]:
            return [(r.msg_id, r.event.TYPE, getattr(r.event, "content_id", ""), r.correlation_id, r.causation_id)
                    for r in fake.outbox]

        async def edit_fake(content_id: str, at: datetime, parts: list[str]) -> None:
            fake.edit(content_id, at, parts)

        yield Backend(fake, clock, enqueue_fake, edit_fake, outbox_fake)
        return

    schema = "poster_store_" + uuid.uuid4().hex[:8]
    conn = await asyncpg.connect(settings.dsn)
    try:
        await migrate(conn, schema, MIGRATIONS)
    finally:
        await conn.close()
    pool = await create_pool(settings.dsn, schema=schema)
    # Only Outbox.record is used here (in the store's transactions); publishing is libs' own, tested there.
    outbox = Outbox(pool, EventPublisher(make_broker(settings, service="poster"), settings, clock, "poster"), clock)

    async def enqueue_pg(item: Item) -> None:  # what the queue projection writes for ContentQueued
        await pool.execute(
            "INSERT INTO queue (content_id, kind, parts, reply_to_tweet_id, reply_to_author, scheduled_for,"
            " expires_at, queued_event_id, correlation_id) VALUES ($1, $2, $3::jsonb, $4, $5, $6, $7, $8, $9)",
            item.content_id, item.kind, json.dumps(item.parts), item.reply_to_tweet_id, item.reply_to_author,
            item.scheduled_for, item.expires_at, item.queued_event_id, item.correlation_id)

    async def edit_pg(content_id: str, at: datetime, parts: list[str]) -> None:
        await pool.execute("INSERT INTO owner_edits (content_id, edited_at, parts) VALUES ($1, $2, $3::jsonb)",
                           content_id, at, json.dumps(parts))

    async def outbox_pg() -> list[tuple[str, str, str, str | None, str]]:
        rows = await pool.fetch("SELECT msg_id, event_type, envelope FROM event_outbox ORDER BY seq")
        out = []
        for r in rows:
            envelope = json.loads(r["envelope"])
            # An event caused by nothing queued (WritesHalted) correlates with itself: compared as no correlation.
            caused = envelope["causation_id"]
            out.append((r["msg_id"], r["event_type"], envelope["payload"].get("content_id", ""),
                        envelope["correlation_id"] if caused else None, caused or ""))
        return out

    try:
        yield Backend(PgPostingStore(pool, outbox, new_account=fresh_account(clock)), clock, enqueue_pg, edit_pg,
                      outbox_pg)
    finally:
        await pool.execute(f'DROP SCHEMA "{schema}" CASCADE')
        await pool.close()


def item(content_id: str, clock: SteppedClock, *parts: str, kind: ContentKind = "post") -> Item:
    now = clock.now()
    return Item(content_id=content_id, kind=kind, parts=list(parts) or ["A post."],
                reply_to_tweet_id=None, reply_to_author=None, scheduled_for=now, expires_at=now + timedelta(days=1),
                correlation_id=f"corr-{content_id}", queued_event_id=f"evt-{content_id}")


async def test_a_queued_item_starts_untouched(backend: Backend) -> None:
    s, clock = backend.store, backend.clock
    await backend.enqueue(item("a", clock, "Hello."))
    (queued,) = await s.queued_items()
    assert queued == item("a", clock, "Hello.")
    assert await s.item("a") == queued
    with pytest.raises(LookupError):
        await s.item("nope")
    assert await s.last_attempt("a") is None and await s.open_attempts() == [] and await s.history(clock.now()
                                                                                                      - MIN) == []
    figures = await s.figures()
    assert (figures.by_status, figures.open_attempts, figures.last_post_at) == ({"queued": 1}, 0, None)


async def test_an_intent_opens_an_attempt_counts_the_try_and_the_write(backend: Backend) -> None:
    s, clock = backend.store, backend.clock
    await backend.enqueue(item("a", clock))
    t0 = clock.now()
    write = WriteRecord("content", t0, timedelta(seconds=12.5))
    await s.record_intent(Intent(AttemptKey("a", 1, 0), t0, new_attempt=True, write=write))
    got = await s.item("a")
    assert (got.status, got.attempts, got.first_attempt_at) == ("queued", 1, t0)
    assert await s.queued_items() == []  # an open attempt keeps it out of the scheduler's choice
    assert await s.open_attempts() == [OpenAttempt(AttemptKey("a", 1, 0), t0, False, None, None)]
    assert await s.history(t0 - MIN) == [write] and await s.history(t0) == []
    assert await s.last_attempt("a") == LastAttempt(1, False)
    assert (await s.figures()).open_attempts == 1

    account = await s.account()
    account.signal("locked", t0, switch_revision=7)
    await s.record_error(AttemptKey("a", 1, 0), "timeout", "no answer", answered=False, at=t0 + MIN,
                         account=account)
    # No answer: nothing says when the request stopped running.
    assert await s.open_attempts() == [OpenAttempt(AttemptKey("a", 1, 0), t0, False, "timeout", None)]
    assert (await s.account()).documents() == account.documents()
    # The same error answered by the gateway (its "Something went wrong") dates the answer.
    await s.record_error(AttemptKey("a", 1, 0), "timeout", "X: something went wrong", answered=True,
                         at=t0 + MIN, account=account)
    assert await s.open_attempts() == [OpenAttempt(AttemptKey("a", 1, 0), t0, True, "timeout", t0 + MIN)]

    clock.advance(10 * MIN)
    await s.retry_later(Settlement(AttemptKey("a", 1, 0), "not_posted", None, clock.now()), clock.now() + 5 * MIN)
    (queued,) = await s.queued_items()
    assert (queued.not_before, queued.attempts, queued.first_attempt_at) == (clock.now() + 5 * MIN, 1, t0)
    assert await s.open_attempts() == []

    # The next attempt: the first try's date stays.
    await s.record_intent(Intent(AttemptKey("a", 2, 0), clock.now(), new_attempt=True, write=None))
    assert ((await s.item("a")).attempts, (await s.item("a")).first_attempt_at) == (2, t0)


async def test_a_thread_posted_part_by_part_then_its_outcome(backend: Backend) -> None:
    s, clock = backend.store, backend.clock
    thread = item("t", clock, "1/", "2/", kind="thread")
    await backend.enqueue(thread)
    account = await s.account()
    t0 = clock.now()
    await s.record_intent(Intent(AttemptKey("t", 1, 0), t0, new_attempt=True,
                                 write=WriteRecord("content", t0, timedelta(0))))
    await s.record_posted(thread, AttemptKey("t", 1, 0), ["101"], reconciled=False, at=t0, account=account,
                          outcome=None)
    got = await s.item("t")
    assert (got.status, got.tweet_ids, got.reconciled) == ("queued", ["101"], False)
    assert await s.last_attempt("t") == LastAttempt(1, True)
    assert [i.content_id for i in await s.queued_items()] == ["t"]  # partly posted: still to complete

    clock.advance(MIN)
    await s.record_intent(Intent(AttemptKey("t", 1, 1), clock.now(), new_attempt=False, write=None))
    account.write_succeeded()
    posted = TweetPosted(content_id="t", kind="thread", tweet_ids=["101", "102"], url="http://x/s/101",
                         posted_at=clock.now(), reconciled=True)
    await s.record_posted(thread, AttemptKey("t", 1, 1), ["101", "102"], reconciled=True, at=clock.now(),
                          account=account, outcome=posted)
    got = await s.item("t")
    assert (got.status, got.tweet_ids, got.reconciled, got.finished_at, got.attempts) == (
        "posted", ["101", "102"], True, clock.now(), 1)
    assert await s.queued_items() == [] and await s.open_attempts() == []
    figures = await s.figures()
    assert (figures.by_status, figures.last_post_at) == ({"posted": 1}, clock.now())
    assert await backend.outbox() == [("TweetPosted:posted:t", "TweetPosted", "t", "corr-t", "evt-t")]


async def test_the_same_outcome_recorded_twice_is_one_outbox_row(backend: Backend) -> None:
    s, clock = backend.store, backend.clock
    expired = item("e", clock)
    await backend.enqueue(expired)
    failed = PostFailed(content_id="e", kind="post", reason="expired", retryable=False, attempts=0,
                        failed_at=clock.now())
    await s.fail(expired, failed)
    await s.fail(expired, failed)  # e.g. a second replica that read the queue before the first committed
    assert await backend.outbox() == [("PostFailed:failed:e", "PostFailed", "e", "corr-e", "evt-e")]


async def test_a_refusal_uncounts_the_try_and_the_write_of_a_part_that_reached_nothing(backend: Backend) -> None:
    s, clock = backend.store, backend.clock
    thread = item("t", clock, "1/", "2/", kind="thread")
    await backend.enqueue(thread)
    account = await s.account()
    t0 = clock.now()
    write = WriteRecord("content", t0, timedelta(0))
    await s.record_intent(Intent(AttemptKey("t", 1, 0), t0, new_attempt=True, write=write))
    await s.record_refusal(AttemptKey("t", 1, 0), "rate_limited", "slow down", at=t0, account=account)
    assert (await s.item("t")).attempts == 0 and await s.history(t0 - MIN) == []
    assert await s.last_attempt("t") == LastAttempt(1, False) and await s.open_attempts() == []

    # A later part refused: the first part is on X, so its write stays counted.
    await s.record_intent(Intent(AttemptKey("t", 2, 0), t0, new_attempt=True, write=write))
    await s.record_posted(thread, AttemptKey("t", 2, 0), ["201"], reconciled=False, at=t0, account=account,
                          outcome=None)
    await s.record_intent(Intent(AttemptKey("t", 2, 1), t0, new_attempt=False, write=None))
    await s.record_refusal(AttemptKey("t", 2, 1), "locked", "locked", at=t0, account=account)
    assert await s.history(t0 - MIN) == [write]
    assert await s.last_attempt("t") == LastAttempt(2, False)
    assert (await s.item("t")).not_before is None

    # The gateway's budget said when to retry: the item waits till then.
    await s.record_intent(Intent(AttemptKey("t", 3, 1), t0, new_attempt=False, write=None))
    await s.record_refusal(AttemptKey("t", 3, 1), "budget_exhausted", "no room", at=t0, account=account,
                           not_before=t0 + 40 * MIN)
    assert (await s.item("t")).not_before == t0 + 40 * MIN


async def test_a_failure_settles_its_attempt_and_records_its_event(backend: Backend) -> None:
    s, clock = backend.store, backend.clock
    thread = item("t", clock, "1/", "2/", kind="thread")
    await backend.enqueue(thread)
    t0 = clock.now()
    await s.record_intent(Intent(AttemptKey("t", 1, 0), t0, new_attempt=True, write=None))
    failed = PostFailed(content_id="t", kind="thread", reason="inconsistent", retryable=False, attempts=1,
                        failed_at=t0)
    await s.fail(thread, failed, settlement=Settlement(AttemptKey("t", 1, 0), "inconsistent", [], t0))
    got = await s.item("t")
    assert (got.status, got.finished_at) == ("failed", t0)
    assert await s.open_attempts() == [] and await s.last_attempt("t") == LastAttempt(1, False)
    assert await backend.outbox() == [("PostFailed:failed:t", "PostFailed", "t", "corr-t", "evt-t")]
    assert (await s.figures()).by_status == {"failed": 1}


async def test_the_account_state_round_trips(backend: Backend) -> None:
    s, clock = backend.store, backend.clock
    fresh = await s.account()
    assert fresh.documents() == fresh_account(clock)().documents()
    fresh.record_start(clock.now())
    fresh.signal("automation_block", clock.now(), switch_revision=3)
    fresh.write_failed()
    await s.save_account(fresh)
    assert (await s.account()).documents() == fresh.documents()


async def test_a_halt_is_announced_once_with_the_state_that_records_it(backend: Backend) -> None:
    s, clock = backend.store, backend.clock
    account = await s.account()
    account.signal("locked", clock.now(), switch_revision=2)
    await s.save_account(account)
    account.signal("locked", clock.now() + MIN, switch_revision=2)  # still halted: no new announcement
    await s.save_account(account)
    halted_at = clock.now().isoformat()
    assert await backend.outbox() == [(f"WritesHalted:halted:locked:{halted_at}", "WritesHalted", "", None, "")]
    assert (await s.account()).halted


async def test_an_edit_is_applied_before_the_first_intent_and_too_late_after_it(backend: Backend) -> None:
    s, clock = backend.store, backend.clock
    for cid in ("early", "late", "unknown-yet"):
        if cid != "unknown-yet":
            await backend.enqueue(item(cid, clock, "As the planner wrote it."))
    await s.record_intent(Intent(AttemptKey("late", 1, 0), clock.now(), new_attempt=True, write=None))
    t1 = clock.now()
    for cid in ("early", "late", "unknown-yet"):
        await backend.edit(cid, t1, ["As the owner wrote it."])
    assert await s.settle_edits(clock.now()) == 2  # the item the queue does not hold yet waits
    assert (await s.item("early")).parts == ["As the owner wrote it."]
    assert (await s.item("late")).parts == ["As the planner wrote it."]
    verdicts = {r[2]: r for r in await backend.outbox() if r[1] == "OwnerEditSettled"}
    assert set(verdicts) == {"early", "late"}
    assert await s.settle_edits(clock.now()) == 0  # each edit is settled once
    # A second edit of the applied one is applied in turn; the latest applied text is the one posted.
    clock.advance(MIN)
    await backend.edit("early", clock.now(), ["The owner's second thought."])
    assert await s.settle_edits(clock.now()) == 1
    assert (await s.item("early")).parts == ["The owner's second thought."]
