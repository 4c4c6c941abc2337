"""The similarity thresholds configured for each embedder kind, checked on the held-out part of the project's
own near-duplicate, relevance and grounding data (bench/similarity_corpus.py; bench/embedders.py calibrates them
on the other part). The figures are those the README's embedder section reports."""

from __future__ import annotations

import numpy as np
import pytest

from bench.embedders import configured, scores
from libs.text import EMBEDDER_KINDS, Embedder


def rates(s: dict, threshold: float) -> tuple[float, float]:
    flagged = s["score"] >= threshold
    return float(flagged[s["positive"]].mean()), float(flagged[~s["positive"]].mean())


@pytest.fixture(scope="module")
def held_out(model_embedder: Embedder, lexical_embedder: Embedder) -> dict[str, dict]:
    return {e.kind: scores(e.embed, held_out_only=True) for e in (model_embedder, lexical_embedder)}


def test_the_held_out_part_has_both_classes_of_every_task(held_out) -> None:
    for by_task in held_out.values():
        for s in by_task.values():
            assert s["held_out"].all() and s["positive"].any() and (~s["positive"]).any()


def test_every_kind_has_every_threshold() -> None:
    for kind in EMBEDDER_KINDS:
        assert all(-1 <= t <= 1 for t in configured(kind).values())


def test_the_model_separates_niche_from_off_topic_tweets_completely(held_out) -> None:
    tpr, fpr = rates(held_out["minilm_int8"]["relevance"], configured("minilm_int8")["relevance"])
    assert (tpr, fpr) == (1.0, 0.0)


def test_the_model_catches_most_repeated_facts_and_few_new_posts(held_out) -> None:
    tpr, fpr = rates(held_out["minilm_int8"]["near_duplicate"], configured("minilm_int8")["near_duplicate"])
    assert tpr >= 0.7 and fpr <= 0.04


def test_the_model_tells_a_reply_to_the_tweet_from_a_stray_one(held_out) -> None:
    # The reply gate's threshold is set by its own rule (libs.gates.calibrate: at most 2% of good replies refused
    # on the ordinary-replies corpus), so on this corpus it keeps every good reply and lets a third of the stray
    # ones through: grounding errs towards answering; the other reply gates and the review are the safety net.
    tpr, fpr = rates(held_out["minilm_int8"]["grounding"], configured("minilm_int8")["grounding"])
    assert tpr >= 0.95 and fpr <= 0.4


def test_the_lexical_fallback_is_coarser_on_relevance(held_out) -> None:
    # Why the model is worth its memory: at its own threshold the fallback lets off-topic tweets through.
    model = rates(held_out["minilm_int8"]["relevance"], configured("minilm_int8")["relevance"])
    lexical = rates(held_out["lexical"]["relevance"], configured("lexical")["relevance"])
    assert lexical[1] > 0.2 > model[1]
    assert np.isclose(lexical[0], 1.0)


# ---------------------------------------------------------------- the calibration rules (bench/embedders.py)

def test_near_duplicate_rule_allows_at_most_the_share_of_false_positives() -> None:
    from bench.embedders import lowest_with_false_positives_at_most

    negatives = np.linspace(0.0, 0.99, 100)  # 100 negatives, the highest at 0.99
    score = np.concatenate([negatives, [0.995]])
    positive = np.array([False] * 100 + [True])
    t = lowest_with_false_positives_at_most(score, positive, 0.01)
    assert (score[~positive] >= t).sum() == 1 and t == pytest.approx(0.99)  # just above the 2nd highest
    assert lowest_with_false_positives_at_most(score, positive, 0.0) == pytest.approx(1.0)


def test_balanced_rule_takes_the_middle_of_a_clean_gap() -> None:
    from bench.embedders import auc, best_balanced

    score = np.array([0.1, 0.2, 0.5, 0.6])
    positive = np.array([False, False, True, True])
    assert best_balanced(score, positive) == pytest.approx(0.35)
    assert auc(score[positive], score[~positive]) == 1.0
    assert auc(np.array([0.5]), np.array([0.5])) == 0.5
