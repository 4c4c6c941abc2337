"""Exactly once through the X API: the poster SIGKILLed between the API request and the record of its answer is
reconciled by reading back the own timeline, through the API this time (GET /2/users/:id/tweets). The gateway
reads and writes through the sandbox's X API; no Chromium. The steps where no request was made yet behave the
same whatever the driver and are covered with the browser (test_poster_crashes.py); the long form, the chaos run
with random SIGKILLs of every service, is `xbot bench chaos --driver api`."""

from __future__ import annotations

import pytest

from tests.e2e.browser_gateway.conftest import HANDLE
from tests.e2e.poster.conftest import (
    assert_posted_once,
    something_went_wrong_is_settled_without_the_grace,
    thread_killed_after_second_part_is_completed,
    unique,
)

pytestmark = [pytest.mark.asyncio(loop_scope="module")]

DRIVER = "api"


@pytest.mark.parametrize("failpoint", [
    "poster.during_call",  # POST /2/tweets sent, the poster dead before X answers: the gateway finishes it
    "poster.after_call",   # X answered 201, the poster died before recording it
])
async def test_killed_between_request_and_record_posts_once(harness, failpoint) -> None:
    # The API answers in milliseconds; X answering late keeps the request in flight when the poster dies.
    await harness.sandbox.admin("/admin/latency", {"ms": 2000 if failpoint == "poster.during_call" else 0})
    try:
        poster = await harness.start_poster(failpoint, XBOT_FAILPOINT_DELAY_S="0.5")
        text = unique("A glass of water first thing beats the first coffee.")
        item = await harness.queue(text)
        await poster.killed_by_failpoint()
    finally:
        await harness.sandbox.admin("/admin/latency", {"ms": 0})
    restarted = await harness.start_poster()
    try:
        await assert_posted_once(harness, item.content_id, [text], reconciled=True)
    finally:
        await restarted.stop()


async def test_thread_killed_after_second_part_is_completed_not_restarted(harness) -> None:
    await thread_killed_after_second_part_is_completed(harness)


async def test_x_answering_503_is_read_back_and_retried_without_the_grace(harness) -> None:
    await something_went_wrong_is_settled_without_the_grace(harness)


async def test_a_reply_goes_out_once_through_the_api(harness) -> None:
    [target] = [t for t in await harness.own_tweets() if t["in_reply_to"] is None][:1]
    poster = await harness.start_poster()
    try:
        text = unique("Same here: the walk matters more than the pace.")
        item = await harness.queue(text, kind="reply", reply_to=target["id"], reply_to_author=HANDLE)
        posted = await assert_posted_once(harness, item.content_id, [text], reconciled=False)
    finally:
        await poster.stop()
    [reply] = [t for t in await harness.own_tweets() if t["id"] == posted["tweet_ids"][0]]
    assert reply["in_reply_to"] == target["id"]
