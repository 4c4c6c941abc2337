"""Engagement gauges hold the latest totals (a re-read or a restart does not count twice); the totals' query
against Postgres: tests/integration/scraper."""

from __future__ import annotations


from prometheus_client import REGISTRY

from services.scraper import metrics


def engagement(kind: str) -> float | None:
    return REGISTRY.get_sample_value("xbot_scraper_engagement", {"kind": kind})


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
