"""The follow-rate model of the composite objective (issue 24, item 2): what each arm does to the followers a post
brings per view, learned from the follows credited to the account's own posts.

A follow is a rare count (about 0.3 a post at 1,000 followers in the sandbox's world): as a spike in the priced
reward log(W + λF) it is mostly noise, read as a Poisson count with the post's views as exposure it teaches far
more. The learner adds the model's effects to the posts' reward posterior at :data:`FOLLOW_SHARE`, so the policy
the planner draws from is tilted towards what brings followers beyond what its reach brings (bench/learner.py,
followers: the follower regret of the composite objective with and without this model)."""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from typing import Protocol

import numpy as np

from services.learner.drift import FallDetector
from services.learner.posterior import centred, daily_prior

# d log(W + λF) / d log F at the account's exchange rate: λ = ΣW / ΣF makes the followers' part of the composite
# value one half on average, so a choice that doubles the follow rate adds log 2 / 2 to the value.
FOLLOW_SHARE = 0.5
# Prior sd of an arm's effect on the log follow rate: the sandbox's world draws content type and topic effects at
# sd 0.45 and 0.40 (sandbox/audience.py), hour and format less; the prior is a little wider than those.
FOLLOW_EFFECT_SD = 0.5
_NEWTON_STEPS = 8
# EM steps of sharing the follower snapshots again (SnapshotCredits): each fits the rates on the credits the step
# before shared. bench/learner.py, followers, X API path, tuned seeds (README, Learner): three steps (with the
# follow model's own γ) brought the follower regret 0.03-0.07 below one step's on the stationary settings.
RESHARE_STEPS = 3


