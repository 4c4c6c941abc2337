import numpy as np
import pytest

from services.learner.drift import FallDetector
from services.learner.follows import FollowRateModel, SnapshotCredits, tilted
from services.learner.learning import LearnerConfig


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


def _follows_stream(model: FollowRateModel, *, swap_at: int | None, posts: int = 600, seed: int = 7) -> None:
    """Posts on arms of (2, 3), nine in ten on the first dimension's arm 0 (a policy exploiting it), which brings
    e² times the follows of arm 1 until ``swap_at``, then the other way round. Tested from the 101st post on, as
    the learner does. (The watch is one-sided: it sees a change where the exploited arms fall.)"""
    rng = np.random.default_rng(seed)
    effect = np.array([1.0, -1.0])
    for t in range(posts):
        if t == swap_at:
            effect = -effect
        arms = (int(rng.random() < 0.1), int(rng.integers(3)))
        count = float(rng.poisson(500.0 * 0.002 * np.exp(effect[arms[0]])))
        model.add(arms, count, 500.0, t, test=t >= 100)


def _watched() -> FollowRateModel:
    """Watched as the learner's defaults watch the posts' model (LearnerConfig.follow_model)."""
    return FollowRateModel((2, 3), discount=LearnerConfig.follow_discount, detector=FallDetector(
        drift=LearnerConfig.change_drift, threshold=LearnerConfig.change_threshold), shrink=LearnerConfig.change_shrink)


def test_the_follow_watch_sees_what_brings_followers_change_and_forgets_what_came_before():
    watched, discounted = _watched(), FollowRateModel((2, 3), discount=LearnerConfig.follow_discount)
    _follows_stream(watched, swap_at=300, posts=340)
    _follows_stream(discounted, swap_at=300, posts=340)
    assert watched.alarms and 300 <= watched.alarms[0] < 340  # within 40 posts of the change, none before it
    now = watched.posterior(340)[0][0]
    assert now[1] - now[0] > 0.4  # the new effect leads, 40 posts after the change (2.0 apart in truth)
    before = discounted.posterior(340)[0][0]
    assert before[0] > before[1]  # γ alone still holds the old one


def test_the_follow_watch_raises_no_alarm_while_nothing_changes():
    for seed in (1, 2, 3):
        model = _watched()
        _follows_stream(model, swap_at=None, seed=seed)
        assert model.alarms == []


def test_a_follow_at_one_hour_teaches_about_the_next_on_a_daily_curve():
    """Hours on a cycle share a curve (posterior.daily_prior): follows at 9 h lift 10 h too; as independent arms
    they do not."""
    curve, independent = FollowRateModel((24,), cyclic=(True,)), FollowRateModel((24,))
    for t in range(200):
        hour = t % 24
        for model in (curve, independent):
            model.add((hour,), 3.0 if hour == 9 else 1.0, 500.0, t)
    on_curve, apart = curve.posterior(200)[0][0], independent.posterior(200)[0][0]
    assert on_curve[10] > on_curve[20] + 0.2
    assert abs(apart[10] - apart[20]) < 0.05


def test_a_snapshots_credit_is_shared_again_by_the_posts_follow_rates():
    """Each snapshot's posts keep their sum and share it by the scraper's share × rate; a reply (no rate) keeps
    its own; without rates every credit is the scraper's."""
    credits = SnapshotCredits()
    for item, followers in (("a", 1.0), ("b", 1.0), ("reply", 2.0)):
        credits.add("s1", item, followers)
    credits.add("s2", "a", 3.0)  # alone in its snapshot: all of it stays a's
    credits.add("s3", "a", -0.5)  # a lost follower is shared the same way
    credits.add("s3", "b", -0.5)
    rates = {"a": 3.0, "b": 1.0}
    shared = credits.credits(rates.get)
    assert shared["a"] == pytest.approx(2.0 * 0.75 + 3.0 - 1.0 * 0.75)
    assert shared["b"] == pytest.approx(2.0 * 0.25 - 1.0 * 0.25)
    assert shared["reply"] == pytest.approx(2.0)
    assert credits.credits(lambda item: None) == pytest.approx({"a": 3.5, "b": 0.5, "reply": 2.0})
    assert SnapshotCredits().credits(rates.get) == {}


def _paired_snapshots(steps: int) -> tuple[float, float]:
    """Posts go out in pairs whose followers reach the account in one snapshot, shared half and half by the
    scraper; arm 0 converts three times as well as arm 1. (The fitted gap between the arms' effects after
    ``steps`` EM steps of sharing the snapshots again, and the largest change of a snapshot's sum.)"""
    rng = np.random.default_rng(11)
    model, credits, chosen, sums = FollowRateModel((2,)), SnapshotCredits(), {}, {}
    for pair in range(150):
        arms = [int(rng.integers(2)) for _ in range(2)]
        follows = float(sum(rng.poisson(1.5 if a == 0 else 0.5) for a in arms))
        for k, a in enumerate(arms):
            item = f"p{2 * pair + k}"
            chosen[item] = (a,)
            model.add((a,), follows / 2, 1000.0, 2 * pair + k)
            credits.add(f"s{pair}", item, follows / 2)
        sums[f"s{pair}"] = (f"p{2 * pair}", f"p{2 * pair + 1}", follows)
    items = [f"p{i}" for i in range(300)]
    follows = credits.refitted(model, 300, items, chosen.get, steps=steps) if steps else list(model.follows)
    assert follows is not None
    by_item = dict(zip(items, follows))
    kept = max(abs(by_item[a] + by_item[b] - total) for a, b, total in sums.values())
    means = model.posterior(300, follows)[0][0]
    return float(means[0] - means[1]), kept


def test_each_em_step_of_sharing_the_snapshots_again_brings_the_rates_nearer_the_truth():
    """The scraper's halves pull the two arms' rates together (log 3 = 1.10 apart in truth); each step shares the
    snapshots by the rates the step before fitted, and every snapshot keeps its sum."""
    plain, (one, kept_one), (three, kept_three) = _paired_snapshots(0)[0], _paired_snapshots(1), _paired_snapshots(3)
    assert plain < one < three < 1.25
    assert three > plain + 0.3
    assert max(kept_one, kept_three) < 1e-9
    assert SnapshotCredits().refitted(FollowRateModel((2,)), 0, [], lambda item: None) is None
