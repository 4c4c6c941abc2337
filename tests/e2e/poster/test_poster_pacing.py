"""Pacing and caps over a simulated day (time scale 3600: a day is 24 real seconds; slower on a slow machine, see
tests/helpers.py: slowness), read from the recorded write history and checked against what the sandbox shows."""

from __future__ import annotations

import asyncio
import uuid
from datetime import timedelta

import pytest

from tests.helpers import slowness

pytestmark = [pytest.mark.chromium, pytest.mark.asyncio(loop_scope="module")]

SCALE = 3600.0 / slowness()
PER_HOUR, PER_DAY, SPACING_S = 2, 5, 600


async def test_caps_and_spacing_hold_over_a_simulated_day(harness) -> None:
    # Cycle of 5 simulated minutes (83 real ms); queue timeouts of the gateway are scaled by the harness.
    poster = await harness.start_poster(
        XBOT_CYCLE_S="300", XBOT_POSTS_PER_HOUR=str(PER_HOUR), XBOT_POSTS_PER_DAY=str(PER_DAY),
        XBOT_MIN_SPACING_S=str(SPACING_S), XBOT_SPACING_JITTER_S="300")
    try:
        start = harness.clock.now()
        texts = [f"Tip {i}: stand up every half hour #{uuid.uuid4().hex[:6]}" for i in range(PER_DAY + 3)]
        items = [await harness.queue(t) for t in texts]
        while harness.clock.now() < start + timedelta(hours=25):
            await asyncio.sleep(0.5)
    finally:
        await poster.stop()
    # The history counts a write from its intent (the caps must count one in flight); "the write may or may not
    # be on X" (outcome NULL) is what the poster's stop can leave of one in flight at the end of the day.
    rows = await harness.pool.fetch(
        "SELECT h.at, h.jitter_s, EXISTS (SELECT 1 FROM attempts a WHERE a.content_id = h.content_id AND"
        " a.attempt_no = h.attempt_no AND a.outcome IS NULL) AS open FROM history h ORDER BY h.at")
    times = [r["at"] for r in rows]
    assert len(times) >= PER_DAY  # the day's cap was reached, so the caps were what held it back
    for i, t in enumerate(times):
        assert sum(1 for u in times if t <= u < t + timedelta(hours=1)) <= PER_HOUR
        assert sum(1 for u in times if t <= u < t + timedelta(days=1)) <= PER_DAY
        if i:
            assert t - times[i - 1] >= timedelta(seconds=SPACING_S + rows[i - 1]["jitter_s"])
    posted = 0
    for item, text in zip(items, texts, strict=True):
        copies = await harness.copies(text)
        outcomes = await harness.outcomes(item.content_id)
        assert len(copies) <= 1 and len(outcomes) <= 1
        assert len(copies) == len([o for o in outcomes if o["type"] == "TweetPosted"])
        posted += len(copies)
    open_writes = sum(1 for r in rows if r["open"])
    assert open_writes <= 1 and len(times) - open_writes <= posted <= len(times), (posted, len(times), open_writes)
