"""Upgrades that lose nothing (issue 16 item 3): `xbot bench upgrade` / `python -m bench.upgrade`.

The previous release (the git tag ``v0.1`` by default) runs in a temporary ``git worktree`` with this checkout's
interpreter and packages (its dependencies are a subset of today's; the optional PyTorch embedder it names is
absent, so it uses its lexical fallback, as any install without it would): its own demo, a few simulated hours
against a fresh sandbox world, posting and scraping; then it stops. The owner's upgrade path (docs/upgrade.md)
follows with this code: ``xbot backup``, ``xbot migrate``, ``xbot provision``; every service's tables must then
verify equal to a replay of the streams. Then this code's services carry on the same run
(``python -m ops.demo --resume``: the same namespace, database and sandbox world, the clock going on). Checked at
the end, over both releases' work:

- no event lost: every message the old release left on each stream is still there, at the same sequence, and
  every publish any service of either release logged as acknowledged is on its stream; no event id twice;
- no queued item lost: every ContentQueued is resolved (TweetPosted / PostFailed) or still pending in the queue;
- nothing posted twice: per content id one TweetPosted, and every tweet of ours on the sandbox claimed by exactly
  one content's TweetPosted (no text twice);
- the new services work: they posted and scraped after the upgrade (their run is 12 simulated hours: the new
  release keeps the account's active hours, so at least 4 of them are active wherever the old run stopped), and
  every service's projections equal a replay (``replay --verify``, then a real replay that keeps the job-owned tables).

Results in bench/results/upgrade.json; exit status 1 on any violation. ~8 real minutes on a 2-core machine.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from collections import Counter
from collections.abc import Iterator
from pathlib import Path

import asyncpg

from libs.contracts.registry import PRODUCERS
from libs.bus.nats import connect
from libs.core.settings import CommonSettings
from ops.infra import ROOT, ensure_servers
from ops.registry import CONSUMERS
from tests.chaos import crashes
from tests.chaos.crashes import Findings, Message

RESULTS = Path(__file__).parent / "results" / "upgrade.json"
PREVIOUS = "v0.1"


@contextlib.contextmanager
def old_checkout(ref: str) -> Iterator[Path]:
    """The release ``ref`` checked out in a temporary worktree of this repository, removed afterwards."""
    with tempfile.TemporaryDirectory(prefix="xbot-old-") as tmp:
        path = Path(tmp) / "xbot"
        subprocess.run(["git", "-C", str(ROOT), "worktree", "add", "--detach", str(path), ref], check=True,
                       capture_output=True, text=True)
        try:
            yield path
        finally:
            subprocess.run(["git", "-C", str(ROOT), "worktree", "remove", "--force", str(path)],
                           capture_output=True, text=True)


def _run(cmd: list[str], *, cwd: Path, env: dict[str, str], timeout: float, what: str) -> str:
    proc = subprocess.run(cmd, cwd=cwd, env=env, capture_output=True, text=True, timeout=timeout)
    if proc.returncode != 0:
        raise RuntimeError(f"{what} failed ({proc.returncode}):\n{proc.stdout[-3000:]}\n{proc.stderr[-3000:]}")
    return proc.stdout


def run_old_demo(old: Path, reports: Path, servers: dict[str, str], *, hours: float, minutes: float,
                 seed: int) -> Path:
    """The previous release's own demo (``python -m libs.demo`` in v0.1); its namespace, database and sandbox
    world are kept (no ``--cleanup``). The old tree comes first on the path, so none of today's modules run."""
    env = {**os.environ, **servers, "PYTHONPATH": str(old)}
    _run([sys.executable, "-m", "libs.demo", "--hours", str(hours), "--minutes", str(minutes), "--seed", str(seed),
          "--reports", str(reports)], cwd=old, env=env, timeout=minutes * 60 + 300, what="the old release's demo")
    runs = [p for p in reports.iterdir() if p.is_dir()]
    if len(runs) != 1:
        raise RuntimeError(f"expected one run directory from the old demo, found {runs}")
    return runs[0]


