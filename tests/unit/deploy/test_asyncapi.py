"""The committed AsyncAPI document is what the services' own composition describes today."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[3]
COMMITTED = ROOT / "deploy" / "asyncapi" / "xbot.asyncapi.yaml"


@pytest.mark.slow  # starts a process: not in the fast tier
def test_committed_asyncapi_document_is_current(tmp_path):
    fresh = tmp_path / "asyncapi.yaml"
    proc = subprocess.run([sys.executable, str(ROOT / "deploy" / "asyncapi" / "generate.py"), str(fresh)],
                          cwd=ROOT, capture_output=True, text=True, timeout=180)
    assert proc.returncode == 0, proc.stderr
    assert fresh.read_text() == COMMITTED.read_text(), (
        "deploy/asyncapi/xbot.asyncapi.yaml is stale: run `python deploy/asyncapi/generate.py`")


def test_document_covers_every_event_and_gateway_operation():
    from libs.contracts.events import ALL_EVENTS
    from libs.contracts.gateway import OPERATIONS

    doc = yaml.safe_load(COMMITTED.read_text())
    addresses = {ch["address"] for ch in doc["channels"].values()}
    assert {e.subject() for e in ALL_EVENTS} <= addresses
    assert {f"xbot.browser.{op}" for op in OPERATIONS} <= addresses
