"""The long form of the chaos suite (`xbot bench chaos` / `python -m bench.chaos`), same code as tests/chaos/.

(a) poison: 10,000 fuzzed messages (Hypothesis) interleaved with valid events on every subject every consuming
    service reads, against all of them running in-process; then the dead-letter retry of a fixed event;
(b) restarts: NATS SIGKILLed and restarted, then PostgreSQL stopped (immediate) and restarted, under the
    poster, several rounds, on servers of its own.
(c) crashes: a simulated day of the whole system (the demo) with at least 50 SIGKILLs of random services, the
    gateway and its Chromium included, then the invariants of tests/chaos/crashes.py. With ``--driver api`` this
    part alone, the gateway reading and writing through the sandbox's X API (bench/results/chaos_api.json).
Results in bench/results/chaos.json.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import tempfile
import time
import uuid
from collections import Counter
from pathlib import Path
from urllib.parse import urlparse, urlunparse

import asyncpg

from libs.bus.provision import provision_streams
from libs.bus.streams import KV_BUCKETS, kv_bucket, stream_configs
from ops.infra import ensure_servers
from libs.bus.nats import connect
from libs.core.settings import CommonSettings
from tests.chaos import crashes, poison, restarts

RESULTS = Path(__file__).parent / "results" / "chaos.json"
RESULTS_API = Path(__file__).parent / "results" / "chaos_api.json"
# Real minutes for the simulated day of crashes: the supervisor's restart back-off (1 s doubling to 60 s for a
# child that dies again within 5 minutes) keeps a victim down for minutes after ~8 kills, and a kill waits for
# its victim to be up again, so the period must be long enough for every planned kill to land.
CRASH_MINUTES = 15.0


async def poison_run(n_poison: int, n_valid: int) -> dict:
    servers = ensure_servers()
    admin = servers["XBOT_DATABASE_URL"]
    db = f"xbot_chaos_{uuid.uuid4().hex[:8]}"
    conn = await asyncpg.connect(admin)
    await conn.execute(f'CREATE DATABASE "{db}"')
    await conn.close()
    settings = CommonSettings(nats_url=servers["XBOT_NATS_URL"], namespace=f"chaos{uuid.uuid4().hex[:6]}",
                              database_url=urlunparse(urlparse(admin)._replace(path=f"/{db}")))
    nc = await connect(settings, name="bench-chaos")
    js = nc.jetstream()
    await provision_streams(js, settings.namespace)
    try:
        report = await poison.run(settings, js, poison=n_poison, valid=n_valid, seed=int(time.time()),
                                  settle_timeout=900)
        return report.figures()
    finally:
        for cfg in stream_configs(settings.namespace):
            await js.delete_stream(cfg.name)
        for name in KV_BUCKETS:
            await js.delete_key_value(kv_bucket(settings.namespace, name))
        await nc.close()
        conn = await asyncpg.connect(admin)
        await conn.execute(f'DROP DATABASE IF EXISTS "{db}" WITH (FORCE)')
        await conn.close()


async def crash_run(kills: int, hours: float, minutes: float, seed: int, driver: str = "browser") -> dict:
    servers = ensure_servers()
    with tempfile.TemporaryDirectory(prefix="chaos-crashes-") as reports:
        run_dir = await asyncio.to_thread(crashes.run_demo, Path(reports), hours=hours, minutes=minutes,
                                          kills=kills, seed=seed, timeout=minutes * 60 + 300, driver=driver)
        summary = json.loads((run_dir / "summary.json").read_text())
        try:
            findings = await crashes.check_run(run_dir, servers)
        finally:
            await crashes.remove_run(servers, summary["namespace"])
    return {"kills": summary["kills"], "outcome": summary["outcome"], "simulated_hours": summary["simulated_hours"],
            "restarts": summary["restarts"], "figures": findings.figures, "violations": findings.violations}


async def crashes_only(kills: int, driver: str = "browser") -> dict:
    """The crash figures alone, to merge into results whose other parts were measured by an earlier run."""
    crashed = await crash_run(kills, hours=24.0, minutes=CRASH_MINUTES, seed=int(time.time()), driver=driver)
    dupes = sum("times" in v or "claimed by" in v for v in crashed["violations"])
    return {"kills": len(crashed["kills"]), "kills_by_service": dict(Counter(k["service"] for k in crashed["kills"])),
            "kills_note": "crash figures from a separate `--crashes-only` run, merged into the earlier results",
            "crash_run": {k: v for k, v in crashed.items() if k != "violations"},
            "crash_duplicates_found": dupes, "crash_losses_found": len(crashed["violations"]) - dupes,
            "crash_violations": crashed["violations"]}


async def main(n_poison: int, n_valid: int, rounds: int, kills: int) -> dict:
    t0 = time.monotonic()
    crashed = await crash_run(kills, hours=24.0, minutes=CRASH_MINUTES, seed=int(time.time())) if kills else None
    fuzzed = await poison_run(n_poison, n_valid)
    restarted = await restarts.run(rounds=rounds, per_round=50)
    recover = {k: {"max_s": max(v), "mean_s": round(sum(v) / len(v), 2)}
               for k, v in restarted.seconds_to_ready.items()}
    crash_violations = crashed["violations"] if crashed else []
    crash_dupes = sum("times" in v or "claimed by" in v for v in crash_violations)
    return {
        "kills": len(crashed["kills"]) if crashed else None,
        "kills_by_service": dict(Counter(k["service"] for k in crashed["kills"])) if crashed else None,
        "crash_run": {k: v for k, v in crashed.items() if k != "violations"} if crashed else None,
        "restarts": restarted.restarts,
        "messages_fuzzed": fuzzed["poison"],
        "valid_events_alongside": fuzzed["valid"],
        "poison_kinds": fuzzed["poison_kinds"],
        "dead_letters": fuzzed["dead_letters"],
        "dlq_retry_reapplied": fuzzed["dlq_retry_reapplied"],
        # Restarts: events the stream or the queue holds twice; poison run: consumers are checked for the
        # exact dead-letter set and their stream's end (its violations), and the poster queue for its ids.
        "duplicates_found": max(0, restarted.stream_messages - restarted.published)
        + (restarted.total_rows - restarted.queued_rows) + crash_dupes,
        "losses_found": max(0, restarted.published - restarted.queued_rows)
        + sum("without a dead letter" in v or "missing" in v or "stuck" in v for v in fuzzed["violations"])
        + len(crash_violations) - crash_dupes,
        "violations": fuzzed["violations"] + restarted.violations + crash_violations,
        "time_to_recover_ready_s": recover,
        "poison_seconds_to_settle": fuzzed["seconds_to_settle"],
        "wall_s": round(time.monotonic() - t0, 1),
    }


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--poison", type=int, default=10_000)
    parser.add_argument("--valid", type=int, default=2_000)
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--kills", type=int, default=52, help="SIGKILLs during the simulated day (0: skip)")
    parser.add_argument("--crashes-only", action="store_true",
                        help="run only the crashes and update their figures in the existing results")
    parser.add_argument("--driver", choices=["browser", "api"], default="browser",
                        help="api: the crashes only, with the gateway on the X API (results in chaos_api.json); "
                             "the poison and restart parts do not involve the gateway's driver")
    args = parser.parse_args()
    if args.driver == "api":
        RESULTS = RESULTS_API
        result = asyncio.run(crashes_only(args.kills, "api"))
        result["kills_note"] = "the crash run alone, the gateway reading and writing through the X API"
    elif args.crashes_only:
        result = json.loads(RESULTS.read_text())
        crash = asyncio.run(crashes_only(args.kills))
        result.update(crash)
        # The totals cover every part: the earlier run's figures plus this run's crash findings.
        result["duplicates_found"] += crash["crash_duplicates_found"]
        result["losses_found"] += crash["crash_losses_found"]
        result["violations"] += crash["crash_violations"]
    else:
        result = asyncio.run(main(args.poison, args.valid, args.rounds, args.kills))
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    RESULTS.write_text(json.dumps(result, indent=2) + "\n")
    print(json.dumps(result, indent=2))
