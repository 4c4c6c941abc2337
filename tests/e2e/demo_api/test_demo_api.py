"""The whole system through the official X API (issue 23): one CI-size demo run with `--driver api`, every service
running, the gateway reading and writing through the sandbox's X API v2 (no web client at all). Posts, threads and
metric reads happen through the API, and the X API bill the sandbox computes at X's prices equals the gateway's
own ledger. Replies through the API are covered by tests/e2e/poster/test_poster_crashes_api.py."""

from __future__ import annotations

import asyncio
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from ops.infra import ROOT
from tests.chaos.crashes import active_hours_env, remove_run, run_timeline
from tests.helpers import slowness

# Four simulated hours at a fixed speed, as fast as the browser demo's (tests/e2e/demo/conftest.py): a post, its
# read-back and its first metric reads (the 1-hour checkpoint) fit with room, and through the API each of them
# takes milliseconds. The speed is fixed rather than fitted to MINUTES, so a start-up slowed by CI load leaves the
# period as it is: MINUTES is only the real-time limit (the run takes ~80 s on a quiet machine). A slow machine
# runs it slower (tests/helpers.py: slowness).
HOURS, SEED = 4.0, 9
SCALE, MINUTES = 260.0 / slowness(), 4.0 * slowness()

pytestmark = [pytest.mark.timeout(MINUTES * 60 + 210), pytest.mark.long(minutes=1.5)]


def test_the_whole_system_posts_threads_and_reads_metrics_through_the_x_api(tmp_path: Path,
                                                                          servers: dict[str, str]) -> None:
    # The account's active hours are the run's (tests/chaos/crashes.py: active_hours_env): the planner draws a
    # post's hour among the active ones, and with the default 07-23 most slots fell after the run's 4 hours
    # (a clean CI run at 07:33 posted 3 replies and no post or thread). They were once this hour and the next five:
    # a start-up of 76 real s at x252 (CI at 04:05 UTC) put the whole period past them, and nothing was posted.
    # The first metric read comes 15 simulated minutes after a post (default: 1 hour; the demo keeps its scrape
    # interval within it): a post drawn late in the run still gets one (a CI run posted late in its 4 hours and
    # read no metrics before the end).
    env = dict(os.environ, **active_hours_env(SCALE, HOURS), XBOT_SCRAPE_CHECKPOINTS='["PT15M","PT1H","PT2H"]')
    proc = subprocess.run([sys.executable, "-m", "ops.demo", "--driver", "api", "--hours", str(HOURS),
                           "--scale", str(SCALE), "--minutes", str(MINUTES), "--seed", str(SEED),
                           "--reports", str(tmp_path)],
                          cwd=ROOT, capture_output=True, text=True, timeout=MINUTES * 60 + 150, env=env)
    runs = list(tmp_path.iterdir())
    try:
        assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
        (run_dir,) = runs
        summary = json.loads((run_dir / "summary.json").read_text())
        assert summary["outcome"] == "complete" and summary["errors"] == [], summary["errors"]
        assert summary["driver"] == "api"
        events = summary["events"]
        assert summary["posts"] + summary["threads"] > 0 and events.get("TweetPosted", 0) > 0, run_timeline(run_dir)
        assert events.get("MetricsScraped", 0) > 0, run_timeline(run_dir)
        # Every tweet of the account was created through the API: the sandbox bills each one.
        bill = summary["x_api"]
        assert sum(d["posts_created"] + d["posts_created_url"] for d in bill["days"]) == summary["tweets"] > 0
        assert sum(d["posts_read_unique"] for d in bill["days"]) > 0  # the scraper's and harvester's reads
        assert bill["billed_usd"] == pytest.approx(bill["gateway_charged_usd"], abs=1e-9) and bill["billed_usd"] > 0
        # No Chromium was started for an API-only run.
        assert summary["memory"]["chromium"]["peak_mb"] == 0
    finally:
        for run in runs:
            asyncio.run(remove_run(servers, run.name))
