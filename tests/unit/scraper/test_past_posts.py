"""Which cards of the account's profile are its posts from before xbot (services/scraper/history.py)."""

from datetime import UTC, datetime, timedelta

from libs.contracts.gateway import TweetCard
from services.scraper.history import past_posts

NOW = datetime(2026, 3, 1, 12, tzinfo=UTC)


def card(tweet_id, *, days=10.0, author="ava", text="Sleep is a skill.", created_at=None, **counts):
    at = created_at if created_at is not None else (NOW - timedelta(days=days)).isoformat().replace("+00:00", "Z")
    return TweetCard(tweet_id=tweet_id, author=author, text=text, created_at=at, **counts)


def test_only_the_accounts_own_matured_posts_from_before_xbot_are_kept_oldest_first():
    cards = [
        card("9", days=1.0),  # 24 h old: its counts are not final yet
        card("8", days=5.0, views=900, likes=30),
        card("7", days=6.0, author="someone"),  # a retweet of someone else's post
        card("6", days=7.0, text="@ben agreed"),  # a reply
        card("5", days=8.0, created_at="yesterday"),  # no readable date
        card("4", days=9.0, created_at="2026-02-20T12:00:00"),  # no time zone: UTC, as X's times are
        card("3", days=20.0),
        card("3", days=20.0),  # shown twice (a pinned post)
        card("2", days=3.0),  # after xbot's first post
    ]
    kept = past_posts(cards, handle="Ava", now=NOW, first_post=NOW - timedelta(days=4))
    assert [p.tweet_id for p in kept] == ["3", "4", "8"]
    assert (kept[2].views, kept[2].likes) == (900, 30)
    assert kept[0].created_at == NOW - timedelta(days=20)


def test_before_xbot_posted_anything_every_matured_post_counts():
    assert [p.tweet_id for p in past_posts([card("2", days=3.0), card("1", days=2.5)], handle="ava", now=NOW,
                                           first_post=None)] == ["2", "1"]