class FollowRateModel:
    """log follows per view = b0 + one effect per arm of each dimension (Gaussian prior sd ``effect_sd``, a daily
    curve for a cyclic dimension; the intercept near the account's pooled rate), fitted by Newton steps, its
    posterior by the Laplace approximation. A post counts ``discount`` times less with every later decision, as in
    the posts' reward model.

    With a ``detector`` (drift.FallDetector) the model also watches for a change of what brings followers, as the
    posts' model does for reach (services/learner/drift.py): each post added with ``test`` is first compared with
    the model fitted on the posts before it (prequential), its follows standardised by the Poisson-lognormal
    predictive sd; at an alarm every earlier post counts ``shrink`` times less. Follows are rare, so γ alone would
    carry the old follow effects for ~1 / (1 - γ) posts where the reach effects' watch would never see them
    change (bench/learner.py, followers: the setting whose follow effects change half-way)."""

    def __init__(self, arm_counts: Sequence[int], *, effect_sd: float = FOLLOW_EFFECT_SD,
                 discount: float = 1.0, cyclic: Sequence[bool] = (), detector: FallDetector | None = None,
                 shrink: float = 1.0) -> None:
        self.arm_counts = [int(k) for k in arm_counts]
        self.offsets = np.concatenate([[1], 1 + np.cumsum(self.arm_counts)])[:-1]
        self.size = 1 + sum(self.arm_counts)
        self.discount = discount
        # Prior precision of the effects: independent arms, or a daily curve for a cyclic dimension (the hours:
        # posterior.daily_prior, as in the posts' reward model); the intercept's is wide (sd 2).
        self.prior_precision = np.zeros((self.size, self.size))
        self.prior_precision[0, 0] = 0.25
        for o, k, is_cyclic in zip(self.offsets, self.arm_counts, tuple(cyclic) + (False,) * len(self.arm_counts)):
            block = slice(int(o), int(o) + k)
            self.prior_precision[block, block] = (np.linalg.inv(daily_prior(k, effect_sd)) if is_cyclic
                                                  else np.eye(k) / effect_sd**2)
        self.detector = detector
        self.shrink = float(shrink)
        self.alarms: list[int] = []  # decision indices of the posts that raised one, in order
        self.rows: list[np.ndarray] = []
        self.follows: list[float] = []
        self.views: list[float] = []
        self.decided: list[int] = []
        self._beta: np.ndarray | None = None  # the last fit: the next one starts there (a few steps instead of 8)

    def __len__(self) -> int:
        return len(self.rows)

    def add(self, arms: Sequence[int], follows: float, views: float, decided: int, *, test: bool = False) -> bool:
        """One post: its arm per dimension, the follows credited to it, its views, and its decision's index. Posts
        are added in decision order; ``test`` (a post whose credit has closed) runs it through the change watch
        first. Returns whether it raised an alarm."""
        x = np.zeros(self.size)
        x[0] = 1.0
        x[self.offsets + np.asarray(arms)] = 1.0
        follows, views = max(0.0, float(follows)), max(1.0, float(views))
        alarm = False
        if test and self.detector is not None and self.rows:
            b, cov = self.fit(decided)
            eta, var = float(x @ b) + math.log(views), float(x @ cov @ x)
            mean = math.exp(min(30.0, eta + var / 2.0))
            z = (follows - mean) / math.sqrt(mean + mean**2 * math.expm1(min(var, 10.0)))
            if self.detector.observe(z):
                self.alarms.append(int(decided))
                alarm = True
        self.rows.append(x)
        self.follows.append(follows)
        self.views.append(views)
        self.decided.append(int(decided))
        return alarm

    def fit(self, decisions: int, follows: Sequence[float] | None = None) -> tuple[np.ndarray, np.ndarray]:
        """MAP coefficients and their Laplace covariance as seen after ``decisions`` decisions; ``follows``, one per
        post in the order added, instead of the follows each was added with."""
        x, y = np.array(self.rows), np.array(self.follows if follows is None else follows, dtype=float)
        exposure = np.log(np.array(self.views))
        decided = np.array(self.decided, dtype=float)
        w = self.discount ** (decisions - decided)
        if self.alarms:  # each alarm weighs down the posts decided before the post that raised it
            w = w * self.shrink ** (len(self.alarms) - np.searchsorted(self.alarms, decided, side="right"))
        precision = self.prior_precision
        prior = np.zeros(self.size)
        prior[0] = math.log((y.sum() + 1.0) / np.exp(exposure).sum())
        b = prior.copy() if self._beta is None else self._beta
        for _ in range(_NEWTON_STEPS):
            mu = np.exp(np.clip(x @ b + exposure, -30, 30))
            step = np.linalg.solve((x.T * (w * mu)) @ x + precision, x.T @ (w * (y - mu)) - precision @ (b - prior))
            b = b + step
            if np.abs(step).max() < 1e-6:
                break
        self._beta = b
        cov = np.linalg.inv((x.T * (w * np.exp(np.clip(x @ b + exposure, -30, 30)))) @ x + precision)
        return b, cov

    def relative_rate(self, decisions: int, follows: Sequence[float] | None = None,
                      ) -> Callable[[Sequence[int]], float]:
        """The fitted follow rate of a choice (arm per dimension) relative to the account's: exp(sum of its
        effects), as seen after ``decisions`` decisions (``follows``: as in fit)."""
        fitted: list[np.ndarray] = []  # fitted at the first call: a caller with nothing to rate costs no fit

        def rate(arms: Sequence[int]) -> float:
            if not fitted:
                fitted.append(self.fit(decisions, follows)[0] if self.rows else np.zeros(self.size))
            return math.exp(float(sum(fitted[0][int(o) + int(a)] for o, a in zip(self.offsets, arms))))
        return rate

    def posterior(self, decisions: int, follows: Sequence[float] | None = None,
                  ) -> tuple[list[np.ndarray], list[np.ndarray]] | None:
        """Centred effects per dimension and their variances (as AdditivePosterior reports them) as seen after
        ``decisions`` decisions (``follows``: as in fit); None before any post."""
        if not self.rows:
            return None
        b, cov = self.fit(decisions, follows)
        means, variances = [], []
        for o, k in zip(self.offsets, self.arm_counts):
            block = slice(int(o), int(o) + k)
            m, v = centred(b[block], cov[block, block])
            means.append(m)
            variances.append(v)
        return means, variances


class WatchSettings(Protocol):
    """What a follow-rate model takes from a learner's settings (LearnerConfig; the benchmark's XbotConfig)."""

    @property
    def follow_discount(self) -> float: ...
    @property
    def smooth_hours(self) -> bool: ...
    @property
    def change_drift(self) -> float: ...
    @property
    def change_threshold(self) -> float: ...
    @property
    def change_shrink(self) -> float: ...

    def detects_change(self) -> bool: ...


def watched_follow_model(arm_counts: Sequence[int], settings: WatchSettings) -> FollowRateModel:
    """An empty follow-rate model watched for a change as the posts' model is: hours on the daily curve, the same
    drift, threshold and shrink (with the sandbox's counts a lower threshold raised false alarms: README, Learner);
    no watch where the posts' is off. Its γ is its own (``follow_discount``): follows are rare, so it keeps more
    posts' worth of them than the reward model keeps of engagement."""
    detector = (FallDetector(drift=settings.change_drift, threshold=settings.change_threshold)
                if settings.detects_change() else None)
    return FollowRateModel(arm_counts, discount=settings.follow_discount,
                           cyclic=(False, False, False, settings.smooth_hours), detector=detector,
                           shrink=settings.change_shrink)


