"""A resumed demo run (`python -m ops.demo --resume RUN`, the upgrade bench's second half): where its clock starts,
and what it refuses."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path

import pytest

from ops.demo.__main__ import main
from ops.demo.run import resumed_epoch


def test_the_clock_goes_on_from_the_worlds_last_reading(tmp_path: Path) -> None:
    (tmp_path / "data").mkdir()
    (tmp_path / "data" / "account.json").write_text(json.dumps({"now": "2026-12-02T17:07:46.343Z"}))
    assert resumed_epoch(tmp_path) == datetime(2026, 12, 2, 17, 7, 46, 343000, tzinfo=UTC)


def test_a_run_without_its_readings_cannot_resume(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(RuntimeError, match="data/account.json"):
        resumed_epoch(tmp_path)
    assert main(["--resume", str(tmp_path)]) == 2  # no summary.json: not a finished run
    assert "summary.json not found" in capsys.readouterr().err
