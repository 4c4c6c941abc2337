"""Followers and engagement are exported from the scraper's tables: at start and after each job, never counted
twice by a re-read or a restart, and nothing (rather than a false 0) before the first follower snapshot."""

from __future__ import annotations

from contextlib import asynccontextmanager
from datetime import UTC, datetime

from prometheus_client import REGISTRY

from services.scraper import metrics
from services.scraper.jobs import ScraperJobs
from services.scraper.settings import ScraperSettings

T0 = datetime(2024, 5, 1, 8, 0, tzinfo=UTC)


def engagement(kind: str) -> float | None:
    return REGISTRY.get_sample_value("xbot_scraper_engagement", {"kind": kind})


def followers(handle: str) -> float | None:
    return REGISTRY.get_sample_value("xbot_scraper_followers", {"handle": handle})


def test_every_engagement_kind_gets_a_sample_even_before_any_read():
    metrics.show_engagement({}, 0)
    assert [engagement(k) for k in ("likes", "retweets", "replies", "views")] == [0, 0, 0, 0]
    assert REGISTRY.get_sample_value("xbot_scraper_tweets_read") == 0


def test_engagement_is_the_latest_totals_not_a_sum_of_reads():
    metrics.show_engagement({"likes": 5, "retweets": 1, "replies": 2, "views": 300}, 2)
    # The same totals read again (a re-read, a restart) leave the gauge where it was.
    metrics.show_engagement({"likes": 5, "retweets": 1, "replies": 2, "views": 300}, 2)
    assert engagement("likes") == 5 and engagement("views") == 300
    assert REGISTRY.get_sample_value("xbot_scraper_tweets_read") == 2


class FakeConn:
    def __init__(self, totals: dict, last_followers: dict | None) -> None:
        self.totals = totals
        self.last = last_followers
        self.followers_args: list = []

    async def fetchrow(self, query: str, *args):
        if "engagement_reads" in query:
            return self.totals
        self.followers_args.append(args)
        return self.last


class FakePool:
    def __init__(self, conn: FakeConn) -> None:
        self.conn = conn

    @asynccontextmanager
    async def acquire(self):
        yield self.conn


def jobs(conn: FakeConn, handle: str) -> ScraperJobs:
    return ScraperJobs(ScraperSettings(x_handle=handle), pool=FakePool(conn),  # type: ignore[arg-type]
                       gateway=None, outbox=None, clock=None)  # type: ignore[arg-type]


async def test_no_follower_sample_before_the_first_snapshot():
    conn = FakeConn({"tweets": 0, "likes": 0, "retweets": 0, "replies": 0, "views": 0}, None)
    await jobs(conn, "nobody_yet").show_metrics()
    assert followers("nobody_yet") is None
    assert conn.followers_args == [("nobody_yet",)]
    assert engagement("replies") == 0


async def test_show_metrics_exports_the_last_snapshot_and_the_totals():
    conn = FakeConn({"tweets": 3, "likes": 40, "retweets": 7, "replies": 9, "views": 1200},
                    {"followers": 512, "observed_at": T0})
    await jobs(conn, "Some_Handle").show_metrics()
    assert followers("Some_Handle") == 512
    assert [engagement(k) for k in ("likes", "retweets", "replies", "views")] == [40, 7, 9, 1200]
    assert REGISTRY.get_sample_value("xbot_scraper_tweets_read") == 3
