"""Which searched tweets become reply opportunities, and when an opportunity leaves the pool.

Pure functions over explicit snapshots: the service passes the search results, the ids it already knows and
the pool size, and publishes what comes back. Idempotency has two layers: :func:`select_opportunities` never
returns a tweet id from ``known_ids`` (every id ever found, including expired ones) nor the same id twice in
one batch, and ``OpportunityFound.dedup_key`` (``opp:<tweet_id>``) makes a re-publication a JetStream duplicate.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Callable, Collection, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Literal

import numpy as np

from libs.contracts.events import OpportunityExpired, OpportunityFound, TweetPosted
from libs.contracts.gateway import HANDLE_PATTERN, QuotedPost, TweetCard, status_handle
from libs.core.account import handle_key
from libs.gates import advice, crisis, misinformation
from libs.gates.meaning import Embedder, TextReader
from services.harvester.settings import HarvesterSettings, NicheTopic

# texts -> array (len(texts), dim) of L2-normalised rows; ``libs.text.Embedder.embed`` is one.
Embed = Callable[[Sequence[str]], np.ndarray]

LeftReason = Literal["crisis", "misinformation", "personal_question"]
RejectReason = Literal["known", "reply", "replies_limited", "community_note", "truncated", "quote_unread",
                       "crisis", "misinformation", "personal_question", "excluded_author", "not_viral", "too_old",
                       "off_topic", "pool_full"]
ExpiryReason = Literal["too_old", "deleted", "replied"]


@dataclass(frozen=True)
class Readers:
    """What a tweet must not be answered for, read by rule and, where the MiniLM embedder is loaded, by meaning
    (libs/gates/meaning.py): a person in a crisis, a false health claim, a question about the writer's own care. In
    that order: the first that reads a tweet names why it is left."""

    crisis: TextReader = crisis.BY_RULE
    misinformation: TextReader = misinformation.BY_RULE
    personal_question: TextReader = advice.BY_RULE

    @classmethod
    def by_meaning(cls, embedder: Embedder) -> Readers:
        return cls(crisis.crisis_reader(embedder), misinformation.misinformation_reader(embedder),
                   advice.personal_question_reader(embedder))

    def why_left(self, texts: Sequence[str]) -> dict[str, LeftReason]:
        """The texts these readers leave unanswered, and why; each reader reads at once what the readers before it
        left to answer."""
        out: dict[str, LeftReason] = {}
        readers: tuple[tuple[LeftReason, TextReader], ...] = (
            ("crisis", self.crisis), ("misinformation", self.misinformation),
            ("personal_question", self.personal_question))
        for reason, read in readers:
            rest = [t for t in texts if t not in out]
            out |= {text: reason for text, kind in zip(rest, read(rest), strict=True) if kind is not None}
        return out


RULES_ONLY = Readers()  # where no MiniLM embedder is at hand


@dataclass(frozen=True)
class SearchedTweet:
    """A tweet as a search or an author's timeline shows it."""

    tweet_id: str
    author: str
    text: str
    likes: int
    retweets: int
    replies: int
    created_at: datetime
    views: int = 0
    is_reply: bool = False
    # Search cards do not show it; known once the author's profile has been read.
    author_followers: int | None = None
    # False when X would not take our reply (TweetCard.can_reply): never an opportunity.
    can_reply: bool | None = None
    # X shows readers' context under it (TweetCard.noted): a claim the account must not be seen agreeing with.
    noted: bool = False
    # A quote post's quoted post (TweetCard.quoted): the planner reads a reply's target beside it.
    quoted: QuotedPost | None = None
    # X showed only the start of a long post (TweetCard.truncated).
    truncated: bool = False

    @property
    def engagement(self) -> int:
        return self.likes + self.retweets + self.replies


def searched_tweet(card: TweetCard, *, author_followers: int | None = None) -> SearchedTweet | None:
    """A gateway search/timeline card as a candidate; None without a creation time (age cannot be checked) or
    without a valid author handle. The handle comes from the card's status link when it has one: a display name
    containing "@someone" must not make us reply to, or credit, someone else."""
    created = card.created()
    if created is None:
        return None
    author = status_handle(card.url) or card.author.lstrip("@")
    if not re.fullmatch(HANDLE_PATTERN, author):
        return None
    return SearchedTweet(
        tweet_id=card.tweet_id,
        author=author,
        text=card.text,
        likes=card.likes,
        retweets=card.retweets,
        replies=card.replies,
        views=card.views,
        created_at=created,
        author_followers=author_followers,
        can_reply=card.can_reply,
        noted=bool(card.noted),
        quoted=card.quoted,
        truncated=card.truncated,
    )


