"""The scraper end to end: our items posted through the gateway, their checkpoint reads equal to the sandbox's
counts at those ages, one MetricsScraped per tweet and checkpoint across a restart, and the follower series
equal to the sandbox's."""

from __future__ import annotations

import uuid
from collections import Counter
from datetime import datetime, timedelta

import pytest

from libs.bus.publish import EventPublisher
from libs.contracts.events import FollowersSnapshotted, MetricsScraped, TweetPosted
from sandbox.audience import maturity
from services.scraper.app import build
from services.scraper.settings import ScraperSettings
from tests.e2e.harvester_scraper.conftest import HANDLE, Harness, drop_schema, started
from tests.helpers import eventually

pytestmark = [pytest.mark.chromium, pytest.mark.asyncio(loop_scope="module")]

CHECKPOINTS = (0.1, 0.2)  # 6 and 12 simulated minutes: 3 and 6 real seconds at 120x
FIELDS = ("likes", "retweets", "replies", "views")


def scraper_settings(h: Harness) -> ScraperSettings:
    return ScraperSettings(**h.common, scrape_checkpoint_hours=CHECKPOINTS, scrape_daily_until=timedelta(0),
                           scrape_interval=timedelta(minutes=1), scrape_batch_size=2,
                           followers_interval=timedelta(minutes=4))


async def post_items(h: Harness, publisher: EventPublisher) -> list[TweetPosted]:
    """What the poster does: post through the gateway, then record TweetPosted at X's creation time."""
    tag = uuid.uuid4().hex[:6]
    out = []
    for _i, text in enumerate([f"Morning light sets your sleep clock. #{tag}",
                              f"Protein at breakfast keeps you full until lunch. #{tag}"]):
        result = await h.gateway.post_tweet(text)
        out.append(("post", result.tweet_ids, text, None))
    target = next(t for t in (await h.gateway.search("sleep", tab="latest", limit=20)).tweets
                  if t.author != HANDLE and t.can_reply)
    text = f"Consistency beats duration every time. #{tag}"
    result = await h.gateway.reply(target.tweet_id, text, author=target.author)
    out.append(("reply", result.tweet_ids, text, target.tweet_id))
    events = []
    for n, (kind, ids, text, reply_to) in enumerate(out):
        created = datetime.fromisoformat((await h.sandbox_tweet(ids[0]))["created_at"].replace("Z", "+00:00"))
        event = TweetPosted(content_id=f"c{tag}{n}", kind=kind, tweet_ids=ids, url=f"{h.base_url}/i/status/{ids[0]}",
                            posted_at=created, reply_to_tweet_id=reply_to, text=text)
        await publisher.publish(event)
        events.append(event)
    return events


async def test_checkpoint_reads_and_follower_series_match_the_sandbox_across_a_restart(harness, database_url):
    h = harness
    await drop_schema(database_url, "scraper")
    settings = scraper_settings(h)
    svc = await started(build(settings))
    items = await post_items(h, EventPublisher(svc.broker, settings, h.clock, "e2e_poster"))
    expected_keys = {(p.tweet_ids[0], f"{cp:g}h") for p in items for cp in CHECKPOINTS}

    async def metrics() -> list[MetricsScraped]:
        return [e for _, _, e in await h.events("scraper") if isinstance(e, MetricsScraped)]

    # Restart once the first reads are out: the new process must neither repeat nor lose a checkpoint.
    await eventually(metrics, timeout=60)
    await svc.stop()
    svc = await started(build(settings))
    try:
        async def all_read():
            got = await metrics()
            return got if {(e.tweet_id, e.checkpoint) for e in got} >= expected_keys else None

        await eventually(all_read, timeout=90)

        async def three_snapshots():
            got = [e for _, _, e in await h.events("scraper") if isinstance(e, FollowersSnapshotted)]
            return got if len(got) >= 3 else None

        await eventually(three_snapshots, timeout=60)
        await h.clock.sleep(3 * 60)  # three more scrape intervals: any repeat would be out by now
        messages = await h.events("scraper")
    finally:
        await svc.stop()

    read_events = [e for _, _, e in messages if isinstance(e, MetricsScraped)]
    keys = Counter((e.tweet_id, e.checkpoint) for e in read_events)
    assert set(keys) == expected_keys and set(keys.values()) == {1}, keys
    assert len({msg_id for msg_id, _, _ in messages}) == len(messages)

    own = {t.id: t for t in h.world.own_tweets()}
    posted = {p.tweet_ids[0]: p for p in items}
    for e in read_events:
        tweet = own[e.tweet_id]
        observed = e.observed_at.timestamp()
        age = (observed - tweet.created_at) / 3600
        assert e.age_hours == pytest.approx(age, abs=1e-6) and e.age_hours >= e.checkpoint_hours
        assert e.content_id == posted[e.tweet_id].content_id and e.kind == posted[e.tweet_id].kind
        # The page was read at one instant between (observed - slack) and observed: the counts are the sandbox's
        # own then, each between its counts at the window's ends (counts grow with age), and the views, which are
        # floor(final x maturity(age)), pin that instant's maturity inside the window.
        before, after = tweet.final.at_age(age - h.slack_s / 3600), tweet.final.at_age(age)
        for field in FIELDS:
            assert getattr(before, field) <= getattr(e, field) <= getattr(after, field), (e, field, tweet.final)
        lo, hi = maturity(age - h.slack_s / 3600), maturity(age)
        lo, hi = max(lo, e.views / tweet.final.views), min(hi, (e.views + 1) / tweet.final.views)
        assert lo <= hi, (e, tweet.final)
        # The profile visits come from the post's analytics page, read just after its status page; so do the
        # accounts that followed from it ("New followers").
        assert e.profile_clicks is not None and e.follows is not None, e
        assert before.profile_clicks <= e.profile_clicks <= after.profile_clicks, (e, tweet.final)
        assert before.follows <= e.follows <= after.follows, (e, tweet.final)
        interval = e.checkpoint_hours - (0 if e.checkpoint_hours == CHECKPOINTS[0] else CHECKPOINTS[0])
        late_at = posted[e.tweet_id].posted_at + timedelta(hours=e.checkpoint_hours + 0.5 * interval)
        assert e.missed == (e.observed_at > late_at)

    snapshots = [e for _, _, e in messages if isinstance(e, FollowersSnapshotted)]
    assert all(s.handle == HANDLE for s in snapshots)
    for s in snapshots:
        at = s.observed_at.timestamp()
        assert h.world.followers_at(at - h.slack_s) <= s.followers <= h.world.followers_at(at)
    for before, after in zip(snapshots, snapshots[1:]):
        assert after.observed_at > before.observed_at
        assert after.previous_followers == before.followers and after.window_start == before.observed_at
        assert after.delta == after.followers - before.followers
        if after.attribution:
            assert sum(a.followers for a in after.attribution) == pytest.approx(after.delta)
            assert {a.tweet_id for a in after.attribution} <= set(posted)
