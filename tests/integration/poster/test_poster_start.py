"""Start-up of the poster as an operator runs it: the live guard refuses a real X (or an unknown host) without
XBOT_LIVE=true, and lets a loopback or listed (XBOT_X_SANDBOX_HOSTS) sandbox through."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from libs.core.settings import SettingsError
from services.poster.app import build
from services.poster.settings import PosterSettings

ROOT = Path(__file__).resolve().parents[3]


def test_live_guard_refuses_a_non_loopback_base_url_naming_the_variables() -> None:
    env = dict(os.environ, XBOT_X_BASE_URL="https://x.com", PYTHONPATH=str(ROOT))
    env.pop("XBOT_LIVE", None)
    done = subprocess.run([sys.executable, "-m", "services.poster", "run"], cwd=ROOT, env=env,
                          capture_output=True, text=True, timeout=60)
    assert done.returncode == 2
    assert "XBOT_LIVE" in done.stderr and "XBOT_X_BASE_URL=https://x.com" in done.stderr


def test_live_guard_refuses_an_unlisted_sandbox_host_naming_the_setting_that_allows_it() -> None:
    env = dict(os.environ, XBOT_X_BASE_URL="http://sandbox:8400", PYTHONPATH=str(ROOT))
    env.pop("XBOT_LIVE", None)
    env.pop("XBOT_X_SANDBOX_HOSTS", None)
    done = subprocess.run([sys.executable, "-m", "services.poster", "run"], cwd=ROOT, env=env,
                          capture_output=True, text=True, timeout=60)
    assert done.returncode == 2
    assert "XBOT_X_SANDBOX_HOSTS" in done.stderr and "XBOT_LIVE" in done.stderr
    assert "XBOT_X_BASE_URL=http://sandbox:8400" in done.stderr


def test_a_real_x_host_in_the_sandbox_list_stops_start_up() -> None:
    env = dict(os.environ, XBOT_X_BASE_URL="https://x.com", XBOT_X_SANDBOX_HOSTS="x.com", PYTHONPATH=str(ROOT))
    env.pop("XBOT_LIVE", None)
    done = subprocess.run([sys.executable, "-m", "services.poster", "run"], cwd=ROOT, env=env,
                          capture_output=True, text=True, timeout=60)
    assert done.returncode == 2
    assert "XBOT_X_SANDBOX_HOSTS" in done.stderr


def test_live_guard_lets_an_explicit_live_run_and_the_sandbox_through() -> None:
    assert build(PosterSettings(x_base_url="https://x.com", live=True)).name == "poster"
    assert build(PosterSettings(x_base_url="http://127.0.0.1:8400")).name == "poster"
    # A sandbox on another host, as in docker compose's sandbox profile.
    assert build(PosterSettings(x_base_url="http://sandbox:8400", x_sandbox_hosts="sandbox")).name == "poster"
    with pytest.raises(SettingsError):
        build(PosterSettings(x_base_url="https://x.com", live=False))
    with pytest.raises(SettingsError, match="XBOT_X_SANDBOX_HOSTS"):
        build(PosterSettings(x_base_url="http://sandbox:8400"))
    with pytest.raises(SettingsError, match="XBOT_LIVE"):
        build(PosterSettings(x_base_url="https://x.com", x_sandbox_hosts="sandbox"))


def test_a_misspelt_failpoint_stops_start_up(monkeypatch) -> None:
    monkeypatch.setenv("XBOT_FAILPOINT", "poster.after_intnet")
    with pytest.raises(ValueError, match="not a failpoint"):
        build(PosterSettings())


@pytest.mark.parametrize("variable,value,message", [
    ("XBOT_CYCLE_S", "soon", "XBOT_CYCLE_S (got 'soon')"),  # the name before durations were timedelta
    ("XBOT_POSTING_CYCLE", "0", "XBOT_POSTING_CYCLE (got '0'): Input should be greater than 0"),
])
def test_an_invalid_duration_stops_start_up_naming_the_variable_as_set(variable, value, message) -> None:
    env = dict(os.environ, PYTHONPATH=str(ROOT), **{variable: value})
    done = subprocess.run([sys.executable, "-m", "services.poster", "run"], cwd=ROOT, env=env,
                          capture_output=True, text=True, timeout=60)
    assert done.returncode == 2
    assert f"invalid setting {message}" in done.stderr, done.stderr
