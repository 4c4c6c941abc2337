"""``python -m ops.demo [--hours 72] [--minutes 10] [--seed 42] [--scale X] [--kills 0] [--driver browser|api]
[--approval none|posts|all] [--reports DIR] [--cleanup] [--resume RUN_DIR]``."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from ops.demo.plan import DemoPlan


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m ops.demo", description=__doc__)
    parser.add_argument("--hours", type=float, default=72.0, help="simulated hours (default 72)")
    parser.add_argument("--minutes", type=float, default=10.0, help="real minutes at most (default 10)")
    parser.add_argument("--seed", type=int, default=42, help="seed of the sandbox's world")
    parser.add_argument("--scale", type=float, default=None,
                        help="a fixed clock speed (simulated seconds per real second) instead of the one that fits "
                             "the period into --minutes, which is then only the real-time limit")
    parser.add_argument("--kills", type=int, default=0,
                        help="SIGKILL this many services at random moments of the period (chaos)")
    parser.add_argument("--driver", choices=["browser", "api"], default="browser",
                        help="the gateway reads and writes through X's web client (browser) or the X API (api)")
    parser.add_argument("--approval", choices=("all", "posts", "none"), default="none",
                        help="which drafts wait for the owner's approval in the console (default none)")
    parser.add_argument("--reports", type=Path, default=None, help="where reports/<run>/ goes")
    parser.add_argument("--cleanup", action="store_true",
                        help="delete the run's streams, KV buckets and database afterwards (the report stays)")
    parser.add_argument("--resume", type=Path, default=None,
                        help="carry on a finished run (its namespace, database and sandbox world) with this code, "
                             "after `xbot migrate` and `xbot provision` on it (docs/upgrade.md); its seed is kept")
    args = parser.parse_args(argv)
    seed = args.seed
    if args.resume is not None:
        summary = args.resume / "summary.json"
        if not summary.exists():
            print(f"error: {summary} not found: --resume takes a finished run's directory", file=sys.stderr)
            return 2
        seed = int(json.loads(summary.read_text())["seed"])  # the world is regenerated from it
    try:
        plan = DemoPlan(hours=args.hours, minutes=args.minutes, seed=seed, kills=args.kills,
                        scale=args.scale, driver=args.driver, approval=args.approval)
    except ValueError as err:
        print(f"error: {err}", file=sys.stderr)
        return 2
    from ops.demo.run import run_demo

    run_demo(plan, reports_root=args.reports, cleanup=args.cleanup, resume=args.resume)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
