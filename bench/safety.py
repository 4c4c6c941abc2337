"""Is the account safe at default settings? (`xbot bench safety [--days 7] [--scale 600] [--seed 42]`)

Issue 18 item 7. Three arms, all judged by the sandbox's ground truth (what it served the account, its warnings,
its automation-suspicion score; the sandbox counts, not the gateway):

* **guarded**: the whole system (every service, the demo's set-up: ops/demo) for ``--days`` simulated days at
  default settings, the activity budget on;
* **reference**: the same system with ``XBOT_ACTIVITY_BUDGET=false`` (the gateway counts but never refuses nor
  paces: the reads as they were before the budget), for ``--reference-days`` (default 0.25: six simulated hours)
  at ``--reference-scale`` (default 30). Why shorter and slower: at 600x one page load of the one browser takes
  simulated minutes, so the unguarded system reads far slower than it would on x.com and, on a loaded machine,
  never reaches X's 15-minute reading limit; at 30x a page load takes simulated seconds, as on x.com, and the
  reference reads at its real throughput. The ``throughput`` block of each arm (page loads and posts viewed per
  simulated minute) shows how hot each arm ran;
* **legacy**: the legacy project's schedule (17 posts every 25 minutes and 200 replies around the clock, the day
  its account was locked) through the same suspicion model and thresholds (sandbox/calibration.py: pure, the
  live sandbox gives the same result, tests/integration/sandbox/test_automation_suspicion.py).

Targets (the issue's): guarded 0 warnings (rate-limit pages, automation notices), 0 locks, at most 500 posts
viewed on any day, the highest suspicion score at most half the lock threshold. The check can fail, and must be
seen able to in the same run: the reference must draw warnings or a lock and the legacy schedule must reach the
lock, else the sandbox is too lenient to prove anything. Exit status 1 when any check fails.

The guarded run goes at ``--scale`` (600x, the speed the 72-hour demo runs at), so a shorter ``--days`` is the
same run cut short (for development); 7 days take about 20 real minutes, the reference about 15.
``--only guarded`` (or ``reference``) re-runs one arm and keeps the other from the results file, each arm
naming the commit it ran and its days and scale. Results: bench/results/safety.json.
"""

from __future__ import annotations

import argparse
import contextlib
import asyncio
import json
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Any

from ops.demo.plan import HEADROOM, SHUTDOWN_RESERVE_S, STARTUP_RESERVE_S, DemoPlan
from ops.demo.run import DemoRun
from sandbox.calibration import MIDNIGHT, play
from sandbox.schedules import legacy_day
from sandbox.settings import SandboxSettings
from sandbox.suspicion import Model

RESULTS = Path(__file__).parent / "results" / "safety.json"
# The targets for the guarded run.
MAX_POSTS_VIEWED_A_DAY = 500
MAX_SCORE_SHARE_OF_LOCK = 0.5


# Real seconds on top of the demo's own reserves: two runs back to back on a shared 2-core machine start slower
# than one demo (a run cut short by its real-time budget fails the check instead of measuring).
EXTRA_START_S = 90.0


def minutes_for(days: float, scale: float) -> float:
    """The real-time limit of a run of ``days`` at ``scale``: the period, the demo's reserves, and slack."""
    return (days * 86400 / scale / HEADROOM + STARTUP_RESERVE_S + SHUTDOWN_RESERVE_S + EXTRA_START_S) / 60


def commit() -> str:
    """The code an arm ran (``--only`` re-runs one arm: the results file then says which code each arm ran)."""
    try:
        return subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=Path(__file__).parent, text=True,
                              capture_output=True, check=True).stdout.strip()
    except (OSError, subprocess.CalledProcessError):
        return "unknown"


def reports_root(stack: contextlib.ExitStack, keep: Path | None, prefix: str) -> Path:
    """Where a benchmark's runs write their folders: ``keep`` (``--keep``) if given, else a temporary directory
    removed when ``stack`` closes."""
    if keep is None:
        return Path(stack.enter_context(tempfile.TemporaryDirectory(prefix=prefix)))
    keep.mkdir(parents=True, exist_ok=True)
    return keep


