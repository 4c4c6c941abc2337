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


@pytest.mark.parametrize("draw", ["joint", "per_dimension"])
def test_the_optimistic_follow_learner_learns_what_brings_followers(draw):
    # The followers' optimistic reference (bench.learner.run_follow_bound) knows the reach of every choice from the
    # start, so its first posts are already the reach's best; learning the follow effects from each post's own
    # follows must take its regret for followers well below that (three seeds of the strong-effects setting).
    from bench.learner import FOLLOWER_SETTINGS, _optimistic_followers

    setting = FOLLOWER_SETTINGS[1]
    early, late = [], []
    for seed in range(setting.first_seed, setting.first_seed + 3):
        gaps, uniform = _optimistic_followers(setting, seed, 150, draw, 0.15)
        assert gaps.shape == uniform.shape == (150,)
        early.append(gaps[:10].sum() / uniform[:10].sum())
        late.append(gaps[100:].sum() / uniform[100:].sum())
    assert np.mean(late) < 0.5 * np.mean(early), (early, late)
