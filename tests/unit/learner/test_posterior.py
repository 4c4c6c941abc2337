import numpy as np
import pytest

from services.learner.posterior import AdditiveRewardModel


def _fixed(arm_counts, **kw):
    # σ² pinned at 1 (huge prior weight) and fixed effect scale: the conjugate case that can be done by hand.
    return AdditiveRewardModel(arm_counts, effect_sd=1.0, intercept_sd=1.0, noise_sd=1.0, noise_prior_weight=1e12,
                               empirical_bayes=False, **kw)


def test_single_observation_hand_computed():
    model = _fixed((2,), discount=1.0)
    model.add((0,), 3.0)
    post = model.posterior()
    # x = [1, 1, 0]; precision I + xxᵀ; mean = 3x / (1 + 2) = [1, 1, 0]; centred effects ±0.5, level 1 + 0.5.
    assert post.means[0] == pytest.approx([0.5, -0.5])
    assert post.intercept == pytest.approx(1.5)
    # cov = I - xxᵀ/3: effects block diag(2/3, 1); var((b0 - b1)/2) = (2/3 + 1)/4
    assert post.variances[0] == pytest.approx([5 / 12, 5 / 12])
    assert post.counts[0] == pytest.approx([1.0, 0.0])


def test_discounting_post_by_post_equals_batch_ages():
    rng = np.random.default_rng(0)
    data = [((int(rng.integers(3)), int(rng.integers(4))), float(rng.normal())) for _ in range(30)]
    online = AdditiveRewardModel((3, 4), discount=0.9)
    for arms, r in data:
        online.decay()
        online.add(arms, r)
    batch = AdditiveRewardModel((3, 4), discount=0.9)
    for i, (arms, r) in enumerate(data):
        batch.add(arms, r, age=len(data) - 1 - i)
    a, b = online.posterior(), batch.posterior()
    for m1, m2 in zip(a.means, b.means):
        assert m1 == pytest.approx(m2, abs=1e-10)
    assert online.wsum == pytest.approx(sum(0.9**k for k in range(30)))


def test_negative_weight_removes_a_provisional_observation():
    model = AdditiveRewardModel((2, 3), cyclic=(False, True))
    model.add((1, 2), 0.7)
    before = model.posterior()
    model.add((0, 1), 2.0, 0.4)
    model.add((0, 1), 2.0, -0.4)
    after = model.posterior()
    for m1, m2 in zip(before.means, after.means):
        assert m1 == pytest.approx(m2, abs=1e-12)


def test_learns_the_better_arm_and_shrinks_its_uncertainty():
    rng = np.random.default_rng(1)
    model = AdditiveRewardModel((3, 24), discount=1.0, cyclic=(False, True))
    truth = np.array([0.4, 0.0, -0.4])
    hours = 0.3 * np.cos(2 * np.pi * (np.arange(24) - 18) / 24)
    for _ in range(600):
        a, h = int(rng.integers(3)), int(rng.integers(24))
        model.add((a, h), truth[a] + hours[h] + rng.normal(0, 0.5))
    post = model.posterior()
    assert int(np.argmax(post.means[0])) == 0
    assert abs(int(np.argmax(post.means[1])) - 18) <= 2
    assert post.noise_var == pytest.approx(0.25, rel=0.25)
    assert np.all(post.variances[0] < 0.01)