def system_arm(name: str, *, budget: bool, days: float, scale: float, seed: int, reports: Path) -> dict[str, Any]:
    ran = commit()  # before the run: the code it starts is the code checked out now
    plan = DemoPlan(hours=days * 24, minutes=minutes_for(days, scale), seed=seed, scale=scale)
    demo = DemoRun(plan, reports_root=reports, cleanup=True,
                   env_overrides={"XBOT_ACTIVITY_BUDGET": "true" if budget else "false"})
    run_dir = asyncio.run(demo.run())
    summary = json.loads((run_dir / "summary.json").read_text())
    return {"name": name, "activity_budget": budget, "commit": ran, "days": days, "scale": scale,
            **arm_figures(summary)}


def throughput(days: list[dict[str, Any]], simulated_hours: float | None) -> dict[str, Any]:
    """How hot an arm ran: what the sandbox served per simulated minute over the whole run."""
    minutes = (simulated_hours or 0) * 60
    loads = sum(d.get("page_loads", 0) for d in days)
    viewed = sum(d.get("posts_viewed", 0) for d in days)
    return {"simulated_minutes": round(minutes, 1), "page_loads": loads, "posts_viewed": viewed,
            "page_loads_per_simulated_minute": round(loads / minutes, 3) if minutes else None,
            "posts_viewed_per_simulated_minute": round(viewed / minutes, 2) if minutes else None}


def arm_figures(summary: dict[str, Any]) -> dict[str, Any]:
    """What the sandbox served and how it reacted, per calendar day and in all, from a demo's summary.json."""
    activity = summary.get("x_activity") or {}
    days = activity.get("days") or []
    suspicion = activity.get("suspicion") or {}
    lock = float((suspicion.get("thresholds") or {}).get("lock") or SandboxSettings().suspicion_lock)
    rate_limited = sum(d.get("rate_limited", 0) for d in days)
    notices = sum(d.get("notices", 0) for d in days)
    locks = len(suspicion.get("locks") or [])
    return {
        "outcome": summary.get("outcome"),
        "simulated_hours": summary.get("simulated_hours"),
        "time_scale": summary.get("time_scale"),
        "real_seconds": summary.get("real_seconds"),
        "errors": summary.get("errors"),
        "per_day": [{k: d.get(k, 0) for k in ("date", "page_loads", "posts_viewed", "searches", "status_views",
                                              "profile_views", "writes", "rate_limited", "notices")}
                    for d in days],
        "max_posts_viewed_a_day": max((d.get("posts_viewed", 0) for d in days), default=0),
        "throughput": throughput(days, summary.get("simulated_hours")),
        "rate_limited_pages": rate_limited,
        "automation_notices": notices,
        "warnings": rate_limited + notices,
        "locks": locks,
        "lock_detail": suspicion.get("locks") or [],
        "max_suspicion": suspicion.get("max_score"),
        "max_suspicion_at": suspicion.get("max_score_at"),
        "lock_threshold": lock,
        "posts": summary.get("posts"), "thread_parts": summary.get("thread_parts"),
        "replies": summary.get("replies"),
        "opportunities": (summary.get("events") or {}).get("OpportunityFound"),
        "metric_reads": (summary.get("events") or {}).get("MetricsScraped"),
        "followers_gained": summary.get("followers_gained"),
    }


def legacy_arm() -> dict[str, Any]:
    settings = SandboxSettings()
    run = play("legacy day", legacy_day(MIDNIGHT), 1, Model(), settings.suspicion_notice, settings.suspicion_lock)
    return {"name": "legacy", "writes": run.writes, "max_suspicion": round(run.highest, 2),
            "components_at_max": run.components, "notice": run.notice, "lock": run.lock,
            "lock_threshold": settings.suspicion_lock, "locked": run.lock != "-"}


