import numpy as np
import pytest

from services.learner.follows import FollowRateModel, tilted


def test_the_follow_rate_model_forgets_a_changed_follow_effect_with_its_discount():
    """A Poisson fit of counts per view; with a discount the posts after a change outweigh the ones before it,
    without one the two halves cancel out."""
    rng = np.random.default_rng(4)
    forgets, remembers = FollowRateModel((2, 3), discount=0.98), FollowRateModel((2, 3))
    effect = np.array([0.4, -0.4])
    for t in range(600):
        if t == 300:
            effect = -effect
        arms = (int(rng.integers(2)), int(rng.integers(3)))
        views = 2000.0
        count = float(rng.poisson(views * 0.002 * np.exp(effect[arms[0]])))
        forgets.add(arms, count, views, t)
        remembers.add(arms, count, views, t)
    means, variances = forgets.posterior(600)
    assert means[0][1] - means[0][0] == pytest.approx(0.8, abs=0.2)  # the effect as it is now
    assert abs(means[1]).max() < 0.15  # the dimension without effects stays near 0
    old_and_new = remembers.posterior(600)[0][0]
    assert abs(old_and_new[1] - old_and_new[0]) < 0.2
    assert variances[0][0] > remembers.posterior(600)[1][0][0]  # fewer posts' worth of evidence


def test_the_follow_effects_are_added_to_the_reward_posterior_at_their_share():
    means, variances = [np.array([0.1, -0.1])], [np.array([0.04, 0.04])]
    assert tilted(means, variances, None) == (means, variances)  # no follow model yet: the reward's own posterior
    (m,), (v,) = tilted(means, variances, ([np.array([0.4, -0.4])], [np.array([0.2, 0.2])]), share=0.5)
    assert m == pytest.approx([0.3, -0.3])
    assert v == pytest.approx([0.04 + 0.25 * 0.2] * 2)
