from datetime import timedelta

import pytest

from libs.core.settings import SettingsError, load_settings
from services.harvester.settings import DEFAULT_TOPICS, HarvesterSettings


def test_defaults_are_the_issues():
    s = load_settings(HarvesterSettings)
    assert s.harvest_interval == timedelta(minutes=30) and s.discovery_interval == timedelta(minutes=90)
    assert (s.harvest_min_likes, s.harvest_min_replies, s.harvest_max_age) == (2000, 200, timedelta(hours=24))
    assert (s.pool_min, s.pool_max) == (200, 300)
    assert (s.discovery_min_followers, s.discovery_max_followers) == (10_000, 500_000)
    assert s.harvest_tabs == ("latest", "top")
    assert [t.name for t in s.niche_topics] == ["sleep", "nutrition", "exercise", "stress", "gut_health",
                                                "longevity", "mental_health", "hydration", "metabolic_health",
                                                "heart_health"]
    assert all(t.description and t.keywords for t in DEFAULT_TOPICS)


def test_environment_overrides(monkeypatch):
    monkeypatch.setenv("XBOT_HARVEST_INTERVAL", "PT10M")
    monkeypatch.setenv("XBOT_HARVEST_TABS", '["top"]')
    monkeypatch.setenv("XBOT_NICHE_TOPICS", '[{"name": "sleep", "description": "sleep", "keywords": ["sleep"]}]')
    s = load_settings(HarvesterSettings)
    assert s.harvest_interval == timedelta(minutes=10)
    assert s.harvest_tabs == ("top",)
    assert [t.name for t in s.niche_topics] == ["sleep"]


@pytest.mark.parametrize("env", [
    {"XBOT_POOL_MIN": "400"},
    {"XBOT_DISCOVERY_MIN_FOLLOWERS": "600000"},
    {"XBOT_HARVEST_TABS": '["following"]'},
    {"XBOT_NICHE_TOPICS": '[{"name": "a", "description": "x", "keywords": ["a"]},'
                          ' {"name": "a", "description": "y", "keywords": ["b"]}]'},
])
def test_inconsistent_settings_stop_startup(monkeypatch, env):
    for k, v in env.items():
        monkeypatch.setenv(k, v)
    with pytest.raises(SettingsError):
        load_settings(HarvesterSettings)
