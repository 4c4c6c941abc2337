"""A backup of the whole system a real run left behind (the shared demo run), restored into a fresh NATS and a fresh
PostgreSQL of this test's own through the CLI (`xbot backup`, `xbot restore`): every service's projections verify
equal to a replay there, and the poster's records and the restored streams agree that nothing was posted twice.
Then every projection-owning service starts on the restored servers and carries on: a new event is applied by the
services that read it, nothing old is applied again, and the projections still verify equal to a replay."""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
import time
from collections import Counter
from pathlib import Path
from urllib.parse import urlparse, urlunparse

import asyncpg
import pytest

from libs.bus.nats import connect
from libs.bus.streams import stream_name
from libs.contracts.base import Event
from libs.contracts.events import ContentQueued, TweetPosted
from libs.contracts.registry import decode
from libs.core.settings import CommonSettings
from ops.infra import ROOT
from ops.registry import CONSUMERS
from ops.status import collect_status
from ops.supervisor import Supervisor
from tests.chaos.crashes import run_timeline
from tests.chaos.servers import OwnNats, OwnPostgres
from tests.helpers import eventually, publish
from tests.integration.foundation.helpers import queued

pytestmark = [pytest.mark.timeout(600), pytest.mark.long(minutes=6)]


def _run(env: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", *args], cwd=ROOT, env={**os.environ, **env},
                          capture_output=True, text=True, timeout=300)


async def _last_seq(nats_url: str, ns: str, producer: str) -> int:
    nc = await connect(CommonSettings(nats_url=nats_url, namespace=ns))
    try:
        return int((await nc.jetstream().stream_info(stream_name(ns, producer))).state.last_seq)
    finally:
        await nc.close()


async def _content_ids(nats_url: str, ns: str, producer: str, kind: type[Event], after: int = 0) -> list[str]:
    """The content ids of the ``kind`` events on a producer's stream past sequence ``after``, in stream order."""
    nc = await connect(CommonSettings(nats_url=nats_url, namespace=ns))
    try:
        js = nc.jetstream()
        stream = stream_name(ns, producer)
        state = (await js.stream_info(stream)).state
        ids = []
        for seq in range(max(state.first_seq, after + 1), state.last_seq + 1) if state.messages else ():
            msg = await js.get_msg(stream, seq)
            _, event = decode(msg.data, msg.headers)
            if isinstance(event, kind):
                ids.append(event.content_id)
        return ids
    finally:
        await nc.close()


async def _posted_events(nats_url: str, ns: str) -> list[str]:
    return await _content_ids(nats_url, ns, "poster", TweetPosted)


async def test_a_backup_of_the_run_restores_into_fresh_servers_equal_to_a_replay(servers: dict[str, str],
                                                                                 run_dir: Path,
                                                                                 tmp_path: Path) -> None:
    ns = run_dir.name
    url = urlparse(servers["XBOT_DATABASE_URL"])
    source = {"XBOT_NATS_URL": servers["XBOT_NATS_URL"], "XBOT_NAMESPACE": ns,
              "XBOT_DATABASE_URL": urlunparse(url._replace(path=f"/xbot_{ns}"))}
    archive = tmp_path / "backup.tar.gz"
    nats, pg = OwnNats(), OwnPostgres()
    try:
        # The fresh servers start while the backup is taken: neither needs the other.
        done, _, _ = await asyncio.gather(asyncio.to_thread(_run, source, "ops.cli", "backup", "--out", str(archive)),
                                          asyncio.to_thread(nats.start), asyncio.to_thread(pg.start))
        assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
        fresh = {"XBOT_NATS_URL": nats.url, "XBOT_NAMESPACE": ns, "XBOT_DATABASE_URL": pg.url}
        restored = _run(fresh, "ops.cli", "restore", str(archive))
        assert restored.returncode == 0, restored.stdout[-3000:] + restored.stderr[-3000:]
        # Each service's replay reads its own schema and consumers only: side by side.
        verified = await asyncio.gather(*(asyncio.to_thread(_run, fresh, f"services.{name}", "replay", "--verify")
                                          for name in CONSUMERS))
        for name, done in zip(CONSUMERS, verified, strict=True):
            assert done.returncode == 0, name + done.stdout[-3000:] + done.stderr[-3000:]
            assert '"differences": []' in done.stdout, name

        posted = await _posted_events(nats.url, ns)
        assert posted, f"the run posted nothing: nothing to compare; {run_timeline(run_dir)}"
        assert [c for c, n in Counter(posted).items() if n > 1] == []  # no TweetPosted twice
        conn = await asyncpg.connect(pg.url)
        try:
            queue = {r["content_id"] for r in await conn.fetch(
                "SELECT content_id FROM poster.item_progress WHERE status = 'posted'")}
            intents = {r["content_id"] for r in await conn.fetch(
                "SELECT DISTINCT content_id FROM poster.attempts WHERE outcome = 'posted'")}
        finally:
            await conn.close()
        assert set(posted) == queue
        assert set(posted) <= intents
        await _carry_on(fresh, tmp_path, posted)
    finally:
        nats.close()
        pg.close()


