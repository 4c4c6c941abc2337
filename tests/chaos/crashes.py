"""Crashes (issue 10 item 1): a demo run with services SIGKILLed at random moments (``ops.demo --kills N``),
then the invariants read from what the run left: the sandbox's tweets (``data/tweets.json``), the run's streams
and its database (kept: the run is started without ``--cleanup``).

Each check returns its violations as sentences (empty = holds) and the figures it counted, so the CI test and
``bench/chaos.py`` share them.
"""

from __future__ import annotations

import asyncio
import json
import math
import os
import subprocess
import sys
from collections import Counter
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from urllib.parse import urlparse, urlunparse

import asyncpg
from nats.js import JetStreamContext
from nats.js.api import AckPolicy, ConsumerConfig, DeliverPolicy

from libs.bus.provision import remove_namespace
from libs.bus.streams import stream_name
from libs.contracts.registry import PRODUCERS, decode
from ops.infra import ROOT
from libs.bus.nats import connect
from libs.core.settings import CommonSettings
from libs.store.replay import schema_rows
from tests.helpers import slowness

# Every service with a database: a replay must rebuild its projections exactly and keep what its jobs wrote.
REPLAYED = ("planner", "poster", "harvester", "scraper", "learner")


@dataclass
class Message:
    seq: int
    msg_id: str | None
    type: str
    event_id: str
    payload: dict


@dataclass
class Findings:
    violations: list[str] = field(default_factory=list)
    figures: dict = field(default_factory=dict)


# Real seconds from a demo's start to its simulated period's (sandbox, login, every service up): ~25 s alone,
# 45-65 s with the suite's other worker busy. The demo's clock starts at real now and runs through them.
STARTUP_REAL_S = (20.0, 90.0)


def active_hours_env(scale: float, hours: float) -> dict[str, str]:
    """The account's waking day (UTC) for a CI-size run at a fixed ``scale``: from the earliest start of its
    ``hours``-long simulated period to the latest end, at most 23 hours. With the default 07-23 the period's place in
    the day followed the suite's time of day: a crash run started at 14:40 UTC covered 22:48-10:48 and posted
    nothing (its posts' hours were drawn in the day it did not reach)."""
    now = datetime.now(UTC)
    now_h = now.hour + now.minute / 60
    # A slow machine starts slower in real time and runs the clock slower (scale / slowness): the start-up's
    # simulated length is the usual machines'.
    first = math.floor(now_h + STARTUP_REAL_S[0] * slowness() * scale / 3600)
    last = math.ceil(now_h + STARTUP_REAL_S[1] * slowness() * scale / 3600 + hours)
    span = min(23, last - first)
    return {"XBOT_ACTIVE_HOURS_START": str(first % 24), "XBOT_ACTIVE_HOURS_END": str((first + span) % 24),
            "XBOT_ACCOUNT_TIMEZONE": "UTC"}


def run_demo(reports: Path, *, hours: float, minutes: float, kills: int, seed: int, timeout: float,
             driver: str = "browser", scale: float | None = None, env: dict[str, str] | None = None) -> Path:
    """One demo run with ``kills`` SIGKILLs; its report directory (namespace and database kept). ``scale``: a
    fixed clock speed (``--scale``), else the one that fits the period into ``minutes``; ``env``: settings added
    to this process's environment."""
    proc = subprocess.run([sys.executable, "-m", "ops.demo", "--hours", str(hours), "--minutes", str(minutes),
                           "--seed", str(seed), "--kills", str(kills), "--driver", driver,
                           "--reports", str(reports), *(("--scale", str(scale)) if scale else ())],
                          cwd=ROOT, capture_output=True, text=True, timeout=timeout,
                          env={**os.environ, **(env or {})})
    runs = [p for p in reports.iterdir() if p.is_dir()]
    if proc.returncode != 0 or len(runs) != 1:
        raise RuntimeError(f"demo failed ({proc.returncode}, runs {runs}):\n{proc.stdout[-3000:]}\n"
                           f"{proc.stderr[-3000:]}")
    return runs[0]


