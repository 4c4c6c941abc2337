"""A timeline longer than its first batch, through the gateway (real Chromium, real NATS, the real sandbox): X
loads 20 posts with the page and 20 more each time the reader scrolls to the end, and keeps only the cells near
the viewport in the DOM. The gateway scrolls and collects by id: every post up to the limit, in the timeline's
order, each batch counted as the sandbox served it (where the activity budget stops a read: the unit tests of
Usage.may_view); a batch past X's reading limit is ``rate_limited``."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Coroutine
from datetime import timedelta
from typing import Any

import pytest
import pytest_asyncio

from libs.contracts.gateway import GatewayError
from tests.e2e.browser_gateway.conftest import (
    ADMIN, HANDLE, Sandbox, gateway_settings, own_sandbox, run_gateway,
)

pytestmark = [pytest.mark.chromium, pytest.mark.asyncio(loop_scope="module")]

PAST = 45  # the account's posts before the run: three batches (20, 20, 5)
LIMIT = 50  # X's reading limit here, per window: two batches of a read fit, and the admin resets it between tests


@pytest_asyncio.fixture(scope="module", loop_scope="module")
async def sandbox(tmp_path_factory, clock) -> AsyncIterator[Sandbox]:
    async for sb in own_sandbox(tmp_path_factory, clock, history_posts=PAST, history_days=30.0,
                                posts_viewed_per_day=LIMIT, posts_viewed_per_15m=LIMIT):
        yield sb


@pytest_asyncio.fixture(scope="module", loop_scope="module")
async def gw(servers, sandbox, session_file, clock):
    # The activity budget on (it counts what was served), far above what these reads take.
    settings = gateway_settings(servers, sandbox.base_url, session_file, activity_budget=True,
                                posts_viewed_per_day=1_000, posts_viewed_per_15m=1_000, page_loads_per_day=1_000,
                                searches_per_day=1_000, active_hours_start=0, active_hours_end=0)
    async for running in run_gateway(settings, clock):
        yield running


async def admin(sandbox: Sandbox, method: str, path: str, body: dict | None = None) -> dict:
    async with sandbox.http.request(method, sandbox.base_url + path, json=body,
                                    headers={"Authorization": f"Bearer {ADMIN}"}) as resp:
        assert resp.status == 200, await resp.text()
        return await resp.json()


async def counts(gw, sandbox) -> tuple[dict, dict]:
    """What the sandbox served the account (the ground truth) and what the gateway counted, today."""
    served = (await admin(sandbox, "GET", "/sim/activity"))["last_24h"]
    return served, gw.app.gateway.guardian.budget.used(gw.app.clock.now(), "day")


def delta(after: dict, before: dict) -> tuple[int, int]:
    return after["page_loads"] - before["page_loads"], after["posts_viewed"] - before["posts_viewed"]


async def newest(sandbox: Sandbox) -> list[str]:
    past = (await admin(sandbox, "GET", "/admin/history"))["tweets"]
    return [t["id"] for t in sorted(past, key=lambda t: t["created_at"], reverse=True)]


async def test_the_gateway_scrolls_for_every_post_up_to_the_limit_and_counts_what_x_served(gw, sandbox) -> None:
    await admin(sandbox, "POST", "/admin/reading/reset")
    served, counted = await counts(gw, sandbox)
    found = await gw.client.own_timeline(limit=40)
    # Two batches, newest first; the first batch alone (the page as it loads, what the gateway read before it
    # scrolled) would be 20.
    assert [t.tweet_id for t in found.tweets] == (await newest(sandbox))[:40]
    served_after, counted_after = await counts(gw, sandbox)
    assert delta(served_after, served) == delta(counted_after, counted) == (1, 40)


async def test_a_read_that_stops_inside_a_batch_counts_the_whole_batch_x_served(gw, sandbox) -> None:
    """25 posts: the read stops 5 posts into the second batch, whose other 15 X served (and counts against its
    reading limit) though the read never saw them, virtualised out of the DOM below it."""
    await admin(sandbox, "POST", "/admin/reading/reset")
    served, counted = await counts(gw, sandbox)
    found = await gw.client.own_timeline(limit=25)
    assert [t.tweet_id for t in found.tweets] == (await newest(sandbox))[:25]
    served_after, counted_after = await counts(gw, sandbox)
    assert delta(served_after, served) == delta(counted_after, counted) == (1, 40)


async def test_a_read_with_room_in_its_class_scrolls_to_the_timelines_end(gw, sandbox) -> None:
    """The budget allows a read its class's room (far above here): asked for more than the account has, the
    read scrolls to the end (no spinner after the third batch) and returns the whole past."""
    await admin(sandbox, "POST", "/admin/reading/reset")
    served, counted = await counts(gw, sandbox)
    found = await gw.client.own_timeline(limit=100)
    assert [t.tweet_id for t in found.tweets] == await newest(sandbox)
    served_after, counted_after = await counts(gw, sandbox)
    assert delta(served_after, served) == delta(counted_after, counted) == (1, PAST)


async def test_a_search_longer_than_two_screens_is_read_whole_a_step_at_a_time(gw, sandbox, clock) -> None:
    """X keeps only the cells within a screen or two of the viewport in the DOM, above and below: a read that
    jumped to the spinner at the end passed cells it never saw (6 posts of a 60-post timeline). The gateway scrolls
    less than a screen at a time: each of the search's 40 results (its most, here far more than two screens), in
    its order, each result and ad counted once. (Up to a minute ago: a post made while the read scrolls would move
    the next batch's offset, and serve one result twice.)"""
    await admin(sandbox, "POST", "/admin/reading/reset")
    served, counted = await counts(gw, sandbox)
    until = (clock.now() - timedelta(minutes=1)).strftime("%Y-%m-%d_%H:%M:%S_UTC")
    found = (await gw.client.search(f"min_faves:0 until:{until}", tab="latest", limit=50)).tweets
    times = [t.created_at for t in found]
    assert len({t.tweet_id for t in found}) == 40 and times == sorted(times, reverse=True)
    served_after, counted_after = await counts(gw, sandbox)
    assert delta(served_after, served) == delta(counted_after, counted)


async def test_a_timeline_whose_spinner_shows_only_while_it_loads_is_read_alike(gw, sandbox) -> None:
    """An X that shows its spinner only while the next batch loads (started as the reader nears the end): the
    gateway scrolls to the end after a full batch and reads on; a short batch is the end."""
    await admin(sandbox, "POST", "/admin/dom_variant", {"variant": 1, "lazy_loader": True})
    try:
        await admin(sandbox, "POST", "/admin/reading/reset")
        served, counted = await counts(gw, sandbox)
        found = await gw.client.own_timeline(limit=100)
        assert [t.tweet_id for t in found.tweets] == await newest(sandbox)  # 20 + 20 + 5: every past post
        served_after, counted_after = await counts(gw, sandbox)
        assert delta(served_after, served) == delta(counted_after, counted) == (1, PAST)
    finally:
        await admin(sandbox, "POST", "/admin/dom_variant", {"variant": 1})


async def test_posts_that_come_late_are_waited_for_and_counted_as_x_served_them(gw, sandbox) -> None:
    """X asks for a profile's posts and a search's results after the page (here a second later). Read when the
    header is there, the own timeline would be empty (a read-back would take a post that went out for one that
    did not); counted when the page arrived, none of those posts would be in the budget, which learns each op's
    cost from what it counted and would let reads past X's limit."""
    await admin(sandbox, "POST", "/admin/reading/reset")
    served, counted = await counts(gw, sandbox)
    await admin(sandbox, "POST", "/admin/latency", {"ms": 1000})
    try:
        found = await gw.client.own_timeline(limit=20)
        results = await gw.client.search("sleep", tab="latest", limit=20)
    finally:
        await admin(sandbox, "POST", "/admin/latency", {"ms": 0})
    assert [t.tweet_id for t in found.tweets] == (await newest(sandbox))[:20] and results.tweets
    served_after, counted_after = await counts(gw, sandbox)
    assert delta(served_after, served) == delta(counted_after, counted)
    assert delta(counted_after, counted)[1] >= 20 + len(results.tweets)


async def test_a_follower_count_views_no_post(gw, sandbox) -> None:
    """The follower count is the profile's header: its posts, which X loads after it, are left unasked."""
    await admin(sandbox, "POST", "/admin/reading/reset")
    served, counted = await counts(gw, sandbox)
    snapshot = await gw.client.profile_snapshot(HANDLE)
    assert snapshot.followers == (await admin(sandbox, "GET", "/admin/account"))["followers"]
    served_after, counted_after = await counts(gw, sandbox)
    assert delta(served_after, served) == delta(counted_after, counted) == (1, 0)


async def test_a_reply_counts_the_conversation_it_was_written_under(gw, sandbox) -> None:
    """A reply is written on the post's status page, whose conversation (the post, the reply box, the replies) X
    asks for after the page (its TweetDetail request; here a second later). The reply waits for it and counts what
    it showed, though it reads no timeline: counted when the page arrived, a reply cost no post on x.com."""
    post = (await newest(sandbox))[1]
    await admin(sandbox, "POST", "/admin/audience_reply", {
        "to": post, "handle": "reader_late", "text": "Does this hold on weekends too?", "kind": "question"})
    await admin(sandbox, "POST", "/admin/reading/reset")
    served, counted = await counts(gw, sandbox)
    await admin(sandbox, "POST", "/admin/latency", {"ms": 1000})
    try:
        sent = await gw.client.reply(post, "It does: the same hour on weekends keeps the clock steady.",
                                     author=HANDLE)
    finally:
        await admin(sandbox, "POST", "/admin/latency", {"ms": 0})
    assert sent.tweet_ids
    served_after, counted_after = await counts(gw, sandbox)
    assert delta(served_after, served) == delta(counted_after, counted)
    assert delta(counted_after, counted)[1] >= 2  # the post and its reply at least


async def locked_after_the_page(gw, sandbox: Sandbox, views: str, read: Coroutine[Any, Any, object]) -> None:
    """Start ``read``; lock the account once the sandbox has served its page (``views``, a count of /sim/activity)
    and before what the page asks for after it (each request answered a second late). The read must end ``locked``,
    not retryable, and the account's risk level be LOCKED."""
    async def served() -> int:
        return (await admin(sandbox, "GET", "/sim/activity"))["last_24h"][views]

    await admin(sandbox, "POST", "/admin/reading/reset")
    before = await served()
    await admin(sandbox, "POST", "/admin/latency", {"ms": 1000})
    try:
        reading = asyncio.create_task(read)
        while await served() == before:  # the page is served; what it asks for after it comes a second later
            await asyncio.sleep(0.05)
        await admin(sandbox, "POST", "/admin/faults", {"mode": "locked", "count": 1})
        with pytest.raises(GatewayError) as err:
            await reading
        assert (err.value.code, err.value.retryable) == ("locked", False), err.value
        assert gw.app.gateway.guardian_status()["risk_level"] == "LOCKED"
    finally:
        await admin(sandbox, "POST", "/admin/reset-faults")
        gw.app.gateway.guardian.restore({})


async def test_a_lock_between_a_page_and_its_posts_is_locked(gw, sandbox) -> None:
    """X locks the account after a status page has loaded and before its conversation has: X's web client, refused
    the conversation (code 326), goes to the lock page. That is the lock (not retryable, the account's risk level
    LOCKED): not the post gone (the lock page's words stand where a missing post's would, and the read answered
    that the post had been deleted: the scraper would have dropped its reads), a changed DOM nor a broken browser
    (the navigation destroys what the op was reading)."""
    target = (await newest(sandbox))[2]
    await locked_after_the_page(gw, sandbox, "status_views", gw.client.tweet_metrics([target], author=HANDLE))


async def test_an_analytics_page_brings_its_counts_after_it_and_a_lock_between_them_is_locked(gw, sandbox) -> None:
    """X's analytics page asks for the post's counts after the page (TweetActivity): the read waits for them, and a
    lock between the page and its counts is the lock, found when X sends the page to its lock page (not after the
    call's whole timeout, as a wait for the counts alone found it)."""
    target = (await newest(sandbox))[0]
    before_read = (await sandbox.tweet(target))["counts"]
    item = (await gw.client.tweet_metrics([target], author=HANDLE, with_profile_visits=True)).items[0]
    after_read = (await sandbox.tweet(target))["counts"]
    for count in ("profile_clicks", "follows"):
        value = getattr(item, count)
        assert value is not None and before_read[count] <= value <= after_read[count], (count, item)
    await locked_after_the_page(gw, sandbox, "analytics_views",
                                gw.client.tweet_metrics([target], author=HANDLE, with_profile_visits=True))


async def test_a_batch_past_xs_reading_limit_is_rate_limited_not_a_short_timeline(gw, sandbox) -> None:
    await admin(sandbox, "POST", "/admin/reading/reset")
    for _ in range(2):  # 40 posts viewed: under X's 50, so the next page loads and its first batch is served
        await gw.client.own_timeline(limit=20)
    with pytest.raises(GatewayError) as err:
        await gw.client.own_timeline(limit=40)  # its second batch comes past the limit: refused
    assert (err.value.code, err.value.retryable) == ("rate_limited", True), err.value


async def test_a_conversation_loads_its_replies_on_scroll_and_a_metric_read_does_not_scroll(gw, sandbox) -> None:
    """X's status page shows a post with the first batch of its replies and loads the rest on scrolling: the
    replies' read collects every one of them; a metric read, which needs the post alone (above its replies),
    reads the page as it loads."""
    post = (await newest(sandbox))[0]
    added = []
    for i in range(20 + 15):  # with the one it had: two batches, then "Discover more" (all under X's limit here)
        reply = await admin(sandbox, "POST", "/admin/audience_reply", {
            "to": post, "handle": f"reader_{i}", "text": f"Question {i}: does this hold for shift workers too?",
            "kind": "question"})
        added.append(reply["id"])
    await admin(sandbox, "POST", "/admin/reading/reset")
    served, counted = await counts(gw, sandbox)
    found = [t.tweet_id for t in (await gw.client.tweet_replies(post, limit=100)).tweets]
    assert found[-len(added):] == added, found  # oldest first, the scripted ones the newest
    served_after, counted_after = await counts(gw, sandbox)
    # One page load; the post and every reply viewed (the first batch of 20 with the page, the rest on scroll),
    # and what is no reply but was viewed: X's ad in each batch (sandbox/ads.py) and the posts of its "Discover
    # more" under the last.
    batches, discover = -(-len(found) // 20), 6
    assert delta(served_after, served) == delta(counted_after, counted) == (1, 1 + len(found) + batches + discover)

    await admin(sandbox, "POST", "/admin/reading/reset")
    served, counted = await counts(gw, sandbox)
    metrics = await gw.client.tweet_metrics([post], author=HANDLE)
    assert [m.tweet_id for m in metrics.items] == [post]
    served_after, counted_after = await counts(gw, sandbox)
    # The post and the page's first batch of replies (and its ad): no scrolling through the conversation.
    assert delta(served_after, served) == delta(counted_after, counted) == (1, 1 + 20 + 1)