def partly_read(post: SearchedTweet | TweetCard) -> Literal["truncated", "quote_unread"] | None:
    """Why what X showed of a post is not all a reply would answer, or None when it is."""
    if post.truncated:
        # The gates would read the start of a long post, and its rest may be what the account must not answer.
        return "truncated"
    if post.quoted is not None and (post.quoted.author is None or not post.quoted.text.strip()):
        # Nobody can tell what "Exactly this." endorses when X no longer shows what it quotes.
        return "quote_unread"
    return None


@dataclass(frozen=True)
class TopicMatch:
    topic: str
    relevance: float


class TopicRelevance:
    """Relevance of a text to the niche = its highest cosine similarity to any topic description."""

    def __init__(self, topics: Sequence[NicheTopic], embed: Embed) -> None:
        if not topics:
            raise ValueError("relevance needs at least one topic")
        self._names = [t.name for t in topics]
        self._embed = embed
        self._topics = np.asarray(embed([t.description for t in topics]), dtype=np.float32)

    def score(self, texts: Sequence[str]) -> list[TopicMatch]:
        if not texts:
            return []
        sims = np.asarray(self._embed(list(texts)), dtype=np.float32) @ self._topics.T
        best = sims.argmax(axis=1)
        return [TopicMatch(self._names[int(b)], float(sims[i, b])) for i, b in enumerate(best)]


@dataclass(frozen=True)
class Thresholds:
    min_likes: int
    min_replies: int
    max_age: timedelta
    min_relevance: float

    @classmethod
    def from_settings(cls, settings: HarvesterSettings, *, embedder_kind: str) -> Thresholds:
        return cls(
            min_likes=settings.harvest_min_likes,
            min_replies=settings.harvest_min_replies,
            max_age=settings.harvest_max_age,
            min_relevance=settings.min_relevance_for(embedder_kind),
        )


def tweet_age(created_at: datetime, now: datetime) -> timedelta:
    # A tweet stamped slightly in the future (clock skew between X and us) is brand new, not negative-aged.
    return max(now - created_at, timedelta(0))


def is_viral(tweet: SearchedTweet, thresholds: Thresholds) -> bool:
    return tweet.likes >= thresholds.min_likes or tweet.replies >= thresholds.min_replies


def velocity(tweet: SearchedTweet, now: datetime) -> float:
    """Engagement per hour of age. Floor of 15 minutes so a minutes-old tweet does not rank on noise."""
    hours = max(tweet_age(tweet.created_at, now).total_seconds() / 3600, 0.25)
    return tweet.engagement / hours


@dataclass(frozen=True)
class HarvestOutcome:
    found: list[OpportunityFound]
    # Why the other tweets were dropped: a metric, and the test's window into the decision.
    rejected: Counter[str] = field(default_factory=Counter)
    # Viral, on-topic tweets X would not let us answer: no opportunity, but the niche's posts all the same (peer
    # posts for format learning; the most viral authors limit replies most).
    unanswerable: list[SearchedTweet] = field(default_factory=list)