def run_timeline(run_dir: Path) -> str:
    """A run's timeline from its summary, for a failure's message: when each step of the start ended, the first
    post, the kills, the events and the errors (what a CI failure leaves to tell why a run posted nothing)."""
    summary = json.loads((run_dir / "summary.json").read_text())
    kills = [(k["service"], k["real_s"]) for k in summary.get("kills") or []]
    return json.dumps({"scale": summary.get("time_scale"), "timings": summary.get("timings"),
                       "first_post": summary.get("first_post"), "kills": kills, "events": summary.get("events"),
                       "restarts": summary.get("restarts"), "errors": summary.get("errors")})


def database_url(admin_url: str, run: str) -> str:
    return urlunparse(urlparse(admin_url)._replace(path=f"/xbot_{run}"))


async def stream_messages(js: JetStreamContext, namespace: str, producer: str) -> list[Message]:
    """Every message on a producer's stream, first to last."""
    stream = stream_name(namespace, producer)
    last = (await js.stream_info(stream)).state.last_seq
    out: list[Message] = []
    if last == 0:
        return out
    sub = await js.pull_subscribe(f"{namespace}.{producer}.>", stream=stream,
                                  config=ConsumerConfig(deliver_policy=DeliverPolicy.ALL,
                                                        ack_policy=AckPolicy.NONE, inactive_threshold=60.0))
    try:
        while not out or out[-1].seq < last:
            for m in await sub.fetch(500, timeout=5):
                env, event = decode(m.data, m.headers)
                out.append(Message(m.metadata.sequence.stream, (m.headers or {}).get("Nats-Msg-Id"), env.type,
                                   env.event_id, event.model_dump(mode="json")))
    finally:
        await sub.unsubscribe()
    return out


def norm(text: str) -> str:
    return " ".join(text.split()).casefold()


def check_sandbox_once(tweets: list[dict], posted: list[Message]) -> Findings:
    """(a) every content item at most once on the sandbox: no text twice among our tweets, no tweet claimed by two
    contents, no content posted twice."""
    f = Findings()
    texts = Counter(norm(t.get("text", "")) for t in tweets)
    f.violations += [f"text on the sandbox {n} times: {t[:80]!r}" for t, n in texts.items() if n > 1]
    by_content = Counter(m.payload["content_id"] for m in posted if m.type == "TweetPosted")
    f.violations += [f"{c} has {n} TweetPosted" for c, n in by_content.items() if n > 1]
    owners = Counter(t for m in posted if m.type == "TweetPosted" for t in m.payload["tweet_ids"])
    f.violations += [f"tweet {t} claimed by {n} contents" for t, n in owners.items() if n > 1]
    f.figures.update(own_tweets=len(tweets), duplicate_texts=sum(n - 1 for n in texts.values() if n > 1))
    return f


async def poster_ack_floor(js: JetStreamContext, namespace: str) -> int:
    """The last planner-stream position every consumer of the poster has acknowledged: a ContentQueued past it was
    still on its way to the poster when the run stopped (the planner may queue while the poster shuts down)."""
    stream = stream_name(namespace, "planner")
    floors = [c.ack_floor.stream_seq for c in await js.consumers_info(stream)
              if c.name.startswith(f"{namespace}_poster_") and c.ack_floor is not None]
    assert floors, f"the poster has no consumer on {stream}"
    return min(floors)


async def check_resolution(conn: asyncpg.Connection, queued: list[Message], outcomes: list[Message],
                           ack_floor: int) -> Findings:
    """(b) each ContentQueued is resolved on the poster's stream, or still pending: in the poster's queue, or not
    yet delivered to the poster (past its consumers' acknowledged position)."""
    f = Findings()
    resolved = {m.payload["content_id"] for m in outcomes if m.type in ("TweetPosted", "PostFailed")}
    rows = {r["content_id"]: r["status"] for r in await conn.fetch(
        "SELECT q.content_id, COALESCE(p.status, 'queued') AS status FROM poster.queue q "
        "LEFT JOIN poster.item_progress p USING (content_id)")}
    unpublished = {r["content_id"] for r in await conn.fetch(
        "SELECT envelope::json->'payload'->>'content_id' AS content_id FROM poster.event_outbox "
        "WHERE published_at IS NULL")}
    pending, lost = [], []
    for m in queued:
        cid = m.payload["content_id"]
        if cid in resolved:
            continue
        if rows.get(cid) == "queued" or cid in unpublished or m.seq > ack_floor:
            pending.append(cid)  # still to post, posted with its outcome waiting in the outbox, or not yet delivered
        else:
            lost.append(cid)
    f.violations += [f"ContentQueued {c} neither resolved nor pending (queue status {rows.get(c)})" for c in lost]
    f.figures.update(content_queued=len(queued), resolved=len(resolved & {m.payload['content_id'] for m in queued}),
                     pending_in_queue=len(pending))
    return f


