"""Peers' format insights as the learner's priors: they set where the arms they cover start, and the account's
own rewards take over as they come."""

import numpy as np

from libs.policy import sample_choice
from services.learner.learning import Learner, LearnerConfig, format_prior_means

TYPES, TOPICS = ("tip", "story"), ("sleep", "stress")
LIFTS = {"thread": -0.4, "hours=18-22": 0.5, "hours=0-6": -0.6, "question": 0.3}


def test_insights_cover_format_and_hour_only():
    cfg = LearnerConfig(TYPES, TOPICS)
    types, topics, formats, hours = format_prior_means(LIFTS, cfg)
    assert types is None and topics is None
    assert formats is not None and formats[1] - formats[0] == -0.4 and abs(formats.sum()) < 1e-12
    assert hours is not None and hours[19] - hours[12] == 0.5 and hours[3] - hours[12] == -0.6
    assert format_prior_means({}, cfg) == [None, None, None, None]


def test_a_new_account_starts_from_the_peers_lifts():
    learner = Learner(LearnerConfig(TYPES, TOPICS))
    before = learner.build_model("v0").posteriors
    learner.observe_format_insights(LIFTS)
    after = learner.build_model("v0").posteriors
    assert before["format"]["single"]["mean"] == before["format"]["thread"]["mean"]
    assert after["format"]["single"]["mean"] - after["format"]["thread"]["mean"] > 0.3
    assert after["hour"]["20"]["mean"] > after["hour"]["12"]["mean"] > after["hour"]["3"]["mean"]
    # Propensities follow: the evening is picked more often than the night.
    model = learner.build_model("v0")
    assert model.propensities["hour"]["20"] > model.propensities["hour"]["3"]


def test_the_accounts_own_rewards_override_a_wrong_prior():
    """Peers say threads lose; for this account they win by a lot. After 200 posts the account's data decides."""
    rng = np.random.default_rng(1)
    learner = Learner(LearnerConfig(TYPES, TOPICS))
    learner.observe_format_insights({"thread": -0.4})
    model = learner.build_model("v0").payload()
    for t in range(200):
        choice, p = sample_choice(model, rng)
        learner.observe_decision(f"c{t}", choice, p, "v0")
        views = int(200 * np.exp(0.8 * (choice["format"] == "thread") + rng.normal(0, 0.3)))
        learner.observe_metrics(f"c{t}", 24.0, {"views": views, "likes": views // 40, "retweets": views // 200,
                                                "replies": views // 700})
    post = learner.build_model("v1").posteriors["format"]
    assert post["thread"]["mean"] > post["single"]["mean"]


def test_the_drafts_predictor_starts_from_the_peers_format_lifts():
    """Twenty posts say little about a question's worth; the peers' lift of questions (FormatInsights) is where
    the predictor that ranks drafts starts, and it is published with it."""
    rng = np.random.default_rng(2)

    def built(lifts):
        learner = Learner(LearnerConfig(TYPES, TOPICS, objective="engagement"))
        learner.observe_format_insights(lifts)
        for t in range(20):
            choice = {"content_type": "tip", "topic": "sleep", "format": "single", "hour": 9}
            learner.observe_decision(f"c{t}", choice, 0.25, "v0",
                                     text="Why sleep?" if t % 2 else "Sleep is a skill you can learn.")
            views = int(300 * np.exp(rng.normal(0, 0.5)))
            learner.observe_metrics(f"c{t}", 48.0, {"views": views, "likes": views // 30, "retweets": 1,
                                                    "replies": 1})
        p = learner.build_model("v1").predictors["engagement"]
        return dict(zip(p["features"], p["coef"])), p

    with_peers, published = built({"question": 0.6, "hook=question": 0.3})
    without, plain = built({})
    assert with_peers["fmt=question"] > without["fmt=question"] + 0.2
    assert published["prior"]["fmt=question"] == 0.6 and "prior" not in plain
