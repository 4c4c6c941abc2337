import json

import numpy as np
import pytest

from services.learner.drift import ChangeWatch, FallDetector, change_points, shrink_multipliers
from services.learner.learning import Learner, LearnerConfig
from services.learner.posterior import AdditiveRewardModel
from libs.policy import sample_choice


def test_the_cusum_adds_the_fall_beyond_the_drift_and_alarms_past_the_threshold():
    detector = FallDetector(drift=0.5, threshold=8.0)
    # z = -2.5 adds 2.0 a post: 2, 4, 6, 8 (not above 8), 10 -> alarm on the fifth, then it starts again.
    assert [detector.observe(-2.5) for _ in range(5)] == [False] * 4 + [True]
    assert detector.statistic == 0.0
    assert detector.observe(-2.5) is False and detector.statistic == pytest.approx(2.0)


def test_residuals_at_or_above_the_prediction_never_alarm_and_pull_the_statistic_back():
    detector = FallDetector(drift=0.5, threshold=8.0)
    assert not any(detector.observe(z) for z in [0.0, 1.0, -0.5, 3.0] * 500)
    assert detector.statistic == 0.0
    detector.observe(-2.0)
    detector.observe(1.0)  # 1.5, then max(0, 1.5 - 1.0 - 0.5)
    assert detector.statistic == pytest.approx(0.0)
    detector.observe(-3.0)
    detector.observe(-0.5)  # 2.5, then 2.5 + 0.5 - 0.5
    assert detector.statistic == pytest.approx(2.5)


def test_one_dead_post_counts_only_up_to_the_clip():
    detector = FallDetector(drift=0.5, threshold=8.0, clip=3.0)
    assert detector.observe(-100.0) is False
    assert detector.statistic == pytest.approx(2.5)
    assert detector.observe(float("nan")) is False and detector.statistic == pytest.approx(2.5)


def test_shrink_multipliers_count_the_alarms_raised_by_later_decisions():
    # Alarms raised by decisions 3 and 5: decisions 0-2 are shrunk twice, 3-4 once, 5 and later not at all.
    assert shrink_multipliers(7, [3, 5], 0.5) == pytest.approx([0.25, 0.25, 0.25, 0.5, 0.5, 1.0, 1.0])
    assert shrink_multipliers(4, [], 0.5) == pytest.approx([1.0] * 4)


def _stream(seed, posts, change_at=None):
    """(index, arms, reward, weight) of a two-dimension bandit whose effects are redrawn at ``change_at``, the
    choices mostly the best arms of the current effects, as an exploiting policy's are."""
    rng = np.random.default_rng(seed)
    effects = [rng.normal(0, 0.6, 4), rng.normal(0, 0.6, 3)]
    old_best = tuple(int(np.argmax(e)) for e in effects)
    rows = []
    for t in range(posts):
        if t == change_at:
            effects = [rng.normal(0, 0.6, 4), rng.normal(0, 0.6, 3)]
            effects[0][old_best[0]] = effects[0].min() - 0.5  # what was best is now the worst
            effects[1][old_best[1]] = effects[1].min() - 0.5
        explore = rng.random() < 0.2
        arms = tuple(int(rng.integers(len(e))) if explore else old_best[i] for i, e in enumerate(effects))
        rows.append((t, arms, float(sum(e[a] for e, a in zip(effects, arms)) + rng.normal(0, 0.5)), 1.0))
    return rows


def _detector():
    return FallDetector(drift=0.5, threshold=8.0)


def test_a_stationary_stream_raises_no_alarm_and_a_change_raises_one_soon_after_it():
    for seed in range(5):
        assert change_points(AdditiveRewardModel((4, 3), discount=0.993), _detector(), _stream(seed, 300),
                             shrink=0.2) == []
        alarms = change_points(AdditiveRewardModel((4, 3), discount=0.993), _detector(),
                               _stream(seed, 300, change_at=150), shrink=0.2)
        assert alarms and 150 <= alarms[0] <= 175


def test_the_watchs_shrunk_model_equals_a_batch_model_weighted_by_the_multipliers():
    # What the post-by-post learner does at an alarm (scale every earlier post) and what the batch build does
    # (weight each post by the multipliers) give the same model.
    rows = _stream(3, 300, change_at=120)
    watch = ChangeWatch(AdditiveRewardModel((4, 3), discount=0.99), _detector(), shrink=0.3)
    for row in rows:
        watch.observe(*row)
    assert watch.alarms
    batch = AdditiveRewardModel((4, 3), discount=0.99)
    multipliers = shrink_multipliers(len(rows), watch.alarms, 0.3)
    for i, arms, reward, weight in rows:
        batch.add(arms, reward, weight * multipliers[i], age=len(rows) - 1 - i)
    assert watch.model.xtwx == pytest.approx(batch.xtwx)
    assert watch.model.xtwy == pytest.approx(batch.xtwy)
    assert watch.model.wsum == pytest.approx(batch.wsum)