ROWS = {"poster.queue": "poster", "learner.decisions": "learner"}  # a row per ContentQueued, and whose


async def _rows(conn: asyncpg.Connection) -> dict[str, int]:
    return {t: await conn.fetchval(f"SELECT count(*) FROM {t}") for t in ROWS}


async def _not_yet_applied(conn: asyncpg.Connection, nats_url: str, ns: str) -> dict[str, int]:
    """Per table, the ContentQueued the run published that its service had not applied when the run stopped (under
    load a consumer can still lag at the end; the backup keeps its position): past the service's position on the
    planner's stream, and not in the table."""
    out = {}
    for table, service in ROWS.items():
        position = await conn.fetchval(f"SELECT max(stream_seq) FROM {service}.tracking WHERE stream = $1",
                                       stream_name(ns, "planner")) or 0
        known = {r["content_id"] for r in await conn.fetch(f"SELECT content_id FROM {table}")}
        out[table] = len(set(await _content_ids(nats_url, ns, "planner", ContentQueued, after=position)) - known)
    return out


async def _ready(supervisor: Supervisor, settings: CommonSettings) -> bool:
    supervisor.tick()  # one that died is restarted (and its log kept), as `xbot up` would
    status = await collect_status(settings, CONSUMERS)
    return all(status["services"][n].get("ready") for n in CONSUMERS)


async def _carry_on(fresh: dict[str, str], tmp_path: Path, posted: list[str]) -> None:
    """The restored services run on the restored servers: writes paused first (there is no X here for the poster
    to post to; an owner checks a restore the same way), then a new ContentQueued reaches the poster's queue and
    the learner's decision log once, and no old event is applied again (no other row than those and the run's
    events these services had not applied when it stopped, the poster's replay still equal, nothing new posted)."""
    settings = CommonSettings(nats_url=fresh["XBOT_NATS_URL"], database_url=fresh["XBOT_DATABASE_URL"],
                              namespace=fresh["XBOT_NAMESPACE"])
    paused = _run(fresh, "ops.cli", "pause", "--reason", "restore check")
    assert paused.returncode == 0, paused.stderr[-2000:]
    conn = await asyncpg.connect(fresh["XBOT_DATABASE_URL"])
    rows_before = await _rows(conn)
    unapplied = await _not_yet_applied(conn, fresh["XBOT_NATS_URL"], fresh["XBOT_NAMESPACE"])
    restored_end = await _last_seq(fresh["XBOT_NATS_URL"], fresh["XBOT_NAMESPACE"], "planner")
    sup = Supervisor(env={**os.environ, **fresh, "PYTHONPATH": str(ROOT)}, cwd=ROOT, grace_s=10,
                     log_dir=tmp_path / "logs")
    for name in CONSUMERS:
        sup.add(name, [sys.executable, "-m", f"services.{name}", "run"])
    started = time.monotonic()
    sup.start_all()
    try:
        await eventually(lambda: _ready(sup, settings), timeout=120, interval=0.5)
        ready_s = time.monotonic() - started
        item = queued(topic="restore")
        await publish(settings, [item])

        async def applied() -> bool:
            in_queue = await conn.fetchval("SELECT count(*) FROM poster.queue WHERE content_id = $1", item.content_id)
            decided = await conn.fetchval("SELECT count(*) FROM learner.decisions WHERE content_id = $1",
                                          item.content_id)
            return bool(in_queue == 1 and decided == 1)

        await eventually(applied, timeout=60, interval=0.2)
        # The new item (applied after everything before it on the planner's stream), what the run's services had
        # not yet applied, and what the run's planner had committed but not yet published when it stopped (its
        # outbox, published by the restored planner before anything new: a CI run under load had one such
        # ContentQueued), nothing else: no event applied twice.
        new = await _content_ids(fresh["XBOT_NATS_URL"], fresh["XBOT_NAMESPACE"], "planner", ContentQueued,
                                 after=restored_end)
        assert item.content_id in new
        assert await _rows(conn) == {k: n + unapplied[k] + len(new) for k, n in rows_before.items()}, (unapplied,
                                                                                                      new)
    finally:
        await asyncio.to_thread(sup.stop_all)
        await conn.close()
    # The poster's tables once more against a replay (the learner's row counts above suffice: its rows are one per
    # event, and a second process start costs the suite seconds).
    verified = _run(fresh, "services.poster", "replay", "--verify")
    assert verified.returncode == 0, verified.stdout[-3000:] + verified.stderr[-3000:]
    assert '"differences": []' in verified.stdout
    assert await _posted_events(fresh["XBOT_NATS_URL"], fresh["XBOT_NAMESPACE"]) == posted
    print(f"restored services ready in {ready_s:.1f} s; carrying on took {time.monotonic() - started:.1f} s")
