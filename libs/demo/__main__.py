"""``python -m libs.demo [--hours 72] [--minutes 10] [--seed 42] [--kills 0] [--reports DIR] [--cleanup]``."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from libs.demo.plan import DemoPlan


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m libs.demo", description=__doc__)
    parser.add_argument("--hours", type=float, default=72.0, help="simulated hours (default 72)")
    parser.add_argument("--minutes", type=float, default=10.0, help="real minutes at most (default 10)")
    parser.add_argument("--seed", type=int, default=42, help="seed of the sandbox's world")
    parser.add_argument("--kills", type=int, default=0,
                        help="SIGKILL this many services at random moments of the period (chaos)")
    parser.add_argument("--reports", type=Path, default=None, help="where reports/<run>/ goes")
    parser.add_argument("--cleanup", action="store_true",
                        help="delete the run's streams, KV buckets and database afterwards (the report stays)")
    args = parser.parse_args(argv)
    try:
        plan = DemoPlan(hours=args.hours, minutes=args.minutes, seed=args.seed, kills=args.kills)
    except ValueError as err:
        print(f"error: {err}", file=sys.stderr)
        return 2
    from libs.demo.run import run_demo

    run_demo(plan, reports_root=args.reports, cleanup=args.cleanup)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
