"""Format features of a post, shared by the learner (its predictors' hook style and hour buckets), the
harvester (what peers' viral posts teach) and the sandbox (whose audience rewards formats through them).

A post's format is what can be seen without knowing its subject: the style of its first line, its length, its
line structure, whether it states numbers, asks a question, lists items, is a thread, and the hour it went out.
:func:`format_features` turns a post into binary indicators, each against a stated baseline (a statement hook,
medium length, 10-14 h), so a lift of an indicator is "this format against the usual one".

Pure: no I/O, nothing but the standard library.
"""

from __future__ import annotations

import math
import re
from bisect import bisect_right
from collections.abc import Mapping, Sequence

HOUR_BUCKETS: tuple[tuple[int, int], ...] = ((0, 6), (6, 10), (10, 14), (14, 18), (18, 22), (22, 24))
BASELINE_HOURS = (10, 14)
HOOK_STYLES: tuple[str, ...] = ("question", "number", "myth", "how_to", "story", "statement")
BASELINE_HOOK = "statement"
SHORT_CHARS = 100  # a one-liner
LONG_CHARS = 160  # more than a sentence or two

FEATURES: tuple[str, ...] = (
    *(f"hook={h}" for h in HOOK_STYLES if h != BASELINE_HOOK),
    "length=short",
    "length=long",
    "multiline",
    "numbers",
    "question",
    "list",
    "thread",
    *(f"hours={a}-{b}" for a, b in HOUR_BUCKETS if (a, b) != BASELINE_HOURS),
)

# "1/5", "(1/5)", "🧵": how a thread's first tweet announces itself when only that tweet is seen.
_THREAD_MARK = re.compile(r"(?:\(?\b1/(\d{1,2})\)?|🧵)")
_LIST_LINE = re.compile(r"^\s*(?:[-•*–]|\d{1,2}[.)])\s+\S")
_DIGIT = re.compile(r"\d")


def hook_style(text: str) -> str:
    """The style of a post's first line."""
    first = text.strip().split("\n", 1)[0].strip().lower()
    first = _THREAD_MARK.sub("", first).strip()
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


def hour_bucket(hour: int) -> tuple[int, int]:
    for start, end in HOUR_BUCKETS:
        if start <= hour % 24 < end:
            return start, end
    raise ValueError(hour)


def thread_length(text: str) -> int:
    """Parts announced by a thread's first tweet ("1/5" -> 5, a bare 🧵 -> 2), 1 for a single post."""
    m = _THREAD_MARK.search(text)
    if m is None:
        return 1
    return max(2, int(m.group(1))) if m.group(1) else 2


def format_features(text: str, *, hour: int, parts: int | None = None) -> dict[str, float]:
    """The post's indicators (1.0 or 0.0 for every name of :data:`FEATURES`). ``parts`` is the thread's length
    when it is known (our own posts); a peer's is read from its first tweet."""
    body = _THREAD_MARK.sub("", text).strip()
    lines = [ln for ln in body.splitlines() if ln.strip()]
    n_parts = parts if parts is not None else thread_length(text)
    values = {name: 0.0 for name in FEATURES}
    hook = hook_style(text)
    if hook != BASELINE_HOOK:
        values[f"hook={hook}"] = 1.0
    if len(body) < SHORT_CHARS:
        values["length=short"] = 1.0
    elif len(body) >= LONG_CHARS:
        values["length=long"] = 1.0
    values["multiline"] = float(len(lines) >= 2)
    values["numbers"] = float(bool(_DIGIT.search(body)))
    values["question"] = float("?" in body)
    values["list"] = float(sum(1 for ln in lines if _LIST_LINE.match(ln)) >= 2)
    values["thread"] = float(n_parts >= 2)
    bucket = hour_bucket(hour)
    if bucket != BASELINE_HOURS:
        values[f"hours={bucket[0]}-{bucket[1]}"] = 1.0
    return values


def format_effect(effects: Mapping[str, float], text: str, *, hour: int, parts: int | None = None) -> float:
    """Sum of the effects (log scale) of a post's indicators."""
    return sum(effects.get(name, 0.0) * v for name, v in format_features(text, hour=hour, parts=parts).items())


# Share of a post's final engagement visible at an age (hours): most of it comes in the first day. An assumption
# about X in general (engagement rises fast, then saturates), used to compare posts read at different ages; the
# analysis fits an intercept, so only the curve's shape matters, and posts older than two days are all but final.
_AGE_POINTS = ((1.0, 0.25), (2.0, 0.40), (6.0, 0.60), (12.0, 0.75), (24.0, 0.88), (48.0, 0.97), (96.0, 0.995),
               (168.0, 1.0))
_LOG_AGES = tuple(math.log(a) for a, _ in _AGE_POINTS)


def visible_share(age_hours: float) -> float:
    """Share of final engagement visible at ``age_hours`` (floored at 15 minutes' worth)."""
    age = max(age_hours, 0.25)
    if age <= _AGE_POINTS[0][0]:
        return _AGE_POINTS[0][1] * age / _AGE_POINTS[0][0]
    if age >= _AGE_POINTS[-1][0]:
        return 1.0
    i = bisect_right(_LOG_AGES, math.log(age))
    (_, s0), (_, s1) = _AGE_POINTS[i - 1], _AGE_POINTS[i]
    return s0 + (s1 - s0) * (math.log(age) - _LOG_AGES[i - 1]) / (_LOG_AGES[i] - _LOG_AGES[i - 1])