def select_opportunities(
    tweets: Iterable[SearchedTweet],
    *,
    now: datetime,
    thresholds: Thresholds,
    relevance: TopicRelevance,
    known_ids: Collection[str],
    pool_size: int,
    pool_max: int,
    exclude_authors: Collection[str] = (),
    source: str = "search",
    readers: Readers = RULES_ONLY,
) -> HarvestOutcome:
    """New opportunities from one harvest, fastest-growing first, at most ``pool_max - pool_size`` of them.

    Cheap checks run before the embedding so the model only sees tweets that could qualify. When more tweets
    qualify than the pool has room for, the ones gaining engagement fastest win: a reply under a tweet that is
    still climbing is seen by more people.
    """
    rejected: Counter[str] = Counter()
    excluded = {handle_key(a) for a in exclude_authors}

    # The same tweet from Latest and Top (or two queries): keep the reading with the most engagement.
    unique: dict[str, SearchedTweet] = {}
    for t in tweets:
        seen = unique.get(t.tweet_id)
        if seen is None or t.engagement > seen.engagement:
            unique[t.tweet_id] = t

    def checked_before_crisis(t: SearchedTweet) -> RejectReason | None:
        if t.tweet_id in known_ids:
            return "known"
        if t.is_reply:
            return "reply"
        if t.noted:
            return "community_note"
        return partly_read(t)

    early = {t.tweet_id: checked_before_crisis(t) for t in unique.values()}
    # A person in a crisis is not an opportunity, nor a false health claim, nor a question about the writer's own
    # care, nor a post quoting one (Readers: the rules, and with the MiniLM embedder the models), read at once for
    # the tweets the checks before them leave (most of a harvest's tweets are known ones, seen again).
    texts = list(dict.fromkeys(x for t in unique.values() if early[t.tweet_id] is None
                               for x in (t.text, t.quoted.text if t.quoted else "")))
    left = readers.why_left(texts)
    candidates: list[SearchedTweet] = []
    for t in unique.values():
        reason: RejectReason | None = early[t.tweet_id]
        if reason:
            pass
        elif why := left.get(t.text) or (left.get(t.quoted.text) if t.quoted is not None else None):
            reason = why
        elif handle_key(t.author) in excluded:
            reason = "excluded_author"
        elif not is_viral(t, thresholds):
            reason = "not_viral"
        elif tweet_age(t.created_at, now) >= thresholds.max_age:
            reason = "too_old"
        if reason:
            rejected[reason] += 1
        else:
            candidates.append(t)

    matches = relevance.score([t.text for t in candidates])
    on_topic: list[tuple[SearchedTweet, TopicMatch]] = []
    for t, m in zip(candidates, matches, strict=True):
        if m.relevance < thresholds.min_relevance:
            rejected["off_topic"] += 1
        else:
            on_topic.append((t, m))

    unanswerable = [t for t, _ in on_topic if t.can_reply is False]
    if unanswerable:
        rejected["replies_limited"] += len(unanswerable)
        on_topic = [(t, m) for t, m in on_topic if t.can_reply is not False]
    on_topic.sort(key=lambda tm: (-velocity(tm[0], now), tm[0].tweet_id))
    room = max(pool_max - pool_size, 0)
    if len(on_topic) > room:
        rejected["pool_full"] += len(on_topic) - room
    found = [_opportunity(t, m, now=now, source=source) for t, m in on_topic[:room]]
    return HarvestOutcome(found=found, rejected=rejected, unanswerable=unanswerable)


def _opportunity(t: SearchedTweet, m: TopicMatch, *, now: datetime, source: str) -> OpportunityFound:
    return OpportunityFound(
        tweet_id=t.tweet_id,
        author=t.author.lstrip("@"),
        author_followers=t.author_followers or 0,
        text=t.text,
        likes=t.likes,
        retweets=t.retweets,
        replies=t.replies,
        views=t.views,
        tweet_created_at=t.created_at,
        age_minutes=tweet_age(t.created_at, now).total_seconds() / 60,
        relevance=m.relevance,
        topic=m.topic,
        is_reply=t.is_reply,
        source=source,
        quoted_author=t.quoted.author if t.quoted else None,
        quoted_text=t.quoted.text if t.quoted else None,
    )


def should_harvest(pool_size: int, *, pool_min: int, pool_max: int, was_harvesting: bool) -> bool:
    """Hysteresis over the 200–300 target band.

    A full pool (``>= pool_max``) skips the harvest; once skipping, harvesting resumes only when the pool falls
    below ``pool_min``, so a pool that loses a few expired tweets is not topped up by a full round of searches
    every interval. ``was_harvesting`` is this function's previous answer (True after a restart: when in
    doubt, harvest; the pool cap still applies).
    """
    if pool_size >= pool_max:
        return False
    if pool_size < pool_min:
        return True
    return was_harvesting


@dataclass(frozen=True)
class PooledOpportunity:
    tweet_id: str
    tweet_created_at: datetime


def expiry_reason(
    opportunity: PooledOpportunity,
    *,
    now: datetime,
    max_age: timedelta,
    deleted: bool = False,
    replied: bool = False,
) -> ExpiryReason | None:
    # Most specific first: "replied" tells the planner we acted on it, "deleted" that X lost it.
    if replied:
        return "replied"
    if deleted:
        return "deleted"
    if tweet_age(opportunity.tweet_created_at, now) >= max_age:
        return "too_old"
    return None


def expire_opportunities(
    pool: Iterable[PooledOpportunity],
    *,
    now: datetime,
    max_age: timedelta,
    deleted_ids: Collection[str] = (),
    replied_ids: Collection[str] = (),
) -> list[OpportunityExpired]:
    """OpportunityExpired for every pooled opportunity that has to leave the pool, in tweet id order."""
    out = []
    for opp in sorted(pool, key=lambda o: o.tweet_id):
        reason = expiry_reason(
            opp, now=now, max_age=max_age, deleted=opp.tweet_id in deleted_ids, replied=opp.tweet_id in replied_ids
        )
        if reason:
            out.append(OpportunityExpired(tweet_id=opp.tweet_id, reason=reason))
    return out


def replied_tweet_id(posted: TweetPosted) -> str | None:
    """The tweet one of our own replies answered: that opportunity is used up."""
    return posted.reply_to_tweet_id if posted.kind == "reply" else None
