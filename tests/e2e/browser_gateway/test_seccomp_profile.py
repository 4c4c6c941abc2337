"""The seccomp profile shipped for the gateway's container (deploy/seccomp/chromium.json) keeps Chromium's
sandbox, where a runtime's default profile (its namespace rules: tests/data/seccomp) forces the reported
--no-sandbox fallback. Both run the real gateway pool and Chromium under the profile, as a container would."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from ops.infra import ROOT

pytestmark = [pytest.mark.chromium, pytest.mark.timeout(180)]

SHIPPED = ROOT / "deploy" / "seccomp" / "chromium.json"
RUNTIME_DEFAULT = ROOT / "tests" / "data" / "seccomp" / "no_user_namespaces.json"


def run_under(profile: Path, mode: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "tests.e2e.browser_gateway.seccomp_run", str(profile), mode],
                          cwd=ROOT, capture_output=True, text=True, timeout=150)


def test_the_shipped_profile_keeps_chromiums_sandbox() -> None:
    proc = run_under(SHIPPED, "required")
    assert proc.returncode == 0, proc.stderr[-3000:]
    status = json.loads(proc.stdout.strip().splitlines()[-1])
    assert status["sandbox"] is True and status["verified"] is True, status


def test_a_runtime_default_profile_forces_the_fallback_and_says_so() -> None:
    proc = run_under(RUNTIME_DEFAULT, "auto")
    assert proc.returncode == 0, proc.stderr[-3000:]
    status = json.loads(proc.stdout.strip().splitlines()[-1])
    assert status["sandbox"] is False and status["verified"] is False and status["reason"], status
    assert run_under(RUNTIME_DEFAULT, "required").returncode != 0  # required never falls back


def test_the_profile_denies_what_a_browser_never_needs_and_allows_namespaces() -> None:
    profile = json.loads(SHIPPED.read_text())
    denied = {name for rule in profile["syscalls"] for name in rule["names"]}
    assert {"init_module", "kexec_load", "mount", "bpf", "keyctl", "open_by_handle_at", "setns"} <= denied
    assert not {"unshare", "clone", "clone3", "chroot"} & denied


def test_compose_gives_the_gateway_the_profile() -> None:
    compose = yaml.safe_load((ROOT / "docker-compose.yml").read_text())
    assert "seccomp=./deploy/seccomp/chromium.json" in compose["services"]["browser-gateway"]["security_opt"]
