"""Crashes, CI form: half a simulated day squeezed into 81 real seconds with every service SIGKILLed once at a
random moment (the gateway with its Chromium and the poster among them), restarted by the demo's supervisors; then
the invariants of tests/chaos/crashes.py over what the run left."""

from __future__ import annotations

import json

import pytest

from ops.registry import SERVICES
from tests.chaos import crashes
from tests.helpers import slowness

# Every service killed once (the victims are drawn in shuffled rounds: one round is every service), so the
# gateway and the poster are always among them whatever services are added.
# Half a day at 535 times real speed (~80 real s). At a whole day in these minutes the clock ran 1,700 times real
# speed, one gateway request (0.6 s real under CI load) took 17 simulated minutes, and a run could expire every
# post it queued before the restarted poster reached one. Eight hours at this speed (~54 s, the kills ~5 s apart)
# were tried for the suite's time and left the poster with no outcome under load: its one write was in flight
# when the gateway was killed, and the read-back waits before it concludes. The speed is fixed rather than fitted
# to MINUTES, so a start-up slowed by CI load leaves the period as it is: MINUTES is only the real-time limit. A
# slow machine runs it slower (tests/helpers.py: slowness).
HOURS, KILLS, SEED = 12.0, len(SERVICES), 11
SCALE, MINUTES = 535.0 / slowness(), 4.0 * slowness()

pytestmark = [pytest.mark.timeout(MINUTES * 60 + 330), pytest.mark.long(minutes=2.5)]


async def test_random_sigkills_lose_and_double_nothing(tmp_path, servers: dict[str, str]):
    run_dir = crashes.run_demo(tmp_path, hours=HOURS, scale=SCALE, minutes=MINUTES, kills=KILLS, seed=SEED,
                               timeout=MINUTES * 60 + 180, env=crashes.active_hours_env(SCALE, HOURS))
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
        assert findings.figures["messages"]["poster"] > 0, (findings.figures, crashes.run_timeline(run_dir))
    finally:
        await crashes.remove_run(servers, summary["namespace"])
