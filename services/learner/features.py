"""Content features of a post for the predictors: one-hot type, topic, format, hour bucket and hook style,
length, and the text's format indicators (libs.formats). The planner ranks drafts with the published
coefficients, so the feature names travel with them and :func:`feature_vector` must stay a pure function of
(choice, text)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np

# The text classifier and the hour buckets are shared with the harvester's format learning (libs.formats).
from libs.formats import (
    BASELINE_HOOK, HOOK_STYLES, HOUR_BUCKETS, hook_style, predictor_feature_names, predictor_features,
)
from libs.formats import hour_bucket as format_hour_bucket

__all__ = ["HOOK_STYLES", "HOUR_BUCKETS", "feature_names", "feature_vector", "hook_style", "hour_bucket",
           "peer_prior"]


def hour_bucket(hour: int) -> int:
    """Index of the hour's bucket in HOUR_BUCKETS."""
    return HOUR_BUCKETS.index(format_hour_bucket(hour))


def feature_names(content_types: Sequence[str], topics: Sequence[str], formats: Sequence[str]) -> list[str]:
    return predictor_feature_names(content_types, topics, formats)


def feature_vector(choice: Mapping[str, object], text: str, names: Sequence[str]) -> np.ndarray:
    """Feature row of one post in the order of ``names`` (libs.formats.predictor_features, which the planner's
    draft scoring shares)."""
    return np.array(predictor_features(choice, text, names), dtype=float)


def peer_prior(names: Sequence[str], lifts: Mapping[str, float]) -> dict[str, float]:
    """The predictor's text features the peers' format lifts (FormatInsights, keyed by libs.formats.FEATURES)
    speak for, and the coefficient each starts from: a format indicator its lift, a hook style its lift against
    the baseline hook (the baseline's 0). The choice's features (type, topic, format, hour) are left to the
    account's own posts: the bandit has the peers' lifts for those as its own priors."""
    if not lifts:
        return {}
    out: dict[str, float] = {}
    for name in names:
        key = name.removeprefix("fmt=")
        if name.startswith("fmt=") and key in lifts:
            out[name] = float(lifts[key])
        elif name.startswith("hook=") and (name in lifts or name == f"hook={BASELINE_HOOK}"):
            out[name] = float(lifts.get(name, 0.0))
    return out
