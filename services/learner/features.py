"""Content features of a post for the predictors: one-hot type, topic, format, hour bucket and hook style, plus
length. The planner ranks drafts with the published coefficients, so the feature names travel with them and
:func:`feature_vector` must stay a pure function of (choice, text)."""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence

import numpy as np

HOUR_BUCKETS: tuple[tuple[int, int], ...] = ((0, 6), (6, 10), (10, 14), (14, 18), (18, 22), (22, 24))
HOOK_STYLES: tuple[str, ...] = ("question", "number", "myth", "how_to", "story", "statement")


def hook_style(text: str) -> str:
    """The style of a post's first line, when the planner did not say which hook it asked for."""
    first = text.strip().split("\n", 1)[0].strip().lower()
    if first.endswith("?"):
        return "question"
    if re.match(r"^\d", first):
        return "number"
    if "myth" in first or "wrong" in first or "not true" in first:
        return "myth"
    if first.startswith(("how to", "how i", "here's how", "the way to")):
        return "how_to"
    if first.startswith(("i ", "when i", "years ago", "my ")):
        return "story"
    return "statement"


def hour_bucket(hour: int) -> int:
    for i, (start, end) in enumerate(HOUR_BUCKETS):
        if start <= hour % 24 < end:
            return i
    raise ValueError(hour)


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
    a, b = HOUR_BUCKETS[hour_bucket(int(choice["hour"]))]
    for key in (f"type={choice['content_type']}", f"topic={choice['topic']}", f"format={choice['format']}",
                f"hours={a}-{b}", f"hook={hook}"):
        if key in index:
            x[index[key]] = 1.0
    x[index["length_k"]] = len(text) / 1000.0
    return x
