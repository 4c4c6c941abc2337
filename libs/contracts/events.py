"""Event contracts of xbot (DESIGN.md §2-3). Additive only: see libs/contracts/base.py."""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from pydantic import AwareDatetime, Field

from libs.contracts.base import Contract, Event

ContentKind = Literal["post", "thread", "reply"]
PostFormat = Literal["single", "thread"]


class Choice(Contract):
    """What the planner chose for one item; the learner's arms are these dimensions."""

    content_type: str
    topic: str
    format: PostFormat = "single"
    hour: int = Field(ge=0, le=23)
    voice: str | None = None
    reply_style: str | None = None
    hook_style: str | None = None


# ---------------------------------------------------------------- planner


class ContentQueued(Event):
    TYPE = "ContentQueued"
    PRODUCER = "planner"

    content_id: str
    kind: ContentKind
    parts: list[str] = Field(min_length=1, max_length=25)
    reply_to_tweet_id: str | None = None
    reply_to_author: str | None = None
    choice: Choice
    policy_version: str
    # Probability with which the policy in force picked this choice (for off-policy evaluation).
    propensity: float = Field(gt=0, le=1)
    scheduled_for: AwareDatetime
    expires_at: AwareDatetime
    model: str | None = None

    def dedup_key(self) -> str:
        return self.content_id


class ContentRejected(Event):
    TYPE = "ContentRejected"
    PRODUCER = "planner"

    content_id: str
    gate: str
    reason: str
    attempt: int = Field(ge=0)
    # True when the item was dropped (rewrites exhausted), False when a rewrite follows.
    final: bool = False
    text: str = ""
    kind: ContentKind = "post"


class LlmUsageRecorded(Event):
    TYPE = "LlmUsageRecorded"
    PRODUCER = "planner"

    request_id: str
    model: str
    purpose: str
    prompt_tokens: int = Field(ge=0)
    completion_tokens: int = Field(ge=0)
    cost_usd: float = Field(ge=0)
    day: str
    content_id: str | None = None

    def dedup_key(self) -> str:
        return self.request_id


class BudgetExhausted(Event):
    TYPE = "BudgetExhausted"
    PRODUCER = "planner"

    day: str
    budget_usd: float
    spent_usd: float

    def dedup_key(self) -> str:
        return self.day


# ---------------------------------------------------------------- poster


class TweetPosted(Event):
    TYPE = "TweetPosted"
    PRODUCER = "poster"

    content_id: str
    kind: ContentKind
    tweet_ids: list[str] = Field(min_length=1)
    url: str
    posted_at: AwareDatetime
    reply_to_tweet_id: str | None = None
    reply_to_author: str | None = None
    text: str = ""
    # True when the outcome was found by read-back after an interrupted attempt.
    reconciled: bool = False

    def dedup_key(self) -> str:
        return f"posted:{self.content_id}"


class PostFailed(Event):
    TYPE = "PostFailed"
    PRODUCER = "poster"

    content_id: str
    kind: ContentKind
    reason: str
    error: str | None = None
    retryable: bool
    attempts: int = Field(ge=0)
    failed_at: AwareDatetime | None = None

    def dedup_key(self) -> str:
        return f"failed:{self.content_id}"


# ---------------------------------------------------------------- harvester


class OpportunityFound(Event):
    TYPE = "OpportunityFound"
    PRODUCER = "harvester"

    tweet_id: str
    author: str
    author_followers: int = Field(ge=0)
    text: str
    likes: int = Field(ge=0)
    retweets: int = Field(ge=0)
    replies: int = Field(ge=0)
    views: int = Field(default=0, ge=0)
    tweet_created_at: AwareDatetime
    age_minutes: float = Field(ge=0)
    relevance: float
    topic: str | None = None
    is_reply: bool = False
    source: str = "search"

    def dedup_key(self) -> str:
        return f"opp:{self.tweet_id}"


