from datetime import UTC, datetime, timedelta

import pytest

from services.harvester.discovery import (
    AuthorProfile,
    DiscoveryCriteria,
    account_relevance,
    candidate_authors,
    discover_accounts,
    engagement_rate,
)
from services.harvester.selection import SearchedTweet

NOW = datetime(2024, 5, 2, 12, 0, tzinfo=UTC)
CRITERIA = DiscoveryCriteria(min_followers=10_000, max_followers=500_000, min_engagement_rate=0.001,
                             min_relevance=0.5)


def tw(tid, author="ava", *, followers=20_000, likes=100, retweets=0, replies=0, text="sleep well",
       is_reply=False):
    return SearchedTweet(tweet_id=tid, author=author, author_followers=followers, text=text, likes=likes,
                         retweets=retweets, replies=replies, created_at=NOW - timedelta(hours=1), is_reply=is_reply)


def test_engagement_rate_is_mean_engagement_per_follower_of_originals():
    p = AuthorProfile("ava", 10_000, recent_tweets=(
        tw("1", likes=80, retweets=10, replies=10),   # 100
        tw("2", likes=250, retweets=25, replies=25),  # 300
        tw("3", likes=5000, is_reply=True),           # a reply: not the author's own audience
    ))
    assert engagement_rate(p) == pytest.approx(200 / 10_000)
    only_replies = AuthorProfile("ava", 10_000, recent_tweets=(tw("3", likes=50, is_reply=True),))
    assert engagement_rate(only_replies) == pytest.approx(50 / 10_000)
    assert engagement_rate(AuthorProfile("ava", 0, recent_tweets=(tw("1"),))) == 0.0
    assert engagement_rate(AuthorProfile("ava", 10_000)) == 0.0


def test_account_relevance_is_the_mean_over_bio_and_tweets(relevance):
    p = AuthorProfile("ava", 20_000, bio="sleep coach", recent_tweets=(tw("1", text="bitcoin"), tw("2")))
    assert account_relevance(p, relevance) == pytest.approx((1 + 0 + 1) / 3)
    assert account_relevance(AuthorProfile("x", 20_000, bio="  "), relevance) == 0.0


@pytest.mark.parametrize(("followers", "ok"), [(9_999, False), (10_000, True), (500_000, True), (500_001, False)])
def test_follower_range_is_inclusive(relevance, followers, ok):
    p = AuthorProfile("ava", followers, bio="sleep", recent_tweets=(tw("1", likes=followers),))
    out = discover_accounts([p], now=NOW, criteria=CRITERIA, relevance=relevance)
    assert [a.handle for a in out.accounts] == (["ava"] if ok else [])


def test_discovery_reports_fields_and_feeds_tweets(relevance):
    good = AuthorProfile("@Ava", 20_000, bio="sleep science", recent_tweets=(tw("1", likes=400), tw("2", likes=200)))
    dead = AuthorProfile("ben", 20_000, bio="sleep", recent_tweets=(tw("3", author="ben", likes=5),))
    crypto = AuthorProfile("cat", 20_000, bio="bitcoin", recent_tweets=(tw("4", author="cat", text="bitcoin"),))
    out = discover_accounts([dead, crypto, good], now=NOW, criteria=CRITERIA, relevance=relevance)
    [acc] = out.accounts
    assert (acc.handle, acc.followers, acc.bio, acc.discovered_at) == ("Ava", 20_000, "sleep science", NOW)
    assert acc.engagement_rate == pytest.approx(300 / 20_000)
    assert acc.relevance == pytest.approx(1.0)
    assert [t.tweet_id for t in out.tweets] == ["1", "2"]
    assert out.rejected == {"low_engagement": 1, "off_topic": 1}


def test_known_accounts_are_not_rediscovered_but_still_feed_the_pool(relevance):
    p = AuthorProfile("Ava", 20_000, bio="sleep", recent_tweets=(tw("1", likes=400),))
    out = discover_accounts([p, p], now=NOW, criteria=CRITERIA, relevance=relevance, known_handles={"@ava"})
    assert out.accounts == []
    assert [t.tweet_id for t in out.tweets] == ["1"]


def test_candidate_authors_are_unknown_in_range_and_ranked_by_best_tweet():
    tweets = [tw("1", "ava", likes=3000), tw("2", "ben", likes=9000), tw("3", "ava", likes=100),
              tw("4", "huge", followers=2_000_000, likes=99_999), tw("5", "known", likes=50_000),
              tw("6", "cat", likes=5000)]
    assert candidate_authors(tweets, criteria=CRITERIA, known_handles={"Known"}, limit=2) == ["ben", "cat"]
    assert candidate_authors(tweets, criteria=CRITERIA, known_handles=(), limit=10) == ["known", "ben", "cat", "ava"]


def test_authors_with_unknown_follower_counts_are_candidates():
    unknown = SearchedTweet(tweet_id="9", author="dan", text="sleep", likes=10, retweets=0, replies=0,
                            created_at=NOW)
    assert candidate_authors([unknown], criteria=CRITERIA, known_handles=(), limit=5) == ["dan"]