TYPES, TOPICS = ("tip", "story", "myth"), ("sleep", "stress")


def _history(seed=0, posts=240, change_at=120):
    """Posts drawn by the learner's own policy (rebuilt every 10 posts): 'tip' does best until ``change_at``,
    then 'story' does and 'tip' does worst."""
    rng = np.random.default_rng(seed)
    learner = Learner(_config(change_threshold=0.0))
    model = learner.build_model("v0").payload()
    events = []
    for t in range(posts):
        if t % 10 == 0 and t:
            model = _replay(events, learner.config).build_model("v").payload()
        choice, p = sample_choice(model, rng)
        best = "tip" if t < change_at else "story"
        lift = {best: 1.0, "tip": -0.8}.get(choice["content_type"], 0.0) if t >= change_at else (
            1.0 if choice["content_type"] == best else 0.0)
        views = int(200 * np.exp(lift + rng.normal(0, 0.3)))
        events.append(("decision", f"c{t}", choice, p))
        events.append(("metrics", f"c{t}", 24.0, {"views": views, "likes": views // 20, "retweets": views // 100,
                                                  "replies": views // 400}))
    return events


def _config(**kw):
    return LearnerConfig(TYPES, TOPICS, objective="engagement", **kw)


def _replay(events, config):
    learner = Learner(config)
    for e in events:
        if e[0] == "decision":
            learner.observe_decision(e[1], e[2], e[3], "v0")
        else:
            learner.observe_metrics(e[1], e[2], e[3])
    return learner


def test_the_learner_detects_the_change_and_forgets_what_was_best_before_it():
    events = _history()
    on = _replay(events, _config(change_threshold=8.0)).build_model("v1")
    off = _replay(events, _config(change_threshold=0.0)).build_model("v1")
    assert on.evaluation["changes_detected"] >= 1
    assert on.evaluation["last_change_post"] >= 120  # none while 'tip' stayed best
    assert "changes_detected" not in off.evaluation
    mean = {k: {a: p[a]["mean"] for a in p} for k, p in (("on", on.posteriors["content_type"]),
                                                          ("off", off.posteriors["content_type"]))}
    # Both now rank 'story' first; forgetting the 120 posts before the change leaves far less of 'tip's old lead.
    assert mean["on"]["story"] > mean["on"]["tip"]
    assert mean["on"]["story"] - mean["on"]["tip"] > mean["off"]["story"] - mean["off"]["tip"] + 0.2


def test_without_an_alarm_the_model_is_the_one_without_detection_bit_for_bit():
    events = _history(posts=240, change_at=1000)
    on = _replay(events, _config(change_threshold=8.0)).build_model("v1").payload()
    off = _replay(events, _config(change_threshold=0.0)).build_model("v1").payload()
    assert "changes_detected" not in on["evaluation"]
    assert json.dumps(on, sort_keys=True) == json.dumps(off, sort_keys=True)


def test_posts_of_the_warm_up_join_the_model_but_are_not_tested():
    rows = _stream(2, 300, change_at=60)
    assert change_points(AdditiveRewardModel((4, 3), discount=0.993), _detector(), rows, shrink=0.2)
    late = change_points(AdditiveRewardModel((4, 3), discount=0.993), _detector(), rows, shrink=0.2, warmup=150)
    assert all(j >= 150 for j in late)


def test_the_engagement_predictor_forgets_at_a_detected_change_as_the_policy_does():
    """The predictor ranks drafts for the audience as it is now: at a detected change the posts before it weigh
    the posts' model's shrink in its fit too."""
    events = _history()
    on = _replay(events, _config(change_threshold=8.0)).build_model("v1").predictors["engagement"]
    off = _replay(events, _config(change_threshold=0.0)).build_model("v1").predictors["engagement"]

    def lead(p):  # story over tip, in the predictor's log reward
        coef = dict(zip(p["features"], p["coef"]))
        return coef["type=story"] - coef["type=tip"]

    assert lead(on) > 0
    assert lead(on) > lead(off) + 0.2


def test_without_an_alarm_the_predictor_is_the_one_without_detection():
    events = _history(posts=240, change_at=1000)
    on = _replay(events, _config(change_threshold=8.0)).build_model("v1").predictors["engagement"]
    off = _replay(events, _config(change_threshold=0.0)).build_model("v1").predictors["engagement"]
    assert on == off
