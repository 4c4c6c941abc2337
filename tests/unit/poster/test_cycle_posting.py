"""The posting cycle's writing branches on fakes (tests/unit/poster/fakes.py): a post, a thread part by part, a
reply; threads stopped between parts and completed; the kill switch, account holds and halts, expiry."""

from __future__ import annotations

from datetime import timedelta

import pytest

from libs.contracts.events import OwnerEditSettled, PostFailed, TweetPosted
from services.poster.risk import RiskLevel
from tests.unit.poster.fakes import CYCLE, HANDLE, Crash, Fault, World

MIN = timedelta(minutes=1)


async def posted_once(w: World, content_id: str, *texts: str, every: timedelta = CYCLE) -> TweetPosted:
    """The item's one outcome is TweetPosted, and each text is on X exactly once, as that event says."""
    outcome = await w.until_outcome(content_id, every=every)
    await w.cycles(3)  # nothing more happens after it
    assert isinstance(outcome, TweetPosted), outcome
    assert w.outcomes(content_id) == [outcome]
    assert [[t.tweet_id for t in w.x.copies(text)] for text in texts] == [[i] for i in outcome.tweet_ids]
    assert not [a for a in w.attempts(content_id) if a[2] is None], "an attempt left open"
    return outcome


# ---------------------------------------------------------------- post, thread, reply


async def test_a_post_is_written_once_and_its_outcome_published() -> None:
    w = World()
    await w.start()
    cid = w.queue("Ten minutes of daylight before noon helps sleep.")
    posted = await posted_once(w, cid, "Ten minutes of daylight before noon helps sleep.")
    assert w.gateway.writes == [("Ten minutes of daylight before noon helps sleep.", None)]
    assert posted.url == f"http://127.0.0.1:8400/{HANDLE}/status/{posted.tweet_ids[0]}"
    assert (posted.kind, posted.reconciled) == ("post", False)
    assert posted.text == "Ten minutes of daylight before noon helps sleep."
    assert w.attempts(cid) == [(1, 0, "posted")]
    assert (w.progress(cid).status, w.progress(cid).attempts) == ("posted", 1)
    assert [(c, n, r.lane) for c, n, r in w.store.writes] == [(cid, 1, "content")]
    row = w.outbox.stream[0]
    assert (row.msg_id, row.correlation_id, row.causation_id) == (f"TweetPosted:posted:{cid}", f"corr-{cid}",
                                                                 f"evt-{cid}")
    assert w.gateway.readbacks == []  # nothing was in doubt


async def test_a_thread_is_written_part_by_part_each_replying_to_the_previous() -> None:
    w = World()
    await w.start()
    parts = ("1/ Caffeine has a half-life of five hours.", "2/ A 3 pm coffee is half there at 8 pm.",
             "3/ Move the last cup before noon.")
    cid = w.queue(*parts, kind="thread")
    posted = await posted_once(w, cid, *parts)
    first, second, third = posted.tweet_ids
    assert w.gateway.writes == [(parts[0], None), (parts[1], first), (parts[2], second)]
    assert w.x.by_id(third).in_reply_to == second
    assert w.attempts(cid) == [(1, 0, "posted"), (1, 1, "posted"), (1, 2, "posted")]  # one intent per part
    assert len(w.store.writes) == 1  # pacing counts a thread once
    assert posted.text == "\n\n".join(parts)


async def test_a_reply_answers_its_tweet_and_counts_in_the_reply_lane() -> None:
    w = World()
    await w.start()
    cid = w.queue("Morning light matters more than the lamp.", kind="reply", reply_to="42", reply_to_author="ava")
    posted = await posted_once(w, cid, "Morning light matters more than the lamp.")
    assert w.gateway.writes == [("Morning light matters more than the lamp.", "42")]
    assert (posted.reply_to_tweet_id, posted.reply_to_author) == ("42", "ava")
    assert [r.lane for _, _, r in w.store.writes] == ["reply"]


async def test_a_reply_without_its_target_fails_without_a_write() -> None:
    w = World()
    await w.start()
    cid = w.queue("Agreed.", kind="reply")
    failed = await w.until_outcome(cid)
    assert isinstance(failed, PostFailed) and (failed.reason, failed.retryable) == ("dom_changed", False)
    assert w.gateway.writes == [] and w.gateway.readbacks == ["search"]  # replies are read back by search
    assert w.attempts(cid) == [(1, 0, "not_posted")]


