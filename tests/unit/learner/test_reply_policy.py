"""The reply policy of libs.policy: exact propensities, the floor, the bootstrap before any reply model."""

import itertools
import math
import random
from collections import Counter

import pytest

from libs.policy import (
    REPLY_BOOTSTRAP_FLOOR,
    TARGET_BANDS,
    band_arms,
    band_of,
    reply_marginals,
    reply_propensity,
    sample_reply,
    shortlist,
    target_bands,
)

STYLES = ("add_insight", "reframe", "one_sharp_line")
VOICES = ("owner", "coach")
DIMS = {"reply_style": STYLES, "voice": VOICES}


def _model(floor=0.1, temperature=0.5):
    posteriors = {
        "reply_style": {"add_insight": {"mean": 0.3, "var": 0.02}, "reframe": {"mean": 0.0, "var": 0.05},
                        "one_sharp_line": {"mean": -0.2, "var": 0.1}},
        "voice": {"owner": {"mean": 0.05, "var": 0.03}, "coach": {"mean": -0.05, "var": 0.03}},
        "author_band": {a: {"mean": 0.1 * i - 0.2, "var": 0.04} for i, a in enumerate(band_arms("author_band"))},
        "age_band": {a: {"mean": -0.1 * i + 0.15, "var": 0.04} for i, a in enumerate(band_arms("age_band"))},
    }
    return {"posteriors": posteriors, "temperature": temperature, "floor": floor,
            "propensities": reply_marginals(posteriors, temperature=temperature, floor=floor)}


CANDIDATES = [
    target_bands(author_followers=500, age_hours=0.5, velocity=3, relevance=0.9),
    target_bands(author_followers=250_000, age_hours=2, velocity=40, relevance=0.5),
    target_bands(author_followers=2_000_000, age_hours=10, velocity=500, relevance=0.3),
]


def test_bands_cover_their_ranges():
    assert band_of("author_band", 999) == "<1k" and band_of("author_band", 1000) == "1k-10k"
    assert band_of("author_band", 5_000_000) == ">=1M"
    assert band_of("relevance_band", 0.85) == ">=0.8"
    assert set(CANDIDATES[0]) == set(TARGET_BANDS)
    assert all(CANDIDATES[0][d] in band_arms(d) for d in TARGET_BANDS)


@pytest.mark.parametrize("model", [None, _model()], ids=["bootstrap", "model"])
def test_propensities_are_the_exact_probabilities_of_the_draw(model):
    # Over every joint action the logged propensities sum to one, and each is the frequency of its draw.
    actions = list(itertools.product(STYLES, VOICES, range(len(CANDIDATES))))
    exact = {(s, v, i): reply_propensity(model, {"reply_style": s, "voice": v}, CANDIDATES, i, dimensions=DIMS,
                                         fallback_best=1) for s, v, i in actions}
    assert sum(exact.values()) == pytest.approx(1.0, abs=1e-9)
    rng = random.Random(7)
    draws = 3000
    seen = Counter()
    for _ in range(draws):
        choice, index, p = sample_reply(model, rng, dimensions=DIMS, candidates=CANDIDATES, fallback_best=1)
        key = (choice["reply_style"], choice["voice"], index)
        assert p == pytest.approx(exact[key], rel=1e-12)
        seen[key] += 1
    for key, p in exact.items():
        assert abs(seen[key] / draws - p) < 4.5 * math.sqrt(p * (1 - p) / draws) + 1e-3, key


def test_the_floor_keeps_every_joint_action_reachable():
    model = _model(floor=0.1, temperature=0.05)  # sharp: the Thompson part alone would nearly never explore
    low = 0.1 / (len(STYLES) * len(VOICES) * len(CANDIDATES))
    for s, v, i in itertools.product(STYLES, VOICES, range(len(CANDIDATES))):
        assert reply_propensity(model, {"reply_style": s, "voice": v}, CANDIDATES, i, dimensions=DIMS) >= low


def test_learned_target_values_steer_the_draw():
    # The model ranks the targets by the sums of their band effects; before any model the fallback's choice wins.
    model = _model()
    p = [reply_propensity(model, {"reply_style": "add_insight", "voice": "owner"}, CANDIDATES, i, dimensions=DIMS)
         for i in range(3)]
    assert p[1] > p[2] > p[0]  # 100k-1M & 1-3 h: +0.1 +0.05; >=1M & 8h+: +0.2 -0.15; <1k & 0-1h: -0.2 +0.15
    boot = [reply_propensity(None, {"reply_style": "add_insight", "voice": "owner"}, CANDIDATES, i,
                             dimensions=DIMS, fallback_best=0) for i in range(3)]
    per_target = 1 / (len(STYLES) * len(VOICES))
    assert boot[0] == pytest.approx(((1 - REPLY_BOOTSTRAP_FLOOR) + REPLY_BOOTSTRAP_FLOOR / 3) * per_target)
    assert boot[1] == pytest.approx(REPLY_BOOTSTRAP_FLOOR / 3 * per_target)


def test_shortlist_is_deterministic_and_keeps_the_best():
    model = _model()
    many = CANDIDATES * 20
    picked = shortlist(model, many, limit=10)
    assert picked == shortlist(model, many, limit=10) and len(picked) == 10
    assert all(many[i] == CANDIDATES[1] for i in picked)  # the best-valued combination first
