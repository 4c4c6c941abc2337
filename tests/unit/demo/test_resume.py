"""Where a demo run's clock starts (a new run in the account's day; a resumed one, `python -m ops.demo --resume RUN`
the upgrade bench's second half, where the world's readings stopped), and what a resume refuses."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path

import pytest

from ops.demo.__main__ import main
from ops.demo.run import period_start, resumed_epoch


def test_the_clock_goes_on_from_the_worlds_last_reading(tmp_path: Path) -> None:
    (tmp_path / "data").mkdir()
    (tmp_path / "data" / "account.json").write_text(json.dumps({"now": "2026-12-02T17:07:46.343Z"}))
    assert resumed_epoch(tmp_path) == datetime(2026, 12, 2, 17, 7, 46, 343000, tzinfo=UTC)


def test_a_run_without_its_readings_cannot_resume(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(RuntimeError, match="data/account.json"):
        resumed_epoch(tmp_path)
    assert main(["--resume", str(tmp_path)]) == 2  # no summary.json: not a finished run
    assert "summary.json not found" in capsys.readouterr().err


def test_a_new_run_starts_in_the_accounts_day(monkeypatch: pytest.MonkeyPatch) -> None:
    # A demo started at 23:48 UTC read and posted nothing for seven simulated hours (active 07-23 UTC).
    monkeypatch.setenv("XBOT_ACTIVE_HOURS_START", "7")  # the default (the tests' own is no quiet hours)
    monkeypatch.setenv("XBOT_ACTIVE_HOURS_END", "23")
    night, day = datetime(2026, 12, 6, 23, 48, tzinfo=UTC), datetime(2026, 12, 6, 12, 5, tzinfo=UTC)
    assert period_start(night) == datetime(2026, 12, 7, 7, 0, tzinfo=UTC)
    assert period_start(day) == day
    monkeypatch.setenv("XBOT_ACCOUNT_TIMEZONE", "Europe/Berlin")  # the services' own reading of the account's day
    assert period_start(datetime(2026, 12, 7, 5, 30, tzinfo=UTC)) == datetime(2026, 12, 7, 6, 0, tzinfo=UTC)
    monkeypatch.setenv("XBOT_ACTIVE_HOURS_END", "7")  # equal start and end: no quiet hours
    assert period_start(night) == night
