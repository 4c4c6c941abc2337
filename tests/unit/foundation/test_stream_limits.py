"""Stream retention from the settings: defaults, the harvester bounded by the personal data retention, overrides by
producer, and a bad value named by its variable."""

from __future__ import annotations

from datetime import timedelta

import pytest

from libs.bus.streams import Retention, retention_from, stream_configs
from libs.core.settings import CommonSettings, SettingsError, load_settings


def test_defaults_bound_every_stream_and_the_harvester_by_the_personal_data_retention(monkeypatch):
    monkeypatch.delenv("XBOT_STREAM_LIMITS", raising=False)
    limits = retention_from(load_settings(CommonSettings))
    assert limits["poster"] == Retention(max_age=timedelta(days=400), max_bytes=512 * 2**20)
    assert limits["dlq"].max_age == timedelta(days=400)
    assert limits["harvester"].max_age == timedelta(days=4)


def test_overrides_by_producer_from_the_environment(monkeypatch):
    monkeypatch.setenv("XBOT_STREAM_MAX_AGE_REAL", "P200D")
    monkeypatch.setenv("XBOT_PERSONAL_DATA_RETENTION", "P2D")
    monkeypatch.setenv("XBOT_STREAM_LIMITS", '{"scraper": {"max_bytes": 1000, "max_msgs": 50}, '
                                             '"learner": {"max_age_real": "P30D"}}')
    limits = retention_from(load_settings(CommonSettings))
    assert limits["scraper"] == Retention(max_age=timedelta(days=200), max_bytes=1000, max_msgs=50)
    assert limits["learner"].max_age == timedelta(days=30)
    assert limits["harvester"].max_age == timedelta(days=2)
    cfg = {c.name: c for c in stream_configs("xbot", retention=limits)}
    assert cfg["XBOT_SCRAPER"].max_msgs == 50 and cfg["XBOT_LEARNER"].max_age == 30 * 86400
    # The server refuses a duplicate window longer than the stream's max age.
    short = stream_configs("xbot", retention={"planner": Retention(max_age=timedelta(minutes=10))})
    assert {c.name: c.duplicate_window for c in short}["XBOT_PLANNER"] == 600


def test_an_unknown_stream_or_a_bad_limit_is_named(monkeypatch):
    monkeypatch.setenv("XBOT_STREAM_LIMITS", '{"posterr": {"max_msgs": 5}}')
    with pytest.raises(SettingsError, match="XBOT_STREAM_LIMITS: unknown stream posterr"):
        retention_from(load_settings(CommonSettings))
    monkeypatch.setenv("XBOT_STREAM_LIMITS", '{"poster": {"max_msgs": -7}}')
    with pytest.raises(SettingsError, match="XBOT_STREAM_LIMITS"):
        load_settings(CommonSettings)


def test_snapshots_must_come_more_often_than_any_stream_drops_events(monkeypatch):
    monkeypatch.setenv("XBOT_SNAPSHOT_INTERVAL", "P5D")  # the harvester's stream keeps 4 days by default
    with pytest.raises(SettingsError, match="XBOT_SNAPSHOT_INTERVAL .* must be shorter than "
                                            "XBOT_PERSONAL_DATA_RETENTION"):
        load_settings(CommonSettings)
    monkeypatch.setenv("XBOT_SNAPSHOT_INTERVAL", "PT12H")
    monkeypatch.setenv("XBOT_STREAM_LIMITS", '{"scraper": {"max_age_real": "PT6H"}}')
    with pytest.raises(SettingsError, match=r"XBOT_STREAM_LIMITS \(scraper\)"):
        load_settings(CommonSettings)
