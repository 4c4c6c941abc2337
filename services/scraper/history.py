"""The account's own posts from before xbot (PastPostsRead): which cards of its profile count as such. Plain
Python, no I/O.

A real account that starts with xbot has months of its own posts, each already an answer to "what does this
audience reward": the learner starts from them instead of from uniform choices (issue 24). Only posts that can
teach that are kept: the account's own (not a retweet of someone else's), not a reply (a reply's reach is someone
else's tweet's), old enough that their counts are final, and written before xbot's first post (xbot's own posts
reach the learner through its decision log, with their choices and propensities).
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta

from libs.contracts.events import PastPost
from libs.contracts.gateway import TweetCard

# A past post's counts are taken as final at this age: the learner's matured checkpoint is 24 h, and followers
# are credited up to 48 h after a post.
MIN_AGE = timedelta(hours=48)


def past_posts(cards: Sequence[TweetCard], *, handle: str, now: datetime, first_post: datetime | None
               ) -> list[PastPost]:
    """The cards of the account's profile that are its own matured posts from before ``first_post`` (xbot's first
    TweetPosted; None: xbot has posted nothing yet), oldest first. A card without a readable date is left out: its
    age, and so its hour and whether it is final, is unknown."""
    kept: dict[str, PastPost] = {}
    for card in cards:
        created = card.created()
        if created is None or card.author.lower() != handle.lower() or card.text.lstrip().startswith("@"):
            continue
        if now - created < MIN_AGE or (first_post is not None and created >= first_post):
            continue
        kept[card.tweet_id] = PastPost(tweet_id=card.tweet_id, text=card.text, created_at=created, likes=card.likes,
                                       retweets=card.retweets, replies=card.replies, views=card.views)
    return sorted(kept.values(), key=lambda p: (p.created_at, int(p.tweet_id)))
