"""News of the niche from RSS/Atom feeds: fresh, on-topic items become NewsItemFound.

feedparser reads the feed (README "News": why feedparser): RSS 0.9x-2.0 and Atom, malformed XML read as far as it
goes, HTML in summaries sanitised, dates in the many forms feeds use normalised to UTC. What it hands back is
still text from outside: tags are stripped, entities decoded, whitespace collapsed and lengths capped before an
item becomes an event, and the planner quotes it only as a fact with its source.

Pure but for feedparser (no I/O: the job fetches the bytes).
"""

from __future__ import annotations

import calendar
import hashlib
import html
import re
from collections.abc import Collection, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import feedparser

from libs.contracts.events import NewsItemFound
from services.harvester.selection import TopicRelevance

MAX_TITLE = 300
MAX_SUMMARY = 1000
_TAG = re.compile(r"<[^>]*>")
_SPACE = re.compile(r"\s+")


class FeedError(ValueError):
    """A feed that could not be read at all (an error page, or no entries and a parse error)."""


@dataclass(frozen=True)
class NewsItem:
    item_id: str
    title: str
    summary: str
    url: str
    published_at: datetime


def plain(text: str, limit: int) -> str:
    """Text of an HTML fragment: tags out, entities decoded, whitespace collapsed, cut at ``limit`` on a word."""
    out = _SPACE.sub(" ", html.unescape(_TAG.sub(" ", text or ""))).strip()
    if len(out) <= limit:
        return out
    return out[: limit - 1].rsplit(" ", 1)[0] + "…"


def parse_feed(data: bytes) -> list[NewsItem]:
    """The dated items of a feed, newest first; an item without a date or a link is skipped (it cannot expire or
    be cited)."""
    parsed = feedparser.parse(data)
    # An error page (HTML) parses as nothing of a known version; a valid feed may be empty, but has a version.
    if not parsed.entries and (parsed.get("bozo") or not parsed.get("version")):
        raise FeedError(f"not a readable feed: {parsed.get('bozo_exception') or 'no RSS or Atom in it'}")
    items = []
    for entry in parsed.entries:
        when = entry.get("published_parsed") or entry.get("updated_parsed")
        link = entry.get("link") or ""
        title = plain(entry.get("title", ""), MAX_TITLE)
        if when is None or not link.startswith(("http://", "https://")) or not title:
            continue
        key = entry.get("id") or link
        items.append(NewsItem(
            item_id=hashlib.sha256(key.encode()).hexdigest()[:20],
            title=title,
            summary=plain(entry.get("summary", ""), MAX_SUMMARY),
            url=link,
            published_at=datetime.fromtimestamp(calendar.timegm(when), UTC),
        ))
    items.sort(key=lambda i: (i.published_at, i.item_id), reverse=True)
    return items


def fresh_news(items: Sequence[NewsItem], *, source: str, feed_url: str, now: datetime, max_age: timedelta,
               known_ids: Collection[str], relevance: TopicRelevance, min_relevance: float) -> list[NewsItemFound]:
    """NewsItemFound for the items not seen before, younger than ``max_age`` and on one of the niche's topics."""
    candidates = [i for i in items if i.item_id not in known_ids and timedelta(0) <= now - i.published_at < max_age]
    matches = relevance.score([f"{i.title}. {i.summary}" for i in candidates])
    return [NewsItemFound(item_id=i.item_id, title=i.title, summary=i.summary, source=source, feed_url=feed_url,
                          url=i.url, published_at=i.published_at, topic=m.topic, relevance=m.relevance)
            for i, m in zip(candidates, matches, strict=True) if m.relevance >= min_relevance]
