"""Architecture rules, enforced with import-linter: services only talk through events."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from ops.registry import CONSUMERS, SERVICES

ROOT = Path(__file__).resolve().parents[3]


@pytest.mark.slow  # starts a process: not in the fast tier
def test_import_contracts_hold():
    lint = Path(sys.executable).parent / "lint-imports"
    result = subprocess.run([str(lint)], cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "0 broken" in result.stdout
    assert " broken" not in result.stdout.replace("0 broken", "")


def test_every_service_is_a_runnable_package():
    assert sorted(SERVICES) == sorted(p.name for p in (ROOT / "services").iterdir() if (p / "__init__.py").exists())
    for name in SERVICES:
        assert (ROOT / "services" / name / "__main__.py").exists(), name
    # Every service that keeps tables has numbered migrations (the gateway keeps none: only the session file).
    for name in CONSUMERS:
        assert sorted((ROOT / "services" / name / "migrations").glob("0001_*.sql")), name


def test_services_never_call_the_ground_truth_or_admin_routes():
    """import-linter keeps the sandbox's modules out of services/; this keeps its HTTP ground truth (/sim/...)
    and its admin routes (/admin/...) out too: a service that peeked at them would learn from the answer key."""
    offenders = [
        f"{path.relative_to(ROOT)}: {route}"
        for path in sorted((ROOT / "services").rglob("*"))
        if path.suffix in (".py", ".yaml", ".yml", ".json", ".sql")
        for route in ("/sim/", "/admin/")
        if route in path.read_text()
    ]
    assert offenders == []
