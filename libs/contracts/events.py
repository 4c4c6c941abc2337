"""Event contracts of xbot. Additive only: see libs/contracts/base.py."""

from __future__ import annotations

from datetime import datetime
from typing import Any, ClassVar, Literal

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


class NewsAngle(Contract):
    """The news item a post was written from (NewsItemFound): its angle, and the source its fact cites."""

    item_id: str
    title: str
    source: str
    url: str
    published_at: AwareDatetime


class ReplyContext(Contract):
    """The target of a reply as the reply policy saw it (libs.policy): its features, their band arms, and the band
    arms of every candidate of the draw (in draw order; the target is ``candidates[index]``), so that the learner's
    off-policy gate can compute any policy's probability of the same draw."""

    author_followers: int = Field(ge=0)
    age_hours: float = Field(ge=0)
    velocity: float = Field(ge=0)
    relevance: float
    bands: dict[str, str]
    candidates: list[dict[str, str]] = Field(min_length=1, max_length=200)
    index: int = Field(ge=0)


class DraftSelection(Contract):
    """How a post was chosen among drafts of one slot (issue 24, item 3): the learner's engagement predictor's score
    of each draft that passed the gates (in drafting order), the chosen one's index, and how many were drafted.
    The choice (type, topic, format, hour) was drawn once for the slot with its logged propensity; the drafts differ
    in their text (and hook style) only, which the choice's propensity does not cover."""

    drafted: int = Field(ge=1)
    scores: list[float | None] = Field(min_length=1, max_length=10)
    chosen: int = Field(ge=0)
    predictor_version: str | None = None


class ContentQueued(Event):
    TYPE = "ContentQueued"
    PRODUCER = "planner"

    content_id: str
    kind: ContentKind
    parts: list[str] = Field(min_length=1, max_length=25)
    reply_to_tweet_id: str | None = None
    reply_to_author: str | None = None
    # Added for answers in our own conversations (optional): the post of ours the answered reply is under
    # (OpportunityFound.conversation_id). The poster withdraws the answer when the owner deletes that post.
    conversation_id: str | None = None
    choice: Choice
    policy_version: str
    # Probability with which the policy in force picked this choice (for off-policy evaluation).
    propensity: float = Field(gt=0, le=1)
    scheduled_for: AwareDatetime
    expires_at: AwareDatetime
    model: str | None = None
    # Added for news (optional): the fresh news item the post takes as its angle; its fact was among the prompt's.
    angle: NewsAngle | None = None
    # Added for the evergreen pool (optional): the pool entry (EvergreenDrafted.evergreen_id) this item was queued
    # from while the model could not be used. The console approves it at once when the owner approved the entry.
    evergreen_id: str | None = None
    # Added for learned replies (issue 24, optional): the target's features and the draw's candidates. Older
    # planners send none; the reply model learns from the replies that carry it.
    reply_context: ReplyContext | None = None
    # Added for choosing among drafts (issue 24, optional): absent when one draft was written for the slot.
    drafts: DraftSelection | None = None

    def dedup_key(self) -> str:
        return self.content_id


class EvergreenDrafted(Event):
    """A post drafted ahead into the evergreen pool (through every gate and the review): it is queued only while
    the model cannot be used. With approval on (XBOT_APPROVAL) the owner approves or rejects it in the console
    (EvergreenDecided) and only approved entries are queued; ``evergreen_id`` is the entry's key (the hash of its
    text), the same each time the entry is queued (``ContentQueued.evergreen_id``)."""

    TYPE = "EvergreenDrafted"
    PRODUCER = "planner"

    evergreen_id: str = Field(min_length=1, max_length=128)
    kind: Literal["post", "thread"]
    parts: list[str] = Field(min_length=1, max_length=25)
    choice: Choice
    model: str | None = None
    drafted_at: AwareDatetime

    def dedup_key(self) -> str:
        return f"evergreen:{self.evergreen_id}"


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


class LlmHalted(Event):
    """The planner stopped calling the LLM after a permanent error (a bad key, a model not there, no quota):
    nothing is drafted until the operator fixes ``cause`` and restarts it."""

    TYPE = "LlmHalted"
    PRODUCER = "planner"

    cause: str
    message: str = ""
    status: int | None = None
    halted_at: AwareDatetime

    def dedup_key(self) -> str:
        return f"llm_halted:{self.halted_at.isoformat()}"


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


