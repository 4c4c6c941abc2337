"""Off-policy evaluation: how a candidate policy would have done on the posts the policies in force made.

Inputs are the decision log: for each post its reward, the propensity with which the logging policy picked it
(published in ContentQueued), and the candidate's probability of the same choice. Two estimators:

- self-normalised IPS: Σ wᵢ rᵢ / Σ wᵢ with wᵢ = π_new(aᵢ) / π_log(aᵢ); biased but stable;
- doubly robust: mean of v̂(π_new) + wᵢ (rᵢ - q̂(aᵢ)), with q̂ a reward model and v̂ its value under π_new;
  unbiased when either the propensities or the model are right.

Each comes with the effective sample size (Σw)² / Σw² and a normal-approximation confidence interval. The gate
compares candidate and incumbent on the same posts (paired), which is far tighter than two separate intervals.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
from numpy.typing import ArrayLike

Z_95 = 1.959963984540054


@dataclass(frozen=True)
class Estimate:
    value: float
    low: float
    high: float
    ess: float
    n: int


def _ess(weights: np.ndarray) -> float:
    total_sq = float(np.sum(weights**2))
    return float(np.sum(weights) ** 2 / total_sq) if total_sq > 0 else 0.0


def snips(rewards: ArrayLike, logging_propensity: ArrayLike, target_propensity: ArrayLike, *,
          z: float = Z_95) -> Estimate:
    """Self-normalised inverse propensity scoring, with a delta-method interval:
    Var ≈ Σ wᵢ² (rᵢ - v)² / (Σ wᵢ)²."""
    r = np.asarray(rewards, dtype=float)
    w = np.asarray(target_propensity, dtype=float) / np.asarray(logging_propensity, dtype=float)
    if len(r) == 0 or w.sum() <= 0:
        return Estimate(math.nan, -math.inf, math.inf, 0.0, len(r))
    value = float(np.sum(w * r) / np.sum(w))
    se = math.sqrt(float(np.sum(w**2 * (r - value) ** 2))) / float(np.sum(w))
    return Estimate(value, value - z * se, value + z * se, _ess(w), len(r))


def dr_terms(rewards: ArrayLike, logging_propensity: ArrayLike, target_propensity: ArrayLike,
             predicted_logged: ArrayLike, target_value: ArrayLike) -> np.ndarray:
    """Per-post doubly robust terms v̂(π) + wᵢ (rᵢ - q̂(aᵢ)); their mean is the estimate."""
    r = np.asarray(rewards, dtype=float)
    w = np.asarray(target_propensity, dtype=float) / np.asarray(logging_propensity, dtype=float)
    terms: np.ndarray = np.asarray(target_value, dtype=float) + w * (r - np.asarray(predicted_logged, dtype=float))
    return terms


def _mean_interval(terms: np.ndarray, z: float) -> tuple[float, float, float]:
    n = len(terms)
    if n == 0:
        return math.nan, -math.inf, math.inf
    value = float(np.mean(terms))
    se = float(np.std(terms, ddof=1)) / math.sqrt(n) if n > 1 else math.inf
    return value, value - z * se, value + z * se


def doubly_robust(
    rewards: ArrayLike, logging_propensity: ArrayLike, target_propensity: ArrayLike, predicted_logged: ArrayLike,
    target_value: ArrayLike, *, z: float = Z_95
) -> Estimate:
    """``predicted_logged``: q̂(aᵢ) of the logged choice; ``target_value``: Σ_a π_new(a) q̂(a) (a scalar or one per
    post)."""
    terms = dr_terms(rewards, logging_propensity, target_propensity, predicted_logged,
                     np.broadcast_to(np.asarray(target_value, dtype=float), np.shape(rewards)))
    w = np.asarray(target_propensity, dtype=float) / np.asarray(logging_propensity, dtype=float)
    value, low, high = _mean_interval(terms, z)
    return Estimate(value, low, high, _ess(w), len(terms))


@dataclass(frozen=True)
class GateDecision:
    publish: bool
    difference: float  # candidate minus incumbent (doubly robust, paired)
    low: float
    high: float
    candidate: Estimate
    incumbent: Estimate


def gate(
    rewards: ArrayLike,
    logging_propensity: ArrayLike,
    candidate_propensity: ArrayLike,
    incumbent_propensity: ArrayLike,
    predicted_logged: ArrayLike,
    candidate_value: ArrayLike,
    incumbent_value: ArrayLike,
    *,
    z: float = Z_95,
) -> GateDecision:
    """Publish the candidate unless it is worse than the incumbent beyond the confidence interval: the paired
    difference of doubly robust terms must not have its upper bound below zero. With no evidence (no posts),
    the candidate is published: it is the posterior of everything learned so far."""
    n = len(np.asarray(rewards))
    cand = doubly_robust(rewards, logging_propensity, candidate_propensity, predicted_logged, candidate_value, z=z)
    inc = doubly_robust(rewards, logging_propensity, incumbent_propensity, predicted_logged, incumbent_value, z=z)
    if n == 0:
        return GateDecision(True, 0.0, -math.inf, math.inf, cand, inc)
    shape = np.shape(rewards)
    diff = dr_terms(rewards, logging_propensity, candidate_propensity, predicted_logged,
                    np.broadcast_to(np.asarray(candidate_value, dtype=float), shape)) - dr_terms(
        rewards, logging_propensity, incumbent_propensity, predicted_logged,
        np.broadcast_to(np.asarray(incumbent_value, dtype=float), shape))
    value, low, high = _mean_interval(diff, z)
    publish = not (high < 0.0) if n > 1 else True
    return GateDecision(publish, value, low, high, cand, inc)
