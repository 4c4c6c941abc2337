"""The learner's reply policy: learned from replies with their draw, gated off-policy, published with posts."""

import math
import random

import pytest

from libs.contracts.events import ModelUpdated
from libs.policy import REPLY_ACTION, reply_marginals, reply_propensity, sample_reply, target_bands
from services.learner.learning import Learner, LearnerConfig

STYLES = ("add_insight", "one_sharp_line", "reframe")
EFFECT = {"add_insight": 1.0, "one_sharp_line": -0.5, "reframe": 0.0}  # log-reach effect of each style
DIMS = {"reply_style": STYLES, "voice": ("owner",)}


def _learner(n=240, seed=3, model=None, learner_cls=Learner):
    """Replies drawn by the reply policy of ``model`` (uniform style before any), their engagement from a world
    where only the style and the author's size matter."""
    rng = random.Random(seed)
    learner = learner_cls(LearnerConfig(content_types=("tip",), topics=("sleep",)))
    for i in range(n):
        pool = [dict(author_followers=rng.choice((300, 30_000, 3_000_000)), age_hours=rng.uniform(0, 12),
                     velocity=rng.uniform(0, 50), relevance=rng.uniform(0.3, 1.0)) for _ in range(4)]
        candidates = [target_bands(**t) for t in pool]
        choice, index, p = sample_reply(model, rng, dimensions=DIMS, candidates=candidates)
        target = pool[index]
        views = math.exp(3 + EFFECT[choice["reply_style"]] + 0.4 * math.log10(target["author_followers"])
                         + rng.gauss(0, 0.5))
        cid = f"r{i}"
        learner.observe_decision(cid, {**choice, "content_type": "reply", "topic": "sleep", "format": "single",
                                       "hour": 9}, p, "v0", kind="reply",
                                 reply_context={"bands": candidates[index], "candidates": candidates, "index": index})
        learner.observe_metrics(cid, 24.0, {"views": round(views), "likes": round(views * 0.05), "retweets": 0,
                                             "replies": round(views * 0.004), "bookmarks": 0})
    return learner


def test_replies_are_learned_and_published_with_the_posts_model():
    snapshot = _learner().build_model("v1-abc")
    replies = snapshot.replies
    assert replies["training_size"] == 240 and snapshot.evaluation["reply_gate_passed"] == 1.0
    means = {a: v["mean"] for a, v in replies["posteriors"]["reply_style"].items()}
    assert max(means, key=means.get) == "add_insight" and min(means, key=means.get) == "one_sharp_line"
    authors = {a: v["mean"] for a, v in replies["posteriors"]["author_band"].items() if v["n"] > 0}
    assert authors[">=1M"] > authors["10k-100k"] > authors["<1k"]
    assert set(replies["propensities"]) == set(REPLY_ACTION)
    # The payload is a valid ModelUpdated and round-trips the reply policy.
    event = ModelUpdated.model_validate({**snapshot.payload(), "created_at": "2026-01-01T00:00:00Z"})
    assert event.replies["posteriors"] == replies["posteriors"]


def test_a_reply_without_its_draw_teaches_nothing():
    learner = Learner(LearnerConfig(content_types=("tip",), topics=("sleep",)))
    learner.observe_decision("r1", {"reply_style": "reframe", "voice": "owner"}, 0.2, "uniform", kind="reply")
    learner.observe_metrics("r1", 24.0, {"views": 100, "likes": 3})
    assert learner.build_model("v1-x").replies == {}


class _Contrarian(Learner):
    """A learner whose reply candidate prefers the worst style (what a bug or drift could produce)."""

    def _reply_candidate(self, posteriors):
        flipped = {d: {a: {**v, "mean": -v["mean"]} for a, v in arms.items()} for d, arms in posteriors.items()}
        return {"posteriors": flipped, "temperature": 0.1, "floor": 0.05,
                "propensities": reply_marginals(flipped, temperature=0.1, floor=0.05)}


