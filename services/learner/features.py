"""Content features of a post for the predictors: one-hot type, topic, format, hour bucket and hook style, plus
length. The planner ranks drafts with the published coefficients, so the feature names travel with them and
:func:`feature_vector` must stay a pure function of (choice, text)."""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence

import numpy as np

# The text classifier and the hour buckets are shared with the harvester's format learning (libs.formats).
from libs.formats import HOOK_STYLES, HOUR_BUCKETS, hook_style
from libs.formats import hour_bucket as format_hour_bucket

__all__ = ["HOOK_STYLES", "HOUR_BUCKETS", "feature_names", "feature_vector", "hook_style", "hook_styles_of",
           "hour_bucket"]


def hour_bucket(hour: int) -> int:
    """Index of the hour's bucket in HOUR_BUCKETS."""
    return HOUR_BUCKETS.index(format_hour_bucket(hour))


def hook_styles_of(choices: Iterable[Mapping[str, object]]) -> list[str]:
    """The text classifier's hook styles, then those the planner asked for (its own configured names, which the
    learner does not know in advance), sorted so the feature order, and so a replayed model, is deterministic."""
    asked = {str(c["hook_style"]) for c in choices if c.get("hook_style")}
    return [*HOOK_STYLES, *sorted(asked - set(HOOK_STYLES))]


def feature_names(content_types: Sequence[str], topics: Sequence[str], formats: Sequence[str],
                  hook_styles: Sequence[str] = HOOK_STYLES) -> list[str]:
    return (
        [f"type={t}" for t in content_types]
        + [f"topic={t}" for t in topics]
        + [f"format={f}" for f in formats]
        + [f"hours={a}-{b}" for a, b in HOUR_BUCKETS]
        + [f"hook={h}" for h in hook_styles]
        + ["length_k"]  # characters / 1000: threads are long
    )


def feature_vector(choice: Mapping[str, object], text: str, names: Sequence[str]) -> np.ndarray:
    """Feature row of one post in the order of ``names`` (unknown arms simply set no one-hot)."""
    index = {n: i for i, n in enumerate(names)}
    x = np.zeros(len(names))
    hook = choice.get("hook_style") or hook_style(text)
    a, b = HOUR_BUCKETS[hour_bucket(int(str(choice["hour"])))]
    for key in (f"type={choice['content_type']}", f"topic={choice['topic']}", f"format={choice['format']}",
                f"hours={a}-{b}", f"hook={hook}"):
        if key in index:
            x[index[key]] = 1.0
    x[index["length_k"]] = len(text) / 1000.0
    return x
