"""Replies: which harvested tweets to answer, in which style and voice.

A harvested tweet is untrusted input written by a stranger; the gates a reply to it must pass are in
libs/gates (replies.py and the model review).

``plan_replies`` draws each reply's style, voice and target from the learner's reply policy (libs.policy, issue
24): targets are ranked by the learned values of their bands (author followers, age, velocity, relevance), with
the exploration and exact propensities the learner's off-policy gate needs. Before the first reply model the fixed
weights of ``score`` rank them and the floor explores.
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from collections.abc import Mapping, Sequence
from typing import Any

from libs.contracts.events import ReplyContext
from libs.core.account import handle_key
from libs.gates.advice import personal_question
from libs.gates.crisis import crisis
from libs.gates.hostility import abusive, hostility
from libs.gates.misinformation import misinformation
from libs.gates.posts import subject_banned
from libs.niche import NicheConfig
from libs.policy import UniformSource, sample_reply, shortlist, target_bands

# ---------------------------------------------------------------- the opportunity pool


@dataclass(frozen=True)
class Opportunity:
    tweet_id: str
    author: str
    author_followers: int
    text: str
    likes: int
    retweets: int
    replies: int
    created_at: datetime
    relevance: float
    topic: str | None = None
    is_reply: bool = False
    conversation_id: str | None = None
    # "tweet": a stranger's root tweet the harvest found; "conversation": a reply one of our posts got, whose
    # conversation_id is that post (issue 24, item 5).
    kind: str = "tweet"
    # For a reply our tweet got (a post of ours, or a reply of ours under someone else's tweet): that tweet's text
    # (None when the planner never saw it posted).
    our_tweet: str | None = None
    # A quote post's quoted post (None: the tweet quotes nothing).
    quoted_author: str | None = None
    quoted_text: str | None = None

    @property
    def conversation(self) -> str:
        # A stranger's tweet is answered only at its root, so its id is its conversation's; a reply our post got
        # is in our post's conversation.
        return self.conversation_id or self.tweet_id

    def age_hours(self, now: datetime) -> float:
        return max(0.0, (now - self.created_at).total_seconds() / 3600)

    def velocity(self, now: datetime) -> float:
        """Engagement per hour since posting (a minimum age of 10 minutes keeps brand-new tweets sane)."""
        engagement = self.likes + 2 * self.retweets + 1.5 * self.replies
        return engagement / max(self.age_hours(now), 1 / 6)


@dataclass(frozen=True)
class OurReply:
    tweet_id: str
    author: str
    conversation: str
    at: datetime


@dataclass
class ReplyHistory:
    """Our replies (queued or posted) — what the eligibility rules remember."""

    replies: list[OurReply] = field(default_factory=list)

    def add(self, reply: OurReply) -> None:
        self.replies.append(reply)

    def answered(self, tweet_id: str) -> bool:
        return any(r.tweet_id == tweet_id for r in self.replies)

    def to_author_since(self, author: str, since: datetime) -> list[OurReply]:
        a = author.lower()
        return [r for r in self.replies if r.author.lower() == a and r.at >= since]

    def in_conversation_since(self, conversation: str, since: datetime) -> list[OurReply]:
        return [r for r in self.replies if r.conversation == conversation and r.at >= since]

    def last_in_conversation(self, conversation: str) -> OurReply | None:
        """Our latest answer in this conversation (the history is in time order)."""
        return next((r for r in reversed(self.replies) if r.conversation == conversation), None)


def ineligibility(
    opp: Opportunity, history: ReplyHistory, *, now: datetime, config: NicheConfig, own_handle: str
) -> str | None:
    """Why this tweet must not be answered now, or None when it may."""
    rc = config.replies
    if handle_key(opp.author) == handle_key(own_handle):
        return "own tweet"
    conversation = opp.kind == "conversation"
    if opp.is_reply and not conversation:
        return "not a root tweet"
    if kind := crisis(opp.text) or (crisis(opp.quoted_text) if opp.quoted_text else None):
        return f"tells of a crisis ({kind})"  # the harvester leaves these out; an automated account never answers
    if conversation and (reason := hostility(opp.text)) is not None:
        return f"hostile ({reason})"  # the harvester leaves these out; a copy that got here is not answered
    if abusive(opp.text):
        # A stranger's abusive post: whatever the reply says, the account is seen taking part. (Instructions in
        # a stranger's post are not a reason to leave it: the drafter answers its point without them.)
        return "hostile (abuse)"
    if opp.quoted_text is not None and (reason := hostility(opp.quoted_text)) is not None:
        # A reply to "Exactly this." answers what it quotes too: bait or abuse there is not answered.
        return f"quotes a hostile post ({reason})"
    if claim := misinformation(opp.text) or (misinformation(opp.quoted_text) if opp.quoted_text else None):
        # The harvester leaves these out too; whatever the reply says, a model asked to add to the tweet's point
        # goes along with it, and a correction is a fight an automated account cannot follow up.
        return f"spreads a false health claim ({claim})"
    if asked := personal_question(opp.text):
        # The harvester leaves these out too: whatever the answer, it is personal medical advice from a bot.
        return asked
    if banned := subject_banned("\n".join(filter(None, (opp.text, opp.quoted_text))), config):
        # Whatever the reply says, the account is seen in a conversation on a subject it keeps out of.
        return f"on a banned subject ({banned.reason})"
    if opp.age_hours(now) >= rc.max_age_hours:
        return "older than 24 h"
    if opp.age_hours(now) > rc.max_age_hours - rc.min_hours_left:
        return "too little of its 24 h left"
    if history.answered(opp.tweet_id):
        return "already answered"
    if opp.relevance < rc.min_relevance:
        return "not relevant enough"
    if len(history.to_author_since(opp.author, now - timedelta(days=1))) >= rc.max_per_author_per_day:
        return "daily replies to this author used"
    if history.to_author_since(opp.author, now - timedelta(hours=rc.author_cooldown_hours)):
        return "author cooldown"
    if conversation:
        # Our own conversation is answered person by person, but never the same person twice in a row.
        last = history.last_in_conversation(opp.conversation)
        if last is not None and handle_key(last.author) == handle_key(opp.author):
            return "same person twice in a row"
    elif history.in_conversation_since(opp.conversation, now - timedelta(hours=rc.conversation_cooldown_hours)):
        return "conversation cooldown"
    return None


def score(opp: Opportunity, *, now: datetime, config: NicheConfig) -> float:
    """0..1-ish: reach (log followers), velocity (log engagement/hour), freshness, relevance, weighted; plus the
    ``conversation`` weight for a reply our own post got (X's ranker weighs an author's answer most: the prior
    until the reply policy has learned the kind's value)."""
    w = config.replies.weights
    reach = min(1.0, math.log10(opp.author_followers + 1) / 7)  # 10M followers → 1
    velocity = min(1.0, math.log1p(opp.velocity(now)) / math.log1p(1000))  # 1000 engagements/h → 1
    freshness = max(0.0, 1 - opp.age_hours(now) / config.replies.max_age_hours)
    relevance = max(0.0, min(1.0, opp.relevance))
    return (
        w.get("reach", 0) * reach + w.get("velocity", 0) * velocity
        + w.get("freshness", 0) * freshness + w.get("relevance", 0) * relevance
        + w.get("conversation", 0) * (opp.kind == "conversation")
    )


def rank_opportunities(
    opps: Iterable[Opportunity], history: ReplyHistory, *, now: datetime, config: NicheConfig, own_handle: str
) -> list[tuple[Opportunity, float]]:
    """Eligible opportunities, best first."""
    ranked = [
        (o, score(o, now=now, config=config))
        for o in opps
        if ineligibility(o, history, now=now, config=config, own_handle=own_handle) is None
    ]
    ranked.sort(key=lambda pair: (-pair[1], pair[0].tweet_id))
    return ranked


def pick_targets(
    opps: Iterable[Opportunity], history: ReplyHistory, *, now: datetime, config: NicheConfig, own_handle: str, n: int
) -> list[Opportunity]:
    """Up to ``n`` tweets to answer in this run, each author and conversation at most once in the run."""
    chosen: list[Opportunity] = []
    trial = ReplyHistory(list(history.replies))
    for opp, _ in rank_opportunities(opps, history, now=now, config=config, own_handle=own_handle):
        if len(chosen) >= n:
            break
        if ineligibility(opp, trial, now=now, config=config, own_handle=own_handle) is None:
            chosen.append(opp)
            trial.add(OurReply(opp.tweet_id, opp.author, opp.conversation, now))
    return chosen


# ---------------------------------------------------------------- learned replies (issue 24)


@dataclass(frozen=True)
class PlannedReply:
    """One reply the run will write: its target, style and voice, the exact probability of that draw, and the
    context the learner needs to evaluate other policies on it (ContentQueued.reply_context)."""

    opportunity: Opportunity
    reply_style: str
    voice: str
    propensity: float
    context: ReplyContext


def bands_of(opp: Opportunity, now: datetime) -> dict[str, str]:
    return target_bands(author_followers=opp.author_followers, age_hours=opp.age_hours(now),
                        velocity=opp.velocity(now), relevance=opp.relevance, kind=opp.kind)


def plan_replies(
    opps: Iterable[Opportunity], history: ReplyHistory, *, now: datetime, config: NicheConfig, own_handle: str,
    n: int, model: Mapping[str, Any] | None, dimensions: Mapping[str, Sequence[str]], rng: UniformSource,
) -> list[PlannedReply]:
    """Up to ``n`` replies for this run, each author and conversation at most once in the run.

    Each is one draw of the reply policy of ``model`` (ModelUpdated.replies; None or empty: the bootstrap, the
    fixed ranking's best with REPLY_BOOTSTRAP_FLOOR exploration) among the tweets still eligible after the draws
    before it, in the fixed ranking's order (shortlisted by learned value when there are too many). ``dimensions``
    maps reply_style and voice to their configured arms."""
    policy = dict(model) if model else None
    ranked = [o for o, _ in rank_opportunities(opps, history, now=now, config=config, own_handle=own_handle)]
    trial = ReplyHistory(list(history.replies))
    planned: list[PlannedReply] = []
    while len(planned) < n:
        eligible = [o for o in ranked
                    if ineligibility(o, trial, now=now, config=config, own_handle=own_handle) is None]
        if not eligible:
            break
        bands = [bands_of(o, now) for o in eligible]
        keep = shortlist(policy, bands)
        candidates = [bands[i] for i in keep]
        # The fixed ranking's best is the first eligible tweet, and shortlisting keeps the planner's order.
        choice, index, propensity = sample_reply(policy, rng, dimensions=dimensions, candidates=candidates)
        target = eligible[keep[index]]
        planned.append(PlannedReply(
            target, choice.get("reply_style") or "", choice.get("voice") or "", propensity,
            ReplyContext(author_followers=max(0, target.author_followers), age_hours=target.age_hours(now),
                         velocity=target.velocity(now), relevance=target.relevance, bands=candidates[index],
                         candidates=candidates, index=index)))
        trial.add(OurReply(target.tweet_id, target.author, target.conversation, now))
    return planned
