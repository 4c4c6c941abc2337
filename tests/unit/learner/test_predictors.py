import math

import numpy as np
import pytest

from services.learner.features import feature_names, feature_vector, hook_style, peer_prior
from services.learner.predictors import (
    engagement_predictor,
    fit_logistic,
    fit_ridge,
    follower_predictor,
    holdout_mask,
    predict_probability,
)


def test_ridge_without_penalty_is_least_squares():
    model = fit_ridge(np.array([[1.0], [2.0], [3.0]]), np.array([3.0, 5.0, 7.0]), penalty=0.0)
    assert model.intercept == pytest.approx(1.0)
    assert model.coef[0] == pytest.approx(2.0)


def test_ridge_penalty_shrinks_hand_computed():
    # centred x = [-1, 1], y = [0, 2]: slope = Σxy / (Σx² + λ) = 2 / (2 + 2) = 0.5, intercept = 1
    model = fit_ridge(np.array([[-1.0], [1.0]]), np.array([0.0, 2.0]), penalty=2.0)
    assert model.coef[0] == pytest.approx(0.5)
    assert model.intercept == pytest.approx(1.0)


def test_logistic_intercept_only_is_logit_of_mean():
    x = np.zeros((4, 1))
    model = fit_logistic(x, np.array([1.0, 0.0, 0.0, 0.0]), penalty=1.0)
    assert model.intercept == pytest.approx(math.log(0.25 / 0.75))


def test_logistic_recovers_direction():
    rng = np.random.default_rng(0)
    x = rng.normal(size=(2000, 1))
    y = (rng.random(2000) < 1 / (1 + np.exp(-(0.5 + 2.0 * x[:, 0])))).astype(float)
    model = fit_logistic(x, y, penalty=0.0)
    assert model.coef[0] == pytest.approx(2.0, abs=0.3)
    assert model.intercept == pytest.approx(0.5, abs=0.2)
    assert predict_probability(model, np.array([[0.0]]))[0] == pytest.approx(1 / (1 + math.exp(-model.intercept)))


def test_features_and_holdout():
    names = feature_names(["tip", "story"], ["sleep"], ["single", "thread"])
    x = feature_vector({"content_type": "story", "topic": "sleep", "format": "thread", "hour": 7},
                       "Why do you wake at 3am?\nHere is why.", names)
    on = {n for n, v in zip(names, x) if v == 1.0}
    assert on == {"type=story", "topic=sleep", "format=thread", "hours=6-10", "hook=question", "fmt=length=short",
                  "fmt=multiline", "fmt=numbers", "fmt=question"}
    assert x[names.index("length_k")] == pytest.approx(len("Why do you wake at 3am?\nHere is why.") / 1000)
    assert hook_style("5 habits that fix sleep") == "number"
    assert holdout_mask(10, every=5).tolist() == [False] * 4 + [True] + [False] * 4 + [True]


def test_the_hook_feature_is_the_texts_whatever_hook_was_asked():
    """The planner asks for its own hook names (bold_claim, contrast, ...) and a model does not always open as
    asked; the audience, and the peers' lifts, see the text's hook, so the predictors do too."""
    names = feature_names(["tip"], ["sleep"], ["single"])
    asked = {"content_type": "tip", "topic": "sleep", "format": "single", "hour": 9}
    for hook, text, seen in (("bold_claim", "Why does sleep slip at 40?", "question"),
                             ("question", "Sleep is a skill.", "statement"),
                             ("contrast", "5 habits that fix sleep", "number")):
        x = feature_vector({**asked, "hook_style": hook}, text, names)
        assert [n for n, v in zip(names, x) if n.startswith("hook=") and v] == [f"hook={seen}"]
    assert not any(n in names for n in ("hook=bold_claim", "hook=contrast"))


def test_predictors_report_heldout_error():
    rng = np.random.default_rng(3)
    x = rng.normal(size=(100, 2))
    y = 1.0 + x @ np.array([0.5, -0.5]) + rng.normal(0, 0.1, 100)
    out = engagement_predictor(x, y, ["a", "b"], penalty=0.01)
    assert out["heldout_rmse"] == pytest.approx(0.1, abs=0.05)
    gained = (x[:, 0] > 0).astype(float)
    f = follower_predictor(x, gained, ["a", "b"])
    assert f["heldout_log_loss"] < math.log(2)  # better than a coin


def test_ridge_starts_from_its_prior_and_the_data_take_over():
    x = np.array([[1.0], [0.0]] * 2)
    y = np.array([1.0, 0.0] * 2)  # the feature is worth +1
    # Worth 4 posts against 2 showing the feature: the coefficient sits between the prior (-1) and the data (+1).
    leaned = fit_ridge(x, y, penalty=np.array([4.0]), prior_mean=np.array([-1.0]))
    assert -1.0 < leaned.coef[0] < 0.0
    many = fit_ridge(np.tile(x, (200, 1)), np.tile(y, 200), penalty=np.array([4.0]), prior_mean=np.array([-1.0]))
    assert many.coef[0] == pytest.approx(1.0, abs=0.05)
    # Penalties per coefficient: the one without a prior shrinks to 0 as before.
    both = fit_ridge(np.hstack([x, x]), y, penalty=np.array([1e6, 1.0]), prior_mean=np.array([0.5, 0.0]))
    assert both.coef[0] == pytest.approx(0.5, abs=1e-4)


def test_the_peers_lifts_speak_for_the_text_features_only():
    names = feature_names(["tip"], ["sleep"], ["single", "thread"])
    lifts = {"question": 0.3, "list": -0.2, "hook=question": 0.4, "thread": -0.5, "hours=18-22": 0.6}
    assert peer_prior(names, lifts) == {"fmt=question": 0.3, "fmt=list": -0.2, "hook=question": 0.4,
                                        "hook=statement": 0.0}
    assert peer_prior(names, {}) == {}


def test_the_engagement_predictor_publishes_the_prior_it_started_from():
    names = ["fmt=question", "type=tip"]
    x = np.array([[1.0, 1.0], [0.0, 1.0]])
    out = engagement_predictor(x, np.array([2.0, 1.0]), names, prior={"fmt=question": -0.5})
    assert out["prior"] == {"fmt=question": -0.5} and out["prior_weight"] == 10.0
    assert out["coef"][0] < 0.0  # one post showing +1 against ten posts' worth of -0.5
    plain = engagement_predictor(x, np.array([2.0, 1.0]), names)
    assert "prior" not in plain and plain["coef"][0] > 0.0