class OpportunityExpired(Event):
    TYPE = "OpportunityExpired"
    PRODUCER = "harvester"

    tweet_id: str
    reason: Literal["too_old", "deleted", "replied", "off_topic"]

    def dedup_key(self) -> str:
        return f"expired:{self.tweet_id}"


class AccountDiscovered(Event):
    TYPE = "AccountDiscovered"
    PRODUCER = "harvester"

    handle: str
    followers: int = Field(ge=0)
    engagement_rate: float = Field(ge=0)
    relevance: float = 0.0
    bio: str = ""
    discovered_at: AwareDatetime

    def dedup_key(self) -> str:
        return f"account:{self.handle.lower()}"


# ---------------------------------------------------------------- scraper


class MetricsScraped(Event):
    TYPE = "MetricsScraped"
    PRODUCER = "scraper"

    tweet_id: str
    content_id: str
    kind: ContentKind = "post"
    checkpoint: str
    checkpoint_hours: float = Field(ge=0)
    age_hours: float = Field(ge=0)
    likes: int = Field(ge=0)
    retweets: int = Field(ge=0)
    replies: int = Field(ge=0)
    views: int = Field(ge=0)
    bookmarks: int = Field(default=0, ge=0)
    observed_at: AwareDatetime
    # Read later than 50% of the checkpoint's interval.
    missed: bool = False

    def dedup_key(self) -> str:
        return f"metrics:{self.tweet_id}:{self.checkpoint}"


class FollowerAttribution(Contract):
    content_id: str
    tweet_id: str
    share: float = Field(ge=0, le=1)
    followers: float


class FollowersSnapshotted(Event):
    TYPE = "FollowersSnapshotted"
    PRODUCER = "scraper"

    handle: str
    followers: int = Field(ge=0)
    following: int = Field(default=0, ge=0)
    observed_at: AwareDatetime
    previous_followers: int | None = None
    delta: int = 0
    window_start: AwareDatetime | None = None
    attribution: list[FollowerAttribution] = Field(default_factory=list)

    def dedup_key(self) -> str:
        return f"followers:{self.handle.lower()}:{self.observed_at.isoformat()}"


# ---------------------------------------------------------------- learner


class ModelUpdated(Event):
    TYPE = "ModelUpdated"
    PRODUCER = "learner"

    version: str
    parent_version: str | None = None
    created_at: AwareDatetime
    # dimension -> arm -> probability that the policy picks it (marginals, uniform floor included).
    propensities: dict[str, dict[str, float]]
    # dimension -> arm -> {"mean": .., "var": .., "n": ..}
    posteriors: dict[str, dict[str, dict[str, float]]] = Field(default_factory=dict)
    temperature: float = 0.5  # multiplies the posterior variances in the draw (libs.policy)
    floor: float = 0.05
    predictors: dict[str, dict] = Field(default_factory=dict)
    training_size: int = Field(default=0, ge=0)
    evaluation: dict[str, float | None] = Field(default_factory=dict)
    insights: dict[str, list[str]] = Field(default_factory=dict)
    rollback_of: str | None = None

    def dedup_key(self) -> str:
        return f"model:{self.version}"


# ---------------------------------------------------------------- browser gateway


class SessionExpired(Event):
    TYPE = "SessionExpired"
    PRODUCER = "browser_gateway"

    handle: str
    operation: str
    detected_at: AwareDatetime
    reason: str = "redirected to login"


ALL_EVENTS: tuple[type[Event], ...] = (
    ContentQueued,
    ContentRejected,
    LlmUsageRecorded,
    BudgetExhausted,
    TweetPosted,
    PostFailed,
    OpportunityFound,
    OpportunityExpired,
    AccountDiscovered,
    MetricsScraped,
    FollowersSnapshotted,
    ModelUpdated,
    SessionExpired,
)

__all__ = [c.__name__ for c in ALL_EVENTS] + ["ALL_EVENTS", "Choice", "FollowerAttribution", "datetime"]