def normalised_engagement(engagement: int, *, followers: int, age_hours: float) -> float:
    """log of engagement per follower, corrected to its final value: comparable across authors and ages.
    One is added to both counts so a post nobody engaged with (or a zero-follower author) stays finite."""
    return math.log((engagement + 1) / (max(followers, 0) + 1) / visible_share(age_hours))


# How a prompt names each feature: a paraphrased pattern, never a peer's words.
DESCRIPTIONS: dict[str, str] = {
    "hook=question": "posts opening with a question",
    "hook=number": "posts opening with a number",
    "hook=myth": "posts opening by naming a common belief to correct",
    "hook=how_to": "posts opening with a how-to promise",
    "hook=story": "posts opening with a first-person moment",
    "length=short": "short posts (under 100 characters)",
    "length=long": "longer posts (200+ characters)",
    "multiline": "posts broken into separate lines",
    "numbers": "posts that state a number",
    "question": "posts that ask the reader something",
    "list": "posts with a short list",
    "thread": "threads",
    **{f"hours={a}-{b}": f"posting between {a:02d}:00 and {b:02d}:00 UTC" for a, b in HOUR_BUCKETS},
}


def describe_patterns(lifts: Sequence[tuple[str, float, float, float]], *, limit: int = 4) -> list[str]:
    """The strongest patterns, as sentences for a prompt: features whose interval excludes no lift, largest
    effect first. ``lifts`` are (feature, lift, low, high) on the log scale."""
    sure = [(f, lift) for f, lift, low, high in lifts if (low > 0 or high < 0) and f in DESCRIPTIONS]
    sure.sort(key=lambda x: (-abs(x[1]), x[0]))
    out = []
    for feature, lift in sure[:limit]:
        change = math.exp(lift) - 1.0
        how = f"about {change:.0%} more" if change > 0 else f"about {-change:.0%} less"
        text = DESCRIPTIONS[feature]
        out.append(f"{text[0].upper()}{text[1:]}: {how} engagement")
    return out


__all__ = [
    "DESCRIPTIONS",
    "describe_patterns",
    "BASELINE_HOOK",
    "BASELINE_HOURS",
    "FEATURES",
    "HOOK_STYLES",
    "HOUR_BUCKETS",
    "format_effect",
    "format_features",
    "hook_style",
    "hour_bucket",
    "normalised_engagement",
    "thread_length",
    "visible_share",
]


# ---------------------------------------------------------------------- the learner's predictor features

# The format indicators the learner's predictors carry beside the choice and the hook (issue 24, item 3): the
# planner scores its drafts with them, and a draft differs from another of the same slot by its text only. Without
# them the predictor saw the hook and the length and nothing else of the text (bench/drafts.py).
PREDICTOR_FORMAT_FEATURES: tuple[str, ...] = ("length=short", "length=long", "multiline", "numbers", "question",
                                              "list")


def predictor_feature_names(content_types: Sequence[str], topics: Sequence[str], formats: Sequence[str]) -> list[str]:
    """Feature names of the learner's predictors (ModelUpdated.predictors[...]["features"])."""
    return (
        [f"type={t}" for t in content_types]
        + [f"topic={t}" for t in topics]
        + [f"format={f}" for f in formats]
        + [f"hours={a}-{b}" for a, b in HOUR_BUCKETS]
        + [f"hook={h}" for h in HOOK_STYLES]  # the text's (hook_style), which the peers' lifts share
        + ["length_k"]  # characters / 1000: threads are long
        + [f"fmt={f}" for f in PREDICTOR_FORMAT_FEATURES]
    )


def predictor_features(choice: Mapping[str, object], text: str, names: Sequence[str]) -> list[float]:
    """Feature row of one post in the order of ``names`` (unknown arms and names simply stay 0), a pure function
    of (choice, text): the learner fits with it and the planner scores drafts with it. The hook is the text's
    own (hook_style), not the one the planner asked for: the audience reads the text, a model does not always
    open as asked, and the peers' hook lifts (FormatInsights) are keyed by the same classifier."""
    index = {n: i for i, n in enumerate(names)}
    x = [0.0] * len(names)
    hook = hook_style(text)
    a, b = hour_bucket(int(str(choice["hour"])))
    for key in (f"type={choice['content_type']}", f"topic={choice['topic']}", f"format={choice['format']}",
                f"hours={a}-{b}", f"hook={hook}"):
        if key in index:
            x[index[key]] = 1.0
    if "length_k" in index:
        x[index["length_k"]] = len(text) / 1000.0
    if any(n.startswith("fmt=") for n in names):
        values = format_features(text, hour=BASELINE_HOURS[0])
        for f in PREDICTOR_FORMAT_FEATURES:
            if f"fmt={f}" in index:
                x[index[f"fmt={f}"]] = values[f]
    return x


def predicted_reward(predictor: Mapping[str, object], choice: Mapping[str, object], text: str) -> float | None:
    """A published linear predictor's prediction for one draft (intercept + coef · features); None when the
    predictor has nothing to predict with (no features, or fitted on no post)."""
    names = [str(n) for n in predictor.get("features") or []]  # type: ignore[attr-defined]
    coef = [float(c) for c in predictor.get("coef") or []]  # type: ignore[attr-defined]
    if not names or len(names) != len(coef) or not predictor.get("n"):
        return None
    x = predictor_features(choice, text, names)
    intercept = float(predictor.get("intercept") or 0.0)  # type: ignore[arg-type]
    return intercept + sum(c * v for c, v in zip(coef, x))
