"""Settings of every service: durations are timedelta, renamed variables are still read (one mechanism), and the
account's settings are declared once."""

from __future__ import annotations

import typing
from datetime import timedelta

import pytest

from libs.core.account import AccountSettings
from libs.core.settings import CommonSettings, SettingsError, load_settings, renamed
from services.browser_gateway.settings import GatewaySettings
from services.harvester.settings import HarvesterSettings
from services.learner.settings import LearnerSettings
from services.planner.config import PlannerSettings
from services.poster.settings import PosterSettings
from services.scraper.settings import ScraperSettings

SERVICES: tuple[type[CommonSettings], ...] = (GatewaySettings, HarvesterSettings, LearnerSettings, PlannerSettings,
                                              PosterSettings, ScraperSettings)
UNIT = {"s": timedelta(seconds=1), "ms": timedelta(milliseconds=1), "minutes": timedelta(minutes=1),
        "hours": timedelta(hours=1)}


def _is_duration(annotation: object) -> bool:
    return timedelta in (annotation, *typing.get_args(annotation)) or any(
        _is_duration(a) for a in typing.get_args(annotation) if a is not annotation)


@pytest.mark.parametrize("cls", SERVICES, ids=lambda c: c.__name__)
def test_no_duration_is_a_number_in_a_unit_of_its_name(cls: type[CommonSettings]) -> None:
    suffixes = ("_s", "_ms", "_seconds", "_minutes", "_hours", "_s_real", "_ms_real")
    for name, info in cls.model_fields.items():
        if name == "utc_offset_minutes":
            continue  # an offset of the local clock, not a duration
        assert not name.endswith(suffixes), f"{cls.__name__}.{name} should be a timedelta"
        if name in renamed(cls):
            assert _is_duration(info.annotation) or renamed(cls)[name][1] is None, name


@pytest.mark.parametrize("cls", SERVICES, ids=lambda c: c.__name__)
def test_every_rename_names_a_field_and_an_old_variable_no_field_has(cls: type[CommonSettings]) -> None:
    fields = {f"XBOT_{n}".upper() for n in cls.model_fields}
    for field, (old, _unit) in renamed(cls).items():
        assert field in cls.model_fields, field
        assert old.startswith("XBOT_") and old not in fields, old


def _renames() -> list[tuple[type[CommonSettings], str, str, str | None]]:
    return [(cls, field, old, unit) for cls in SERVICES for field, (old, unit) in renamed(cls).items()
            if unit is not None]


@pytest.mark.parametrize("cls,field,old,unit", _renames(), ids=lambda v: v if isinstance(v, str) else "")
def test_an_old_variable_is_read_in_its_unit_and_the_new_name_wins(
        monkeypatch: pytest.MonkeyPatch, cls: type[CommonSettings], field: str, old: str, unit: str) -> None:
    list_valued = typing.get_origin(cls.model_fields[field].annotation) is tuple
    monkeypatch.setenv(old, "[7, 8, 9]" if list_valued else "7")
    got = getattr(load_settings(cls), field)
    assert got == ((7 * UNIT[unit], 8 * UNIT[unit], 9 * UNIT[unit]) if list_valued else 7 * UNIT[unit])
    # Set in code under the old field name (tests and scripts that predate the rename) reads the same way.
    old_field = old.removeprefix("XBOT_").lower()
    assert getattr(load_settings(cls, **{old_field: [7, 8, 9] if list_valued else 7}), field) == got
    if not list_valued:
        monkeypatch.setenv(f"XBOT_{field}".upper(), "PT11S")
        assert getattr(load_settings(cls), field) == timedelta(seconds=11)


@pytest.mark.parametrize("cls,field,old,unit", _renames(), ids=lambda v: v if isinstance(v, str) else "")
def test_a_bad_value_under_an_old_name_stops_start_up_naming_that_name(
        monkeypatch: pytest.MonkeyPatch, cls: type[CommonSettings], field: str, old: str, unit: str) -> None:
    monkeypatch.setenv(old, "soon")
    with pytest.raises(SettingsError, match=f"invalid setting {old}"):
        load_settings(cls)


def test_durations_read_iso_8601_or_seconds(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("XBOT_HARVEST_INTERVAL", "1800")
    monkeypatch.setenv("XBOT_PLAN_INTERVAL", "PT45M")
    assert load_settings(HarvesterSettings).harvest_interval == timedelta(minutes=30)
    assert load_settings(PlannerSettings).plan_interval == timedelta(minutes=45)


def test_the_account_is_declared_once_and_every_service_reads_it(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in AccountSettings.model_fields.keys() - CommonSettings.model_fields.keys():
        for cls in SERVICES:
            assert issubclass(cls, AccountSettings)
            assert name not in cls.__annotations__ or cls is AccountSettings, f"{cls.__name__} re-declares {name}"
    monkeypatch.setenv("XBOT_X_HANDLE", "someone_else")
    monkeypatch.setenv("XBOT_POSTS_PER_DAY", "3")
    assert {load_settings(cls).x_handle for cls in SERVICES} == {"someone_else"}
    assert load_settings(PlannerSettings).posts_per_day == load_settings(PosterSettings).posts_per_day == 3


def test_the_learners_arms_are_the_niche_files(tmp_path, monkeypatch: pytest.MonkeyPatch) -> None:
    niche = tmp_path / "niche.yaml"
    niche.write_text("content_types: [story, question]\ntopics: [sleep]\n")
    monkeypatch.setenv("XBOT_NICHE_PATH", str(niche))
    config = load_settings(LearnerSettings).learner_config()
    assert (tuple(config.content_types), tuple(config.topics)) == (("story", "question"), ("sleep",))
    assert tuple(load_settings(LearnerSettings, learner_topics=("stress",)).learner_config().topics) == ("stress",)
    assert load_settings(PlannerSettings).niche().topics == ("sleep",)


def test_the_harvesters_default_topics_are_the_niches() -> None:
    # The harvester's topics add search terms and a description to each of the niche's topics; same names.
    from libs.niche import load_niche
    from services.harvester.settings import DEFAULT_TOPICS
    assert tuple(t.name for t in DEFAULT_TOPICS) == load_niche().topics