class OwnerEditSettled(Event):
    """The poster's answer to an owner's edit in the console (ContentEdited, named by its ``edited_at``): applied
    (the item is posted with the edited text) or too late (the poster had already recorded its intent to post the
    item, or finished it: the text it had stands). Edits are settled by the posting cycle, the only writer of
    intents, before each of its decisions, so an edit and a write can never race."""

    TYPE = "OwnerEditSettled"
    PRODUCER = "poster"

    content_id: str
    edited_at: AwareDatetime
    applied: bool
    reason: str = ""
    settled_at: AwareDatetime

    def dedup_key(self) -> str:
        return f"edit_settled:{self.content_id}:{self.edited_at.isoformat()}"


class WritesHalted(Event):
    """The poster stopped every write until an operator's ``xbot resume``: X answered ``locked`` or
    ``session_expired`` to a write. Published once per halt (the notifier tells the owner)."""

    TYPE = "WritesHalted"
    PRODUCER = "poster"

    reason: str  # the gateway's error code that halted writes: "locked", "session_expired"
    halted_at: AwareDatetime
    message: str = ""

    def dedup_key(self) -> str:
        return f"halted:{self.reason}:{self.halted_at.isoformat()}"


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
    # source "conversation" (issue 24, item 5): a reply our own tweet got, and the id of that tweet of ours (the
    # conversation an answer continues). None for a stranger's tweet found by search or discovery.
    conversation_id: str | None = None
    # A quote post's quoted post, as X showed it: a reply to "Exactly this." is read beside what it quotes.
    quoted_author: str | None = None
    quoted_text: str | None = None

    def dedup_key(self) -> str:
        return f"opp:{self.tweet_id}"


class OpportunityExpired(Event):
    TYPE = "OpportunityExpired"
    PRODUCER = "harvester"

    tweet_id: str
    reason: Literal["too_old", "deleted", "replied", "off_topic"]

    def dedup_key(self) -> str:
        return f"expired:{self.tweet_id}"


class ReplyLeftToOwner(Event):
    """A reply to one of the account's tweets that xbot leaves unanswered for the owner to read: it reads as a
    person in a crisis (libs/gates/crisis.py), who may need a human answer. Published once per reply; the owner's
    console lists it with links to it and to our tweet on X. It names the reply and its author, never its words
    (no stranger's text leaves the harvester), and is forgotten with the harvested tweets (PersonalDataPurged)."""

    TYPE = "ReplyLeftToOwner"
    PRODUCER = "harvester"

    tweet_id: str
    author: str
    # The tweet of ours it replies under.
    conversation_id: str
    reason: Literal["crisis"]
    tweet_created_at: AwareDatetime
    found_at: AwareDatetime

    def dedup_key(self) -> str:
        return f"left:{self.tweet_id}"


class PersonalDataPurged(Event):
    """Harvested strangers' tweets and profiles found before ``before`` have served their purpose (the personal
    data retention, README "Retention of personal data"): every reader forgets what it keeps of them. An event,
    not a job's delete, so a replay forgets the same rows at the same point of the history."""

    TYPE = "PersonalDataPurged"
    PRODUCER = "harvester"

    before: AwareDatetime

    def dedup_key(self) -> str:
        return f"purged:{self.before.isoformat()}"


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


class AccountRefreshed(Event):
    """A discovered account read again (its profile and recent posts): followers and engagement rate as now."""

    TYPE = "AccountRefreshed"
    PRODUCER = "harvester"

    handle: str
    followers: int = Field(ge=0)
    engagement_rate: float = Field(ge=0)
    recent_posts: int = Field(ge=0)
    refreshed_at: AwareDatetime
    # X shows no account there any more (suspended, deactivated, renamed): never read again.
    gone: bool = False

    def dedup_key(self) -> str:
        return f"refresh:{self.handle.lower()}:{self.refreshed_at.isoformat()}"


class FormatLift(Contract):
    """One format feature's log-lift on peers' engagement (against its baseline), with its 95% interval."""

    feature: str
    lift: float
    low: float
    high: float
    support: int = Field(ge=0)  # peer posts that showed the feature


class FormatInsights(Event):
    """What peers' posts teach about formats (libs.formats features), from the viral tweets the harvester found
    and the recent posts of discovered accounts; published once a day. Patterns only: no peer's text."""

    TYPE = "FormatInsights"
    PRODUCER = "harvester"

    day: str = Field(pattern=r"^\d{4}-\d{2}-\d{2}$")
    posts: int = Field(ge=0)
    lifts: list[FormatLift]
    computed_at: AwareDatetime

    def dedup_key(self) -> str:
        return f"formats:{self.day}"


