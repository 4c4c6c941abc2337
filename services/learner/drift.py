"""Change detection for the posts' model: forget faster when what earns reach has changed.

One discount γ per post suits an account whose audience drifts slowly; when what earns reach changes at once
(README, Learner: the best arm changing half-way) the model carries hundreds of posts of confident, wrong
knowledge that γ takes ~1 / (1 - γ) posts to forget. So the learner also watches the matured posts' residuals
against the model as it stood before each of them (prequential: the model fitted on the matured posts decided
earlier) and, when they have fallen clearly below what it predicts, shrinks the weight of every earlier post by a
factor at once. Without an alarm nothing changes: γ stays the stationary accounts' one.

Why a one-sided test on the mean: a change of effects shows first on the arms the policy exploits, which were the
best of the old effects and are average ones of the new, so their rewards fall below the predictions. Rewards
above the prediction (a breakout post, a newly good arm tried by chance) are what a Thompson draw already picks
up, and heavy-tailed reach would make a two-sided test raise false alarms. Residuals are standardised by the
predictive sd (noise and the posterior's own uncertainty of that choice) and clipped, so one viral or one dead
post moves the statistic by a bounded amount.

The alarms are a deterministic function of the matured posts in decision order, so the service's batch build
(:func:`change_points`) and a post-by-post learner (bench/learner.py) find the same ones; an observation's weight
in the model is ``w · γ^age · shrink^(alarms after its decision)`` (:func:`shrink_multipliers`). Plain Python and
numpy, no I/O.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

import numpy as np

from services.learner.posterior import AdditivePosterior, AdditiveRewardModel


@dataclass
class FallDetector:
    """One-sided CUSUM (Page 1954) for a fall in the mean of standardised residuals z:
    ``S ← max(0, S − clip(z) − drift)``, an alarm when ``S > threshold``, then ``S`` starts again from 0.

    ``drift`` is the fall that is ignored (in predictive sds): residuals of exploited arms run a little below 0 even
    when nothing changes (the arms drawn are those whose means are, by chance, overestimated)."""

    drift: float = 0.5
    threshold: float = 8.0
    clip: float = 3.0
    statistic: float = 0.0

    def observe(self, z: float) -> bool:
        if not math.isfinite(z):
            return False
        z = min(self.clip, max(-self.clip, z))
        self.statistic = max(0.0, self.statistic - z - self.drift)
        if self.statistic > self.threshold:
            self.statistic = 0.0
            return True
        return False


def standardised_residual(post: AdditivePosterior, arms: Sequence[int], reward: float, weight: float) -> float:
    """(reward − predicted) / predictive sd, the predictive variance being the noise of an observation of this
    weight plus the posterior variance of the choice's effects (per dimension, as the policy draws them)."""
    predicted = post.intercept + sum(float(m[a]) for m, a in zip(post.means, arms))
    var = post.noise_var / max(weight, 1e-9) + sum(float(v[a]) for v, a in zip(post.variances, arms))
    return (reward - predicted) / math.sqrt(max(var, 1e-12))


class ChangeWatch:
    """The prequential monitor: feed matured posts in decision order with their decision index; ``observe``
    says whether this post raised an alarm. Its own model holds the matured posts only (a provisional reward of
    the same post would otherwise be in its own prediction) with the main model's discount and prior, and is shrunk
    at each alarm like the main one."""

    def __init__(self, model: AdditiveRewardModel, detector: FallDetector, *, shrink: float) -> None:
        self.model = model
        self.detector = detector
        self.shrink = float(shrink)
        self.alarms: list[int] = []
        self._last: int | None = None

    def observe(self, index: int, arms: Sequence[int], reward: float, weight: float, *, test: bool = True) -> bool:
        """``test`` False: the post only joins the watch's model (the first matured posts of an account, whose
        residuals are those of a model still finding its level, not of a change)."""
        if self._last is not None and index > self._last:
            self.model.decay(index - self._last)
        alarm = False
        if test and self.model.wsum > 0:
            z = standardised_residual(self.model.posterior(), arms, reward, weight)
            alarm = self.detector.observe(z)
        if alarm:
            self.alarms.append(index)
            self.model.scale(self.shrink)  # every post in it was decided before this one
        self.model.add(arms, reward, weight, age=0 if self._last is None else max(0, self._last - index))
        self._last = index if self._last is None else max(self._last, index)
        return alarm


def change_points(model: AdditiveRewardModel, detector: FallDetector, observations: Iterable[
        tuple[int, Sequence[int], float, float]], *, shrink: float, warmup: int = 0) -> list[int]:
    """Decision indices whose matured post raised an alarm; ``observations`` = (decision index, arms, reward
    relative to the baseline, weight) of the matured posts in decision order, ``model`` an empty model of the
    main one's arms, discount and prior; the first ``warmup`` of them are not tested."""
    watch = ChangeWatch(model, detector, shrink=shrink)
    for k, (index, arms, reward, weight) in enumerate(observations):
        watch.observe(index, arms, reward, weight, test=k >= warmup)
    return watch.alarms


def shrink_multipliers(count: int, alarms: Sequence[int], shrink: float) -> np.ndarray:
    """Per decision index 0..count-1: ``shrink`` to the number of alarms raised by a later decision's post."""
    later = np.zeros(count + 1)
    for j in alarms:
        if 0 < j <= count:
            later[j - 1] += 1.0  # decisions before j
    after = np.cumsum(later[::-1])[::-1][:count]
    out: np.ndarray = float(shrink) ** after
    return out
