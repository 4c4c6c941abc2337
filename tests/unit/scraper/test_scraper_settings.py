from datetime import timedelta

import pytest

from libs.core.settings import SettingsError, load_settings
from services.scraper.settings import ScraperSettings


def test_defaults_are_the_issues():
    s = load_settings(ScraperSettings)
    assert s.scrape_checkpoint_hours == (1, 2, 6, 12, 24, 48)
    assert s.scrape_daily_until == timedelta(days=7)
    assert s.scrape_missed_fraction == 0.5
    assert s.followers_interval == timedelta(minutes=30)


def test_checkpoints_from_the_environment(monkeypatch):
    monkeypatch.setenv("XBOT_SCRAPE_CHECKPOINT_HOURS", "[1, 3, 9]")
    assert load_settings(ScraperSettings).scrape_checkpoint_hours == (1, 3, 9)
    assert load_settings(ScraperSettings).scrape_reward_checkpoint_hours == set()  # the defaults' 24 h and 48 h
    monkeypatch.setenv("XBOT_SCRAPE_REWARD_CHECKPOINTS", '["PT9H"]')
    assert load_settings(ScraperSettings).scrape_reward_checkpoint_hours == {9.0}


@pytest.mark.parametrize("env", [
    {"XBOT_SCRAPE_CHECKPOINT_HOURS": "[1, 1, 6]"},
    {"XBOT_SCRAPE_CHECKPOINT_HOURS": "[0, 6]"},
    {"XBOT_SCRAPE_CHECKPOINT_HOURS": "[]"},
    {"XBOT_SCRAPE_INTERVAL": "PT2H"},
    {"XBOT_SCRAPE_REWARD_CHECKPOINTS": '["PT24H", "PT36H"]'},
])
def test_bad_schedules_stop_startup(monkeypatch, env):
    for k, v in env.items():
        monkeypatch.setenv(k, v)
    with pytest.raises(SettingsError):
        load_settings(ScraperSettings)
