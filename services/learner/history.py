"""The account's own posts from before xbot (the scraper's PastPostsRead) as observations of the posts' model.

What a past post teaches depends on which of the bandit's arms it can be placed on, from what X shows of it:

- hour: its creation time, in UTC like the niche's hours: exact;
- format: "single" (a profile shows a thread by its first post, with that post's counts);
- topic: the topic whose name's own words the text mentions (``gut`` for gut_health; words shared by several
  topics' names, like ``health``, name none of them), only when exactly one topic is mentioned most;
- content type: not told. Whether a post is a myth busted, a framework or a story is a judgement no keyword
  makes; a wrong label would teach a wrong arm, so the dimension is left unknown: the observation is of the
  mean of the content types' effects (AdditiveRewardModel.add with None).

Each becomes one matured observation, relative to the trailing baseline of the past posts before it, older than
every decision (discounted by γ per decision since, so it fades as xbot's own posts mature), and outside the
off-policy gate (no propensity: nobody drew it). Plain Python, no I/O.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime

from libs.policy import DIMENSIONS
from services.learner.posterior import AdditiveRewardModel
from services.learner.rewards import (
    AccountRate, exposure_weight, log_reward, shrunk_weighted_engagement, trailing_baseline,
)


@dataclass(frozen=True)
class PastPost:
    tweet_id: str
    text: str
    created_at: datetime
    counts: dict[str, float] = field(default_factory=dict)  # likes, retweets, replies, views


def _name_words(topic: str) -> set[str]:
    return {w for w in re.split(r"[^a-z0-9]+", topic.lower()) if len(w) > 2}


def topic_of(text: str, topics: Sequence[str]) -> int | None:
    """The index of the one topic the text mentions most by its name's own words (a plural "s" allowed); None when
    none or several tie."""
    words = [_name_words(t) for t in topics]
    shared = {w for i, ws in enumerate(words) for w in ws if any(w in other for j, other in enumerate(words) if j != i)}
    tokens = re.findall(r"[a-z0-9]+", text.lower())
    mentions = [sum(1 for tok in tokens if tok in ws - shared or (tok.endswith("s") and tok[:-1] in ws - shared))
                for ws in words]
    best = max(mentions, default=0)
    if best == 0 or mentions.count(best) > 1:
        return None
    return mentions.index(best)


def past_post_arms(post: PastPost, arms: Sequence[Sequence[str]]) -> tuple[int | None, ...]:
    """The arm of each dimension (DIMENSIONS order) a past post can be placed on; None where it cannot."""
    placed: dict[str, int | None] = {"content_type": None}
    topics, formats, hours = (arms[DIMENSIONS.index(d)] for d in ("topic", "format", "hour"))
    placed["topic"] = topic_of(post.text, topics)
    placed["format"] = formats.index("single") if "single" in formats else None
    hour = str(post.created_at.astimezone(UTC).hour)
    placed["hour"] = hours.index(hour) if hour in hours else None
    return tuple(placed[d] for d in DIMENSIONS)


def add_past_posts(model: AdditiveRewardModel, past: Sequence[PastPost], *, arms: Sequence[Sequence[str]],
                   weights: Mapping[str, float], prior_views: float, baseline_window: int, age: int = 0,
                   weight: float = 1.0) -> list[tuple[PastPost, float]]:
    """Add the past posts to ``model`` as matured observations, the newest ``age`` decisions old and each older
    one a decision older still, each weighing ``weight`` × its exposure. A past post's reward is read like a
    decision's: its weighted engagement shrunk toward the past posts' own pooled rate, relative to the trailing
    baseline of the past posts before it. Returns each post with that reward, oldest first."""
    ordered = sorted(past, key=lambda p: (p.created_at, p.tweet_id))
    account = AccountRate()
    for p in ordered:
        account.observe(p.counts, weights)
    rewards: list[float] = []
    added: list[tuple[PastPost, float]] = []
    for k, p in enumerate(ordered):
        raw = log_reward(shrunk_weighted_engagement(p.counts, weights, account_rate=account.rate,
                                                    prior_views=prior_views))
        baseline = trailing_baseline(rewards, window=baseline_window, fallback=raw)
        rewards.append(raw)
        model.add(past_post_arms(p, arms), raw - baseline, weight * exposure_weight(p.counts.get("views", 0)),
                  age=age + len(ordered) - 1 - k)
        added.append((p, raw - baseline))
    return added