def test_the_gate_keeps_the_incumbent_reply_policy_against_a_worse_candidate():
    # Logged by the bootstrap policy (styles uniform), so every style was tried and the gate can tell.
    incumbent = _learner().build_model("v1-abc").payload()
    worse = _learner(seed=4, learner_cls=_Contrarian).build_model(
        "v2-def", incumbent=incumbent)
    assert worse.evaluation["reply_gate_passed"] == 0.0 and worse.evaluation["reply_gate_difference"] < 0
    assert worse.replies["posteriors"] == incumbent["replies"]["posteriors"]  # the incumbent's policy stays
    # ... and the honest candidate on the same data passes.
    honest = _learner(seed=4).build_model("v2-def", incumbent=incumbent)
    assert honest.evaluation["reply_gate_passed"] == 1.0


def test_logged_propensity_is_what_the_learner_recomputes_for_the_incumbent():
    model = _learner().build_model("v1-abc").payload()["replies"]
    rng = random.Random(5)
    candidates = [target_bands(author_followers=f, age_hours=1, velocity=5, relevance=0.7)
                  for f in (300, 30_000, 3_000_000)]
    choice, index, p = sample_reply(model, rng, dimensions=DIMS, candidates=candidates)
    assert reply_propensity(model, choice, candidates, index, dimensions=DIMS) == pytest.approx(p, rel=1e-12)


def test_a_rollback_restores_the_reply_policy_with_the_posts_model():
    from datetime import UTC, datetime

    from services.learner.jobs import PublishedModel, rollback_event

    first = _learner().build_model("v1-aaaa").payload()
    second = _learner(seed=4).build_model("v2-bbbb", incumbent=first).payload()
    assert second["replies"]["posteriors"] != first["replies"]["posteriors"]
    at = datetime(2026, 1, 1, tzinfo=UTC)
    models = [PublishedModel(i + 1, p["version"], p["parent_version"], None, p["training_size"], at,
                             {**p, "created_at": at.isoformat()}) for i, p in enumerate((first, second))]
    event = rollback_event(models, at)
    assert event.rollback_of == "v2-bbbb" and event.replies["posteriors"] == first["replies"]["posteriors"]


def test_answers_in_our_own_conversations_are_a_reply_kind_of_their_own():
    """Issue 24, item 5: the target's kind is a band of the reply policy. In a world where answering a reply our
    post got pays more than replying to a stranger's tweet of the same size, the learned kind says so, and a
    decision logged before the kind existed counts as a reply to a tweet."""
    rng = random.Random(11)
    learner = Learner(LearnerConfig(content_types=("tip",), topics=("sleep",)))
    for i in range(200):
        pool = [dict(author_followers=rng.choice((300, 30_000)), age_hours=rng.uniform(0, 12),
                     velocity=rng.uniform(0, 50), relevance=rng.uniform(0.3, 1.0),
                     kind=rng.choice(("tweet", "conversation"))) for _ in range(3)]
        candidates = [target_bands(**t) for t in pool]
        choice, index, p = sample_reply(None, rng, dimensions=DIMS, candidates=candidates)
        lift = 1.2 if pool[index]["kind"] == "conversation" else 0.0
        views = math.exp(3 + lift + rng.gauss(0, 0.5))
        learner.observe_decision(f"r{i}", {**choice, "content_type": "reply", "topic": "sleep", "format": "single",
                                           "hour": 9}, p, "v0", kind="reply",
                                 reply_context={"bands": candidates[index], "candidates": candidates,
                                                "index": index})
        learner.observe_metrics(f"r{i}", 24.0, {"views": round(views), "likes": round(views * 0.05), "retweets": 0,
                                                 "replies": round(views * 0.004), "bookmarks": 0})
    old = {k: v for k, v in target_bands(author_followers=300, age_hours=1, velocity=1, relevance=0.5).items()
           if k != "target_kind"}
    learner.observe_decision("old", {"reply_style": "reframe", "voice": "owner"}, 0.2, "v0", kind="reply",
                             reply_context={"bands": old, "candidates": [old], "index": 0})
    assert learner._replies["old"].choice["target_kind"] == "tweet"
    kinds = learner.build_model("v1-kind").replies["posteriors"]["target_kind"]
    assert kinds["conversation"]["mean"] > kinds["tweet"]["mean"] + 0.5
