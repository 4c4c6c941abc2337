"""The scraper's Prometheus metrics (dashboards: deploy/grafana growth; alerts: deploy/prometheus).

Followers and engagement are gauges recomputed from the scraper's own tables (``follower_series``,
``engagement_reads``), not counters of deltas kept in memory: a restart, a re-read of the same tweet at the next
checkpoint or follower snapshot, or ``xbot replay`` then shows the same figure again instead of counting it
twice. PromQL charts a gauge directly (``max(...)``) and its change with ``delta(...[1h])``.
"""

from __future__ import annotations

from collections.abc import Mapping

from prometheus_client import Counter, Gauge

missed_reads = Counter("xbot_scraper_missed_reads_total",
                       "Checkpoint reads taken later than the missed fraction of their interval (alert input)",
                       ["checkpoint"])
reads_taken = Counter("xbot_scraper_reads_total", "Checkpoint reads taken and recorded", ["checkpoint"])
due_backlog = Gauge("xbot_scraper_due_reads", "Due checkpoint reads not taken yet, at the last scrape run")
budget_short = Gauge("xbot_scraper_budget_short",
                     "1 while the gateway's read budget refuses metric reads: newest posts first, older checkpoints "
                     "thinned")
tweets_gone = Counter("xbot_scraper_tweets_gone_total",
                      "Own tweets found deleted on X (their remaining checkpoint reads are dropped)")
gateway_failures = Counter("xbot_scraper_gateway_failures_total", "Gateway calls that failed", ["op", "code"])

# Labelled by handle so that nothing (rather than a false 0) is exported before the first snapshot is known.
followers = Gauge("xbot_scraper_followers", "Our follower count at the last profile snapshot", ["handle"])
ENGAGEMENT_KINDS = ("likes", "retweets", "replies", "views")
engagement = Gauge("xbot_scraper_engagement",
                   "Engagement of our own tweets: the sum over them of each tweet's latest read (checkpoint or "
                   "follower-snapshot read), by kind (likes, retweets, replies, views)", ["kind"])
tweets_read = Gauge("xbot_scraper_tweets_read",
                    "Our own tweets with at least one engagement read (the tweets xbot_scraper_engagement sums over)")


def show_followers(handle: str, count: int) -> None:
    followers.labels(handle).set(count)


def show_engagement(totals: Mapping[str, int], tweets: int) -> None:
    """Export the latest totals; every kind gets a sample (0 before any read) so the series exist from start."""
    for kind in ENGAGEMENT_KINDS:
        engagement.labels(kind).set(float(totals.get(kind) or 0))
    tweets_read.set(tweets)
