"""X's search query language, as far as xbot uses it: words, "phrases", -exclusions, OR, and the operators
min_faves:, min_retweets:, min_replies:, lang:, from:, since:, until:, filter:replies / -filter:replies, and
conversation_id: (the tweets of one conversation: its root and every reply under it, as on X's web and API)."""

from __future__ import annotations

import re
import shlex
from dataclasses import dataclass, field
from datetime import UTC, datetime


@dataclass(frozen=True)
class Candidate:
    """What the search needs to know about a tweet, ours or the population's."""

    text: str
    handle: str
    lang: str
    is_reply: bool
    created_at: float
    likes: int
    retweets: int
    replies: int


@dataclass
class SearchQuery:
    # Each inner tuple is an OR group: a tweet matches a group if it contains any of its words or phrases.
    groups: list[tuple[str, ...]] = field(default_factory=list)
    excluded: list[str] = field(default_factory=list)
    min_faves: int = 0
    min_retweets: int = 0
    min_replies: int = 0
    lang: str | None = None
    from_handle: str | None = None
    since: float | None = None  # inclusive
    until: float | None = None  # exclusive, as on X
    replies: bool | None = None  # None: both; False: -filter:replies; True: filter:replies
    conversation_id: str | None = None  # the search looks only in this conversation (World.search)

    def matches(self, c: Candidate) -> bool:
        return (
            c.likes >= self.min_faves and c.retweets >= self.min_retweets and c.replies >= self.min_replies
            and self.matches_content(c.text, c.handle, c.lang, c.is_reply, c.created_at)
        )

    def matches_content(self, text: str, handle: str, lang: str, is_reply: bool, created_at: float) -> bool:
        """Everything but the counts, which change as the tweet ages."""
        text = text.lower()
        return (
            (self.lang is None or lang == self.lang)
            and (self.from_handle is None or handle.lower() == self.from_handle)
            and (self.since is None or created_at >= self.since)
            and (self.until is None or created_at < self.until)
            and (self.replies is None or is_reply == self.replies)
            and all(any(_contains(text, term) for term in group) for group in self.groups)
            and not any(_contains(text, term) for term in self.excluded)
        )


def _contains(text: str, term: str) -> bool:
    # Whole words, like X: "sleep" matches "sleep," but not "sleepy".
    return re.search(rf"(?<!\w){re.escape(term)}(?!\w)", text) is not None


def _parse_time(value: str) -> float:
    # X accepts since:2024-05-01 and since:2024-05-01_12:00:00_UTC.
    for fmt in ("%Y-%m-%d_%H:%M:%S_UTC", "%Y-%m-%d"):
        try:
            return datetime.strptime(value, fmt).replace(tzinfo=UTC).timestamp()
        except ValueError:
            continue
    raise ValueError(f"bad date {value!r}")


def parse_query(q: str) -> SearchQuery:
    try:
        tokens = shlex.split(q)
    except ValueError:  # an unbalanced quote: X searches the words anyway
        tokens = q.replace('"', " ").split()
    query = SearchQuery()
    pending_or = False
    for token in tokens:
        key, _, value = token.partition(":")
        key_l = key.lower()
        try:
            if key_l == "min_faves" and value:
                query.min_faves = int(value)
            elif key_l == "min_retweets" and value:
                query.min_retweets = int(value)
            elif key_l == "min_replies" and value:
                query.min_replies = int(value)
            elif key_l == "lang" and value:
                query.lang = value.lower()
            elif key_l == "from" and value:
                query.from_handle = value.lstrip("@").lower()
            elif key_l == "conversation_id" and value:
                query.conversation_id = value
            elif key_l == "since" and value:
                query.since = _parse_time(value)
            elif key_l == "until" and value:
                query.until = _parse_time(value)
            elif key_l in ("filter", "-filter") and value.lower() == "replies":
                query.replies = key_l == "filter"
            elif token == "OR":
                pending_or = bool(query.groups)
                continue
            elif token.startswith("-") and len(token) > 1:
                query.excluded.append(token[1:].lower())
            else:
                term = token.lower()
                if pending_or:
                    query.groups[-1] = (*query.groups[-1], term)
                else:
                    query.groups.append((term,))
                pending_or = False
                continue
        except ValueError:
            # A malformed operator value is searched as a word, which is what X does with it.
            query.groups.append((token.lower(),))
        pending_or = False
    return query