async def test_writes_follow_the_pacing_in_force() -> None:
    w = World(min_spacing=timedelta(minutes=10))
    await w.start()
    first, second = w.queue("First."), w.queue("Second.")
    await w.run()
    assert w.gateway.writes == [("First.", None)]
    assert w.cycle is not None and "pacing" in w.cycle.last_decision
    await w.cycles(19)  # 9.5 minutes
    assert len(w.gateway.writes) == 1
    await posted_once(w, second, "Second.")
    assert w.x.tweets[1].created_at - w.x.tweets[0].created_at >= timedelta(minutes=10)
    assert isinstance(w.outcomes(first)[0], TweetPosted)


# ---------------------------------------------------------------- a thread stopped between parts


THREAD = ("1/ Morning light sets the body clock.", "2/ Ten minutes outside beat any lamp.", "3/ Cloudy days count.")


async def test_a_pause_between_parts_stops_the_thread_which_resume_completes_within_its_attempt(caplog) -> None:
    w = World()
    await w.start()
    cid = w.queue(*THREAD, kind="thread", expires_in=timedelta(minutes=8))
    # `xbot pause` while part 1 is being written: the part in hand is finished, and no other.
    w.gateway.while_writing = lambda: w.switch.pause() if len(w.gateway.writes) == 1 else None
    await w.run()
    w.gateway.while_writing = None
    assert [len(w.x.copies(p)) for p in THREAD] == [1, 0, 0]
    assert w.attempts(cid) == [(1, 0, "posted")]  # no intent for part 2 while paused
    assert "stopping thread c1 after part 1 of 3; it is completed from part 2" in caplog.text
    await w.cycles(30)  # past the item's expiry
    assert [len(w.x.copies(p)) for p in THREAD] == [1, 0, 0] and w.outcomes(cid) == []
    assert (w.progress(cid).status, w.progress(cid).attempts) == ("queued", 1)  # neither expired nor failed

    w.switch.resume()
    posted = await posted_once(w, cid, *THREAD)
    assert w.x.by_id(posted.tweet_ids[2]).in_reply_to == posted.tweet_ids[1]
    # Completed within the attempt the pause interrupted: the pause counted as no try of the item.
    assert w.attempts(cid) == [(1, 0, "posted"), (1, 1, "posted"), (1, 2, "posted")]
    assert w.progress(cid).attempts == 1 and len(w.store.writes) == 1


async def test_an_unreadable_kill_switch_between_parts_stops_the_thread_like_a_pause() -> None:
    w = World()
    await w.start()
    cid = w.queue(*THREAD, kind="thread")
    w.gateway.while_writing = lambda: setattr(w.switch, "unreadable", len(w.gateway.writes) == 2)
    await w.run()
    assert [len(w.x.copies(p)) for p in THREAD] == [1, 1, 0]  # fails closed: stopped after part 2
    await w.cycles(5)
    assert len(w.gateway.writes) == 2
    w.gateway.while_writing = None
    w.switch.unreadable = False
    await posted_once(w, cid, *THREAD)


async def test_a_halt_on_a_later_part_stops_the_thread_until_an_operator_resumes() -> None:
    w = World()
    await w.start()
    cid = w.queue(*THREAD, kind="thread")
    w.gateway.while_writing = lambda: (w.gateway.faults.append(Fault("locked"))
                                       if len(w.gateway.writes) == 1 else None)
    await w.run()  # part 1 posted; part 2 answered "locked" (the fault queued while part 1 was written)
    w.gateway.while_writing = None
    assert [len(w.x.copies(p)) for p in THREAD] == [1, 0, 0]
    assert (await w.risk()).halted_reason == "locked"
    assert w.attempts(cid) == [(1, 0, "posted"), (1, 1, "refused")]
    await w.cycles(20)
    assert len(w.gateway.writes) == 2 and w.outcomes(cid) == []
    assert len(w.store.writes) == 1, "the first part is on X: pacing keeps counting it"
    # The halt is announced once (the notifier tells the owner), however many cycles it lasts.
    assert [h.reason for h in w.halts()] == ["locked"]

    w.switch.resume()  # `xbot resume`
    posted = await posted_once(w, cid, *THREAD)
    assert w.x.by_id(posted.tweet_ids[1]).in_reply_to == posted.tweet_ids[0]
    assert w.attempts(cid) == [(1, 0, "posted"), (1, 1, "refused"), (2, 1, "posted"), (2, 2, "posted")]
    assert w.progress(cid).attempts == 1  # the refusal did not count against the item