async def poster_floor(servers: dict[str, str], ns: str) -> int:
    nc = await connect(CommonSettings(nats_url=servers["XBOT_NATS_URL"], namespace=ns), name="bench-upgrade")
    try:
        return await crashes.poster_ack_floor(nc.jetstream(), ns)
    finally:
        await nc.close()


async def streams_of(servers: dict[str, str], ns: str) -> dict[str, list[Message]]:
    nc = await connect(CommonSettings(nats_url=servers["XBOT_NATS_URL"], namespace=ns), name="bench-upgrade")
    try:
        js = nc.jetstream()
        out = {}
        for producer in PRODUCERS:
            try:
                out[producer] = await crashes.stream_messages(js, ns, producer)
            except Exception:  # noqa: BLE001 - a stream the old release did not have yet: no messages to keep
                out[producer] = []
        return out
    finally:
        await nc.close()


def check_kept(before: dict[str, list[Message]], after: dict[str, list[Message]]) -> Findings:
    """Every message the old release left is still on its stream, at the same sequence, with the same event."""
    f = Findings()
    for producer, msgs in before.items():
        now = {m.seq: m.event_id for m in after.get(producer, [])}
        gone = [m for m in msgs if now.get(m.seq) != m.event_id]
        f.violations += [f"{producer}: {m.type} {m.event_id} (seq {m.seq}) lost in the upgrade" for m in gone]
    f.figures["old_messages_kept"] = {p: len(m) for p, m in before.items() if m}
    return f


async def check_tweets_claimed(conn: asyncpg.Connection, tweets: list[dict], posted: list[Message]) -> Findings:
    """The sandbox's tweets counted per content id: each of ours claimed by exactly one content (its TweetPosted on
    the stream, one still waiting in the poster's outbox, the parts so far of an unfinished thread, or a write in
    flight when the poster stopped), and every tweet a TweetPosted names exists."""
    f = Findings()
    owner: dict[str, list[str]] = {}
    for m in posted:
        if m.type == "TweetPosted":
            for t in m.payload["tweet_ids"]:
                owner.setdefault(t, []).append(m.payload["content_id"])
    for r in await conn.fetch("SELECT envelope::json->'payload' AS p FROM poster.event_outbox "
                              "WHERE published_at IS NULL AND event_type = 'TweetPosted'"):
        payload = json.loads(r["p"])
        for t in payload["tweet_ids"]:
            owner.setdefault(t, []).append(payload["content_id"])
    # A thread stopped half-way (or failed after its first parts) has its parts so far in the poster's progress
    # and no TweetPosted yet: it is completed from the first missing part, never posted again.
    announced = {c for claims in owner.values() for c in claims}
    for r in await conn.fetch("SELECT content_id, tweet_ids::text AS ids FROM poster.item_progress "
                              "WHERE tweet_ids <> '[]'::jsonb"):
        if r["content_id"] not in announced:
            for t in json.loads(r["ids"]):
                owner.setdefault(t, []).append(r["content_id"])
    ours = {t["id"] for t in tweets}
    # A write in flight when the poster stopped: its intent is committed with no outcome (the write may or may not
    # be on X), and the next start reads it back. Such a tweet is claimed by the content whose open part it is.
    open_parts = {crashes.norm(json.loads(r["parts"])[r["part_index"]]): r["content_id"] for r in await conn.fetch(
        "SELECT a.content_id, a.part_index, q.parts::text AS parts FROM poster.attempts a "
        "JOIN poster.queue q USING (content_id) WHERE a.outcome IS NULL")}
    in_flight = {t["id"]: open_parts[crashes.norm(t["text"])] for t in tweets
                 if t["id"] not in owner and crashes.norm(t["text"]) in open_parts}
    for t, c in in_flight.items():
        owner.setdefault(t, []).append(c)
    f.violations += [f"tweet {t} on the sandbox claimed by no content" for t in sorted(ours - set(owner))]
    f.violations += [f"tweet {t} claimed by {len(c)} TweetPosted ({c})" for t, c in owner.items() if len(c) > 1]
    f.violations += [f"TweetPosted names tweet {t}, absent from the sandbox" for t in sorted(set(owner) - ours)]
    per_content = Counter(c[0] for t, c in owner.items() if t in ours)
    f.figures.update(sandbox_tweets=len(ours), contents_on_sandbox=len(per_content), in_flight_at_stop=len(in_flight),
                     max_tweets_per_content=max(per_content.values(), default=0))
    return f


