"""Architecture rules, enforced with import-linter: services only talk through events."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[3]


def test_import_contracts_hold():
    lint = Path(sys.executable).parent / "lint-imports"
    result = subprocess.run([str(lint)], cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "Contracts: 3 kept, 0 broken" in result.stdout


def test_every_service_is_a_runnable_package():
    for name in ("planner", "poster", "harvester", "scraper", "learner", "browser_gateway"):
        assert (ROOT / "services" / name / "__main__.py").exists(), name
    # Every service that keeps tables has numbered migrations (the gateway keeps none: only the session file).
    for name in ("planner", "poster", "harvester", "scraper", "learner"):
        assert sorted((ROOT / "services" / name / "migrations").glob("0001_*.sql")), name