class NewsItemFound(Event):
    """A fresh item of one of the niche's news feeds (RSS/Atom), on one of its topics: an angle the planner may
    take for a post, its summary a fact it may state with the source named. Untrusted text from outside."""

    TYPE = "NewsItemFound"
    PRODUCER = "harvester"

    item_id: str  # stable per item: a hash of the feed's guid, or of its link
    title: str = Field(min_length=1, max_length=300)
    summary: str = Field(default="", max_length=1000)
    source: str  # the feed's name ("WHO", "NIH")
    feed_url: str
    url: str
    published_at: AwareDatetime
    topic: str | None = None
    relevance: float = 0.0

    def dedup_key(self) -> str:
        return f"news:{self.item_id}"


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
    # Profile visits from the post, which X shows only its author (the web's analytics page, the API's
    # non_public_metrics); None when the read could not see them (a post older than X's 30 days, an analytics page
    # whose markup the selector pack does not know, events from before they were read).
    profile_clicks: int | None = Field(default=None, ge=0)
    # The accounts that followed from the post, as X counts them for its author (the web's analytics page: "New
    # followers"); None when the read could not see them (the X API has no such count, a page without the label,
    # events from before they were read). The learner credits a post with them instead of its share of the
    # follower count's changes.
    follows: int | None = Field(default=None, ge=0)
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


class PastPost(Contract):
    """One of the account's own posts from before xbot, as its profile shows it (counts at the time of reading)."""

    tweet_id: str = Field(pattern=r"^\d+$")
    text: str
    created_at: AwareDatetime
    likes: int = Field(ge=0)
    retweets: int = Field(ge=0)
    replies: int = Field(ge=0)
    views: int = Field(ge=0)


class PastPostsRead(Event):
    """The account's own posts from before xbot, read once from its profile: what the learner starts from instead
    of knowing nothing (issue 24). Only matured posts that xbot did not write; empty for a new account."""

    TYPE = "PastPostsRead"
    PRODUCER = "scraper"

    handle: str
    observed_at: AwareDatetime
    posts: list[PastPost] = Field(default_factory=list)

    def dedup_key(self) -> str:
        return f"past_posts:{self.handle.lower()}"


class XMark(Event):
    """What X did to one of our tweets without us, as the scraper found it (the two events below). Each consumer keeps
    them in a table of its own schema, ``x_marks``, under the event's ``MARK`` (libs/store/x_marks.py)."""

    MARK: ClassVar[str]
    PRODUCER = "scraper"

    tweet_id: str
    content_id: str
    kind: ContentKind = "post"
    noticed_at: AwareDatetime

    def dedup_key(self) -> str:
        return f"{self.MARK}:{self.tweet_id}"


class TweetGone(XMark):
    """One of our tweets is no longer on X, though nobody deleted it through the console: the owner deleted it on X
    itself, or X removed it (a rule it enforces). Found by the scraper when three metric reads in a row did not
    find it; its remaining reads are dropped. The planner and the learner treat it as a deletion (TweetDeleted),
    the poster withdraws the answers still queued under it (a thread's under any part: the scraper reads a thread
    by its head), the harvester reads its replies no more, and the owner is told, since X's removal of a post is
    news about the account."""

    TYPE = "TweetGone"
    MARK = "gone"


class CommunityNoteShown(XMark):
    """X shows a Community Note under one of our tweets: its raters found a claim in it misleading and added context
    everyone who sees the post reads. Found by the scraper's metric read of the tweet's page (the browser; the X
    API shows no notes), once per tweet. The owner is told, and the post is no longer an example of the account's
    voice."""

    TYPE = "CommunityNoteShown"
    MARK = "noted"


# ---------------------------------------------------------------- learner


