"""The demo's timing and the settings it hands the services."""

from __future__ import annotations

import pytest
from pydantic_settings import BaseSettings

from ops.demo.plan import SHUTDOWN_RESERVE_S, STARTUP_RESERVE_S, DemoPlan, first_checkpoint_s
from services.browser_gateway.settings import GatewaySettings
from services.harvester.settings import HarvesterSettings
from services.planner.config import PlannerSettings
from services.poster.settings import PosterSettings
from services.scraper.settings import ScraperSettings

SETTINGS = (GatewaySettings, HarvesterSettings, PlannerSettings, PosterSettings, ScraperSettings)


@pytest.mark.parametrize("hours,minutes", [(72, 10), (4, 2.5), (24, 3)])
def test_period_fits_the_budget_with_start_and_stop(hours: float, minutes: float) -> None:
    plan = DemoPlan(hours=hours, minutes=minutes)
    assert plan.run_real_s * plan.time_scale == pytest.approx(hours * 3600)
    assert STARTUP_RESERVE_S + plan.run_real_s + SHUTDOWN_RESERVE_S < minutes * 60


def test_a_start_past_its_reserve_moves_the_deadline_so_that_the_period_is_simulated_whole() -> None:
    plan = DemoPlan(hours=4, minutes=4)
    budget_end = 1000 + 4 * 60 - SHUTDOWN_RESERVE_S
    assert plan.period_deadline(1000, 1000 + STARTUP_RESERVE_S) == budget_end  # in time: --minutes holds
    late = plan.period_deadline(1000, 1000 + 170)  # a loaded machine's start
    assert late > budget_end and late - (1000 + 170) >= plan.run_real_s


def test_too_short_a_budget_is_refused_with_the_minimum() -> None:
    with pytest.raises(ValueError, match="--minutes must be at least"):
        DemoPlan(hours=4, minutes=0.5)
    with pytest.raises(ValueError, match="--hours"):
        DemoPlan(hours=0)


@pytest.mark.parametrize("hours,minutes", [(72, 10), (4, 2.5), (1, 30)])
def test_every_tuning_variable_is_a_valid_setting_of_some_service(hours: float, minutes: float,
                                                                   monkeypatch: pytest.MonkeyPatch) -> None:
    env = DemoPlan(hours=hours, minutes=minutes).tuning_env()
    fields = {f"XBOT_{name}".upper(): cls for cls in SETTINGS for name in cls.model_fields}
    unknown = sorted(k for k in env if k not in fields)
    assert not unknown, f"no service reads {unknown}"
    for key, value in env.items():
        monkeypatch.setenv(key, value)
    for cls in SETTINGS:
        settings: BaseSettings = cls()  # raises on a value the service would refuse at start-up
        for key, value in env.items():
            name = key.removeprefix("XBOT_").lower()
            if name in cls.model_fields:
                got = getattr(settings, name)
                seconds = got.total_seconds() if hasattr(got, "total_seconds") else float(got)
                assert seconds == pytest.approx(float(value.removeprefix("PT").removesuffix("S")))


def test_waits_are_raised_to_real_time_floors_at_high_scale() -> None:
    plan = DemoPlan(hours=72, minutes=10)
    env = plan.tuning_env()
    # At this scale the gateway's default P0 queue timeout (60 simulated s) would be a tenth of a real second.
    assert float(env["XBOT_QUEUE_TIMEOUT_P0"].removeprefix("PT").removesuffix("S")) / plan.time_scale == (
        pytest.approx(120, rel=0.01))
    assert float(env["XBOT_POSTING_CYCLE"].removeprefix("PT").removesuffix("S")) / plan.time_scale == (
        pytest.approx(2, rel=0.01))
    # The scraper must still look at least once per first checkpoint (1 h).
    assert int(env["XBOT_SCRAPE_INTERVAL"].removeprefix("PT").removesuffix("S")) <= 3600


@pytest.mark.parametrize("env,first_s", [
    ({}, 3600.0), ({"XBOT_SCRAPE_CHECKPOINTS": '["PT15M","PT1H"]'}, 900.0),
    ({"XBOT_SCRAPE_CHECKPOINT_HOURS": "[0.5, 2]"}, 1800.0), ({"XBOT_SCRAPE_CHECKPOINTS": "not json"}, 3600.0)])
def test_the_scrape_interval_stays_within_the_operators_first_checkpoint(env: dict[str, str], first_s: float,
                                                                          monkeypatch: pytest.MonkeyPatch) -> None:
    # At this speed the interval's real-time floor (5 real s) is 22 simulated minutes: past a 15-minute checkpoint,
    # which the scraper refuses at start (a demo run with it had no scraper at all).
    tuned = DemoPlan(hours=4, minutes=4, scale=260.0).tuning_env(first_checkpoint_s(env))
    assert float(tuned["XBOT_SCRAPE_INTERVAL"].removeprefix("PT").removesuffix("S")) == min(first_s, 1300.0)
    for key, value in {**env, **tuned}.items():
        monkeypatch.setenv(key, value)
    if "not json" not in env.values():
        ScraperSettings()  # the scraper starts with both


def test_the_driver_is_browser_or_api() -> None:
    assert DemoPlan().driver == "browser" and DemoPlan(driver="api").driver == "api"
    with pytest.raises(ValueError, match="--driver"):
        DemoPlan(driver="graphql")