async def check_outboxes(conn: asyncpg.Connection, poster: list[Message], scraper: list[Message]) -> Findings:
    """(c) no event lost or doubled between a producer's outbox and its stream: the poster's outcome rows marked
    published against TweetPosted/PostFailed, the scraper's rows against its stream's Nats-Msg-Ids."""
    f = Findings()
    rows = await conn.fetch("SELECT envelope::json->'payload'->>'content_id' AS content_id, event_type "
                            "FROM poster.event_outbox WHERE published_at IS NOT NULL")
    on_stream = Counter((m.payload["content_id"], m.type) for m in poster if m.type in ("TweetPosted", "PostFailed"))
    recorded = {(r["content_id"], r["event_type"]) for r in rows}
    f.violations += [f"poster outbox says published, stream lacks {k}" for k in recorded - set(on_stream)]
    f.violations += [f"poster stream has {k} without a published outbox row" for k in set(on_stream) - recorded]
    f.violations += [f"poster stream has {k} {n} times" for k, n in on_stream.items() if n > 1]
    ids = {r["msg_id"] for r in await conn.fetch(
        "SELECT msg_id FROM scraper.event_outbox WHERE published_at IS NOT NULL")}
    seen = Counter(m.msg_id for m in scraper)
    f.violations += [f"scraper outbox says published, stream lacks {i}" for i in ids - set(seen)]
    f.violations += [f"scraper stream has Nats-Msg-Id {i} {n} times" for i, n in seen.items() if i and n > 1]
    f.figures.update(poster_outbox_published=len(recorded), poster_outcomes_on_stream=sum(on_stream.values()),
                     scraper_outbox_published=len(ids), scraper_on_stream=len(scraper),
                     scraper_not_from_outbox=len(set(seen) - ids))
    return f


def check_producer_logs(log_dir: Path, namespace: str, streams: dict[str, list[Message]]) -> Findings:
    """(c) no event lost between a producer and its stream: every publish a service logged as acknowledged (its
    ``published`` lines, across restarts) is on the stream it names. A stream message no log mentions is counted,
    not failed: a kill between the PubAck and the log line leaves exactly that."""
    f = Findings()
    on_stream = {p: {m.msg_id for m in msgs} for p, msgs in streams.items()}
    producers = {stream_name(namespace, p): p for p in streams}
    logged: dict[str, set[str]] = {p: set() for p in streams}
    for path in sorted(log_dir.glob("*.log")):
        for line in path.read_text(errors="replace").splitlines():
            if '"msg": "published"' not in line:
                continue
            entry = json.loads(line)
            producer = producers.get(entry["stream"])
            if producer is None:
                f.violations.append(f"{path.name}: published to an unknown stream {entry['stream']}")
                continue
            logged[producer].add(entry["msg_id"])
            if entry["msg_id"] not in on_stream[producer]:
                f.violations.append(f"{path.stem} logged {entry['type']} {entry['msg_id']} as published, "
                                    f"but the {producer} stream lacks it")
    f.figures["published_logged"] = {p: len(ids) for p, ids in logged.items()}
    f.figures["on_stream_not_logged"] = {p: len(on_stream[p] - ids) for p, ids in logged.items()}
    return f


def check_event_ids(streams: dict[str, list[Message]]) -> Findings:
    """No event twice on any stream (event ids unique per stream)."""
    f = Findings()
    for producer, msgs in streams.items():
        f.violations += [f"{producer}: event {e} {n} times" for e, n in Counter(m.event_id for m in msgs).items()
                         if n > 1]
    f.figures["messages"] = {p: len(m) for p, m in streams.items()}
    return f


