import pytest

from libs.core.settings import SettingsError, load_settings
from services.learner.settings import LearnerSettings


def test_the_objective_is_composite_by_default_and_engagement_on_request(monkeypatch):
    assert load_settings(LearnerSettings).learner_config().objective == "composite"
    monkeypatch.setenv("XBOT_LEARNER_OBJECTIVE", "engagement")
    assert load_settings(LearnerSettings).learner_config().objective == "engagement"


def test_an_unknown_objective_stops_start_naming_the_variable(monkeypatch):
    monkeypatch.setenv("XBOT_LEARNER_OBJECTIVE", "followers")
    with pytest.raises(SettingsError, match="XBOT_LEARNER_OBJECTIVE"):
        load_settings(LearnerSettings)


def test_the_posts_floor_schedule_is_set_from_the_environment(monkeypatch):
    monkeypatch.setenv("XBOT_LEARNER_FLOOR_MIN", "0.02")
    monkeypatch.setenv("XBOT_LEARNER_FLOOR_POSTS", "0")
    config = load_settings(LearnerSettings).learner_config()
    assert (config.floor_min, config.floor_posts) == (0.02, 0.0)
    assert config.post_floor(500) == config.floor  # no schedule: the floor stays


def test_change_detection_is_set_from_the_environment_and_a_zero_threshold_switches_it_off(monkeypatch):
    assert load_settings(LearnerSettings).learner_config().detects_change()
    assert load_settings(LearnerSettings).learner_config().follow_model().detector is not None
    monkeypatch.setenv("XBOT_LEARNER_CHANGE_SHRINK", "0.3")
    monkeypatch.setenv("XBOT_LEARNER_CHANGE_THRESHOLD", "0")
    config = load_settings(LearnerSettings).learner_config()
    assert (config.change_shrink, config.change_threshold) == (0.3, 0.0)
    assert not config.detects_change()
    assert config.follow_model().detector is None  # the follow-rate model's watch goes with the posts'


def test_the_follow_rate_models_discount_is_its_own_and_set_from_the_environment(monkeypatch):
    config = load_settings(LearnerSettings).learner_config()
    assert config.follow_model().discount == config.follow_discount > config.discount
    monkeypatch.setenv("XBOT_LEARNER_FOLLOW_DISCOUNT", "0.99")
    assert load_settings(LearnerSettings).learner_config().follow_model().discount == 0.99
    monkeypatch.setenv("XBOT_LEARNER_FOLLOW_DISCOUNT", "1.5")
    with pytest.raises(SettingsError, match="XBOT_LEARNER_FOLLOW_DISCOUNT"):
        load_settings(LearnerSettings)
