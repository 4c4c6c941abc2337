"""The machine-speed probe that slows the whole-system runs on a slow machine (tests/helpers.py: slowness)."""

from __future__ import annotations

import itertools

import pytest

from tests import helpers


@pytest.fixture(autouse=True)
def _fresh_probe(monkeypatch: pytest.MonkeyPatch):
    monkeypatch.delenv("XBOT_TEST_SLOWNESS", raising=False)
    helpers.slowness.cache_clear()
    yield
    helpers.slowness.cache_clear()


def _probe_takes(monkeypatch: pytest.MonkeyPatch, *seconds: float) -> None:
    """CPU clocks that advance by each of ``seconds`` across one timing of a probe (the loop's three, the
    compiler's three, then the top-level loop's three); the probes themselves are not run."""
    ticks = itertools.accumulate(s for pair in ((0.0, s) for s in seconds) for s in pair)
    monkeypatch.setattr(helpers.time, "process_time", lambda: next(ticks))
    monkeypatch.setattr(helpers, "_loop", lambda: None)
    monkeypatch.setattr(helpers, "_compile", lambda: None)
    monkeypatch.setattr(helpers, "_names", lambda: None)


def test_the_best_of_three_timings_against_the_reference(monkeypatch: pytest.MonkeyPatch) -> None:
    _probe_takes(monkeypatch, 0.9, 0.56, 0.7, 0.1, 0.1, 0.1, 0.1, 0.1, 0.1)
    assert helpers.slowness() == pytest.approx(0.56 / helpers._PROBE_REFERENCE_S)


def test_a_machine_slow_at_compiling_is_slow_though_the_loop_is_not(monkeypatch: pytest.MonkeyPatch) -> None:
    _probe_takes(monkeypatch, 0.1, 0.1, 0.1, 0.45, 0.39, 0.41, 0.1, 0.1, 0.1)
    assert helpers.slowness() == pytest.approx(0.39 / helpers._COMPILE_REFERENCE_S)


def test_a_machine_slow_at_names_is_slow_though_the_loop_and_the_compiler_are_not(
        monkeypatch: pytest.MonkeyPatch) -> None:
    # The machine of 2026-12-05, 04:00 UTC: 0.14, 0.24 and 0.40-0.46.
    _probe_takes(monkeypatch, 0.14, 0.15, 0.14, 0.24, 0.25, 0.24, 0.46, 0.40, 0.45)
    assert helpers.slowness() == pytest.approx(0.40 / helpers._NAMES_REFERENCE_S)


def test_a_fast_machine_is_one_and_a_crawling_one_is_capped(monkeypatch: pytest.MonkeyPatch) -> None:
    _probe_takes(monkeypatch, 0.05, 0.06, 0.05, 0.1, 0.1, 0.1, 0.11, 0.12, 0.11)
    assert helpers.slowness() == 1.0
    helpers.slowness.cache_clear()
    _probe_takes(monkeypatch, 5.0, 6.0, 5.0, 0.1, 0.1, 0.1, 0.1, 0.1, 0.1)
    assert helpers.slowness() == helpers._MAX_SLOWNESS


def test_the_setting_overrides_the_probe(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("XBOT_TEST_SLOWNESS", "2.5")
    monkeypatch.setattr(helpers.time, "process_time", lambda: pytest.fail("probed despite the setting"))
    assert helpers.slowness() == 2.5
