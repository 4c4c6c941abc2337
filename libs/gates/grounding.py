"""Grounding by meaning: a reply takes up the tweet's point when its embedding is close to the point's.

The tweet's point is its text without the parts that address bots (libs/gates/injection.py), so an injected
instruction cannot pull a reply toward itself; the reply is compared with the whole point and with each of the
point's sentences, and the best match counts (a reply often answers one sentence of a tweet).

Similarity scales differ between embedders, so the threshold is kept per ``Embedder.kind`` in the niche
(``replies.grounding_min_similarity``). When the embedder changes, recalibrate::

    python -m libs.gates.calibrate            # prints the threshold for the current embedder kind

:func:`calibrate` picks the highest threshold that keeps at most ``max_refused`` of good replies (to their own
tweets), and reports how many mismatched replies (to another tweet) it would still let through.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from libs.gates.injection import instruction_spans
from libs.text import Embedder
from libs.text.sentences import split_sentences


def tweet_point(tweet: str) -> list[str]:
    """The tweet's point, whole and by sentence, without any instruction it carries."""
    text = tweet
    for span in instruction_spans(tweet).spans:
        text = text.replace(span, " ")
    text = " ".join(text.split()) or tweet
    sentences = [s for s in split_sentences(text) if len(s.split()) >= 3]
    return [text, *sentences] if len(sentences) > 1 else [text]


def grounding_similarity(embedder: Embedder, reply: str, tweet: str) -> float:
    """Best cosine between the reply (whole or a sentence) and the tweet's point (whole or a sentence)."""
    replies = [reply, *[s for s in split_sentences(reply) if len(s.split()) >= 3]]
    points = tweet_point(tweet)
    vectors = embedder.embed([*replies, *points])
    sims = vectors[: len(replies)] @ vectors[len(replies):].T
    return float(np.max(sims))


@dataclass(frozen=True)
class Calibration:
    kind: str
    threshold: float
    good_refused: float
    mismatched_passed: float
    pairs: int


# Below the edge of the good replies' distribution: a threshold set right at the k-th lowest of a few dozen good
# replies refuses the next good reply that lands a little lower as often as not (seen when the embedder changed:
# 3 of 36 held-out good replies at 0.21-0.23 against a 0.23 edge).
MARGIN = 0.03


def calibrate(embedder: Embedder, pairs: Sequence[tuple[str, str]], *, max_refused: float = 0.02) -> Calibration:
    """Threshold for ``embedder`` from (tweet, good reply) pairs; mismatched = each reply against another tweet."""
    if len(pairs) < 10:
        raise ValueError("calibration needs at least 10 (tweet, reply) pairs")
    good = np.array([grounding_similarity(embedder, r, t) for t, r in pairs])
    shift = len(pairs) // 2  # pairs a reply with a tweet far from its own in the list
    bad = np.array([grounding_similarity(embedder, pairs[(i + shift) % len(pairs)][1], t)
                    for i, (t, _) in enumerate(pairs)])
    # The largest threshold refusing at most max_refused of the good replies, less the margin, rounded down to 0.01.
    k = int(np.floor(max_refused * len(good)))
    threshold = float(np.floor((np.sort(good)[k] - MARGIN) * 100) / 100)
    return Calibration(kind=embedder.kind, threshold=threshold, good_refused=float(np.mean(good < threshold)),
                       mismatched_passed=float(np.mean(bad >= threshold)), pairs=len(pairs))