async def check_replay(conn: asyncpg.Connection, env: dict[str, str], service: str) -> Findings:
    """(d) the projections a replay rebuilds equal the live ones: ``replay --verify`` rebuilds up to where the live
    consumers had got when the run stopped and compares every table; then a real ``replay`` swaps in a full rebuild
    and must leave what the service's jobs wrote (its job-owned tables, moved whole) as it was."""
    f = Findings()
    before = await schema_rows(conn, service)
    kept: set[str] = set()
    for args in (("replay", "--verify"), ("replay",)):
        proc = await asyncio.create_subprocess_exec(sys.executable, "-m", f"services.{service}", *args, env=env,
                                                    cwd=ROOT, stdout=asyncio.subprocess.PIPE,
                                                    stderr=asyncio.subprocess.PIPE)
        out, err = await asyncio.wait_for(proc.communicate(), 120)
        lines = out.decode().strip().splitlines()
        if not lines:
            f.violations.append(f"{service} {' '.join(args)} failed ({proc.returncode}): {err.decode()[-600:]}")
            return f
        stats = json.loads(lines[-1])
        kept = set(stats.get("moved", []))
        for d in stats.get("differences", []):
            f.violations.append(f"{service}.{d['table']} rebuilt: {d['only_rebuilt']} rows not live, {d['only_live']} "
                                f"live rows not rebuilt (of {d['live_rows']}), e.g. {d['example']}")
        if proc.returncode != 0 and not stats.get("differences"):
            f.violations.append(f"{service} {' '.join(args)} failed ({proc.returncode}): {err.decode()[-600:]}")
    after = await schema_rows(conn, service)
    f.violations += [f"{service}.{name} changed by the replay" for name in kept if before.get(name) != after.get(name)]
    f.figures[f"{service}_rows"] = {name: sum(rows.values()) for name, rows in before.items()}
    return f


async def _check_replay_alone(dsn: str, env: dict[str, str], service: str) -> Findings:
    """check_replay on a connection of its own: the services' replays touch only their own schemas and consumers,
    so they run side by side (one after the other they were most of the check's time)."""
    conn = await asyncpg.connect(dsn)
    try:
        return await check_replay(conn, env, service)
    finally:
        await conn.close()


async def check_run(run_dir: Path, servers: dict[str, str]) -> Findings:
    """Every invariant over one finished run; the run's namespace and database must still exist."""
    summary = json.loads((run_dir / "summary.json").read_text())
    ns = summary["namespace"]
    dsn = database_url(servers["XBOT_DATABASE_URL"], ns)
    nc = await connect(CommonSettings(nats_url=servers["XBOT_NATS_URL"], namespace=ns), name="chaos-crashes")
    total = Findings()
    try:
        js = nc.jetstream()
        streams = {p: await stream_messages(js, ns, p) for p in PRODUCERS}
        conn = await asyncpg.connect(dsn)
        try:
            tweets = json.loads((run_dir / "data" / "tweets.json").read_text())
            queued = [m for m in streams["planner"] if m.type == "ContentQueued"]
            env = dict(os.environ, XBOT_NAMESPACE=ns, XBOT_DATABASE_URL=dsn, XBOT_NATS_URL=servers["XBOT_NATS_URL"],
                       PYTHONPATH=str(ROOT))
            parts = [check_sandbox_once(tweets, streams["poster"]),
                     await check_resolution(conn, queued, streams["poster"], await poster_ack_floor(js, ns)),
                     await check_outboxes(conn, streams["poster"], streams["scraper"]),
                     check_producer_logs(run_dir / "logs", ns, streams),
                     check_event_ids(streams)]
            parts += await asyncio.gather(*(_check_replay_alone(dsn, env, s) for s in REPLAYED))
        finally:
            await conn.close()
    finally:
        await nc.close()
    for p in parts:
        total.violations += p.violations
        total.figures.update(p.figures)
    total.figures["kills"] = len(summary["kills"])
    return total


async def remove_run(servers: dict[str, str], ns: str) -> None:
    nc = await connect(CommonSettings(nats_url=servers["XBOT_NATS_URL"], namespace=ns), name="chaos-cleanup")
    try:
        await remove_namespace(nc.jetstream(), ns)
    finally:
        await nc.close()
    conn = await asyncpg.connect(servers["XBOT_DATABASE_URL"])
    try:
        await conn.execute(f'DROP DATABASE IF EXISTS "xbot_{ns}" WITH (FORCE)')
    finally:
        await conn.close()
