"""Rewards of the learner: what one post earned, from its engagement counts at a checkpoint.

r = log(1 + max(0, Σ wᵢ·countᵢ)) with X's heavy-ranker weights (configurable). The log tames the heavy tail of
reach; clipping at 0 keeps a post that drew negative feedback from producing log of a negative number.

A post is judged at the matured checkpoint (24 h by default). Earlier checkpoints give a provisional reward:
the weighted sum seen so far divided by the share of final engagement usually visible at that age (a maturity
ratio learned from matured posts), observed with extra variance, and replaced once the post matures. An immature
post is therefore never read as a zero. Plain Python, no I/O.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

import numpy as np

# X's open-sourced heavy-ranker weights for the engagement kinds a scraper can see.
HEAVY_RANKER_WEIGHTS: dict[str, float] = {
    "like": 0.5,
    "retweet": 1.0,
    "reply": 13.5,
    "profile_click": 12.0,
    "negative": -74.0,
}
# Weight name -> count field of MetricsScraped / the sandbox's Engagement.
COUNT_FIELDS: dict[str, str] = {
    "like": "likes",
    "retweet": "retweets",
    "reply": "replies",
    "profile_click": "profile_clicks",
    "negative": "negative",
    "bookmark": "bookmarks",
    "follower": "followers",  # followers attributed to the post (the composite objective's weight is learned)
}
OBJECTIVES = ("composite", "engagement")
# Followers attributed to a post within this long after it was posted count towards its reward (delayed credit).
FOLLOWER_CREDIT_HOURS = 48.0


def weighted_engagement(counts: Mapping[str, float], weights: Mapping[str, float] = HEAVY_RANKER_WEIGHTS) -> float:
    """Σ wᵢ·countᵢ, clipped at 0. A count the scraper did not report counts as 0."""
    total = 0.0
    for name, weight in weights.items():
        total += weight * float(counts.get(COUNT_FIELDS.get(name, name), 0) or 0)
    return max(0.0, total)


def weighted_engagement_raw(counts: Mapping[str, float], weights: Mapping[str, float] = HEAVY_RANKER_WEIGHTS) -> float:
    """Σ wᵢ·countᵢ without the clip (for pooling rates across posts)."""
    return sum(w * float(counts.get(COUNT_FIELDS.get(n, n), 0) or 0) for n, w in weights.items())


def shrunk_weighted_engagement(
    counts: Mapping[str, float],
    weights: Mapping[str, float] = HEAVY_RANKER_WEIGHTS,
    *,
    account_rate: float | None,
    prior_views: float = 300.0,
) -> float:
    """Weighted engagement with its per-view rate shrunk toward the account's pooled rate (empirical Bayes).

    At a few hundred views the weighted sum is mostly count noise: one report (-74) or one reply (+13.5) moves
    it more than the choice does. Views are counted exactly, so the post's rate (weighted / views) is estimated
    as (weighted + prior_views·account_rate) / (views + prior_views): a post seen by few people leans on the
    account's rate, a widely seen one speaks for itself. Clipped at 0 like the raw sum."""
    raw = weighted_engagement_raw(counts, weights)
    if account_rate is None or prior_views <= 0:
        return max(0.0, raw)
    views = max(0.0, float(counts.get("views", 0) or 0))
    rate = (raw + prior_views * account_rate) / (views + prior_views)
    return max(0.0, views * rate)


@dataclass
class AccountRate:
    """The account's pooled weighted engagement per view over matured posts (ratio of sums)."""

    weighted: float = 0.0
    views: float = 0.0

    def observe(self, counts: Mapping[str, float], weights: Mapping[str, float] = HEAVY_RANKER_WEIGHTS) -> None:
        self.weighted += weighted_engagement_raw(counts, weights)
        self.views += max(0.0, float(counts.get("views", 0) or 0))

    @property
    def rate(self) -> float | None:
        return self.weighted / self.views if self.views > 0 else None


def log_reward(weighted: float) -> float:
    return math.log1p(max(0.0, weighted))


def exposure_weight(views: float, *, half_views: float = 10.0) -> float:
    """How much a post's reward is trusted: a post seen by a handful of people is mostly count noise, so it gets
    less weight, but it still counts (dropping it would filter on the outcome and bias what is learned)."""
    views = max(0.0, float(views))
    return max(0.2, views / (views + half_views)) if half_views > 0 else 1.0


