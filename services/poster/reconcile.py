"""Read-back reconciliation: is an attempted post on X already, and which parts of a thread are?

X has no idempotency key, so after an interrupted attempt the poster reads its own timeline and matches texts.
Texts are compared in a normal form (case, spacing, punctuation, Unicode forms, HTML entities and link
targets do not matter: X rewrites links to t.co and the timeline shows them shortened). Parts are matched in
order, each to a distinct tweet created after the previous part's tweet and not before the attempt started
(minus a clock-skew allowance), so an older post with the same text is never taken for this one.
"""

from __future__ import annotations

import html
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Literal

from libs.contracts.gateway import TweetCard
from libs.text.normalise import normalise

ReadbackStatus = Literal["posted", "partial", "not_posted", "inconsistent"]

# The timeline's timestamps come from X (or the sandbox), not from our Clock.
DEFAULT_SKEW = timedelta(minutes=2)


def normal_text(text: str) -> str:
    return normalise(html.unescape(text))


@dataclass(frozen=True)
class TimelineTweet:
    tweet_id: str
    text: str
    created_at: datetime | None = None
    in_reply_to: str | None = None

    @classmethod
    def from_card(cls, card: TweetCard) -> TimelineTweet:
        """From the gateway's own_timeline result; an unparsable timestamp is treated as unknown."""
        return cls(tweet_id=card.tweet_id, text=card.text, created_at=card.created())


def _sort_key(tweet: TimelineTweet) -> tuple[bool, datetime, int, str]:
    # Oldest first; snowflake ids grow with time, which orders tweets whose timestamp the page did not show.
    numeric = int(tweet.tweet_id) if tweet.tweet_id.isdigit() else 0
    return (tweet.created_at is None, tweet.created_at or datetime.min, numeric, tweet.tweet_id)


@dataclass(frozen=True)
class Readback:
    """Per intended part, the id of the tweet found for it (None where none was found)."""

    parts: tuple[str | None, ...]

    @property
    def status(self) -> ReadbackStatus:
        found = [p is not None for p in self.parts]
        if all(found):
            return "posted"
        if not any(found):
            return "not_posted"
        first_missing = found.index(False)
        # A part found after a missing one cannot come from a thread posted in order: continuing would
        # duplicate it, so the service must not post and should alert instead.
        return "inconsistent" if any(found[first_missing:]) else "partial"

    @property
    def tweet_ids(self) -> list[str]:
        """Ids of the posted prefix, first part first."""
        ids: list[str] = []
        for p in self.parts:
            if p is None:
                break
            ids.append(p)
        return ids

    @property
    def next_part(self) -> int | None:
        """Index of the first part still to post (None when all are posted)."""
        return None if self.status == "posted" else len(self.tweet_ids)

    def reply_to_for_next(self, original_reply_to: str | None) -> str | None:
        """What the next part replies to: the last posted part, or for the first part the item's own target."""
        ids = self.tweet_ids
        return ids[-1] if ids else original_reply_to


def match_parts(
    parts: Sequence[str],
    timeline: Sequence[TimelineTweet],
    *,
    since: datetime,
    skew: timedelta = DEFAULT_SKEW,
    reply_to: str | None = None,
) -> Readback:
    """Match each intended part to a tweet of the own timeline.

    ``since`` is when the first attempt of this item started. ``reply_to`` is the tweet the first part
    answers (replies); when the timeline knows what a tweet replies to, that must agree too.
    """
    earliest = since - skew
    candidates = sorted(
        (t for t in timeline if t.created_at is None or t.created_at >= earliest), key=_sort_key
    )
    used: set[str] = set()
    found: list[str | None] = []
    after: TimelineTweet | None = None
    for index, part in enumerate(parts):
        wanted = normal_text(part)
        parent = reply_to if index == 0 else (found[-1] if found else None)
        hit = None
        for tweet in candidates:
            if tweet.tweet_id in used or normal_text(tweet.text) != wanted:
                continue
            if after is not None and _sort_key(tweet) <= _sort_key(after):
                continue
            if tweet.in_reply_to is not None and parent is not None and tweet.in_reply_to != parent:
                continue
            hit = tweet
            break
        found.append(hit.tweet_id if hit else None)
        if hit is not None:
            used.add(hit.tweet_id)
            after = hit
    return Readback(tuple(found))


@dataclass(frozen=True)
class DuplicateVerdict:
    """X said "Whoops! You already said that." for one part: it counts as posted only if the read-back found it.

    found: reconcile as after any interrupted attempt (``readback.status`` is "posted" or "partial").
    not found: PostFailed(reason="duplicate", retryable=False), since the same text would be refused again.
    """

    found: bool
    readback: Readback


def judge_duplicate(readback: Readback, failed_part: int = 0) -> DuplicateVerdict:
    return DuplicateVerdict(found=readback.parts[failed_part] is not None, readback=readback)
