"""X's web search syntax, as the harvester writes it, turned into a recent-search request of the X API v2.

The API's query language shares words, "phrases", ``-``exclusions, ``OR``, parentheses, ``from:`` and ``lang:``
with the web's, but not the rest: the API binds AND tighter than OR (the web the other way round), so OR
chains are put in parentheses; the web's ``filter:replies`` is the API's ``is:reply``; ``since:``/``until:``
are the request's ``start_time``/``end_time``; and the engagement thresholds ``min_faves:``, ``min_retweets:``
and ``min_replies:`` do not exist in the API (an API query naming them is refused with 400), so they are
applied to the answer's public metrics instead. The web's search leaves native reposts out unless asked
(``include:nativeretweets``); the API's includes them unless told ``-is:retweet`` (X's own examples add it): a
repost would come back as the reposter's "RT @someone: …" with the original's repost count, so it is left out
unless the web query names reposts.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

# web operator value -> API operator (negation carries over).
_FILTERS = {"replies": "is:reply", "retweets": "is:retweet", "links": "has:links", "media": "has:media",
            "images": "has:images", "videos": "has:videos", "verified": "is:verified", "hashtags": "has:hashtags"}
_THRESHOLDS = {"min_faves": "min_likes", "min_retweets": "min_retweets", "min_replies": "min_replies"}
_TOKEN = re.compile(r'-?"[^"]*"|\S+')
# Recent search covers the last 7 days, and end_time must be at least 10 seconds before the request.
RECENT_WINDOW = timedelta(days=7)
END_TIME_LAG = timedelta(seconds=10)


@dataclass(frozen=True)
class ApiSearch:
    query: str
    start_time: datetime | None = None
    end_time: datetime | None = None
    min_likes: int = 0
    min_retweets: int = 0
    min_replies: int = 0

    @property
    def filters_locally(self) -> bool:
        return bool(self.min_likes or self.min_retweets or self.min_replies)

    def keeps(self, likes: int, retweets: int, replies: int) -> bool:
        return likes >= self.min_likes and retweets >= self.min_retweets and replies >= self.min_replies

    def window(self, now: datetime) -> tuple[datetime | None, datetime | None] | None:
        """start_time and end_time clamped to what recent search accepts at ``now`` (else X answers 400); None
        when nothing of the query's time span is in it (an ``until:`` older than 7 days, a ``since:`` after its
        ``until:``): X would refuse the times, and nothing could match them anyway."""
        earliest, latest = now - RECENT_WINDOW + timedelta(minutes=1), now - END_TIME_LAG
        start = None if self.start_time is None else max(self.start_time, earliest)
        end = None if self.end_time is None else min(self.end_time, latest)
        if (end or latest) <= (start or earliest):
            return None
        return start, end


def _web_time(value: str) -> datetime:
    # The web accepts since:2024-05-01 and since:2024-05-01_12:00:00_UTC.
    for fmt in ("%Y-%m-%d_%H:%M:%S_UTC", "%Y-%m-%d"):
        try:
            return datetime.strptime(value, fmt).replace(tzinfo=UTC)
        except ValueError:
            continue
    raise ValueError(f"bad date {value!r}")


def _grouped(tokens: list[str]) -> list[str]:
    """Each ``a OR b OR c`` chain in parentheses. The web binds OR tighter than the words around it; the API
    combines AND first, then OR (X's query docs), so ``sleep OR insomnia lang:en`` would ask for every "sleep"
    post in any language and only the "insomnia" ones in English. A chain the writer grouped (a parenthesis in
    it) is left as written."""
    out: list[str] = []
    i = 0
    while i < len(tokens):
        end = i
        while end + 2 < len(tokens) and tokens[end + 1] == "OR":
            end += 2
        chain = tokens[i:end + 1]
        if len(chain) > 1 and not any(c in t for t in chain for c in "()"):
            chain = [f"({' '.join(chain)})"]
        out += chain
        i = end + 1
    return out


def to_api_search(web_query: str) -> ApiSearch:
    kept: list[str] = []
    times: dict[str, datetime] = {}
    thresholds: dict[str, int] = {}
    reposts = False
    for token in _TOKEN.findall(web_query):
        negated = token.startswith("-") and not token.startswith('-"')
        key, sep, value = token.lstrip("-").partition(":")
        key = key.lower()
        if sep and value and key in ("since", "until") and not negated:
            try:
                times[key] = _web_time(value)
                continue
            except ValueError:
                pass  # not a date: searched as a word, as the web does
        if sep and value.isdigit() and key in _THRESHOLDS and not negated:
            thresholds[_THRESHOLDS[key]] = int(value)
            continue
        if sep and key == "filter" and value.lower() in _FILTERS:
            kept.append(("-" if negated else "") + _FILTERS[value.lower()])
            continue
        if sep and key == "include" and value.lower() == "nativeretweets" and not negated:
            reposts = True
            continue
        kept.append(token)
    if not reposts and not any(t.lstrip("-").lower() == "is:retweet" for t in kept):
        kept.append("-is:retweet")
    return ApiSearch(query=" ".join(_grouped(kept)), start_time=times.get("since"), end_time=times.get("until"),
                     **thresholds)
