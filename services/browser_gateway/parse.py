"""Reading X's numbers and links as its web client writes them (pure functions)."""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import Any

from libs.contracts.gateway import TweetCard

_COUNT = re.compile(r"(\d[\d,]*(?:\.\d+)?)\s*([KMB])?", re.IGNORECASE)
_SCALE = {"k": 1_000, "m": 1_000_000, "b": 1_000_000_000}
_STATUS = re.compile(r"/([A-Za-z0-9_]{1,30})/status/(\d+)")
_HANDLE = re.compile(r"@([A-Za-z0-9_]{1,30})")


def read_count(text: str | None) -> int | None:
    """The first count in a text: "12 Likes. Like" -> 12, "1,234 views" -> 1234, "61.7M" -> 61700000; None when
    it holds none."""
    m = _COUNT.search(text or "")
    if not m:
        return None
    value = float(m.group(1).replace(",", ""))
    if m.group(2):
        value *= _SCALE[m.group(2).lower()]
    return int(round(value))


def parse_count(text: str | None) -> int:
    """The first count in a label, as read_count. A label with no number ("Like") means zero: that is how X labels
    an action nobody took."""
    return read_count(text) or 0


def views_read(card: TweetCard) -> bool:
    """Whether the page showed the card's views (a post older than X's view counts shows none: its views are the
    card's default, not a zero read)."""
    return "views" in card.model_fields_set


def status_ref(href: str | None) -> tuple[str, str] | None:
    """(handle, tweet id) from a status link, ignoring /analytics, /photo/… suffixes."""
    if not href:
        return None
    m = _STATUS.search(href)
    return (m.group(1), m.group(2)) if m else None


def handle_in(text: str | None) -> str | None:
    m = _HANDLE.search(text or "")
    return m.group(1) if m else None


def last_handle(text: str | None) -> str | None:
    """The handle in a name block that has no link to read it from (a quoted post's card): its last "@handle",
    because a display name before it may carry "@someone" of its own."""
    found = _HANDLE.findall(text or "")
    return found[-1] if found and len(found[-1]) <= 15 else None


def dig(data: Any, path: list[str]) -> Any:
    for key in path:
        if not isinstance(data, dict) or key not in data:
            return None
        data = data[key]
    return data


def same_text(a: str, b: str) -> bool:
    """Texts equal up to whitespace: a page renders newlines and runs of spaces its own way."""
    return " ".join(a.split()) == " ".join(b.split())


def replies_below(cards: Sequence[TweetCard], tweet_id: str) -> list[TweetCard] | None:
    """The cards below the tweet ``tweet_id`` on its status page (its replies; X shows a reply's ancestors above
    it), or None when the page does not show the tweet."""
    ids = [c.tweet_id for c in cards]
    if tweet_id not in ids:
        return None
    return list(cards[ids.index(tweet_id) + 1:])