class BestPost(Contract):
    """One of the account's own posts that earned the most reward: the planner shows it to the model as an
    example of what works in the account's voice."""

    content_id: str
    text: str = Field(min_length=1, max_length=4000)
    reward: float | None = None


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
    predictors: dict[str, dict[str, Any]] = Field(default_factory=dict)
    training_size: int = Field(default=0, ge=0)
    evaluation: dict[str, float | None] = Field(default_factory=dict)
    insights: dict[str, list[str]] = Field(default_factory=dict)
    rollback_of: str | None = None
    # The account's best-rewarded own posts, best first (additive, optional: older learners send none).
    best_posts: list[BestPost] = Field(default_factory=list, max_length=20)
    # The reply policy (issue 24, additive, optional: empty before the first reply model): "posteriors" over reply
    # style, voice and the target bands, "propensities" of style and voice, "temperature", "floor",
    # "training_size" and "evaluation" (libs.policy's reply section reads it). Versioned and rolled back with the
    # posts' model: it is part of the same event.
    replies: dict[str, Any] = Field(default_factory=dict)

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


RiskLevelName = Literal["NORMAL", "ELEVATED", "HIGH", "SEVERE", "LOCKED"]


class AccountRiskChanged(Event):
    """The account's one risk level moved (raised by a warning from X on any traffic, lowered as it decays;
    ``locked`` when X locked the account). The browser gateway's guardian holds the level and produces this on
    every change; the poster follows it (its pacing), the notifier tells the owner."""

    TYPE = "AccountRiskChanged"
    PRODUCER = "browser_gateway"

    handle: str
    level: int = Field(ge=0)
    previous_level: int = Field(ge=0)
    # The warning that moved it ("rate_limited", "automation_block", "locked", …) or "decay".
    signal: str
    locked: bool = False
    changed_at: AwareDatetime
    # Added by the gateway's guardian (optional, so the first declaration's readers and writers stay valid): the
    # level's name (NORMAL, ELEVATED, HIGH, SEVERE, LOCKED), the op whose answer carried the warning, and the
    # share of every activity budget left at this level (1.0 at NORMAL, 0 when locked).
    level_name: RiskLevelName | None = None
    operation: str | None = None
    budget_share: float | None = Field(default=None, ge=0, le=1)

    def dedup_key(self) -> str:
        return f"risk:{self.handle.lower()}:{self.changed_at.isoformat()}"


# ---------------------------------------------------------------- console


class ApprovalRequested(Event):
    """A draft waits for the owner's approval before the poster may post it. Declared here for the
    notifier (drafts waiting are batched into one notification); the console (issue 22) produces it."""

    TYPE = "ApprovalRequested"
    PRODUCER = "console"

    content_id: str
    kind: ContentKind
    # The draft's first part, for the notification's preview (the owner reads the rest in the console).
    preview: str = Field(default="", max_length=280)
    scheduled_for: AwareDatetime | None = None
    requested_at: AwareDatetime

    def dedup_key(self) -> str:
        return f"approval:{self.content_id}"


class ContentApproved(Event):
    """The owner approved a draft: with approval on (XBOT_APPROVAL), the poster posts only approved items, and
    posts ``parts`` (the text as approved, edits included) instead of the planner's."""

    TYPE = "ContentApproved"
    PRODUCER = "console"

    content_id: str
    kind: ContentKind
    parts: list[str] = Field(min_length=1, max_length=25)
    # True when the owner changed the planner's text before approving (a ContentEdited precedes it).
    edited: bool = False
    approved_by: str
    approved_at: AwareDatetime

    def dedup_key(self) -> str:
        return f"approved:{self.content_id}"


class ContentEdited(Event):
    """The owner changed a draft's text in the console; the new text passed the planner's gates. Editing is
    possible until the item is approved (the approval hands the final text to the poster) or, for a kind that
    does not wait for approval, until the poster records its intent to post it: the poster answers each edit
    with OwnerEditSettled."""

    TYPE = "ContentEdited"
    PRODUCER = "console"

    content_id: str
    kind: ContentKind
    parts: list[str] = Field(min_length=1, max_length=25)
    previous_parts: list[str] = Field(default_factory=list, max_length=25)
    edited_by: str
    edited_at: AwareDatetime

    def dedup_key(self) -> str:
        return f"edited:{self.content_id}:{self.edited_at.isoformat()}"


class ContentRejectedByOwner(Event):
    """The owner refused a draft, with the reason: the poster never posts it (it fails as ``rejected``)."""

    TYPE = "ContentRejectedByOwner"
    PRODUCER = "console"

    content_id: str
    kind: ContentKind
    reason: str = Field(min_length=1, max_length=500)
    rejected_by: str
    rejected_at: AwareDatetime

    def dedup_key(self) -> str:
        return f"owner_rejected:{self.content_id}"