async def test_a_thread_cut_by_a_crash_before_the_next_intent_is_completed_without_a_read_back() -> None:
    w = World()
    await w.start("poster.before_intent", nth=2)
    cid = w.queue(*THREAD, kind="thread")
    with pytest.raises(Crash, match="before_intent"):
        await w.run()
    assert [len(w.x.copies(p)) for p in THREAD] == [1, 0, 0]
    await w.start()
    posted = await posted_once(w, cid, *THREAD)
    assert not posted.reconciled and w.gateway.readbacks == []
    assert w.attempts(cid) == [(1, 0, "posted"), (1, 1, "posted"), (1, 2, "posted")]


# ---------------------------------------------------------------- the kill switch


async def test_a_pause_stops_every_write_and_a_resume_restarts_them_within_a_cycle() -> None:
    w = World()
    await w.start()
    w.switch.pause()
    cid = w.queue("Keep the bedroom cool.")
    await w.cycles(6)
    assert w.gateway.writes == [] and w.outcomes(cid) == []
    assert w.cycle is not None and "paused by operator" in w.cycle.last_decision
    w.switch.resume()
    await w.run()
    assert isinstance(w.outcomes(cid)[0], TweetPosted)


async def test_a_pause_during_a_write_stops_the_next_item_of_the_same_cycle() -> None:
    w = World()
    await w.start()
    first, second = w.queue("First."), w.queue("Second.")
    w.gateway.while_writing = w.switch.pause  # `xbot pause` while the first item is being written
    await w.run()
    assert w.gateway.writes == [("First.", None)]
    assert isinstance(w.outcomes(first)[0], TweetPosted) and w.outcomes(second) == []


async def test_an_unreadable_kill_switch_reads_as_paused() -> None:
    w = World()
    await w.start()
    w.switch.unreadable = True
    cid = w.queue("Keep the bedroom cool.")
    await w.cycles(4)
    assert w.gateway.writes == []
    assert w.cycle is not None
    status = await w.cycle.describe()
    assert status["paused"] is True and status["queue"] == {"queued": 1}
    w.switch.unreadable = False
    await posted_once(w, cid, "Keep the bedroom cool.")


# ---------------------------------------------------------------- expiry


async def test_an_item_past_its_expiry_fails_as_expired_without_a_write() -> None:
    w = World()
    await w.start()
    w.switch.pause()  # expiring is no write: it happens while paused too
    cid = w.queue("Old news.", expires_in=timedelta(minutes=2))
    failed = await w.until_outcome(cid)
    assert isinstance(failed, PostFailed)
    assert (failed.reason, failed.retryable, failed.attempts) == ("expired", False, 0)
    assert w.gateway.writes == [] and w.progress(cid).status == "failed"


# ---------------------------------------------------------------- the account: holds, halts, crash loop, breaker


@pytest.mark.parametrize("code,hold,level", [
    ("rate_limited", timedelta(minutes=15), RiskLevel.ELEVATED),
    ("daily_limit", timedelta(hours=6), RiskLevel.HIGH),
    ("automation_block", timedelta(minutes=30), RiskLevel.HIGH),
])
async def test_a_refusal_for_the_accounts_sake_holds_writes_and_costs_the_item_nothing(code, hold, level) -> None:
    w = World()
    await w.start()
    w.gateway.faults = [Fault(code)]
    refused_at = w.clock.now()
    cid = w.queue("Walk after dinner.")
    await w.run()
    risk = await w.risk()
    assert (risk.hold_reason, risk.hold_until, risk.level(w.clock.now())) == (code, refused_at + hold, level)
    assert w.attempts(cid) == [(1, 0, "refused")]
    assert w.progress(cid).attempts == 0 and w.store.writes == []  # neither the item's try nor pacing's write
    assert w.gateway.readbacks == []  # X refused in words: nothing to read back
    posted = await posted_once(w, cid, "Walk after dinner.", every=10 * MIN)
    assert w.x.by_id(posted.tweet_ids[0]).created_at >= refused_at + hold
    assert w.progress(cid).attempts == 1


async def test_a_halt_waits_for_an_operators_resume_written_after_it() -> None:
    w = World()
    await w.start()
    w.gateway.faults = [Fault("session_expired")]
    cid = w.queue("Protein at every meal.")
    await w.run()
    assert (await w.risk()).halted_reason == "session_expired"
    await w.cycles(10)  # the switch is as it was when the halt began: still halted
    assert len(w.gateway.writes) == 1
    w.switch.pause()
    await w.cycles(2)
    assert (await w.risk()).halted_reason == "session_expired"  # a pause lifts nothing
    w.switch.resume()
    await posted_once(w, cid, "Protein at every meal.")
    assert (await w.risk()).halted_reason is None


