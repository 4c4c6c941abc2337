"""A tweet of ours deleted on X itself, end to end (real Chromium through the gateway): the scraper's reads miss it
three times in a row, then it records TweetGone once and reads it no more. A module of its own: the harness's
streams are the module's, and this test wants none of another test's reads in them."""

from __future__ import annotations

import pytest

from libs.bus.publish import EventPublisher
from libs.contracts.events import MetricsScraped, TweetGone
from services.scraper.app import build
from tests.e2e.harvester_scraper.conftest import drop_schema, started
from tests.e2e.harvester_scraper.test_scraper_e2e import CHECKPOINTS, post_items, scraper_settings
from tests.helpers import eventually

pytestmark = [pytest.mark.chromium, pytest.mark.asyncio(loop_scope="module")]


async def test_a_tweet_deleted_on_x_itself_is_told_once_and_read_no_more(harness, database_url):
    """The owner deletes a post on X (not through the console): three metric reads in a row miss it, then the scraper
    records TweetGone (the planner, the learner and the notifier act on it), once, and takes no more reads of it;
    the other items are read as before."""
    h = harness
    await drop_schema(database_url, "scraper")
    settings = scraper_settings(h)
    svc = await started(build(settings))
    try:
        items = await post_items(h, EventPublisher(svc.broker, settings, h.clock, "e2e_poster"))
        deleted = items[1]
        assert h.world.delete_tweet(deleted.tweet_ids[0]) == "deleted"  # on X itself: no TweetDeleted
        others = {(p.tweet_ids[0], f"{cp:g}h") for p in items if p is not deleted for cp in CHECKPOINTS}

        async def told_and_read():
            events = [e for _, _, e in await h.events("scraper")]
            gone = [e for e in events if isinstance(e, TweetGone)]
            read = {(e.tweet_id, e.checkpoint) for e in events if isinstance(e, MetricsScraped)}
            return (gone, read) if gone and read >= others else None

        await eventually(told_and_read, timeout=90)
        await h.clock.sleep(3 * 60)  # three more scrape intervals: a second TweetGone or a late read would be out
        events = [e for _, _, e in await h.events("scraper")]
    finally:
        await svc.stop()
    gone = [e for e in events if isinstance(e, TweetGone)]
    assert [(e.tweet_id, e.content_id, e.kind) for e in gone] == [(deleted.tweet_ids[0], deleted.content_id, "post")]
    assert {(e.tweet_id, e.checkpoint) for e in events if isinstance(e, MetricsScraped)} == others