class EvergreenDecided(Event):
    """The owner approved or rejected an evergreen post (EvergreenDrafted) in the console. The planner never
    queues a rejected entry, and with approval on (XBOT_APPROVAL) queues only approved ones; the console approves
    at once an item queued from an approved entry (the owner read that exact text)."""

    TYPE = "EvergreenDecided"
    PRODUCER = "console"

    evergreen_id: str = Field(min_length=1, max_length=128)
    decision: Literal["approved", "rejected"]
    reason: str | None = Field(default=None, max_length=500)
    decided_by: str
    decided_at: AwareDatetime

    def dedup_key(self) -> str:
        return f"evergreen_decided:{self.evergreen_id}"


class OwnerPostQueued(Event):
    """The owner's own post or thread, written in the console: the poster queues it like a planner's draft (its
    pacing, caps, risk level and kill switch apply) without waiting for approval; it is not a decision of the
    policy, so the learner (which does not read the console's stream) never counts it. Its own event rather than a
    ContentQueued: each stream has one producer, and the planner's choice, policy version and propensity do not
    exist for it."""

    TYPE = "OwnerPostQueued"
    PRODUCER = "console"

    content_id: str
    kind: Literal["post", "thread"]
    parts: list[str] = Field(min_length=1, max_length=25)
    scheduled_for: AwareDatetime
    expires_at: AwareDatetime
    queued_by: str
    # The owner overrode the non-safety gates (readability, hashtags count): the safety gates always apply.
    overridden: list[str] = Field(default_factory=list)

    def dedup_key(self) -> str:
        return f"owner_post:{self.content_id}"


class ModelRollbackRequested(Event):
    """The owner asked the learner (from the console) to undo the model version in force: a command event the
    learner consumes; it rolls back only while ``version`` is still the one in force (a second click, or a request
    overtaken by a newer model, does nothing)."""

    TYPE = "ModelRollbackRequested"
    PRODUCER = "console"

    version: str
    requested_by: str
    requested_at: AwareDatetime

    def dedup_key(self) -> str:
        return f"rollback:{self.version}"


class TweetDeleted(Event):
    """The owner deleted a posted item from X in the console (the gateway's ``delete_tweet``, every part of a
    thread, last part first): the scraper stops reading its metrics. Recorded by the console once the gateway
    answered for every part, so it states a fact (a part already gone counts as deleted)."""

    TYPE = "TweetDeleted"
    PRODUCER = "console"

    content_id: str
    tweet_ids: list[str] = Field(min_length=1)
    deleted_by: str
    deleted_at: AwareDatetime

    def dedup_key(self) -> str:
        return f"deleted:{self.content_id}"


class ReplyLeftDismissed(Event):
    """The owner took a reply left to them (ReplyLeftToOwner) off the console's list, with their verdict: seen to
    (read, answered as a person), or not a crisis (the readers' false alarm: the figure that tells how often the
    owner is called for nothing)."""

    TYPE = "ReplyLeftDismissed"
    PRODUCER = "console"

    tweet_id: str
    dismissed_by: str
    dismissed_at: AwareDatetime
    verdict: Literal["seen_to", "not_a_crisis"] = "seen_to"

    def dedup_key(self) -> str:
        return f"left_dismissed:{self.tweet_id}"


ALL_EVENTS: tuple[type[Event], ...] = (
    ContentQueued,
    EvergreenDrafted,
    ContentRejected,
    LlmUsageRecorded,
    BudgetExhausted,
    LlmHalted,
    TweetPosted,
    PostFailed,
    OwnerEditSettled,
    WritesHalted,
    OpportunityFound,
    OpportunityExpired,
    ReplyLeftToOwner,
    PersonalDataPurged,
    AccountDiscovered,
    AccountRefreshed,
    FormatInsights,
    NewsItemFound,
    MetricsScraped,
    FollowersSnapshotted,
    PastPostsRead,
    TweetGone,
    CommunityNoteShown,
    ModelUpdated,
    SessionExpired,
    AccountRiskChanged,
    ApprovalRequested,
    ContentApproved,
    ContentEdited,
    ContentRejectedByOwner,
    OwnerPostQueued,
    ModelRollbackRequested,
    TweetDeleted,
    EvergreenDecided,
    ReplyLeftDismissed,
)

__all__ = [c.__name__ for c in ALL_EVENTS] + ["ALL_EVENTS", "Choice", "FollowerAttribution", "FormatLift", "NewsAngle",
                                              "datetime"]
