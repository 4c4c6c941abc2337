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
from libs.gates.entities import fold
from libs.gates.injection import instructions_to_a_model
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


# An item that sells is no news for the account to write from, whatever the feed: a sponsor's label (English and
# the audience's other languages), a wire service's press release, a discount, a sale's deadline, a giveaway, an
# advertorial's stock phrases. A study a company funded, a recall or free flu shots are news.
_PROMOTIONAL = re.compile(
    r"(?:^|[\n.!?|:]\s*)(?:sponsored|advertisement|advertorial|paid post|paid content|partner content|promoted|"
    r"anzeige|werbung|gesponsert|contenido patrocinado|publicidad|contenu sponsoris[ée]|publi-?reportage|"
    r"publicit[ée]|conte[úu]do patrocinado|publicidade|contenuto sponsorizzato|pubblicit[àa]|"
    r"publi-?r[ée]dactionnel|publirreportaje|limited time)\s*[:–—|.-]"
    r"|\b(?:this|the) (?:content|post|article|story|feature|series|guide) (?:is |was )?(?:sponsored|paid for|"
    r"produced|presented|brought to you) by\b|\bbrought to you by\b|\bin (?:paid )?partnership with\b"
    r"|\b(?:contenido patrocinado|contenu sponsoris[ée]|conte[úu]do patrocinado) (?:por|par)\b"
    r"|\b(?:contains?|includes?|uses?|with) affiliate links?\b|\baffiliate links? (?:below|above|in this)\b"
    r"|\b(?:we|i) (?:may )?(?:earn|receive|get) (?:an? )?(?:small )?(?:affiliate )?commission\b"
    r"|\bif you (?:buy|purchase|shop) (?:\w+ )?(?:through|via|from) (?:the |our )?links\b"
    r"|\b(?:pr ?newswire|business ?wire|globe ?newswire|accesswire|ein ?presswire|newswire)\b"
    r"|\b\d{1,2}\s*%\s*(?:off|rabatt|de descuento|de r[ée]duction|di sconto|de desconto)\b"
    r"|\breg(?:ular)?\.?\s*[$€£]\s?\d|\b\d{1,2}\s*%\s*(?:avec le|con el|mit dem|with) c[oó]d"
    r"|\block in (?:your |the |a )?(?:[$€£]|\d|early|discount|price|spot)"
    r"|\b(?:the offer|the sale|doors) clos(?:es|ing)\b"
    r"|\b(?:first (?:month|week|session|class) (?:free|on us)|primer mes gratis|premier mois (?:gratuit|offert)|"
    r"erster monat gratis)\b"
    r"|\bgiveaway\s*[:!]|\bto enter\s*[:,]|\b(?:seats|spots|places) (?:are )?limited\b|\bmasterclass\b"
    r"|\btoday'?s deal\b|\bdeal of the day\b|\b(?:earns?|earning|make|making) (?:a )?(?:full-time|six-figure|"
    r"part-time|extra|passive) income\b|\bbe your own boss\b|\bback us\b|\bearly[- ]bird backers?\b"
    r"|\binscriptions? (?:sont )?ouvertes\b"
    r"|\b(?:promo|discount|coupon|voucher|rabatt|gutschein)[- ]?codes?\b|\b(?:use|enter|apply) (?:my |our |the )?code\b"
    r"|\b(?:regular price|early[- ]bird (?:price|pricing|offer|rate)|limited[- ]time (?:offer|deal|price|discount)|"
    r"black friday|cyber monday|deal ends|while (?:supplies|stocks) last|solange der vorrat|hasta agotar|"
    r"before it'?s taken down|free (?:bottle|presentation|bonus|gift)|#giveaway|giveaway (?:closes|ends)|"
    r"(?:we'?re|we are) giving away|enter to win|bonus entries|no purchase necessary|before you buy|"
    r"customer reviews|doctors (?:are )?stunned|"
    r"melts? (?:away )?(?:belly )?fat|one weird trick|shop (?:now|the collection)|order (?:now|today)|"
    r"buy (?:now|today)|enrol+ now|pide (?:hoy|ya)|jetzt (?:bestellen|kaufen|sichern))\b",
    re.IGNORECASE,
)


def withheld_reason(item: NewsItem) -> str | None:
    """Why an item is no angle for the account's posts: "instructions" (text planted for the model that would read
    it, libs.gates.injection), "promotional" (it sells); None when it is news. Title and summary are read alike."""
    text = f"{item.title}\n{item.summary}"
    if instructions_to_a_model(text):
        return "instructions"
    if _PROMOTIONAL.search(fold(text)):
        return "promotional"
    return None


def fresh_news(items: Sequence[NewsItem], *, source: str, feed_url: str, now: datetime, max_age: timedelta,
               known_ids: Collection[str], relevance: TopicRelevance, min_relevance: float,
               withheld: dict[str, str] | None = None) -> list[NewsItemFound]:
    """NewsItemFound for the items not seen before, younger than ``max_age``, on one of the niche's topics and not
    withheld (``withheld_reason``: each fresh one withheld is added to ``withheld``, id → reason)."""
    candidates = []
    for i in items:
        if i.item_id in known_ids or not timedelta(0) <= now - i.published_at < max_age:
            continue
        if reason := withheld_reason(i):
            if withheld is not None:
                withheld[i.item_id] = reason
            continue
        candidates.append(i)
    matches = relevance.score([f"{i.title}. {i.summary}" for i in candidates])
    return [NewsItemFound(item_id=i.item_id, title=i.title, summary=i.summary, source=source, feed_url=feed_url,
                          url=i.url, published_at=i.published_at, topic=m.topic, relevance=m.relevance)
            for i, m in zip(candidates, matches, strict=True) if m.relevance >= min_relevance]
