"""The posting cycle when a write fails: each gateway error family, the read-back that settles an attempt whose
outcome is unknown, retries with backoff and giving up (fakes: tests/unit/poster/fakes.py)."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest

from libs.contracts.events import PostFailed, TweetPosted
from services.poster.cycle import READBACKS_PER_GRACE
from tests.unit.poster.fakes import Crash, Fault, World

MIN = timedelta(minutes=1)
GRACE = timedelta(minutes=7)  # XBOT_READBACK_GRACE_REAL's default (real time; the test clock runs at scale 1)


async def started(**settings: Any) -> World:
    w = World(**settings)
    await w.start()
    return w


# ---------------------------------------------------------------- errors after which the write may be on X


async def test_a_timeout_that_posted_nothing_waits_out_the_grace_then_retries_after_the_backoff() -> None:
    w = await started()
    w.gateway.faults = [Fault("timeout")]
    cid = w.queue("Magnesium before bed?")
    t0 = w.clock.now()
    await w.run()
    assert w.attempts(cid) == [(1, 0, None)]  # open: the request may still be running at the gateway
    # Until the grace is over, a read-back that finds nothing proves nothing: no conclusion, no second write.
    while w.clock.now() < t0 + GRACE:
        await w.run()
        assert len(w.gateway.writes) == 1 and w.attempts(cid) == [(1, 0, None)]
        assert w.cycle is not None and w.cycle.last_decision == "waiting for open attempts to settle"
        w.clock.advance(timedelta(seconds=30))
    await w.run()
    assert w.attempts(cid) == [(1, 0, "not_posted")]
    # Read back 5 times over the 7 minutes (at every 30-second cycle it was 15, each a page or a search of the
    # activity budget's few): at once, a quarter of the grace apart, and once the grace is over.
    assert len(w.gateway.readbacks) == READBACKS_PER_GRACE + 1
    not_before = w.progress(cid).not_before
    assert not_before == w.clock.now() + 5 * MIN  # the first backoff
    posted = await w.until_outcome(cid)
    assert isinstance(posted, TweetPosted) and not posted.reconciled
    assert w.x.tweets[-1].created_at >= not_before
    assert w.attempts(cid) == [(1, 0, "not_posted"), (2, 0, "posted")]
    assert w.progress(cid).attempts == 2 and len(w.x.copies("Magnesium before bed?")) == 1
    # Pacing counted both tries: the first may have reached X.
    assert [n for _, n, _ in w.store.writes] == [1, 2]


async def test_a_gateway_restarted_since_the_intent_settles_the_attempt_without_waiting_for_the_grace() -> None:
    w = await started()
    w.gateway.faults = [Fault("timeout", lands_later=True)]  # in flight when the gateway died
    cid = w.queue("Sleep debt is real.")
    t0 = w.clock.now()
    await w.run()
    assert w.attempts(cid) == [(1, 0, None)]
    w.clock.advance(timedelta(seconds=30))
    await w.run()
    assert w.attempts(cid) == [(1, 0, None)]  # same gateway: its request may still land, so no conclusion
    w.gateway.restart(w.clock.now())  # the old gateway and its in-flight write are gone
    restarted = w.clock.now()
    while w.attempts(cid) == [(1, 0, None)]:
        w.clock.advance(timedelta(seconds=30))
        await w.run()
    # Seen at the next read-back, which comes a quarter of the grace after the last (not at every cycle).
    assert w.clock.now() <= restarted + GRACE / 4 + timedelta(seconds=30) < t0 + GRACE
    assert w.attempts(cid) == [(1, 0, "not_posted")]
    posted = await w.until_outcome(cid)
    assert isinstance(posted, TweetPosted) and len(w.x.copies("Sleep debt is real.")) == 1


async def test_a_gateway_started_before_the_intent_still_waits_out_the_grace() -> None:
    w = await started()
    w.gateway.restart(w.clock.now())
    w.clock.advance(timedelta(seconds=30))
    w.gateway.faults = [Fault("timeout", lands_later=True)]
    cid = w.queue("Walk after meals.")
    await w.cycles(4)
    assert w.attempts(cid) == [(1, 0, None)] and w.x.tweets == []
    w.gateway.land_late()
    posted = await w.until_outcome(cid)
    assert isinstance(posted, TweetPosted) and posted.reconciled and len(w.x.copies("Walk after meals.")) == 1


async def test_a_write_no_gateway_took_is_sent_again_next_cycle_without_a_read_back_or_the_grace() -> None:
    # NATS had no subscriber (the gateway restarting): the request reached nobody. Taken for a timeout, it held
    # every write for the grace (7 real minutes) and read back at each cycle, which a chaos run's activity budget
    # ran out of: that run posted nothing.
    w = World(breaker_failures=3)
    await w.start()
    w.gateway.faults = [Fault("unreachable")] * 3
    cid = w.queue("Dim the lights an hour before bed.")
    t0 = w.clock.now()
    posted = await w.until_outcome(cid)
    assert isinstance(posted, TweetPosted) and not posted.reconciled and w.clock.now() < t0 + GRACE
    assert [outcome for _, _, outcome in w.attempts(cid)] == ["refused"] * 3 + ["posted"]
    assert len(w.gateway.writes) == 4 and len(w.x.copies("Dim the lights an hour before bed.")) == 1
    assert w.gateway.readbacks == [] and w.progress(cid).attempts == 1
    assert [n for _, n, _ in w.store.writes] == [4]  # pacing counts the one write that reached X
    account = await w.store.account()
    assert (account.breaker.consecutive_failures, account.breaker.current()) == (0, "closed")


async def test_a_post_that_lands_after_its_timeout_within_the_grace_is_found_not_written_again() -> None:
    w = await started()
    w.gateway.faults = [Fault("timeout", lands_later=True)]  # the gateway's request outlives the client's wait
    cid = w.queue("Protein keeps muscle as you age.")
    await w.cycles(6)  # read-backs find nothing yet, and conclude nothing
    # Three minutes: read back at once, then a quarter of the grace later (105 s), not at each of 6 cycles.
    assert w.x.tweets == [] and w.attempts(cid) == [(1, 0, None)] and len(w.gateway.readbacks) == 2
    w.gateway.land_late()  # three minutes after the intent, well within the grace
    posted = await w.until_outcome(cid)
    assert isinstance(posted, TweetPosted) and posted.reconciled
    assert len(w.x.copies("Protein keeps muscle as you age.")) == 1 and len(w.gateway.writes) == 1


async def test_a_timeout_whose_post_landed_is_found_by_the_read_back_and_never_written_again() -> None:
    w = await started()
    w.gateway.faults = [Fault("timeout", lands=True)]
    cid = w.queue("Cold showers: the evidence is thin.")
    posted = await w.until_outcome(cid)
    assert isinstance(posted, TweetPosted) and posted.reconciled
    assert [t.tweet_id for t in w.x.copies("Cold showers: the evidence is thin.")] == posted.tweet_ids
    assert len(w.gateway.writes) == 1 and w.gateway.readbacks == ["own_timeline"]
    assert w.attempts(cid) == [(1, 0, "posted")]


SETTLE = timedelta(seconds=30)  # XBOT_READBACK_SETTLE_REAL's default


async def test_a_timeout_x_answered_waits_for_x_not_for_the_grace() -> None:
    # X's "Something went wrong": nothing of the write is still on its way to X, so only X's own delay is waited
    # for. Waiting out the grace as for a request no one answered held
    # every write for 7 real minutes: 76 simulated hours of a growth week at x656.
    w = await started()
    w.gateway.faults = [Fault("timeout", x_answered=True)]
    cid = w.queue("Sunlight in the morning sets the clock.")
    t0 = w.clock.now()
    await w.run()
    assert w.attempts(cid) == [(1, 0, None)] and len(w.gateway.readbacks) == 1  # nothing yet, no conclusion
    w.clock.advance(SETTLE)
    await w.run()
    assert w.attempts(cid) == [(1, 0, "not_posted")] and w.clock.now() < t0 + GRACE
    # Read back at once and once the settle is over; at a quarter of the settle apart there is no cycle between.
    assert len(w.gateway.readbacks) == 2
    posted = await w.until_outcome(cid)
    assert isinstance(posted, TweetPosted) and not posted.reconciled and w.progress(cid).attempts == 2
    assert len(w.x.copies("Sunlight in the morning sets the clock.")) == 1


async def test_a_post_that_lands_within_the_settle_after_a_timeout_x_answered_is_found_not_written_again() -> None:
    w = await started()
    w.gateway.faults = [Fault("timeout", x_answered=True, lands_later=True)]  # X answered, yet shows it later
    cid = w.queue("Caffeine after noon costs sleep.")
    await w.run()
    assert w.x.tweets == [] and w.attempts(cid) == [(1, 0, None)]
    w.gateway.land_late()  # within the settle
    w.clock.advance(SETTLE)
    posted = await w.until_outcome(cid)
    assert isinstance(posted, TweetPosted) and posted.reconciled
    assert len(w.x.copies("Caffeine after noon costs sleep.")) == 1 and len(w.gateway.writes) == 1


@pytest.mark.parametrize("code", ["browser_crashed", "a_code_nobody_knows"])
async def test_an_answered_error_is_read_back_at_once_without_waiting_for_the_grace(code) -> None:
    w = await started()
    w.gateway.faults = [Fault(code)]
    cid = w.queue("Fibre feeds the gut.")
    await w.run()
    assert w.attempts(cid) == [(1, 0, "not_posted")]  # settled in the same cycle
    outcome = await w.until_outcome(cid)
    if code == "browser_crashed":  # retryable: posted on the next try
        assert isinstance(outcome, TweetPosted) and w.progress(cid).attempts == 2
    else:  # unknown codes are ambiguous (read back) and not retryable
        assert isinstance(outcome, PostFailed) and (outcome.reason, outcome.retryable) == (code, False)


async def test_a_non_retryable_error_that_posted_nothing_fails_the_item() -> None:
    w = await started()
    w.gateway.faults = [Fault("dom_changed")]
    cid = w.queue("Stretch for five minutes.")
    failed = await w.until_outcome(cid)
    assert isinstance(failed, PostFailed)
    assert (failed.reason, failed.retryable, failed.attempts, failed.error) == ("dom_changed", False, 1,
                                                                                "after 1 attempts")
    assert w.gateway.readbacks == ["own_timeline"] and w.x.tweets == []


async def test_a_non_retryable_error_whose_post_landed_is_posted() -> None:
    w = await started()
    w.gateway.faults = [Fault("dom_changed", lands=True)]
    cid = w.queue("Stretch for ten minutes.")
    posted = await w.until_outcome(cid)
    assert isinstance(posted, TweetPosted) and posted.reconciled


async def test_retryable_failures_back_off_doubling_then_give_up_after_max_attempts() -> None:
    w = await started()
    w.gateway.faults = [Fault("browser_crashed")] * 3
    cid = w.queue("Walk 8,000 steps.")
    failed = await w.until_outcome(cid)
    assert isinstance(failed, PostFailed)
    assert (failed.reason, failed.retryable, failed.attempts) == ("browser_crashed", True, 3)
    starts = sorted(a.started_at for a in w.store.attempts.values())
    assert [b - a for a, b in zip(starts, starts[1:], strict=False)] == [5 * MIN, 10 * MIN]
    assert w.x.tweets == [] and w.attempts(cid) == [(1, 0, "not_posted"), (2, 0, "not_posted"),
                                                     (3, 0, "not_posted")]


# ---------------------------------------------------------------- "Whoops! You already said that."


async def test_a_duplicate_that_the_read_back_finds_counts_as_posted() -> None:
    w = await started()
    w.gateway.faults = [Fault("duplicate", lands=True)]  # e.g. the gateway's own retry of a post that went out
    cid = w.queue("Sunlight first, coffee second.")
    posted = await w.until_outcome(cid)
    assert isinstance(posted, TweetPosted) and posted.reconciled
    assert len(w.x.copies("Sunlight first, coffee second.")) == 1


async def test_a_duplicate_that_the_read_back_cannot_find_fails_for_good() -> None:
    w = await started()
    w.gateway.faults = [Fault("duplicate")]
    cid = w.queue("Sunlight first, tea second.")
    failed = await w.until_outcome(cid)
    assert isinstance(failed, PostFailed)
    assert (failed.reason, failed.retryable) == ("duplicate", False)
    assert failed.error == "X reported a duplicate that the read-back cannot find"
    assert len(w.gateway.writes) == 1 and w.attempts(cid) == [(1, 0, "not_posted")]


async def test_an_older_post_with_the_same_text_is_not_taken_for_this_one() -> None:
    w = await started()
    w.x.create("Sunlight first, tea second.", at=w.clock.now() - timedelta(days=3))
    w.gateway.faults = [Fault("duplicate")]  # X is right, but the copy it means predates the item
    cid = w.queue("Sunlight first, tea second.")
    failed = await w.until_outcome(cid)
    assert isinstance(failed, PostFailed) and failed.reason == "duplicate"


# ---------------------------------------------------------------- the read-back itself


async def test_a_failed_read_back_settles_nothing_and_is_tried_again_next_cycle() -> None:
    w = await started()
    w.gateway.faults = [Fault("browser_crashed", lands=True)]
    w.gateway.readback_faults = ["timeout", "dom_changed"]
    cid = w.queue("Eat slowly.")
    await w.run()
    assert w.attempts(cid) == [(1, 0, None)] and w.cycle is not None
    assert w.cycle.last_decision == "waiting for open attempts to settle"
    w.clock.advance(timedelta(seconds=30))
    await w.run()
    assert w.attempts(cid) == [(1, 0, None)]
    posted = await w.until_outcome(cid)
    assert isinstance(posted, TweetPosted) and posted.reconciled and len(w.gateway.writes) == 1
    assert w.gateway.readbacks == ["own_timeline"] * 3


async def test_a_warning_on_a_read_back_holds_writes() -> None:
    w = await started()
    w.gateway.faults = [Fault("browser_crashed")]
    w.gateway.readback_faults = ["rate_limited"]
    cid = w.queue("Eat slowly, twice.")
    await w.run()
    risk = await w.risk()
    assert risk.hold_reason == "rate_limited" and risk.hold_until == w.clock.now() + 15 * MIN
    posted = await w.until_outcome(cid)
    assert isinstance(posted, TweetPosted) and w.x.tweets[0].created_at >= risk.hold_until


async def test_replies_are_read_back_through_the_accounts_search() -> None:
    w = await started()
    w.gateway.faults = [Fault("timeout", lands=True)]
    cid = w.queue("Good question: mostly sleep.", kind="reply", reply_to="77", reply_to_author="ava")
    posted = await w.until_outcome(cid)
    assert isinstance(posted, TweetPosted) and posted.reconciled and w.gateway.readbacks == ["search"]


async def test_a_thread_read_back_finds_the_parts_on_x_and_continues_from_the_first_missing() -> None:
    w = await started()
    parts = ("1/ Zone 2 cardio.", "2/ You can still talk.", "3/ Three hours a week.")
    w.gateway.while_writing = lambda: (w.gateway.faults.append(Fault("timeout", lands=True))
                                       if len(w.gateway.writes) == 1 else None)
    cid = w.queue(*parts, kind="thread")
    posted = await w.until_outcome(cid)
    assert isinstance(posted, TweetPosted) and posted.reconciled
    assert [len(w.x.copies(p)) for p in parts] == [1, 1, 1] and len(w.gateway.writes) == 3
    # Part 2 was found: the attempt posted every part it tried, so part 3 continues it.
    assert w.attempts(cid) == [(1, 0, "posted"), (1, 1, "posted"), (1, 2, "posted")]
    assert w.x.by_id(posted.tweet_ids[2]).in_reply_to == posted.tweet_ids[1]


async def test_parts_recorded_as_posted_are_facts_even_where_the_read_back_no_longer_shows_them() -> None:
    w = await started(readback_limit=1)  # the read-back shows the newest tweet only
    parts = ("1/ Zone 2 cardio.", "2/ You can still talk.", "3/ Three hours a week.")
    w.gateway.while_writing = lambda: (w.gateway.faults.append(Fault("timeout", lands=True))
                                       if len(w.gateway.writes) == 1 else None)
    cid = w.queue(*parts, kind="thread")
    posted = await w.until_outcome(cid)
    assert isinstance(posted, TweetPosted) and posted.reconciled
    assert [len(w.x.copies(p)) for p in parts] == [1, 1, 1]


async def test_an_inconsistent_read_back_fails_the_item_without_writing() -> None:
    w = await started()
    await w.start("poster.after_intent")
    parts = ("1/ Creatine is not only for lifters.", "2/ It helps the brain too.", "3/ 3-5 g a day.")
    cid = w.queue(*parts, kind="thread")
    with pytest.raises(Crash):
        await w.run()
    # Part 2's text is on X, part 1's is not (deleted by hand?): no thread posted in order leaves that, and
    # continuing could duplicate it.
    w.x.create(parts[1])
    await w.start()
    failed = await w.until_outcome(cid)
    assert isinstance(failed, PostFailed) and (failed.reason, failed.retryable) == ("inconsistent", False)
    assert w.gateway.writes == [] and w.attempts(cid) == [(1, 0, "inconsistent")]
