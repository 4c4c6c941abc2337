"""Crashes, CI form: a simulated day squeezed into a couple of real minutes with every service SIGKILLed once at a
random moment (the gateway with its Chromium and the poster among them), restarted by the demo's supervisors; then the
invariants of tests/chaos/crashes.py over what the run left."""

from __future__ import annotations

import json

import pytest

from ops.registry import SERVICES
from tests.chaos import crashes

# Every service killed once (the victims are drawn in shuffled rounds: one round is every service), so the
# gateway and the poster are always among them whatever services are added.
HOURS, MINUTES, KILLS, SEED = 24.0, 2.9, len(SERVICES), 11

pytestmark = pytest.mark.timeout(360)


async def test_random_sigkills_lose_and_double_nothing(tmp_path, servers: dict[str, str]):
    run_dir = crashes.run_demo(tmp_path, hours=HOURS, minutes=MINUTES, kills=KILLS, seed=SEED, timeout=260)
    summary = json.loads((run_dir / "summary.json").read_text())
    try:
        kills = summary["kills"]
        assert len(kills) == KILLS, kills
        assert {"browser_gateway", "poster"} <= {k["service"] for k in kills}
        assert all(summary["restarts"][k["service"]] >= 1 for k in kills), summary["restarts"]
        # The gateway's Chromium went with it (else the kill left the browser running).
        assert all(k["descendants_killed"] > 0 for k in kills if k["service"] == "browser_gateway")
        findings = await crashes.check_run(run_dir, servers)
        print(json.dumps(findings.figures))
        assert not findings.violations, "\n".join(findings.violations)
        # The invariants must have had something to hold over.
        assert findings.figures["content_queued"] > 0
        assert findings.figures["messages"]["poster"] > 0, findings.figures
    finally:
        await crashes.remove_run(servers, summary["namespace"])