async def test_a_halt_seen_while_the_switch_was_unreadable_still_needs_a_later_resume() -> None:
    w = World()
    await w.start()
    w.gateway.faults = [Fault("timeout")]
    cid = w.queue("Sleep in the dark.")
    await w.run()  # an open attempt, read back once and not found
    w.clock.advance(timedelta(minutes=2))  # the next read-back is due (a quarter of the 7-minute grace)
    w.switch.unreadable = True  # fails closed: revision unknown
    w.gateway.readback_faults = ["locked"]
    await w.run()
    assert (await w.risk()).halted_reason == "locked"
    w.switch.unreadable = False  # readable again at the revision it had: no operator has acted
    await w.cycles(20)
    assert (await w.risk()).halted_reason == "locked" and len(w.gateway.writes) == 1
    assert [h.reason for h in w.halts()] == ["locked"]
    w.switch.resume()
    await posted_once(w, cid, "Sleep in the dark.")


async def test_a_crash_loop_holds_writes_for_its_hold() -> None:
    w = World(crash_loop_starts=3)
    for _ in range(3):  # three starts within 15 minutes
        await w.start()
        w.clock.advance(MIN)
    risk = await w.risk()
    assert risk.hold_reason == "crash_loop" and risk.hold_until == w.clock.now() - MIN + timedelta(minutes=30)
    cid = w.queue("Hydrate.")
    await w.cycles(50)  # 25 minutes
    assert w.gateway.writes == []
    await posted_once(w, cid, "Hydrate.")
    assert w.x.tweets[0].created_at >= risk.hold_until


async def test_starts_spread_out_are_no_crash_loop() -> None:
    w = World(crash_loop_starts=3)
    for _ in range(3):
        await w.start()
        w.clock.advance(timedelta(minutes=10))
    assert (await w.risk()).hold_until is None


async def test_consecutive_write_failures_open_the_breaker() -> None:
    w = World(breaker_failures=3, max_attempts=1)
    await w.start()
    w.gateway.faults = [Fault("dom_changed")] * 3
    ids = [w.queue(f"Item {n}.") for n in range(4)]
    await w.run()  # three failures in a row, each read back and given up
    assert [type(w.outcomes(i)[0]).__name__ for i in ids[:3]] == ["PostFailed"] * 3
    assert (await w.store.account()).breaker.current() == "open"
    assert w.cycle is not None and "breaker open" in w.cycle.last_decision
    assert len(w.gateway.writes) == 3
    await posted_once(w, ids[3], "Item 3.")  # after the reset delay, a probe goes out
    assert (await w.store.account()).breaker.consecutive_failures == 0


async def test_a_write_the_budget_has_no_room_for_waits_until_it_has_and_is_no_breaker_failure() -> None:
    # The gateway's own refusal says when to retry: the item waits till then (asked again at every cycle, the
    # refusals opened the breaker and the item went out only after its reset delay), and the breaker counts X's
    # failures only.
    w = World(breaker_failures=3)
    await w.start()
    w.gateway.faults = [Fault("budget_exhausted", retry_after_s=2400)]
    refused_at = w.clock.now()
    cid = w.queue("Walk after dinner.")
    await w.run()
    assert w.attempts(cid) == [(1, 0, "refused")] and w.progress(cid).attempts == 0
    assert w.progress(cid).not_before == refused_at + timedelta(seconds=2400)
    await w.cycles(5)
    assert len(w.gateway.writes) == 1  # not asked again before then
    account = await w.store.account()
    assert (account.breaker.consecutive_failures, account.breaker.current()) == (0, "closed")
    assert (await w.risk()).hold_reason is None  # no warning from X either
    posted = await posted_once(w, cid, "Walk after dinner.", every=10 * MIN)
    assert w.x.by_id(posted.tweet_ids[0]).created_at >= refused_at + timedelta(seconds=2400)


async def test_status_shows_the_queue_and_the_account() -> None:
    w = World()
    await w.start()
    w.gateway.faults = [Fault("rate_limited")]
    w.queue("One.")
    await w.run()
    w.store.gateway_level = 1  # the gateway published AccountRiskChanged(ELEVATED) for that rate limit
    assert w.cycle is not None
    status = await w.cycle.describe()
    assert status["queue"] == {"queued": 1} and status["open_attempts"] == 0
    assert status["unpublished_outcomes"] == 0 and status["paused"] is False
    assert status["risk_level"] == "ELEVATED" and status["hold_until"] is not None
    assert status["halted"] is None and status["breaker"] == "closed" and status["last_post_at"] is None
    assert "holding after rate_limited" in status["last_decision"]
    await w.until_outcome("c1", every=5 * MIN)
    assert (await w.cycle.describe())["last_post_at"] is not None


