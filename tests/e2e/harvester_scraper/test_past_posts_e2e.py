"""The account's posts from before xbot, end to end: the sandbox's account starts with a past, the scraper reads
its profile through the gateway (real Chromium) once, and PastPostsRead carries every past post with its text,
time and the counts the sandbox shows; a restarted scraper does not read them again."""

from __future__ import annotations

from datetime import timedelta

import pytest

from libs.contracts.events import PastPostsRead
from services.scraper.app import build
from services.scraper.settings import ScraperSettings
from tests.e2e.harvester_scraper.conftest import Harness, drop_schema, started
from tests.helpers import eventually

pytestmark = [pytest.mark.chromium, pytest.mark.asyncio(loop_scope="module")]

PAST = 45  # more than the first batch of 20: the profile is read by scrolling, as X loads it


@pytest.fixture(scope="module")
def sandbox_overrides() -> dict:
    return {"history_posts": PAST, "history_days": 30.0}


def scraper_settings(h: Harness) -> ScraperSettings:
    return ScraperSettings(**h.common, scrape_checkpoint_hours=(0.1,), scrape_daily_until=timedelta(0),
                           scrape_interval=timedelta(minutes=1), followers_interval=timedelta(hours=12))


async def test_the_accounts_past_posts_are_read_once_with_the_sandboxs_counts(harness, database_url):
    h = harness
    await drop_schema(database_url, "scraper")
    past = h.world.history()
    assert len(past) == PAST
    svc = await started(build(scraper_settings(h)))

    async def read():
        found = [e for _, _, e in await h.events("scraper") if isinstance(e, PastPostsRead)]
        return found or None

    try:
        [event] = await eventually(read, timeout=90)
        # Restarted: the projection knows they were read, so no second read and no second event.
        await svc.stop()
        svc = await started(build(scraper_settings(h)))
        assert await svc.worker.read_past_posts() is None
        assert (await svc.worker.status())["past_posts"] == PAST  # what `xbot status` shows
    finally:
        await svc.stop()
    assert len([e for _, _, e in await h.events("scraper") if isinstance(e, PastPostsRead)]) == 1

    assert [p.tweet_id for p in event.posts] == [t.id for t in past]
    seen_at = event.observed_at.timestamp()
    for post, tweet in zip(event.posts, past):
        assert post.text.split() == tweet.text.split()  # a timeline card shows its lines run together
        assert post.created_at.timestamp() == pytest.approx(tweet.created_at, abs=1e-3)  # X shows milliseconds
        # The profile was read shortly before the event: each count is the sandbox's at an age in between.
        age = (seen_at - tweet.created_at) / 3600
        for field in ("likes", "retweets", "replies", "views"):
            at_read = getattr(tweet.final.at_age(age), field)
            before = getattr(tweet.final.at_age(age - h.slack_s / 3600), field)
            assert before <= getattr(post, field) <= at_read, (field, post, tweet.final)
        assert post.views > 0