class SnapshotCredits:
    """The follower snapshots' attribution rows (item, followers) within their credit window, and those credits
    shared again by the posts' follow rates: EM steps of the attribution.

    Why: the scraper shares a change of the follower count by the engagement each active item gained in the
    window (services/scraper/attribution.py), which cannot know that one post converts its viewers into followers
    better than another; so the credits of posts out at the same time are pulled towards each other and a model
    fitted on them learns attenuated effects. Weighing each share by the rate the model learned is the E-step of
    fitting the rates to the snapshots themselves (bench/learner.py, followers: the X API path)."""

    def __init__(self) -> None:
        self._snapshots: dict[str, int] = {}
        self._items: dict[str, int] = {}
        self._rows: list[tuple[int, int, float]] = []  # (snapshot index, item index, followers)
        # The rows as arrays, extended as rows arrive (the benchmark asks for credits at every decision).
        self._arrays = (np.zeros(0, dtype=int), np.zeros(0, dtype=int), np.zeros(0))

    def add(self, snapshot: str, item: str, followers: float) -> None:
        self._rows.append((self._snapshots.setdefault(snapshot, len(self._snapshots)),
                           self._items.setdefault(item, len(self._items)), float(followers)))

    def __len__(self) -> int:
        return len(self._rows)

    def items(self) -> set[str]:
        return set(self._items)

    def credits(self, relative_rate: Callable[[str], float | None]) -> dict[str, float]:
        """Followers credited to each item when every snapshot's credit is shared again among its posts in
        proportion to the scraper's share × ``relative_rate`` of the post; an item it does not rate (None: a
        reply) keeps the scraper's share, and a snapshot's posts keep their sum."""
        snapshot, item, followers = self._arrays
        if len(followers) < len(self._rows):
            new = np.array(self._rows[len(followers):]).reshape(-1, 3)
            self._arrays = snapshot, item, followers = (np.concatenate([snapshot, new[:, 0].astype(int)]),
                                                        np.concatenate([item, new[:, 1].astype(int)]),
                                                        np.concatenate([followers, new[:, 2]]))
        if not self._items:
            return {}
        rates = np.array([np.nan if (r := relative_rate(name)) is None else r for name in self._items])[item]
        rated = ~np.isnan(rates)
        weighed = np.where(rated, followers * np.nan_to_num(rates), 0.0)
        total = np.bincount(snapshot, np.where(rated, followers, 0.0), len(self._snapshots))[snapshot]
        weight = np.bincount(snapshot, weighed, len(self._snapshots))[snapshot]
        shared = np.where(rated & (weight != 0), total * weighed / np.where(weight != 0, weight, 1.0), followers)
        return dict(zip(self._items, np.bincount(item, shared, len(self._items)).tolist()))

    def refitted(self, model: FollowRateModel, decisions: int, items: Sequence[str],
                 arms: Callable[[str], Sequence[int] | None], steps: int = RESHARE_STEPS) -> list[float] | None:
        """``model``'s follows (``items`` its posts' ids, in the order added) after ``steps`` EM steps: each post's
        snapshot credit replaced by :meth:`credits`' under the rates fitted on the follows of the step before (the
        first on the scraper's); what a post holds beyond its snapshot credits (X's own count) stays. ``arms``
        gives a post's choice (None: not one of the model's, it keeps its share). None when no snapshot credited
        any of them (nothing to share again)."""
        if not self.items() & set(items):
            return None
        scraper = self.credits(lambda item: None)  # the same at every step
        beyond = [f - scraper.get(i, 0.0) for f, i in zip(model.follows, items)]
        follows = None
        for _ in range(steps):
            rate = model.relative_rate(decisions, follows)
            credits = self.credits(  # the lambda is used within the step: rate is this step's
                lambda item: None if (a := arms(item)) is None else rate(a))  # noqa: B023
            follows = [max(0.0, b + credits.get(i, 0.0)) for b, i in zip(beyond, items)]
        return follows


def tilted(means: Sequence[np.ndarray], variances: Sequence[np.ndarray],
           follows: tuple[list[np.ndarray], list[np.ndarray]] | None,
           share: float = FOLLOW_SHARE) -> tuple[list[np.ndarray], list[np.ndarray]]:
    """The reward posterior's per-dimension moments with the follow-rate effects added at ``share`` (independent
    posteriors: the variances add, scaled by share²)."""
    if follows is None:
        return list(means), list(variances)
    return ([m + share * f for m, f in zip(means, follows[0])],
            [v + share**2 * f for v, f in zip(variances, follows[1])])
