"""Search queries for the harvest: per niche topic, per engagement threshold, per search tab.

X's search ANDs its operators, so "≥ N likes or ≥ M replies" takes two queries per topic: one with
``min_faves:`` and one with ``min_replies:``. The topic's keywords form one OR group (X binds ``OR`` tighter
than the implicit AND, so no parentheses are needed). ``since:`` uses the timestamp form
(``since:2024-05-01_12:00:00_UTC``) so the search itself drops most tweets that are too old; the selection
still checks the age, because ``since:`` is only a coarse server-side filter.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from libs.contracts.gateway import SearchRequest, SearchTab
from services.harvester.settings import HarvesterSettings, NicheTopic


@dataclass(frozen=True)
class SearchQuery:
    topic: str
    text: str
    tab: SearchTab

    def request(self, *, limit: int) -> SearchRequest:
        """The gateway request for this query (priority 1, the search op's default)."""
        return SearchRequest(query=self.text, tab=self.tab, limit=limit)


def keyword_group(keywords: Iterable[str]) -> str:
    """``sleep OR insomnia OR "blood sugar"``: phrases quoted so they match as phrases."""
    terms = []
    for kw in keywords:
        kw = kw.strip().replace('"', "")
        if kw:
            terms.append(f'"{kw}"' if " " in kw else kw)
    if not terms:
        raise ValueError("a topic needs at least one non-empty keyword")
    return " OR ".join(terms)


def since_operator(now: datetime, max_age: timedelta) -> str:
    oldest = (now - max_age).astimezone(UTC)
    return f"since:{oldest:%Y-%m-%d_%H:%M:%S}_UTC"


def topic_queries(
    topic: NicheTopic,
    *,
    now: datetime,
    lang: str,
    min_likes: int,
    min_replies: int,
    max_age: timedelta,
    tabs: Iterable[SearchTab],
) -> list[SearchQuery]:
    common = f"lang:{lang} {since_operator(now, max_age)} -filter:replies"
    keywords = keyword_group(topic.keywords)
    thresholds = [f"min_faves:{min_likes}", f"min_replies:{min_replies}"]
    return [
        SearchQuery(topic=topic.name, text=f"{keywords} {threshold} {common}", tab=tab)
        for tab in tabs
        for threshold in thresholds
    ]


def harvest_queries(settings: HarvesterSettings, *, now: datetime) -> list[SearchQuery]:
    """Every query of one harvest run, topic by topic in the configured order."""
    return [
        q
        for topic in settings.niche_topics
        for q in topic_queries(
            topic,
            now=now,
            lang=settings.harvest_lang,
            min_likes=settings.harvest_min_likes,
            min_replies=settings.harvest_min_replies,
            max_age=settings.harvest_max_age,
            tabs=settings.harvest_tabs,
        )
    ]


def author_recent_query(handle: str, *, lang: str) -> SearchQuery:
    """An author's recent original tweets for discovery; the gateway has no per-author timeline op, search does it.

    ``topic`` is empty: the tweets are scored against every topic like any other candidate.
    """
    handle = handle.lstrip("@")
    if not handle.replace("_", "").isalnum():
        raise ValueError(f"not an X handle: {handle!r}")
    return SearchQuery(topic="", text=f"from:{handle} lang:{lang} -filter:replies", tab="latest")
