"""The account's posts from before xbot: where they can be placed on the bandit's arms, and what the posts' model
learns from them (services/learner/history.py, Learner.observe_past_posts)."""

import json
from datetime import UTC, datetime, timedelta, timezone

import numpy as np
import pytest

from libs.policy import DIMENSIONS
from services.learner.history import PastPost, past_post_arms, topic_of
from services.learner.learning import Learner, LearnerConfig
from services.learner.posterior import AdditiveRewardModel

TYPES = ("myth_busting", "practical_tip", "story")
TOPICS = ("sleep", "gut_health", "heart_health", "stress")


def test_a_topic_is_named_by_its_own_words_only():
    assert topic_of("Your gut bacteria love fibre.", TOPICS) == 1
    assert topic_of("Sleep is when stress hormones fall. Sleep more.", TOPICS) == 0  # sleep mentioned most
    assert topic_of("Stress and sleep: one each.", TOPICS) is None  # a tie names neither
    assert topic_of("Good health starts small.", TOPICS) is None  # "health" is every *_health topic's word
    assert topic_of("Two hearts beat as one.", TOPICS) == 2  # a plural counts
    assert topic_of("Nothing about any of them.", TOPICS) is None


def test_a_past_post_is_placed_by_its_hour_and_topic_and_never_by_a_guessed_content_type():
    arms = LearnerConfig(TYPES, TOPICS).arms()
    post = PastPost("1", "Why sleep beats coffee", datetime(2026, 1, 5, 9, 30, tzinfo=timezone(timedelta(hours=2))), {})
    placed = dict(zip(DIMENSIONS, past_post_arms(post, arms)))
    assert placed == {"content_type": None, "topic": 0, "format": arms[2].index("single"), "hour": arms[3].index("7")}


def test_an_unknown_dimension_observes_the_mean_of_its_effects():
    """Adding observations with the content type unknown moves no content type's effect, and teaches the topic."""
    model = AdditiveRewardModel([3, 2])
    rng = np.random.default_rng(1)
    for _ in range(200):
        topic = int(rng.integers(2))
        model.add([None, topic], (0.8 if topic == 0 else 0.0) + rng.normal(0, 0.3))
    post = model.posterior()
    assert np.allclose(post.means[0], 0.0, atol=1e-9)
    assert post.means[1][0] - post.means[1][1] == pytest.approx(0.8, abs=0.1)
    # The same as adding each observation spread over the three content types with a third of its weight each
    # would be for the topic (the mean), but not the same statistics: None is one observation of the mean.
    assert post.counts[0].sum() == pytest.approx(200 / 3)


def _past(n=120, seed=0):
    """The owner's habits: 'sleep' posts do twice the reach of the others; posts at 8 h and 20 h UTC."""
    rng = np.random.default_rng(seed)
    start = datetime(2026, 1, 1, tzinfo=UTC)
    posts = []
    for i in range(n):
        topic = TOPICS[int(rng.integers(len(TOPICS)))]
        hour = (8, 20)[i % 2]
        views = int(800 * np.exp(0.7 * (topic == "sleep") + rng.normal(0, 0.3)))
        text = {"sleep": "Sleep tip", "gut_health": "Your gut", "heart_health": "Heart rate",
                "stress": "Stress less"}[topic]
        posts.append(PastPost(str(1000 + i), f"{text} #{i}", start + timedelta(days=i // 2, hours=hour),
                              {"views": views, "likes": views // 40, "retweets": views // 200,
                               "replies": views // 700}))
    return posts


def test_the_posts_model_starts_from_the_past_posts():
    cold = Learner(LearnerConfig(TYPES, TOPICS)).build_model("v1")
    learner = Learner(LearnerConfig(TYPES, TOPICS))
    learner.observe_past_posts(_past())
    warm = learner.build_model("v1")
    assert "past_posts" not in cold.evaluation
    assert warm.evaluation["past_posts"] == 120.0
    assert warm.training_size == 0  # no decision: the off-policy gate has nothing to weigh
    topics = warm.posteriors["topic"]
    assert topics["sleep"]["mean"] > max(topics[t]["mean"] for t in TOPICS[1:]) + 0.3
    assert warm.propensities["topic"]["sleep"] > 1 / len(TOPICS)
    assert cold.propensities["topic"]["sleep"] == pytest.approx(1 / len(TOPICS))
    # The content type was never told: its effects stay where they start.
    assert all(abs(v["mean"]) < 1e-9 for v in warm.posteriors["content_type"].values())
    # The hours posted at are known better than the others.
    hours = warm.posteriors["hour"]
    assert hours["8"]["var"] < hours["14"]["var"]
    # The owner's best past posts are the planner's examples of the account's voice until xbot's own do better.
    assert cold.best_posts == ()
    assert [b["content_id"].split(":")[0] for b in warm.best_posts] == ["past"] * 5
    assert all(b["text"].startswith("Sleep") for b in warm.best_posts)


def test_past_posts_fade_as_decisions_follow_them_and_a_redelivery_changes_nothing():
    learner = Learner(LearnerConfig(TYPES, TOPICS))
    learner.observe_past_posts(_past())
    learner.observe_past_posts(_past()[:10])  # the same posts again
    once = learner.build_model("v1").payload()
    for t in range(300):
        learner.observe_decision(f"c{t}", {"content_type": "story", "topic": "stress", "format": "single",
                                           "hour": 12}, 0.01, "v0")
    later = learner.build_model("v2").payload()
    again = Learner(LearnerConfig(TYPES, TOPICS))
    again.observe_past_posts(_past())
    assert json.dumps(again.build_model("v1").payload(), sort_keys=True) == json.dumps(once, sort_keys=True)
    gap = lambda p: p["posteriors"]["topic"]["sleep"]["mean"] - p["posteriors"]["topic"]["stress"]["mean"]  # noqa: E731
    # 300 decisions later (none matured) the past posts weigh γ^300 (0.12) as much: the model is less sure.
    assert later["posteriors"]["topic"]["sleep"]["var"] > 2 * once["posteriors"]["topic"]["sleep"]["var"]
    assert 0 < gap(later) < gap(once)
