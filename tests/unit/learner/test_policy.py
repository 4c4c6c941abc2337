import math
import tracemalloc
from collections import Counter

import numpy as np
import pytest

from libs.policy import (
    DIMENSIONS,
    argmax_probabilities,
    choice_propensity,
    marginal_propensities,
    sample_choice,
)


def _phi(x):
    return 0.5 * (1 + math.erf(x / math.sqrt(2)))


def test_two_arms_match_closed_form():
    # P(X1 > X2) = Φ((m1 - m2) / sqrt(v1 + v2)) = Φ(0.5 / sqrt(0.5))
    p = argmax_probabilities([0.5, 0.0], [0.25, 0.25])
    assert p[0] == pytest.approx(_phi(0.5 / math.sqrt(0.5)), abs=1e-4)
    assert p.sum() == pytest.approx(1.0)


def test_symmetric_arms_are_equally_likely_and_certain_arm_wins():
    assert argmax_probabilities([0.0] * 4, [1.0] * 4) == pytest.approx([0.25] * 4, abs=1e-4)
    p = argmax_probabilities([3.0, 0.0, 0.0], [1e-6, 1e-6, 1e-6])
    assert p[0] == pytest.approx(1.0, abs=1e-6)


def _model(temperature=0.5, floor=0.05):
    posteriors = {
        "content_type": {"a": {"mean": 0.3, "var": 0.04}, "b": {"mean": 0.0, "var": 0.09},
                         "c": {"mean": -0.2, "var": 0.25}},
        "topic": {"x": {"mean": 0.1, "var": 0.01}, "y": {"mean": 0.0, "var": 0.01}},
        "format": {"single": {"mean": -0.1, "var": 0.02}, "thread": {"mean": 0.1, "var": 0.02}},
        "hour": {str(h): {"mean": 0.05 * math.cos(2 * math.pi * (h - 18) / 24), "var": 0.02} for h in range(24)},
    }
    return {"posteriors": posteriors, "temperature": temperature, "floor": floor,
            "propensities": marginal_propensities(posteriors, temperature=temperature, floor=floor)}


def test_floor_keeps_every_arm_above_floor_share():
    model = _model(floor=0.05)
    for arms in model["propensities"].values():
        assert sum(arms.values()) == pytest.approx(1.0)
        assert min(arms.values()) >= 0.05 / len(arms) - 1e-12
    without = _model(floor=0.0)["propensities"]
    for dim, arms in without.items():
        for arm, p in arms.items():
            assert model["propensities"][dim][arm] == pytest.approx(0.95 * p + 0.05 / len(arms))


def test_a_lower_temperature_sharpens_the_policy():
    plain = _model(temperature=1.0, floor=0.0)["propensities"]["content_type"]["a"]
    sharp = _model(temperature=0.25, floor=0.0)["propensities"]["content_type"]["a"]
    hot = _model(temperature=4.0, floor=0.0)["propensities"]["content_type"]["a"]
    assert 1 / 3 < hot < plain < sharp


def test_published_propensities_match_sampling_frequencies():
    model = _model()
    rng = np.random.default_rng(1)
    draws = 12000
    marginal = {d: Counter() for d in DIMENSIONS}
    joint = Counter()
    reported = {}
    for _ in range(draws):
        choice, p = sample_choice(model, rng)
        key = tuple(str(choice[d]) for d in DIMENSIONS)
        joint[key] += 1
        reported[key] = p
        for d in DIMENSIONS:
            marginal[d][str(choice[d])] += 1
    for d in DIMENSIONS:
        for arm, p in model["propensities"][d].items():
            se = math.sqrt(p * (1 - p) / draws)
            assert abs(marginal[d][arm] / draws - p) < 4.5 * se + 1e-3, (d, arm)
    # Joint propensity of the most frequent choices (product of Thompson marginals + the floor's share).
    for key, count in joint.most_common(5):
        p = reported[key]
        assert abs(count / draws - p) < 4.5 * math.sqrt(p * (1 - p) / draws) + 1e-3
        assert p == pytest.approx(choice_propensity(model, dict(zip(DIMENSIONS, key))))


def test_every_choice_has_positive_propensity_and_all_choices_sum_to_one():
    model = _model()
    arms = [list(model["propensities"][d]) for d in DIMENSIONS]
    total = 0.0
    for a in arms[0]:
        for b in arms[1]:
            for f in arms[2]:
                for h in arms[3]:
                    p = choice_propensity(model, {"content_type": a, "topic": b, "format": f, "hour": h})
                    assert p > 0
                    total += p
    assert total == pytest.approx(1.0, abs=1e-9)


def test_sampling_ignores_key_order_in_the_payload():
    model = _model()
    shuffled = {**model, "posteriors": {d: dict(reversed(list(a.items()))) for d, a in model["posteriors"].items()}}
    first = [sample_choice(model, np.random.default_rng(7)) for _ in range(1)]
    second = [sample_choice(shuffled, np.random.default_rng(7)) for _ in range(1)]
    assert first == second


def test_the_floor_falls_from_its_start_towards_its_end_halfway_after_the_given_posts():
    from libs.policy import scheduled_floor

    assert scheduled_floor(0, start=0.05, end=0.01, posts=50) == pytest.approx(0.05)
    assert scheduled_floor(50, start=0.05, end=0.01, posts=50) == pytest.approx(0.03)
    assert scheduled_floor(450, start=0.05, end=0.01, posts=50) == pytest.approx(0.014)
    assert scheduled_floor(10_000, start=0.05, end=0.01, posts=50) > 0.01  # never below its end
    assert scheduled_floor(300, start=0.05, end=0.01, posts=0) == 0.05  # no schedule: the start stays


def test_a_model_carries_its_scheduled_floor_and_its_propensities_stay_exact():
    from libs.policy import scheduled_floor

    posteriors = {d: {str(a): {"mean": 0.1 * i, "var": 0.04} for i, a in enumerate(arms)}
                  for d, arms in {"content_type": ["a", "b"], "topic": ["x", "y", "z"], "format": ["single", "thread"],
                                  "hour": range(24)}.items()}
    floor = scheduled_floor(200, start=0.05, end=0.01, posts=50)
    model = {"propensities": marginal_propensities(posteriors, temperature=0.15, floor=floor), "floor": floor}
    rng = np.random.default_rng(3)
    draws = Counter()
    for _ in range(20_000):
        choice, p = sample_choice(model, rng)
        assert p == pytest.approx(choice_propensity(model, choice))
        draws[(choice["content_type"], choice["topic"])] += 1
    # the least likely pair is still reached at least as often as the floor's uniform share promises
    assert min(draws.values()) / 20_000 >= 0.8 * floor / 6


def test_the_row_by_row_quadrature_is_the_cubes_bit_for_bit_in_a_fraction_of_its_memory():
    from bench.policy import cube_argmax_probabilities

    rng = np.random.default_rng(5)
    for k in (2, 3, 7, 24, 40):
        means, variances = rng.normal(0.0, 0.5, k), rng.uniform(1e-4, 1.0, k)
        assert np.array_equal(argmax_probabilities(means, variances), cube_argmax_probabilities(means, variances))
    means, variances = rng.normal(0.0, 0.5, 40), rng.uniform(0.01, 0.5, 40)  # a reply draw's MAX_TARGETS
    peaks = []
    for form in (argmax_probabilities, cube_argmax_probabilities):
        tracemalloc.start()
        form(means, variances)
        peaks.append(tracemalloc.get_traced_memory()[1] / 2**20)
        tracemalloc.stop()
    assert peaks[0] < 16 < 200 < peaks[1], peaks  # MB: ~7 against ~250
