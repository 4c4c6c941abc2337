"""One CI-size demo run (a few simulated hours of the whole system against a fresh sandbox) shared by the demo's
report checks and the services' contract suite; its namespace and database are removed afterwards."""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from ops.infra import ROOT
from tests.chaos.crashes import active_hours_env, remove_run
from tests.helpers import slowness

# 4 simulated hours at a fixed x260 (~55 real s), MINUTES only the real-time limit: a cold start of every service
# slowed by CI load (over a minute under heavy load) leaves the simulated period as it is. A slow machine runs it
# slower (tests/helpers.py: slowness).
HOURS, SEED = 4.0, 7
SCALE, MINUTES = 260.0 / slowness(), 4.0 * slowness()


@pytest.fixture(scope="package")
def run_dir(tmp_path_factory: pytest.TempPathFactory, servers: dict[str, str]) -> Iterator[Path]:
    root = tmp_path_factory.mktemp("reports")
    proc = subprocess.run([sys.executable, "-m", "ops.demo", "--hours", str(HOURS), "--scale", str(SCALE),
                           "--minutes", str(MINUTES), "--seed", str(SEED), "--reports", str(root)], cwd=ROOT,
                          capture_output=True, text=True, timeout=MINUTES * 60 + 150,
                          env={**os.environ, **active_hours_env(SCALE, HOURS)})
    runs = list(root.iterdir())
    yield_dir = runs[0] if len(runs) == 1 else None
    try:
        assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
        assert yield_dir is not None, f"expected one run directory, found {runs}"
        yield yield_dir
    finally:
        if yield_dir is not None:
            asyncio.run(remove_run(servers, yield_dir.name))
