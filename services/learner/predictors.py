"""Predictors the planner may use to rank drafts: ridge regression of the (log) engagement reward and logistic
regression of "gained at least one follower", both on content features, in closed form / IRLS with numpy.
Held-out error is measured on a deterministic split (every k-th post in decision order) and published."""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass
from functools import partial
from typing import Any

import numpy as np


# What the peers' format lift of a text feature (FormatInsights) is worth in the engagement predictor, in posts of
# the account's own: the drafts a new account ranks start from what the peers show instead of from nothing, and
# ten posts showing otherwise outweigh it. Chosen on the sandbox's seeds 0-9 of bench/drafts.py (1 and 10 tried);
# its other settings are held out.
PEER_PRIOR_POSTS = 10.0


@dataclass(frozen=True)
class LinearModel:
    intercept: float
    coef: np.ndarray

    def predict(self, x: np.ndarray) -> np.ndarray:
        out: np.ndarray = self.intercept + np.asarray(x, dtype=float) @ self.coef
        return out


def fit_ridge(x: np.ndarray, y: np.ndarray, *, penalty: float | np.ndarray = 1.0, weights: np.ndarray | None = None,
              prior_mean: np.ndarray | None = None) -> LinearModel:
    """argmin Σ wᵢ (yᵢ - b - xᵢ·β)² + Σⱼ penaltyⱼ (βⱼ - prior_meanⱼ)² (the intercept is not penalised; ``penalty``
    one for every coefficient or one each, ``prior_mean`` 0 when None)."""
    x, y = np.asarray(x, dtype=float), np.asarray(y, dtype=float)
    w = np.ones(len(y)) if weights is None else np.asarray(weights, dtype=float)
    design = np.hstack([np.ones((len(y), 1)), x])
    gram = design.T @ (design * w[:, None])
    penalties = np.broadcast_to(np.asarray(penalty, dtype=float), (x.shape[1],))
    gram[1:, 1:] += np.diag(penalties)
    rhs = design.T @ (w * y)
    if prior_mean is not None:
        rhs[1:] += penalties * np.asarray(prior_mean, dtype=float)
    beta = np.linalg.solve(gram, rhs)
    return LinearModel(float(beta[0]), beta[1:])


def _sigmoid(z: np.ndarray) -> np.ndarray:
    out: np.ndarray = 1.0 / (1.0 + np.exp(-np.clip(z, -35, 35)))
    return out


def fit_logistic(x: np.ndarray, y: np.ndarray, *, penalty: float = 1.0, iterations: int = 50) -> LinearModel:
    """L2-penalised logistic regression by iteratively reweighted least squares (Newton), intercept unpenalised."""
    x, y = np.asarray(x, dtype=float), np.asarray(y, dtype=float)
    design = np.hstack([np.ones((len(y), 1)), x])
    ridge = penalty * np.eye(design.shape[1])
    ridge[0, 0] = 0.0
    beta = np.zeros(design.shape[1])
    mean = min(max(float(y.mean()) if len(y) else 0.5, 1e-3), 1 - 1e-3)
    beta[0] = math.log(mean / (1 - mean))
    for _ in range(iterations):
        p = _sigmoid(design @ beta)
        gradient = design.T @ (y - p) - ridge @ beta
        hessian = design.T @ (design * (p * (1 - p))[:, None]) + ridge + 1e-9 * np.eye(len(beta))
        step = np.linalg.solve(hessian, gradient)
        beta += step
        if float(np.max(np.abs(step))) < 1e-10:
            break
    return LinearModel(float(beta[0]), beta[1:])


def predict_probability(model: LinearModel, x: np.ndarray) -> np.ndarray:
    return _sigmoid(model.predict(x))


def holdout_mask(n: int, every: int = 5) -> np.ndarray:
    """True for held-out rows: every ``every``-th post in decision order (deterministic, spread over time)."""
    mask = np.zeros(n, dtype=bool)
    mask[every - 1 :: every] = True
    return mask


def engagement_predictor(x: np.ndarray, y: np.ndarray, names: list[str], *, penalty: float = 1.0,
                         weights: np.ndarray | None = None, prior: Mapping[str, float] | None = None,
                         prior_weight: float = PEER_PRIOR_POSTS) -> dict[str, Any]:
    """Ridge on the training rows, RMSE on the held-out rows, then refit on everything for publication.
    ``weights``: per row (the posts' model's shrink at the changes it detected; None: every row alike).
    ``prior``: feature name -> the coefficient it starts from (the peers' format lifts), worth ``prior_weight``
    posts; the other coefficients start from 0 with ``penalty``."""
    x, y = np.asarray(x, dtype=float), np.asarray(y, dtype=float)
    w = np.ones(len(y)) if weights is None else np.asarray(weights, dtype=float)
    prior = dict(prior or {})
    means = np.array([prior.get(n, 0.0) for n in names])
    penalties = np.array([prior_weight if n in prior else penalty for n in names])
    fit = partial(fit_ridge, penalty=penalties, prior_mean=means)
    held = holdout_mask(len(y))
    rmse = None
    if held.any() and (~held).sum() >= 2:
        trial = fit(x[~held], y[~held], weights=w[~held])
        # Weighted as the fit: the error on the audience as it is now, not on posts a change made stale.
        rmse = float(np.sqrt(np.average((trial.predict(x[held]) - y[held]) ** 2, weights=w[held])))
    model = fit(x, y, weights=w) if len(y) else LinearModel(0.0, means)
    out = {"kind": "ridge", "target": "log_reward", "features": list(names), "intercept": model.intercept,
           "coef": [float(c) for c in model.coef], "penalty": penalty, "n": int(len(y)), "heldout_rmse": rmse}
    if prior:  # absent without peers' lifts: earlier versions keep their payloads bit for bit
        out.update({"prior": {n: prior[n] for n in names if n in prior}, "prior_weight": prior_weight})
    return out


def follower_predictor(x: np.ndarray, gained: np.ndarray, names: list[str], *, penalty: float = 1.0) -> dict[str, Any]:
    """Logistic regression of P(gained ≥ 1 follower); held-out log loss and Brier score."""
    x, g = np.asarray(x, dtype=float), np.asarray(gained, dtype=float)
    held = holdout_mask(len(g))
    log_loss = brier = None
    if held.any() and (~held).sum() >= 2:
        trial = fit_logistic(x[~held], g[~held], penalty=penalty)
        p = np.clip(predict_probability(trial, x[held]), 1e-9, 1 - 1e-9)
        log_loss = float(-np.mean(g[held] * np.log(p) + (1 - g[held]) * np.log(1 - p)))
        brier = float(np.mean((p - g[held]) ** 2))
    model = fit_logistic(x, g, penalty=penalty) if len(g) else LinearModel(0.0, np.zeros(len(names)))
    return {"kind": "logistic", "target": "gained_follower", "features": list(names), "intercept": model.intercept,
            "coef": [float(c) for c in model.coef], "penalty": penalty, "n": int(len(g)),
            "heldout_log_loss": log_loss, "heldout_brier": brier}