def checks(guarded: dict[str, Any], reference: dict[str, Any], legacy: dict[str, Any]) -> dict[str, bool]:
    return {
        "guarded_ran_to_the_end": guarded["outcome"] == "complete",
        "guarded_no_warnings": guarded["warnings"] == 0,
        "guarded_no_locks": guarded["locks"] == 0,
        "guarded_posts_viewed_le_500_a_day": guarded["max_posts_viewed_a_day"] <= MAX_POSTS_VIEWED_A_DAY,
        "guarded_suspicion_le_half_the_lock": (guarded["max_suspicion"] is not None and guarded["max_suspicion"]
                                               <= MAX_SCORE_SHARE_OF_LOCK * guarded["lock_threshold"]),
        "reference_ran_to_the_end": reference["outcome"] == "complete",
        "reference_draws_warnings_or_a_lock": reference["warnings"] + reference["locks"] > 0,
        "legacy_reaches_the_lock": legacy["locked"],
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="xbot bench safety", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--days", type=float, default=7.0, help="simulated days per system run (default 7)")
    parser.add_argument("--scale", type=float, default=600.0,
                        help="simulated seconds per real second (default 600, the demo's speed: 7 days in "
                             "17 real minutes)")
    parser.add_argument("--reference-days", type=float, default=0.25,
                        help="simulated days of the reference run (default 0.25: six hours)")
    parser.add_argument("--reference-scale", type=float, default=30.0,
                        help="the reference run's clock speed (default 30: a page load takes simulated seconds, as "
                             "on x.com, so the unguarded system reads at its real throughput)")
    parser.add_argument("--seed", type=int, default=42, help="seed of the sandbox's world (both runs)")
    parser.add_argument("--out", type=Path, default=RESULTS, help=f"results file (default {RESULTS})")
    parser.add_argument("--only", choices=("guarded", "reference"),
                        help="run this arm alone and take the other from --out (same days, scale and seed)")
    parser.add_argument("--keep", type=Path,
                        help="keep the runs' folder (reports, every service's log) here instead of a temporary one")
    args = parser.parse_args(argv)
    legacy = legacy_arm()
    arms: dict[str, dict[str, Any]] = {}
    runs = {"guarded": (True, args.days, args.scale), "reference": (False, args.reference_days, args.reference_scale)}
    if args.only:
        before = json.loads(args.out.read_text())
        kept = "reference" if args.only == "guarded" else "guarded"
        _, days, scale = runs[kept]
        if (before[kept].get("days"), before[kept].get("scale"), before["seed"]) != (days, scale, args.seed):
            parser.error(f"--only {args.only} keeps the {kept} arm of {args.out}: it needs that arm's days, scale "
                         "and seed")
        arms = {kept: before[kept]}
    with contextlib.ExitStack() as stack:
        reports = reports_root(stack, args.keep, "xbot-safety-")
        for name, (budget, days, scale) in runs.items():
            if name not in arms:
                arms[name] = system_arm(name, budget=budget, days=days, scale=scale, seed=args.seed,
                                        reports=reports)
    guarded, reference = arms["guarded"], arms["reference"]
    result = {"days": args.days, "scale": args.scale, "reference_days": args.reference_days,
              "reference_scale": args.reference_scale, "seed": args.seed,
              "targets": {"warnings": 0, "locks": 0, "max_posts_viewed_a_day": MAX_POSTS_VIEWED_A_DAY,
                          "max_suspicion_share_of_lock": MAX_SCORE_SHARE_OF_LOCK},
              "guarded": guarded, "reference": reference, "legacy": legacy,
              "checks": checks(guarded, reference, legacy)}
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(result, indent=1, default=str) + "\n")
    for arm in (guarded, reference):
        print(f"{arm['name']:9s} {arm['outcome']}: max {arm['max_posts_viewed_a_day']} posts viewed a day, "
              f"{arm['rate_limited_pages']} rate-limit pages, {arm['automation_notices']} notices, {arm['locks']} "
              f"locks, highest suspicion {arm['max_suspicion']} of lock {arm['lock_threshold']:g}; posts "
              f"{arm['posts']}, replies {arm['replies']}; "
              f"{(arm.get('throughput') or {}).get('page_loads_per_simulated_minute')} page loads a simulated minute")
    print(f"legacy    highest suspicion {legacy['max_suspicion']}, notice {legacy['notice']}, lock {legacy['lock']}")
    failed = [name for name, ok in result["checks"].items() if not ok]
    print("all checks pass" if not failed else f"FAILED: {', '.join(failed)}", f"({args.out})")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
