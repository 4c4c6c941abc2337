import numpy as np
import pytest

from bench.learner import XbotAgent, XbotConfig
from services.learner.drift import shrink_multipliers
from services.learner.posterior import AdditiveRewardModel


def test_the_agents_model_after_alarms_is_the_batch_model_with_the_shrink_multipliers():
    # Posts mature 3 decisions later with a provisional reward in between, and the effects change half-way:
    # whatever the order of provisional, matured and alarm, every post weighs w · γ^age · shrink^(later alarms).
    rng = np.random.default_rng(1)
    config = XbotConfig(change_threshold=4.0, change_drift=0.5, change_shrink=0.3, change_warmup=20)
    agent = XbotAgent((3, 2, 2, 24), rng, config)
    lift = np.array([1.5, 0.0, -1.0])
    pending = []
    for t in range(160):
        if t == 80:
            lift = -lift
        arms = agent.choose()
        views = float(200 * np.exp(lift[arms[0]] + rng.normal(0, 0.2)))
        counts = {"views": views, "likes": views / 20, "retweets": views / 100, "replies": views / 400}
        agent.observe_early(t, arms, 2.0, {k: 0.4 * v for k, v in counts.items()})
        pending.append((t, arms, counts))
        if len(pending) > 3:
            post, post_arms, post_counts = pending.pop(0)
            agent.observe_matured(post, post_arms, post_counts, {})
    assert agent.watch.alarms, "the change was not detected"
    batch = AdditiveRewardModel((3, 2, 2, 24), discount=config.discount, cyclic=(False, False, False, True))
    multipliers = shrink_multipliers(agent.decisions, agent.watch.alarms, config.change_shrink)
    for post, (arms, reward, weight) in agent.current.items():
        batch.add(arms, reward, weight * multipliers[post], age=agent.decisions - 1 - post)
    assert agent.model.xtwx == pytest.approx(batch.xtwx, abs=1e-9)
    assert agent.model.xtwy == pytest.approx(batch.xtwy, abs=1e-9)
    assert agent.model.wsum == pytest.approx(batch.wsum, abs=1e-9)


def test_the_follow_rate_model_forgets_a_changed_follow_effect_with_its_discount():
    """bench.learner.FollowRateModel (the followers routes' model): a Poisson fit of counts per view; with a
    discount the posts after a change outweigh the ones before it, without one the two halves cancel out."""
    from bench.learner import FollowRateModel

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
