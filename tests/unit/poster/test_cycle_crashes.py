"""Each crash point of services/poster/failpoints.py, without Chromium: the failpoint raises where the process
would be SIGKILLed, and a new posting cycle starts on the same store, X and stream (tests/unit/poster/fakes.py).

The invariant after the restart: at most one post per item (each text on X once), and every outcome published
(one TweetPosted per item on the stream, nothing left open or unpublished). tests/e2e/poster/test_poster_crashes.py
checks the same with real processes, Postgres, NATS and Chromium.
"""

from __future__ import annotations

import pytest

from libs.contracts.events import TweetPosted
from services.poster.failpoints import NAMES
from tests.unit.poster.fakes import CYCLE, Crash, World

TEXT = "Ten minutes of daylight before noon helps sleep at night."


async def settle(w: World, *content_ids: str) -> list[TweetPosted]:
    """Run cycles until every item has its outcome; check the invariant; the outcomes."""
    for cid in content_ids:
        await w.until_outcome(cid)
    await w.cycles(3)
    outcomes = []
    for cid in content_ids:
        found = w.outcomes(cid)
        assert len(found) == 1 and isinstance(found[0], TweetPosted), found
        item = await w.store.item(cid)
        assert [[t.tweet_id for t in w.x.copies(p)] for p in item.parts] == [[i] for i in found[0].tweet_ids]
        outcomes.append(found[0])
    assert await w.store.open_attempts() == [] and await w.outbox.pending() == 0
    assert len(w.outbox.stream) == len({r.msg_id for r in w.outbox.stream})
    return outcomes


@pytest.mark.parametrize("failpoint,reconciled", [
    ("poster.before_intent", False),   # nothing happened: posted normally after the restart
    ("poster.after_intent", False),    # open intent, nothing on X: the read-back finds nothing, then it posts
    ("poster.during_call", True),      # the gateway finishes the post for a dead poster: found by read-back
    ("poster.after_call", True),       # on X, not recorded: found by read-back, never posted again
    ("poster.before_publish", False),  # recorded with its outbox row: published after the restart
])
async def test_killed_at_each_step_posts_exactly_once(failpoint: str, reconciled: bool) -> None:
    w = World()
    await w.start(failpoint)
    cid = w.queue(TEXT)
    with pytest.raises(Crash, match=failpoint):
        await w.run()
    assert len(w.x.copies(TEXT)) == (1 if reconciled or failpoint == "poster.before_publish" else 0)
    await w.start()
    (posted,) = await settle(w, cid)
    assert posted.reconciled is reconciled
    assert len(w.gateway.writes) == 1


async def test_thread_killed_after_second_part_is_completed_not_restarted() -> None:
    parts = ("1/ Caffeine has a half-life of about five hours.", "2/ A 3 pm coffee is half there at 8 pm.",
             "3/ Move the last cup before noon.")
    w = World()
    await w.start("poster.after_part2")
    cid = w.queue(*parts, kind="thread")
    with pytest.raises(Crash):
        await w.run()
    assert [len(w.x.copies(p)) for p in parts] == [1, 1, 0]  # died with two parts out
    await w.start()
    (posted,) = await settle(w, cid)
    assert posted.reconciled
    first, second, third = posted.tweet_ids
    assert w.x.by_id(second).in_reply_to == first and w.x.by_id(third).in_reply_to == second


async def test_an_outcome_whose_publication_failed_is_published_once_later() -> None:
    w = World()
    await w.start()
    cid = w.queue(TEXT)
    w.outbox.fail_next = 1  # the broker does not answer after the commit
    with pytest.raises(ConnectionError):
        await w.run()
    assert w.outcomes(cid) == [] and await w.outbox.pending() == 1
    await settle(w, cid)


# Every place a crash can fall, in a mixed workload: each failpoint at each of its hits (the n-th write, ...).
WORKLOAD_HITS = {"poster.before_intent": 5, "poster.after_intent": 5, "poster.during_call": 5,
                 "poster.after_call": 5, "poster.before_publish": 3, "poster.after_part2": 1}
CRASHES = [(name, nth) for name, hits in WORKLOAD_HITS.items() for nth in range(1, hits + 1)]


def test_the_sweep_covers_every_failpoint() -> None:
    assert set(WORKLOAD_HITS) == NAMES


@pytest.mark.parametrize("twice", [False, True], ids=["once", "twice"])
@pytest.mark.parametrize("failpoint,nth", CRASHES)
async def test_a_crash_anywhere_in_a_mixed_workload_loses_and_doubles_nothing(failpoint: str, nth: int,
                                                                                 twice: bool) -> None:
    w = World()
    await w.start(failpoint, nth)
    ids = [w.queue("A post about sleep."),
           w.queue("1/ Light.", "2/ Dark.", "3/ Rhythm.", kind="thread"),
           w.queue("A reply about protein.", kind="reply", reply_to="9", reply_to_author="ava")]
    with pytest.raises(Crash):
        for _ in range(50):
            await w.run()
            w.clock.advance(CYCLE)
    if twice:  # the restarted poster dies again at the first hit of the same point
        await w.start(failpoint, 1)
        try:
            for _ in range(50):
                await w.run()
                w.clock.advance(CYCLE)
        except Crash:
            pass
    await w.start()
    await settle(w, *ids)