async def verify_all(env: dict[str, str]) -> Findings:
    """``replay --verify`` of every service right after the upgrade, before any new service ran."""
    f = Findings()
    for service in CONSUMERS:
        proc = await asyncio.create_subprocess_exec(sys.executable, "-m", f"services.{service}", "replay", "--verify",
                                                    env=env, cwd=ROOT, stdout=asyncio.subprocess.PIPE,
                                                    stderr=asyncio.subprocess.PIPE)
        out, err = await asyncio.wait_for(proc.communicate(), 180)
        lines = out.decode().strip().splitlines()
        stats = json.loads(lines[-1]) if lines else {}
        if proc.returncode != 0 or stats.get("differences") != []:
            f.violations.append(f"after the upgrade, {service} replay --verify: {proc.returncode} "
                                f"{stats.get('differences')} {err.decode()[-600:]}")
    return f


def _count(msgs: list[Message], kind: str) -> int:
    return sum(m.type == kind for m in msgs)


def _types(streams: dict[str, list[Message]]) -> dict[str, int]:
    return dict(sorted(Counter(m.type for msgs in streams.values() for m in msgs).items()))


async def main(ref: str, hours: float, minutes: float, new_hours: float, new_minutes: float, seed: int,
               logs: Path | None = None) -> dict:
    t0 = time.monotonic()
    servers = ensure_servers()
    timings: dict[str, float] = {}
    with tempfile.TemporaryDirectory(prefix="upgrade-") as tmp, old_checkout(ref) as old:
        commit = _run(["git", "rev-parse", "HEAD"], cwd=old, env=dict(os.environ), timeout=30, what="git").strip()
        run_dir = await asyncio.to_thread(run_old_demo, old, Path(tmp), servers, hours=hours, minutes=minutes,
                                          seed=seed)
        timings["old_release_run_s"] = round(time.monotonic() - t0, 1)
        ns = run_dir.name
        dsn = crashes.database_url(servers["XBOT_DATABASE_URL"], ns)
        try:
            before = await streams_of(servers, ns)
            old_summary = json.loads((run_dir / "summary.json").read_text())
            env = {**os.environ, **servers, "XBOT_NAMESPACE": ns, "XBOT_DATABASE_URL": dsn, "PYTHONPATH": str(ROOT)}
            step = time.monotonic()
            # docs/upgrade.md: the owner's steps. The backup first (v0.1 has no `xbot backup`: this release's
            # reads the old schemas and streams as they are); it is written here, not restored.
            _run([sys.executable, "-m", "ops.cli", "backup", "--out", str(Path(tmp) / "before-upgrade.tar.gz")],
                 cwd=ROOT, env=env, timeout=300, what="xbot backup of the old release's data")
            timings["backup_s"] = round(time.monotonic() - step, 1)
            step = time.monotonic()
            for command in ("migrate", "provision"):
                _run([sys.executable, "-m", "ops.cli", command], cwd=ROOT, env=env, timeout=600,
                     what=f"xbot {command}")
            timings["migrate_and_provision_s"] = round(time.monotonic() - step, 1)
            parts = [await verify_all(env)]
            step = time.monotonic()
            _run([sys.executable, "-m", "ops.demo", "--resume", str(run_dir), "--hours", str(new_hours),
                  "--minutes", str(new_minutes)], cwd=ROOT, env={**os.environ, **servers},
                 timeout=new_minutes * 60 + 300, what="the new release's run")
            timings["new_release_run_s"] = round(time.monotonic() - step, 1)
            new_summary = json.loads((run_dir / "summary.json").read_text())
            if logs is not None:
                shutil.copytree(run_dir / "logs", logs, dirs_exist_ok=True)
            after = await streams_of(servers, ns)
            tweets = json.loads((run_dir / "data" / "tweets.json").read_text())
            queued = [m for m in after["planner"] if m.type == "ContentQueued"]
            old_last = {p: max((m.seq for m in msgs), default=0) for p, msgs in before.items()}
            new = {p: [m for m in msgs if m.seq > old_last[p]] for p, msgs in after.items()}
            floor = await poster_floor(servers, ns)
            conn = await asyncpg.connect(dsn)
            try:
                parts += [check_kept(before, after),
                          crashes.check_sandbox_once(tweets, after["poster"]),
                          await check_tweets_claimed(conn, tweets, after["poster"]),
                          await crashes.check_resolution(conn, queued, after["poster"], floor),
                          # The old release had no outboxes: only what the new one published goes through them.
                          await crashes.check_outboxes(conn, new["poster"], new["scraper"]),
                          crashes.check_producer_logs(run_dir / "logs", ns, after),
                          crashes.check_event_ids(after)]
                for service in CONSUMERS:
                    parts.append(await crashes.check_replay(conn, env, service))
            finally:
                await conn.close()
        finally:
            await crashes.remove_run(servers, ns)
    findings = Findings()
    for p in parts:
        findings.violations += p.violations
        findings.figures.update(p.figures)
    work = {
        "old_posted": _count(before["poster"], "TweetPosted"),
        "old_scraped": len(before["scraper"]),
        "new_posted": _count(new["poster"], "TweetPosted"),
        "new_scraped": len(new["scraper"]),
    }
    # Without both releases posting and scraping, nothing above would have been at stake.
    findings.violations += [f"{k} = 0: that release did nothing to carry over" for k, v in work.items() if v == 0]
    # Every new service became ready and none died (the demo restarts a dead one and says so).
    findings.violations += [f"the new release's run: {e}" for e in new_summary["errors"]]
    findings.violations += [f"{name} restarted {n} times after the upgrade"
                            for name, n in new_summary["restarts"].items() if n]
    return {"previous_release": ref, "previous_commit": commit, "old_hours": hours, "old_minutes": minutes,
            "new_hours": new_hours, "new_minutes": new_minutes, "seed": seed, "old_outcome": old_summary["outcome"],
            "new_outcome": new_summary["outcome"], **work,
            "old_events": _types(before), "new_events": _types(new), "timings": timings,
            "figures": findings.figures, "violations": findings.violations,
            "wall_s": round(time.monotonic() - t0, 1)}


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--from", dest="ref", default=PREVIOUS, help="the release to upgrade from (a git ref)")
    parser.add_argument("--hours", type=float, default=4.0, help="simulated hours the old release runs")
    parser.add_argument("--minutes", type=float, default=2.5, help="real minutes at most for the old release's run")
    # The new release keeps the account's active hours (07:00-23:00 by default; the old one had none): 12 hours
    # hold at least 4 active ones wherever the old run's clock stopped, so the new services have work to do.
    parser.add_argument("--new-hours", type=float, default=12.0, help="simulated hours the new release runs")
    parser.add_argument("--new-minutes", type=float, default=3.5, help="real minutes at most for the new run")
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--logs", type=Path, default=None,
                        help="copy both releases' service logs here (the run itself is removed afterwards)")
    args = parser.parse_args()
    result = asyncio.run(main(args.ref, args.hours, args.minutes, args.new_hours, args.new_minutes, args.seed,
                           args.logs))
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    RESULTS.write_text(json.dumps(result, indent=2) + "\n")
    print(json.dumps(result, indent=2))
    sys.exit(1 if result["violations"] else 0)
