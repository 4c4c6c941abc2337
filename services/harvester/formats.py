"""What peers' posts teach about formats: each format feature's lift on engagement, with its confidence interval.

The posts are viral tweets the harvest found and the recent posts of discovered accounts. Engagement is made
comparable across authors and ages first (per follower, corrected to its final value: libs.formats), then one
least-squares fit of its log on all the format indicators at once (so a list is not credited with what its
length did) gives each feature's log-lift against its baseline. Intervals use heteroskedasticity-robust (HC3)
standard errors: peers' engagement is far from equally noisy across formats.

Viral tweets are chosen for their engagement, which shrinks the lifts seen among them towards zero; the posts of
discovered accounts are every post of theirs, so they carry most of the signal. Pure: numpy only.
"""

from __future__ import annotations

import math
from datetime import datetime
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from libs.contracts.events import FormatInsights, FormatLift as FormatLiftContract
from libs.formats import FEATURES, format_features, normalised_engagement

Z95 = 1.959964
MIN_SUPPORT = 10  # posts that must show a feature (and as many that must not) before its lift is estimated
# Younger posts are left out: their counts are small and rounded, and the age correction is steepest there, so
# they would tilt the lift of whatever hour it was when they were read.
MIN_AGE_HOURS = 3.0


@dataclass(frozen=True)
class PeerPost:
    tweet_id: str
    text: str
    hour: int  # UTC hour it was posted
    author_followers: int
    engagement: int  # likes + retweets + replies when read
    age_hours: float  # its age when read
    parts: int | None = None


@dataclass(frozen=True)
class FormatLift:
    feature: str
    lift: float  # log-lift of engagement against the feature's baseline
    low: float
    high: float
    support: int  # posts showing the feature

    @property
    def half_width(self) -> float:
        return (self.high - self.low) / 2


def design(posts: Sequence[PeerPost]) -> tuple[np.ndarray, np.ndarray]:
    """(X, y): one row of indicators in FEATURES order per post, and its normalised log engagement."""
    rows = [format_features(p.text, hour=p.hour, parts=p.parts) for p in posts]
    x = np.array([[row[f] for f in FEATURES] for row in rows], dtype=float).reshape(len(posts), len(FEATURES))
    y = np.array([normalised_engagement(p.engagement, followers=p.author_followers, age_hours=p.age_hours)
                  for p in posts], dtype=float)
    return x, y


def estimate_lifts(posts: Sequence[PeerPost], *, min_support: int = MIN_SUPPORT,
                   min_age_hours: float = MIN_AGE_HOURS) -> list[FormatLift]:
    """The lift of every feature seen on at least ``min_support`` posts (and missing from as many), in FEATURES
    order; empty when there are too few posts to fit."""
    posts = [p for p in posts if p.age_hours >= min_age_hours]
    x_all, y = design(posts)
    counts = x_all.sum(axis=0)
    keep = [i for i, c in enumerate(counts) if min_support <= c <= len(posts) - min_support]
    n, k = len(posts), len(keep) + 1
    if not keep or n <= k + min_support:
        return []
    x = np.column_stack([np.ones(n), x_all[:, keep]])
    beta, cov = huber_fit(x, y)
    out = []
    for j, i in enumerate(keep, start=1):
        se = math.sqrt(max(float(cov[j, j]), 0.0))
        b = float(beta[j])
        out.append(FormatLift(FEATURES[i], b, b - Z95 * se, b + Z95 * se, int(counts[i])))
    return out


HUBER_K = 1.345  # 95% efficiency when the noise is normal


def huber_fit(x: np.ndarray, y: np.ndarray, *, iterations: int = 50) -> tuple[np.ndarray, np.ndarray]:
    """Huber regression by iteratively reweighted least squares, with its sandwich covariance.

    Why not plain least squares: a peer's post that went viral has an engagement tens of times its author's
    usual, and a handful of those would decide every lift. Huber's loss counts a residual beyond k robust
    standard deviations linearly, not squared, so an outlier still counts but cannot dominate."""
    n, p = x.shape
    beta = np.linalg.lstsq(x, y, rcond=None)[0]
    scale = 1.0
    for _ in range(iterations):
        resid = y - x @ beta
        scale = max(float(np.median(np.abs(resid - np.median(resid)))) / 0.6745, 1e-9)
        u = np.abs(resid) / scale
        w = np.where(u <= HUBER_K, 1.0, HUBER_K / np.maximum(u, 1e-12))
        new = np.linalg.lstsq(x * np.sqrt(w)[:, None], y * np.sqrt(w), rcond=None)[0]
        done = bool(np.max(np.abs(new - beta)) < 1e-8)
        beta = new
        if done:
            break
    u = (y - x @ beta) / scale
    psi = np.clip(u, -HUBER_K, HUBER_K)
    dpsi = (np.abs(u) <= HUBER_K).astype(float)
    # Sandwich A^-1 B A^-1 with A = X' diag(psi') X, B = X' diag(psi^2) X, scaled back and corrected for the
    # p fitted parameters; robust to unequal noise across formats as well as to outliers.
    a_inv = np.linalg.pinv((x.T * dpsi) @ x)
    b = (x.T * psi**2) @ x
    cov = scale**2 * n / (n - p) * (a_inv @ b @ a_inv)
    return beta, cov


def format_insights(posts: Sequence[PeerPost], *, day: str, now: datetime) -> FormatInsights | None:
    """The day's FormatInsights event, or None when the posts are too few to estimate any lift."""
    lifts = estimate_lifts(posts)
    if not lifts:
        return None
    return FormatInsights(
        day=day, posts=len(posts), computed_at=now,
        lifts=[FormatLiftContract(feature=f.feature, lift=round(f.lift, 4), low=round(f.low, 4),
                                  high=round(f.high, 4), support=f.support) for f in lifts])
