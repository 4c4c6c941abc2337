"""Account discovery: niche authors worth engaging, and their recent tweets as opportunity candidates.

The service collects candidate handles from harvested tweets (:func:`candidate_authors`), asks the gateway for
each one's profile and recent tweets, and passes those snapshots to :func:`discover_accounts`.

Engagement rate = mean over the author's recent original tweets (replies are left out when there are
originals: they reach a different audience) of ``(likes + retweets + replies) / followers``. It measures how
alive an audience is: 10k followers who engage beat 400k who scroll past.

Account relevance = mean, over the bio and each recent tweet, of that text's best similarity to a topic
description. A mean, not a max, so one lucky on-topic tweet does not make a crypto account a health account.
"""

from __future__ import annotations

import enum
from collections import Counter
from collections.abc import Collection, Iterable
from dataclasses import dataclass, field
from datetime import datetime

from libs.contracts.events import AccountDiscovered
from libs.core.account import handle_key
from services.harvester.selection import SearchedTweet, TopicRelevance
from services.harvester.settings import HarvesterSettings


class Gone(enum.Enum):
    """X shows no account at a handle (suspended, deactivated, renamed): not a failed read."""

    GONE = "gone"


GONE = Gone.GONE


@dataclass(frozen=True)
class AuthorProfile:
    handle: str
    followers: int
    bio: str = ""
    recent_tweets: tuple[SearchedTweet, ...] = ()


@dataclass(frozen=True)
class DiscoveryCriteria:
    min_followers: int
    max_followers: int
    min_engagement_rate: float
    min_relevance: float

    @classmethod
    def from_settings(cls, settings: HarvesterSettings, *, embedder_kind: str) -> DiscoveryCriteria:
        return cls(
            min_followers=settings.discovery_min_followers,
            max_followers=settings.discovery_max_followers,
            min_engagement_rate=settings.discovery_min_engagement_rate,
            min_relevance=settings.min_relevance_for(embedder_kind),
        )

    def in_follower_range(self, followers: int) -> bool:
        return self.min_followers <= followers <= self.max_followers


def engagement_rate(profile: AuthorProfile) -> float:
    if profile.followers <= 0 or not profile.recent_tweets:
        return 0.0
    originals = [t for t in profile.recent_tweets if not t.is_reply] or list(profile.recent_tweets)
    return sum(t.engagement for t in originals) / len(originals) / profile.followers


def candidate_authors(
    tweets: Iterable[SearchedTweet],
    *,
    criteria: DiscoveryCriteria,
    known_handles: Collection[str],
    limit: int,
) -> list[str]:
    """Handles to profile next: unknown authors, best-performing tweet first.

    Authors whose follower count is already known to be out of range are skipped; an unknown count (search cards
    do not show it) is what the profile read will tell.
    """
    known = {handle_key(h) for h in known_handles}
    best: dict[str, int] = {}
    for t in tweets:
        h = handle_key(t.author)
        if h in known or (t.author_followers is not None and not criteria.in_follower_range(t.author_followers)):
            continue
        best[h] = max(best.get(h, 0), t.engagement)
    ranked = sorted(best, key=lambda h: (-best[h], h))
    return ranked[:limit]


@dataclass(frozen=True)
class DiscoveryOutcome:
    # New accounts only: a handle in ``known_handles`` is never discovered twice.
    accounts: list[AccountDiscovered]
    # Recent tweets of every qualifying author, known or new, for :func:`select_opportunities` (source="account").
    tweets: list[SearchedTweet]
    rejected: Counter[str] = field(default_factory=Counter)


def discover_accounts(
    profiles: Iterable[AuthorProfile],
    *,
    now: datetime,
    criteria: DiscoveryCriteria,
    relevance: TopicRelevance,
    known_handles: Collection[str] = (),
) -> DiscoveryOutcome:
    known = {handle_key(h) for h in known_handles}
    rejected: Counter[str] = Counter()
    accounts: list[AccountDiscovered] = []
    tweets: list[SearchedTweet] = []
    seen: set[str] = set()
    for p in sorted(profiles, key=lambda p: handle_key(p.handle)):
        handle = handle_key(p.handle)
        if handle in seen:
            continue
        seen.add(handle)
        if not criteria.in_follower_range(p.followers):
            rejected["followers_out_of_range"] += 1
            continue
        rate = engagement_rate(p)
        if rate < criteria.min_engagement_rate:
            rejected["low_engagement"] += 1
            continue
        score = account_relevance(p, relevance)
        if score < criteria.min_relevance:
            rejected["off_topic"] += 1
            continue
        tweets.extend(p.recent_tweets)
        if handle not in known:
            accounts.append(
                AccountDiscovered(
                    handle=p.handle.lstrip("@"),
                    followers=p.followers,
                    engagement_rate=rate,
                    relevance=score,
                    bio=p.bio,
                    discovered_at=now,
                )
            )
    return DiscoveryOutcome(accounts=accounts, tweets=tweets, rejected=rejected)


def account_relevance(profile: AuthorProfile, relevance: TopicRelevance) -> float:
    texts = [s for s in (profile.bio, *(t.text for t in profile.recent_tweets)) if s.strip()]
    if not texts:
        return 0.0
    matches = relevance.score(texts)
    return sum(m.relevance for m in matches) / len(matches)
