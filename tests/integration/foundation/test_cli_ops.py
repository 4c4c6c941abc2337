"""Operator commands against a real JetStream server: dead letters per service in `xbot status`, and
`xbot events tail` following every stream of the namespace."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime

from libs.bus.dlq import DeadLetter, DeadLetters
from libs.bus.streams import stream_name
from libs.bus.tail import tail_events
from libs.contracts.events import TweetPosted
from libs.contracts.registry import PRODUCERS
from ops.status import collect_status, render_status
from tests.helpers import eventually, publish

from .helpers import queued


def posted(content_id: str) -> TweetPosted:
    return TweetPosted(content_id=content_id, kind="post", tweet_ids=["1"], url="http://x/1",
                       posted_at=datetime.now(UTC))


def shows(lines: list[str], *ids: str) -> bool:
    return all(any(f'"{i}"' in line for line in lines) for i in ids)


async def until_shown(lines: list[str], *ids: str) -> None:
    await eventually(lambda: asyncio.sleep(0, result=shows(lines, *ids)))


def letter(service: str, seq: int) -> DeadLetter:
    return DeadLetter.of(service=service, consumer=f"{service}.c", subject="x.planner.y", stream="X_PLANNER",
                         seq=seq, deliveries=5, error="boom", data=b"{}")


async def test_status_counts_dead_letters_per_service(settings, js):
    dlq = DeadLetters(js, settings.namespace)
    for service, seq in (("poster", 1), ("poster", 2), ("planner", 3), ("ledger", 4)):
        await dlq.add(letter(service, seq))
    report = await collect_status(settings, ("planner", "poster", "learner"))
    # Listed services all get a count; "ledger" is no listed service but its letter is not hidden.
    assert report["dlq_by_service"] == {"planner": 1, "poster": 2, "learner": 0, "ledger": 1}
    assert report["dlq"] == 4
    assert "dead letters: 4 (planner 1, poster 2, ledger 1)" in render_status(report)


async def test_status_with_no_dead_letters(settings, js):
    report = await collect_status(settings, ("planner",))
    assert report["dlq_by_service"] == {"planner": 0} and report["dlq"] == 0


async def test_tail_shows_the_last_n_of_every_stream_then_new_events(settings, js):
    await publish(settings, [queued(content_id=f"p{i}") for i in range(3)] + [posted(f"c{i}") for i in range(3)])
    lines: list[str] = []
    stop = asyncio.Event()
    task = asyncio.create_task(tail_events(js, settings.namespace, lines.append, stop, last=2))
    try:
        await until_shown(lines, "p1", "p2", "c1", "c2")
        await asyncio.sleep(0.3)  # anything older would have arrived by now
        assert len(lines) == 4 and not shows(lines, "p0") and not shows(lines, "c0")
        order = [next(n for n, line in enumerate(lines) if f'"{i}"' in line) for i in ("p1", "p2", "c1", "c2")]
        assert order[0] < order[1] and order[2] < order[3]  # oldest first within a stream
        await publish(settings, [queued(content_id="p3")])
        await until_shown(lines, "p3")
    finally:
        stop.set()
        followed = await asyncio.wait_for(task, 10)
    assert followed == len(PRODUCERS) + 1  # every producer's stream and the DLQ
    assert all(f" {settings.namespace}.planner." in line or f" {settings.namespace}.poster." in line
               for line in lines)


async def test_tail_with_a_subject_follows_only_matching_streams(settings, js):
    await publish(settings, [queued(content_id="p0"), posted("c0"), posted("c1")])
    lines: list[str] = []
    stop = asyncio.Event()
    task = asyncio.create_task(tail_events(js, settings.namespace, lines.append, stop,
                                           subject=f"{settings.namespace}.poster.>", last=1))
    try:
        await until_shown(lines, "c1")
        await asyncio.sleep(0.3)
        assert len(lines) == 1
    finally:
        stop.set()
        assert await asyncio.wait_for(task, 10) == 1
    # A filter no stream holds returns at once.
    assert await tail_events(js, settings.namespace, lines.append, asyncio.Event(), subject="elsewhere.>") == 0
    await js.delete_stream(stream_name(settings.namespace, "poster"))
    assert await tail_events(js, settings.namespace, lines.append, asyncio.Event(),
                             subject=f"{settings.namespace}.poster.>") == 0