# ---------------------------------------------------------------- ContentQueued is not trusted


@pytest.mark.parametrize("parts, kind, limit", [
    ([f"{i}/ part" for i in range(1, 26)], "thread", "thread_max_parts"),
    (["x" * 281], "post", "max_length"),
    (["Read more at sleepfix.health"], "reply", "reply_link"),
])
async def test_content_beyond_the_hard_limits_fails_as_invalid_content_naming_the_limit(parts, kind, limit) -> None:
    w = World()
    await w.start()
    cid = w.queue(*parts, kind=kind, reply_to="42" if kind == "reply" else None,
                  reply_to_author="ava" if kind == "reply" else None)
    outcome = await w.until_outcome(cid)
    assert isinstance(outcome, PostFailed) and outcome.reason == "invalid_content" and not outcome.retryable
    assert outcome.error is not None and outcome.error.startswith(limit)
    assert w.gateway.writes == [] and w.attempts(cid) == []


async def test_a_reply_x_will_not_take_fails_at_once_and_leaves_the_account_calm() -> None:
    """X will not take a reply to that tweet (gone, or its author limits who can reply): the item fails for good
    without a read-back, and the account's risk, holds and write breaker are as before (the target's doing)."""
    w = World()
    await w.start()
    w.gateway.faults = [Fault("reply_not_allowed", x_answered=True)]
    cid = w.queue("Morning light matters more than the lamp.", kind="reply", reply_to="42", reply_to_author="ava")
    outcome = await w.until_outcome(cid)
    assert isinstance(outcome, PostFailed) and outcome.reason == "reply_not_allowed" and not outcome.retryable
    assert outcome.attempts == 1 and not [a for a in w.attempts(cid) if a[2] is None]
    status = await w.cycle.describe()
    assert status["risk_level"] == "NORMAL" and status["hold_until"] is None and status["breaker"] == "closed"
    await posted_once(w, w.queue("Still posting."), "Still posting.")


async def test_writes_follow_the_gateways_risk_level_raised_by_a_read() -> None:
    """The gateway raised the account's level after a warning on a read (the poster saw no error of its own):
    the poster's spacing doubles per level, as it did for its own warnings."""
    w = World()
    await w.start()
    w.store.gateway_level = 2  # HIGH: spacing x4
    first, second = w.queue("First."), w.queue("Second.")
    await w.until_outcome(first)
    await w.until_outcome(second, every=MIN)
    (_, _, a), (_, _, b) = w.store.writes
    assert b.at - a.at >= 4 * w.settings.min_spacing
    assert (await w.cycle.describe())["risk_level"] == "HIGH"


# ---------------------------------------------------------------- the owner's edits (approval off)


async def test_an_edit_before_the_intent_is_posted_and_one_after_it_is_too_late() -> None:
    w = World()
    await w.start()
    w.switch.pause()  # the owner edits while nothing may be written
    post = w.queue("As the planner wrote it.")
    thread = w.queue(*THREAD, kind="thread")
    w.store.edit(post, w.clock.now(), ["As the owner wrote it."])
    await w.run()
    verdicts = [r.event for r in w.outbox.stream if isinstance(r.event, OwnerEditSettled)]
    assert [(v.content_id, v.applied) for v in verdicts] == [(post, True)]  # settled while paused
    # The thread's first part is on X when the owner's edit of it arrives: too late, the thread is completed as
    # it began.
    w.switch.resume()
    w.gateway.while_writing = lambda: w.switch.pause() if len(w.gateway.writes) == 2 else None
    await w.run()
    w.gateway.while_writing = None
    assert [len(w.x.copies(p)) for p in THREAD] == [1, 0, 0]
    w.store.edit(thread, w.clock.now(), ["An edited thread.", "Two.", "Three."])
    w.switch.resume()
    await posted_once(w, post, "As the owner wrote it.")
    await posted_once(w, thread, *THREAD)
    verdicts = [r.event for r in w.outbox.stream if isinstance(r.event, OwnerEditSettled)]
    assert [(v.content_id, v.applied) for v in verdicts] == [(post, True), (thread, False)]
    assert "recorded its intent" in verdicts[1].reason
    assert w.x.copies("As the planner wrote it.") == [] and w.x.copies("An edited thread.") == []
