"""What every service with projections promises, checked on the data a real run left behind (the shared demo run),
for each service of the registry (a new service is picked up without touching this file):

- a projection is a function of the history: ``replay --verify`` rebuilds every table equal to the live one;
- redelivery is harmless: applying every stream again from its first message changes no table;
- job-owned tables are not rebuilt but moved: a replay leaves them exactly as they were.

Runs after test_demo.py (file order): the replay swaps the schemas in, with the same content.
"""

from __future__ import annotations

import os
import subprocess
import sys
from collections import Counter
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any
from urllib.parse import urlparse, urlunparse

import asyncpg
import pytest
from nats.js.api import AckPolicy, ConsumerConfig, DeliverPolicy

from libs.bus.broker import jetstream
from libs.runtime.service import Service
from libs.store.projection import ProjectionRunner
from libs.store.replay import schema_rows
from ops.infra import ROOT
from ops.registry import CONSUMERS, app_module
from tests.e2e.demo.conftest import MINUTES

pytestmark = [pytest.mark.timeout(MINUTES * 60 + 180), pytest.mark.long(minutes=6)]


def _env(servers: dict[str, str], run_dir: Path) -> dict[str, str]:
    url = urlparse(servers["XBOT_DATABASE_URL"])
    return {"XBOT_NATS_URL": servers["XBOT_NATS_URL"], "XBOT_NAMESPACE": run_dir.name,
            "XBOT_DATABASE_URL": urlunparse(url._replace(path=f"/xbot_{run_dir.name}"))}


@pytest.fixture
async def service(request: pytest.FixtureRequest, servers: dict[str, str], run_dir: Path
                  ) -> AsyncIterator[Service[Any]]:
    """The service as the run left it (not running), connected to the run's streams and database."""
    env = _env(servers, run_dir)
    app = app_module(request.param)
    svc: Service[Any] = app.build(app.Settings(nats_url=env["XBOT_NATS_URL"], namespace=env["XBOT_NAMESPACE"],
                                               database_url=env["XBOT_DATABASE_URL"]))
    await svc.broker.connect()
    await svc.open_pool()
    yield svc
    await svc.broker.stop()
    if svc.pool is not None:
        await svc.pool.close()


def _cli(servers: dict[str, str], run_dir: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", *args], cwd=ROOT, env={**os.environ, **_env(servers, run_dir)},
                          capture_output=True, text=True, timeout=180)


async def _tables(pool: asyncpg.Pool, schema: str, only: tuple[str, ...] | None = None) -> dict[str, Counter[str]]:
    async with pool.acquire() as conn:
        rows = await schema_rows(conn, schema)
    return {t: r for t, r in rows.items() if only is None or t in only}


@pytest.mark.parametrize("name", CONSUMERS)
def test_replay_verify_rebuilds_every_table_equal_to_the_live_one(name: str, servers: dict[str, str],
                                                                   run_dir: Path) -> None:
    done = _cli(servers, run_dir, f"services.{name}", "replay", "--verify")
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    assert '"differences": []' in done.stdout


@pytest.mark.parametrize("service", CONSUMERS, indirect=True)
async def test_redelivering_every_stream_from_the_start_changes_no_table(service: Service[Any]) -> None:
    """Every message the service had applied when the run ended, applied again on top of the live tables (the
    tracking positions set back to 0 in the same transaction, which is then rolled back): the handlers are
    idempotent. (Messages the run published after the service stopped are left out: they are new, not
    redelivered.)"""
    assert service.pool is not None
    before = await _tables(service.pool, service.name)
    assert any(sum(rows.values()) for rows in before.values()), "the run left the service's tables empty"
    js = jetstream(service.broker)
    ns = service.namespace
    applied = 0
    async with service.pool.acquire() as conn:
        live = {(r["consumer"], r["stream"]): r["stream_seq"]
                for r in await conn.fetch("SELECT consumer, stream, stream_seq FROM tracking")}
        tx = conn.transaction()
        await tx.start()
        try:
            await conn.execute("UPDATE tracking SET stream_seq = 0")
            for projection in service.projections:
                runner = ProjectionRunner(projection, pool=service.pool, dead_letters=None, namespace=ns)
                for spec in projection.consumers():
                    stream = spec.stream(ns)
                    upto = live.get((spec.durable(ns), stream), 0)
                    sub = await js.pull_subscribe(
                        spec.filter_subject(ns), stream=stream,
                        config=ConsumerConfig(deliver_policy=DeliverPolicy.ALL, ack_policy=AckPolicy.NONE,
                                              inactive_threshold=60.0))
                    seq = 0
                    while seq < upto:
                        msgs = [m for m in await sub.fetch(500, timeout=5) if m.metadata.sequence.stream <= upto]
                        out = await runner.apply_messages(conn, spec.durable(ns), stream, msgs, dead_letter=False)
                        applied += out.applied
                        seq = msgs[-1].metadata.sequence.stream
                    await sub.unsubscribe()
            after = await schema_rows(conn, service.name)
        finally:
            await tx.rollback()
    assert applied > 0
    changed = {t: (sorted(before.get(t, Counter()) - after.get(t, Counter()))[:2],
                   sorted(after.get(t, Counter()) - before.get(t, Counter()))[:2])
               for t in set(before) | set(after) if before.get(t) != after.get(t)}
    assert not changed, "\n".join(f"{t}: before only {b}, after only {a}" for t, (b, a) in changed.items())


@pytest.mark.parametrize("service", CONSUMERS, indirect=True)
async def test_a_replay_leaves_the_job_owned_tables_as_they_were(service: Service[Any], servers: dict[str, str],
                                                                  run_dir: Path) -> None:
    assert service.pool is not None
    owned = ("event_outbox", *service.job_tables)
    before = await _tables(service.pool, service.name, owned)
    assert set(before) == set(owned), f"job-owned tables missing from the schema: {set(owned) - set(before)}"
    done = _cli(servers, run_dir, f"services.{service.name}", "replay")
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    assert await _tables(service.pool, service.name, owned) == before
