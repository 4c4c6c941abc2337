"""What X does to our posts without us, end to end (real Chromium through the gateway): a post deleted on X itself
(three metric reads in a row miss it, then the scraper records TweetGone once and reads it no more) and a post X
shows a Community Note under (CommunityNoteShown once, however many reads find it). A module of its own: the
harness's streams are the module's, and this test wants none of another test's reads in them."""

from __future__ import annotations

import pytest

from libs.bus.publish import EventPublisher
from libs.contracts.events import CommunityNoteShown, MetricsScraped, TweetGone
from services.scraper.app import build
from tests.e2e.harvester_scraper.conftest import ADMIN, drop_schema, started
from tests.e2e.harvester_scraper.test_scraper_e2e import CHECKPOINTS, post_items, scraper_settings
from tests.helpers import eventually

pytestmark = [pytest.mark.chromium, pytest.mark.asyncio(loop_scope="module")]


async def test_a_post_deleted_on_x_is_told_once_and_read_no_more_and_a_community_note_is_told_once(
        harness, database_url):
    h = harness
    await drop_schema(database_url, "scraper")
    settings = scraper_settings(h)
    svc = await started(build(settings))
    try:
        items = await post_items(h, EventPublisher(svc.broker, settings, h.clock, "e2e_poster"))
        noted, deleted = items[0], items[1]
        assert h.world.delete_tweet(deleted.tweet_ids[0]) == "deleted"  # on X itself: no TweetDeleted
        note = {"tweet_id": noted.tweet_ids[0], "text": "Studies cited do not show this effect."}
        async with h.http.post(f"{h.base_url}/admin/community_note", json=note,
                               headers={"Authorization": f"Bearer {ADMIN}"}) as answer:
            assert answer.status == 200, await answer.text()
        others = {(p.tweet_ids[0], f"{cp:g}h") for p in items if p is not deleted for cp in CHECKPOINTS}

        async def told_and_read():
            events = [e for _, _, e in await h.events("scraper")]
            read = {(e.tweet_id, e.checkpoint) for e in events if isinstance(e, MetricsScraped)}
            told = {type(e) for e in events} >= {TweetGone, CommunityNoteShown}
            return events if told and read >= others else None

        await eventually(told_and_read, timeout=90)
        await h.clock.sleep(3 * 60)  # three more scrape intervals: a second notice or a late read would be out
        events = [e for _, _, e in await h.events("scraper")]
    finally:
        await svc.stop()
    gone = [e for e in events if isinstance(e, TweetGone)]
    assert [(e.tweet_id, e.content_id, e.kind) for e in gone] == [(deleted.tweet_ids[0], deleted.content_id, "post")]
    assert {(e.tweet_id, e.checkpoint) for e in events if isinstance(e, MetricsScraped)} == others
    # The noted post was read at both checkpoints, and its note told once.
    notes = [e for e in events if isinstance(e, CommunityNoteShown)]
    assert [(e.tweet_id, e.content_id) for e in notes] == [(noted.tweet_ids[0], noted.content_id)]
