"""Growth over a simulated week (`xbot bench growth [--hours 168] [--minutes 20] [--seed 42] [--driver api]`;
issue 24, item 6).

A benchmark, not a test: the whole system (every service, the demo's set-up: ops/demo) runs against a fresh
sandbox for ``--hours`` simulated hours; then, while the sandbox still runs, its ground truth values every post and
reply the account made (POST /sim/growth, sandbox/growth.py): the followers each was expected to bring under the
choice made (policy), under a uniform choice among the choices its slot offered (uniform) and under the best of
them (oracle), at the account's follower count and with the tweet's own text. Reported per 24-hour day and in all:
those three sums, the share (policy - uniform) / (oracle - uniform) (target >= 85%), and the followers actually
gained (the account's count over the day) and drawn (the final follows the world drew for that day's tweets,
the realisation of the policy figure, which also counts follows that arrive after the run).

A reply's alternatives are the targets the planner's pool held when it queued that reply: reconstructed here from
the event streams (``reply_pools``) with the planner's own freshness and relevance rules (the per-author limits
and cooldowns are left out, so the pool is a little wider than the planner's draw; ``pool_check`` compares the
two sizes where the planner logged its draw). The post's alternatives are every content type × topic × format at
the planner's posting hours (the account's active hours in UTC).

``--history-posts N`` starts the account with N past posts of its own (the sandbox's XBOT_SANDBOX_HISTORY_POSTS,
docs/sandbox.md "The account's history"), for the system to learn from; they are not valued here.

``--hours 24 --minutes 5`` is a development run; the full week takes about 17 real minutes. ``--keep DIR`` keeps
the run's folder; ``--evaluate DIR/<run>`` values such a run again with this code's ground truth (a change of the
valuation, not of the system) in seconds. Results: bench/results/growth.json.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import sys
import time
from collections.abc import Iterable
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from bench.safety import commit, reports_root
from libs.core.account import AccountSettings
from libs.niche import load_niche
from ops.demo.figures import EventLog, parse_time
from ops.demo.plan import DemoPlan
from ops.demo.run import DemoRun

RESULTS = Path(__file__).parent / "results" / "growth.json"
TARGET_SHARE = 0.85


def reply_pools(events: Iterable[tuple[str, datetime, dict]], *, max_age_hours: float, min_hours_left: float,
                min_relevance: float) -> tuple[dict[str, list[str]], list[tuple[int, int]]]:
    """Our reply's tweet id -> the targets the planner's pool held when it queued that reply (its own first), and
    (pool size, size of the planner's logged draw) for each reply that logged one.

    The pool at a queueing: found before it, not expired by then, not targeted by an earlier queued item, fresh
    enough (younger than max_age_hours - min_hours_left), relevant enough, a root tweet or a reply our own post
    got (services/planner/replies.py: ineligibility)."""
    found: dict[str, tuple[datetime, dict]] = {}
    expired: dict[str, datetime] = {}
    queued: list[tuple[datetime, dict]] = []
    posted: dict[str, str] = {}
    for kind, at, payload in sorted(events, key=lambda e: e[1]):
        if kind == "OpportunityFound":
            found.setdefault(str(payload["tweet_id"]), (at, payload))
        elif kind == "OpportunityExpired":
            expired.setdefault(str(payload["tweet_id"]), at)
        elif kind == "ContentQueued" and payload.get("reply_to_tweet_id"):
            queued.append((at, payload))
        elif kind == "TweetPosted" and payload.get("tweet_ids"):
            posted[str(payload["content_id"])] = str(payload["tweet_ids"][0])
    freshness = timedelta(hours=max_age_hours - min_hours_left)
    taken: set[str] = set()
    pools: dict[str, list[str]] = {}
    sizes: list[tuple[int, int]] = []
    for at, item in queued:
        target = str(item["reply_to_tweet_id"])
        pool = [target] + [
            tid for tid, (found_at, opp) in found.items()
            if tid != target and tid not in taken and found_at <= at
            and (tid not in expired or expired[tid] > at)
            and at - parse_time(str(opp["tweet_created_at"])) < freshness
            and float(opp.get("relevance", 0.0)) >= min_relevance
            and (not opp.get("is_reply") or opp.get("source") == "conversation")]
        taken.add(target)
        tweet_id = posted.get(str(item["content_id"]))
        if tweet_id is None:
            continue  # queued, never posted (expired, dropped, rejected): no tweet to value
        pools[tweet_id] = pool
        drawn = (item.get("reply_context") or {}).get("candidates")
        if drawn:
            sizes.append((len(pool), len(drawn)))
    return pools, sizes


def planner_hours(day: datetime) -> list[int]:
    """The UTC hours the planner draws posting hours among: the niche's hour arms within the active hours."""
    hours = list(load_niche(AccountSettings().niche_path).hours)
    active = AccountSettings().active_hours()
    return hours if active is None else [h for h in hours if h in set(active.utc_hours(day.date()))]


def planner_pools(events: Iterable[tuple[str, datetime, dict]]) -> tuple[dict[str, list[str]], list[tuple[int, int]]]:
    """reply_pools by the niche's own reply rules."""
    replies = load_niche(AccountSettings().niche_path).replies
    return reply_pools(events, max_age_hours=replies.max_age_hours, min_hours_left=replies.min_hours_left,
                       min_relevance=replies.min_relevance)


class GrowthRun(DemoRun):
    """The demo's run; before the sandbox stops, its ground truth values what the account did."""

    def __post_init__(self) -> None:
        super().__post_init__()
        self.growth: dict[str, Any] | None = None
        self.pool_sizes: list[tuple[int, int]] = []

    async def _report(self, clock, outcome: str) -> dict:
        summary = await super()._report(clock, outcome)
        assert self.admin is not None and self.start_sim is not None
        until = self.end_sim or clock.now()
        pools, self.pool_sizes = planner_pools(self.watcher.log.events if self.watcher else EventLog().events)
        self.growth = await self.admin.growth({"since": self.start_sim.isoformat(), "until": until.isoformat(),
                                               "hours": planner_hours(self.start_sim), "reply_pools": pools})
        (self.run_dir / "data" / "growth.json").write_text(json.dumps(self.growth, indent=1))
        return summary


def evaluate(run_dir: Path) -> tuple[dict[str, Any], list[tuple[int, int]]]:
    """A kept run (``--keep``) valued again by this code's ground truth, in-process: its world rebuilt from its
    sandbox file and seed (the population is a function of the seed), its pools from its events. For a change of
    the valuation, not of the system: the week is not run again."""
    from libs.core.clock import Clock
    from ops.demo.plan import HANDLE
    from sandbox.growth import growth
    from sandbox.settings import SandboxSettings
    from sandbox.store import Store
    from sandbox.world import World

    summary = json.loads((run_dir / "summary.json").read_text())
    account = json.loads((run_dir / "data" / "account.json").read_text())
    events = [(e["type"], parse_time(e["occurred_at"]), e["payload"])
              for e in json.loads((run_dir / "data" / "events.json").read_text())]
    clock = Clock(scale=1e-9, epoch=parse_time(account["now"]))
    settings = SandboxSettings(seed=int(summary["seed"]), handle=HANDLE, db_path=run_dir / "sandbox.sqlite3")
    world = World(settings, clock, Store(settings.db_path))
    pools, sizes = planner_pools(events)
    since, until = parse_time(summary["period_start"]), parse_time(summary["period_end"])
    return growth(world, since=since.timestamp(), until=until.timestamp(), hours=planner_hours(since),
                  reply_pools=pools), sizes


def pool_check(sizes: list[tuple[int, int]]) -> dict[str, Any]:
    if not sizes:
        return {"replies_with_logged_draw": 0}
    return {"replies_with_logged_draw": len(sizes),
            "mean_pool_reconstructed": round(sum(p for p, _ in sizes) / len(sizes), 1),
            "mean_planner_draw": round(sum(d for _, d in sizes) / len(sizes), 1)}


def percent(value: float | None) -> str:
    return "n/a" if value is None else f"{100 * value:.1f}%"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="xbot bench growth", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--hours", type=float, default=168.0, help="simulated hours (default 168: a week)")
    parser.add_argument("--minutes", type=float, default=20.0, help="real minutes at most (default 20)")
    parser.add_argument("--seed", type=int, default=42, help="seed of the sandbox's world")
    parser.add_argument("--driver", choices=["browser", "api"], default="browser",
                        help="how the gateway reaches X: its web client in the one Chromium (writes take real "
                             "seconds, many simulated minutes at a week's speed) or its API")
    parser.add_argument("--history-posts", type=int, default=0, metavar="N",
                        help="past posts the account starts with (default 0: none), for the system to learn from")
    parser.add_argument("--out", type=Path, default=RESULTS, help=f"results file (default {RESULTS})")
    parser.add_argument("--keep", type=Path,
                        help="keep the run's folder (report, every service's log) here instead of a temporary one")
    parser.add_argument("--evaluate", type=Path, metavar="RUN_DIR",
                        help="value a run kept with --keep (its reports/<run>/ folder) again with this code's ground "
                             "truth instead of running the system; the results keep that run's figures of time")
    args = parser.parse_args(argv)
    if not 0 <= args.history_posts <= 500:
        parser.error("--history-posts must be 0 to 500 (XBOT_SANDBOX_HISTORY_POSTS)")
    ran, started = commit(), time.time()
    if args.evaluate:
        answer, sizes = evaluate(args.evaluate)
        summary = json.loads((args.evaluate / "summary.json").read_text())
        real_seconds = summary.get("real_seconds")
        args.hours, args.minutes, args.seed = (summary.get("planned_hours"), summary.get("budget_minutes"),
                                               summary.get("seed"))
        args.history_posts = answer.get("history_posts", 0)  # what the kept sandbox holds (deleted ones aside)
    else:
        with contextlib.ExitStack() as stack:
            reports = reports_root(stack, args.keep, "xbot-growth-")
            run = GrowthRun(DemoPlan(hours=args.hours, minutes=args.minutes, seed=args.seed, driver=args.driver),
                            reports_root=reports, cleanup=True,
                            env_overrides={"XBOT_SANDBOX_HISTORY_POSTS": str(args.history_posts)})
            run_dir = asyncio.run(run.run())
            summary = json.loads((run_dir / "summary.json").read_text())
        if run.growth is None:
            print("the sandbox's ground truth was not read (the run failed before its report)", file=sys.stderr)
            return 1
        answer, sizes, real_seconds = run.growth, run.pool_sizes, round(time.time() - started, 1)
    total = answer["total"]
    met = total["share"] is not None and total["share"] >= TARGET_SHARE
    result = {
        "commit": ran, "evaluated_again": str(args.evaluate) if args.evaluate else None,
        "hours": args.hours, "minutes": args.minutes, "seed": args.seed, "driver": summary.get("driver"),
        "history_posts": args.history_posts,
        "outcome": summary.get("outcome"), "simulated_hours": summary.get("simulated_hours"),
        "time_scale": summary.get("time_scale"), "real_seconds": real_seconds,
        "errors": summary.get("errors"), "target_share": TARGET_SHARE, "target_met": met,
        "total": total, "days": answer["days"], "posting_hours_utc": answer["hours"],
        "replies_with_pool": answer["replies_with_pool"], "replies_unvalued": answer["replies_unvalued"],
        "pool_check": pool_check(sizes),
    }
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(result, indent=1) + "\n")
    print(f"{'day':>4} {'posts':>5} {'replies':>7} {'policy':>8} {'uniform':>8} {'oracle':>8} {'share':>7} "
          f"{'drawn':>6} {'gained':>6}")
    for row in [*answer["days"], {**total, "day": "all"}]:
        print(f"{row['day']:>4} {row['posts']:>5} {row['replies']:>7} {row['policy']:>8.2f} {row['uniform']:>8.2f} "
              f"{row['oracle']:>8.2f} {percent(row['share']):>7} {row['follows_drawn']:>6} "
              f"{row['followers_gained']:>6}")
    for kind, part in total.get("by_kind", {}).items():
        print(f"{'posts' if kind == 'post' else 'replies'}: policy {part['policy']:.2f}, "
              f"uniform {part['uniform']:.2f}, oracle {part['oracle']:.2f}, share {percent(part['share'])} "
              f"over {part['choices_per_slot']:g} choices a slot")
    print(f"share of the oracle's advantage over uniform choices: {percent(total['share'])}; target "
          f">= {percent(TARGET_SHARE)}: {'MET' if met else 'NOT MET'} ({result['outcome']}, "
          f"{result['simulated_hours']} simulated hours in {result['real_seconds']:.0f} real s; {args.out})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
