"""The evergreen pool: posts drafted ahead, through every gate, while the budget allows, that keep the queue alive
while the model cannot be used (unreachable, halted until restart, or the day's budget spent).

Pure: which pool entries to queue, best first. Their order is the policy in force's predicted reward of each
entry's choice: the learner's share of each of its arms (content type, topic, format) multiplied, the same
probabilities the planner samples new posts from, so a pool drafted under an older policy is used the way the
current one prefers. An entry is never queued again within the duplicate window, nor when any of its tweets
repeats one of ours of that window (X refuses a repeated tweet). The owner's decisions (EvergreenDecided, from the
console) filter it: a rejected entry never, and with approval on (XBOT_APPROVAL) an unapproved one not yet.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from libs.contracts.events import Choice
from libs.niche import NicheConfig
from libs.text import content_hash
from services.planner.choices import Policy, marginal

# The choice's dimensions the learner rewards posts by (the hour is the slot's, not the post's).
REWARD_DIMENSIONS = ("content_type", "topic", "format")


@dataclass(frozen=True)
class EvergreenPost:
    content_hash: str
    kind: str
    parts: tuple[str, ...]
    choice: Choice
    propensity: float
    model: str
    drafted_at: datetime
    used_at: datetime | None = None


def predicted_reward(choice: Choice, policy: Policy, config: NicheConfig) -> float:
    """The policy's preference for the choice's arms (1 / arms per dimension when it has none)."""
    score = 1.0
    for dim in REWARD_DIMENSIONS:
        score *= marginal(policy, config, dim).get(str(getattr(choice, dim)), 0.0)
    return score


def usable(posts: Sequence[EvergreenPost], *, policy: Policy, config: NicheConfig, now: datetime,
           recent_tweet_hashes: Collection[str], n: int, decisions: Mapping[str, str] | None = None,
           approval_kinds: Collection[str] = ()) -> list[EvergreenPost]:
    """Up to ``n`` entries to queue now, highest predicted reward first. ``decisions``: the owner's word per entry
    (EvergreenDecided: "approved" / "rejected"); a rejected entry is never queued, and an entry of a kind in
    ``approval_kinds`` (XBOT_APPROVAL) only once approved."""
    decisions = decisions or {}
    since = now - timedelta(days=config.gates.duplicate_window_days)
    seen = set(recent_tweet_hashes)
    ranked = sorted(posts, key=lambda p: (-predicted_reward(p.choice, policy, config), p.drafted_at,
                                          p.content_hash))
    chosen: list[EvergreenPost] = []
    for post in ranked:
        if len(chosen) >= n:
            break
        if post.used_at is not None and post.used_at >= since:
            continue
        decision = decisions.get(post.content_hash)
        if decision == "rejected" or (post.kind in approval_kinds and decision != "approved"):
            continue
        hashes = {content_hash(part) for part in post.parts}
        if hashes & seen:
            continue
        chosen.append(post)
        seen |= hashes
    return chosen