def trailing_baseline(matured_rewards: Sequence[float], *, window: int = 50, fallback: float = 0.0) -> float:
    """Mean of the last ``window`` matured rewards of the account's own posts, so that rewards are read relative
    to how the account is doing lately rather than in absolute reach. Before any post has matured there is no
    level to compare with: ``fallback`` (the caller passes the post's own reward, so its relative reward is 0
    rather than its whole absolute reward)."""
    recent = list(matured_rewards)[-window:]
    return sum(recent) / len(recent) if recent else fallback


@dataclass
class CheckpointCalibration:
    """Learned from matured posts: the share of the matured weighted engagement visible at one checkpoint, and
    how far a provisional reward extrapolated with that share misses the matured one (its extra variance).
    Until ``prior_posts`` matured posts are seen, the priors dominate (shrinkage by pseudo-counts)."""

    prior_ratio: float
    prior_extra_var: float
    prior_posts: float = 5.0
    _sum_early: float = 0.0
    _sum_matured: float = 0.0
    _early: list[float] = field(default_factory=list)
    _matured: list[float] = field(default_factory=list)
    _extra_var_cache: tuple[int, float] | None = None

    def observe(self, weighted_early: float, weighted_matured: float) -> None:
        self._sum_early += max(0.0, weighted_early)
        self._sum_matured += max(0.0, weighted_matured)
        self._early.append(max(0.0, weighted_early))
        self._matured.append(max(0.0, weighted_matured))

    @property
    def posts(self) -> int:
        return len(self._early)

    @property
    def ratio(self) -> float:
        """Ratio of sums (robust to single tiny posts), shrunk toward the prior by ``prior_posts`` pseudo-posts."""
        n = len(self._early)
        if n == 0 or self._sum_matured <= 0:
            return self.prior_ratio
        learned = self._sum_early / self._sum_matured
        ratio = (self.prior_posts * self.prior_ratio + n * learned) / (self.prior_posts + n)
        return min(1.0, max(1e-3, ratio))

    @property
    def extra_var(self) -> float:
        """Mean squared miss of the extrapolated reward against the matured one, shrunk toward the prior."""
        n = len(self._early)
        if self._extra_var_cache is not None and self._extra_var_cache[0] == n:
            return self._extra_var_cache[1]
        sq = 0.0
        if n:
            early, matured = np.asarray(self._early), np.asarray(self._matured)
            sq = float(np.sum((np.log1p(early / self.ratio) - np.log1p(matured)) ** 2))
        value = (self.prior_posts * self.prior_extra_var + sq) / (self.prior_posts + n)
        self._extra_var_cache = (n, value)
        return value

    def provisional_reward(self, weighted_early: float) -> float:
        return log_reward(weighted_early / self.ratio)


def default_calibrations() -> dict[float, CheckpointCalibration]:
    """Priors for the scraper's default early checkpoints (hours): typical decay curves of X posts show roughly
    40% of a day's engagement after 2 h and 80% after 12 h; the data replaces these quickly."""
    return {
        2.0: CheckpointCalibration(prior_ratio=0.4, prior_extra_var=0.25),
        12.0: CheckpointCalibration(prior_ratio=0.8, prior_extra_var=0.05),
    }


def provisional_weight(noise_var: float, extra_var: float) -> float:
    """Weight of a provisional observation relative to a matured one: its variance is noise_var + extra_var."""
    return noise_var / (noise_var + max(0.0, extra_var)) if noise_var > 0 else 0.0


@dataclass
class FollowerExchangeRate:
    """How much weighted engagement one follower is worth, learned from the account's own matured posts.

    rate = Σ weighted engagement / Σ attributed followers over the same posts (a ratio of sums, like AccountRate):
    the engagement the account earns per follower it gains. Priced so, followers and engagement weigh the same in
    the account's total reward, and a choice is rewarded for followers beyond what its engagement usually brings.
    Until ``min_followers`` followers in total have been attributed (or when the net is not positive) there is no
    price: the reward stays engagement only rather than guess one."""

    min_followers: float = 5.0
    engagement: float = 0.0
    followers: float = 0.0

    def observe(self, weighted: float, followers: float) -> None:
        self.engagement += max(0.0, weighted)
        self.followers += followers

    @property
    def rate(self) -> float | None:
        if self.followers < self.min_followers or self.engagement <= 0:
            return None
        return self.engagement / self.followers


def composite_weights(weights: Mapping[str, float], rate: float | None) -> dict[str, float]:
    """The reward's weights with followers priced at ``rate`` (engagement units per follower); without a rate,
    the engagement weights unchanged."""
    return {**weights, "follower": rate} if rate is not None else dict(weights)
