"""Rebuild a service's projections from sequence 1 into fresh tables, then swap them in (``xbot replay``).

1. Migrate a fresh schema ``<service>__replay``. When a stream it reads no longer starts at sequence 1 (the
   streams' retention dropped its first events), fill it from the service's snapshot (libs.store.snapshot) and
   start each consumer after the snapshot's position; without a snapshot that covers the gap, refuse.
2. Read every stream the service consumes from its first message with an ephemeral consumer and apply it
   through the same handlers and the same tracking table (under the live consumers' names), batch by batch.
3. Swap with every live table locked against writes (tracking last, the order live batches write in), so no live
   batch or job writes meanwhile; replay applies what arrived meanwhile, renames the schemas and drops the
   old one, all in one transaction. The live consumers then carry on against the new tables, and their
   tracking positions there make anything replay already applied a skip.

Projection tables are written by projections only, so a rebuild from the history is the whole truth of them.
What jobs write (the outbox, the poster's attempts, cursors) lives in tables the service declares job-owned
(``Service(job_tables=...)``, plus libs' own ``event_outbox``): no event carries it, so in the swap those tables
move into the new schema whole. Jobs writing them wait on the table lock and then carry on against the new
schema, because they name tables through the search path.

``verify`` rebuilds the same way but only up to the live consumers' positions (read under the same locks, so a
running service is compared at one instant), compares every table and drops the rebuild.
"""

from __future__ import annotations

import asyncio
import dataclasses
import json
import logging
import time
from collections import Counter
from collections.abc import Callable
from pathlib import Path
from typing import Any, Protocol

import asyncpg
from nats.js import JetStreamContext
from nats.js.api import AckPolicy, ConsumerConfig, DeliverPolicy

from libs.bus.broker import jetstream
from libs.store.migrations import migrate, schema_owner
from libs.store.pool import create_pool
from libs.store.projection import Projection, ProjectionRunner
from libs.store.snapshot import SnapshotMissing, load_snapshot



class Replayable(Protocol):
    """What replay needs of a service (libs.runtime.service.Service is one)."""

    name: str
    migrations: Path | None
    projections: list[Projection]
    job_tables: tuple[str, ...]
    broker: Any

    @property
    def namespace(self) -> str: ...

    @property
    def settings(self) -> Any: ...

    async def open_pool(self, schema: str | None = None) -> asyncpg.Pool: ...

FETCH = 1000
DEADLOCK_ATTEMPTS = 5
logger = logging.getLogger("xbot.replay")


async def replay_service(service: Replayable, *, progress: Callable[[int, int], None] | None = None,
                         verify: bool = False) -> dict[str, Any]:
    """Rebuild and swap in (see the module docstring), or with ``verify`` check without touching anything live:
    rebuild only up to each live consumer's position, compare with the live tables, and drop the rebuild. The
    answer's ``differences`` then lists each table that differs (empty: the projections are deterministic)."""
    started = time.perf_counter()
    js = jetstream(service.broker)
    ns = service.namespace
    live_schema = service.name
    new_schema = f"{service.name}__replay"
    main = await service.open_pool()
    async with main.acquire() as conn:
        await migrate(conn, live_schema, service.migrations)  # the live schema must exist to be swapped
        await conn.execute(f'DROP SCHEMA IF EXISTS "{new_schema}" CASCADE')
        # The rebuild belongs to whoever owns the live schema (the service's role), whoever runs the replay.
        await migrate(conn, new_schema, service.migrations, owner=await schema_owner(conn, live_schema))
    specs = [(projection, spec) for projection in service.projections for spec in projection.consumers()]
    infos = {spec.stream(ns): await js.stream_info(spec.stream(ns)) for _, spec in specs}
    start: dict[tuple[str, str], int] = {}
    snapshot = None
    if any(info.state.first_seq > 1 for info in infos.values()):
        # Retention has dropped the first events: start from the snapshot's tables and positions.
        async with main.acquire() as conn:
            snapshot = await load_snapshot(conn, service.name, service.migrations, new_schema, _moved(service))
        start = _check_snapshot(service.name, snapshot, specs, infos, ns)
    pool = await create_pool(service.settings.dsn, schema=new_schema, max_size=2)
    work = []
    total = 0
    for projection, spec in specs:
        runner = ProjectionRunner(projection, pool=pool, dead_letters=None, namespace=ns)
        stream = spec.stream(ns)
        info = infos[stream]
        last_seq = info.state.last_seq
        if verify:  # as far as the live tables have got, not further
            async with main.acquire() as conn:
                last_seq = await conn.fetchval(
                    f'SELECT stream_seq FROM "{live_schema}".tracking WHERE consumer = $1 AND stream = $2',
                    spec.durable(ns), stream) or 0
        after = start.get((spec.durable(ns), stream), 0)
        deliver = ConsumerConfig(deliver_policy=DeliverPolicy.BY_START_SEQUENCE, opt_start_seq=after + 1) if after \
            else ConsumerConfig(deliver_policy=DeliverPolicy.ALL)
        sub = await js.pull_subscribe(
            spec.filter_subject(ns), stream=stream,
            config=dataclasses.replace(deliver, ack_policy=AckPolicy.NONE, inactive_threshold=300.0))
        work.append((runner, spec, sub, stream, last_seq, after))
        total += max(0, info.state.last_seq - max(after, info.state.first_seq - 1))
    done = 0
    applied = 0
    try:
        for runner, spec, sub, stream, last_seq, after in work:
            seq = after
            while seq < last_seq:
                msgs = await _fetch(sub)
                if verify:
                    msgs = [m for m in msgs if m.metadata.sequence.stream <= last_seq]
                if not msgs:
                    break
                async with pool.acquire() as conn, conn.transaction():
                    out = await runner.apply_messages(conn, spec.durable(ns), stream, msgs, dead_letter=False)
                applied += out.applied
                seq = msgs[-1].metadata.sequence.stream
                done += len(msgs)
                if progress:
                    progress(min(done, total), total)
        applied_last, differences = await _finish(main, js, service, work, new_schema, verify=verify)
        applied += applied_last
        if progress:
            progress(total, total)
    finally:
        for _, _, sub, *_ in work:
            try:
                await sub.unsubscribe()
            except Exception:  # noqa: BLE001 - the ephemeral consumer expires by itself
                pass
        await pool.close()
    elapsed = time.perf_counter() - started
    stats = {"service": service.name, "messages": done, "applied": applied, "moved": list(_moved(service)),
             "seconds": round(elapsed, 3), "rate": round(done / elapsed, 1) if elapsed else None,
             "from_snapshot": {f"{c}@{s}": p for (c, s), p in start.items()} if snapshot is not None else None}
    return (stats | {"verified": True, "differences": differences}) if verify else stats


def _check_snapshot(service: str, snapshot: dict[tuple[str, str], int] | None, specs: list[Any],
                    infos: dict[str, Any], ns: str) -> dict[tuple[str, str], int]:
    """The position each consumer's rebuild starts after; refuses when an event between the snapshot and the
    stream's first kept event is gone (the rebuild would silently lack it)."""
    if snapshot is None:
        gone = ", ".join(f"{s} starts at {i.state.first_seq}" for s, i in infos.items() if i.state.first_seq > 1)
        raise SnapshotMissing(f"{service}: the streams' first events are gone ({gone}) and there is no snapshot "
                              f"to start from; a replay cannot rebuild the projections (`xbot snapshot {service}` "
                              "takes one; take them before the streams' retention is reached)")
    start = {}
    for _, spec in specs:
        key = (spec.durable(ns), spec.stream(ns))
        pos, first = snapshot.get(key, 0), infos[key[1]].state.first_seq
        # A filtered durable stands at its own last event, usually far behind the stream's end: the stream's
        # dropped start says nothing of whether one of its events was among it (Projection.filtered).
        if first > pos + 1 and spec.filter_event is None:
            raise SnapshotMissing(f"{service}: the snapshot of {key[0]} stands at {key[1]} sequence {pos}, but the "
                                  f"stream now starts at {first}: events {pos + 1}..{first - 1} are gone")
        start[key] = pos
    return start


async def _finish(main: Any, js: JetStreamContext, service: Replayable, work: list[Any], new_schema: str, *,
                  verify: bool) -> tuple[int, list[dict[str, Any]]]:
    """The last step, in one transaction with every live table locked: bring the rebuild up to the stream's end
    (swap) or to the live consumers' positions (verify), then swap the schemas, or compare and drop the rebuild.

    Live batches write their projection tables and then their tracking row, so the tables are locked in that
    order (tracking last); a job or batch that still meets us in a deadlock makes Postgres abort one side, and
    this step starts over (its catch-up reads the stream afresh, so nothing is skipped)."""
    live, ns = service.name, service.namespace
    for attempt in range(1, DEADLOCK_ATTEMPTS + 1):
        try:
            async with main.acquire() as conn, conn.transaction():
                await _lock_live_tables(conn, live)
                await conn.execute(f'SET LOCAL search_path TO "{new_schema}", public')
                applied = 0
                for runner, spec, *_ in work:
                    consumer, stream = spec.durable(ns), spec.stream(ns)
                    pos = await conn.fetchval(
                        "SELECT stream_seq FROM tracking WHERE consumer = $1 AND stream = $2", consumer, stream) or 0
                    if verify:
                        upto = await conn.fetchval(
                            f'SELECT stream_seq FROM "{live}".tracking WHERE consumer = $1 AND stream = $2',
                            consumer, stream) or 0
                    else:
                        upto = (await js.stream_info(stream)).state.last_seq
                    if upto > pos:
                        applied += await _apply_range(js, runner, spec, conn, ns, after=pos, upto=upto)
                await _carry_over(conn, live, new_schema, _moved(service), copy=verify)
                if verify:
                    differences = await _compare(conn, live, new_schema)
                    await conn.execute(f'DROP SCHEMA "{new_schema}" CASCADE')
                    return applied, differences
                await conn.execute(f'ALTER SCHEMA "{live}" RENAME TO "{live}__old"')
                await conn.execute(f'ALTER SCHEMA "{new_schema}" RENAME TO "{live}"')
                await conn.execute(f'DROP SCHEMA "{live}__old" CASCADE')
                return applied, []
        except asyncpg.DeadlockDetectedError:
            if attempt == DEADLOCK_ATTEMPTS:
                raise
            logger.warning("replay of %s met a live transaction in a deadlock; starting the last step again", live)
            await asyncio.sleep(0.2 * attempt)
    raise AssertionError("unreachable")


async def _lock_live_tables(conn: Any, live: str) -> None:
    """Every table of the live schema in EXCLUSIVE mode (reads go on, writes wait), tracking last."""
    names = [r["table_name"] for r in await conn.fetch(
        "SELECT table_name FROM information_schema.tables WHERE table_schema = $1 AND table_type = 'BASE TABLE' "
        "AND table_name <> 'tracking' ORDER BY table_name", live)]
    tables = ", ".join(f'"{live}"."{name}"' for name in [*names, "tracking"])
    await conn.execute(f"LOCK TABLE {tables} IN EXCLUSIVE MODE")


async def _apply_range(js: JetStreamContext, runner: ProjectionRunner, spec: Any, conn: Any, ns: str, *, after: int,
                       upto: int) -> int:
    """Apply a consumer's messages in (after, upto] on ``conn`` through a consumer of their own."""
    stream = spec.stream(ns)
    sub = await js.pull_subscribe(
        spec.filter_subject(ns), stream=stream,
        config=ConsumerConfig(deliver_policy=DeliverPolicy.BY_START_SEQUENCE, opt_start_seq=after + 1,
                              ack_policy=AckPolicy.NONE, inactive_threshold=60.0))
    applied, seq = 0, after
    try:
        while seq < upto:
            msgs = [m for m in await _fetch(sub, timeout=1.0) if m.metadata.sequence.stream <= upto]
            if not msgs:
                break
            out = await runner.apply_messages(conn, spec.durable(ns), stream, msgs, dead_letter=False)
            applied += out.applied
            seq = msgs[-1].metadata.sequence.stream
    finally:
        await sub.unsubscribe()
    return applied


def _moved(service: Replayable) -> tuple[str, ...]:
    """The job-owned tables: libs' outbox and what the service declared."""
    return ("event_outbox", *service.job_tables)


async def _carry_over(conn: Any, live: str, new: str, tables: tuple[str, ...], *, copy: bool = False) -> None:
    """Bring the job-owned tables from the live schema into the new one (inside the swap; with ``copy``, for a
    verification, the live tables stay where they are)."""
    for table in tables:
        if copy:
            await conn.execute(f'INSERT INTO "{new}"."{table}" SELECT * FROM "{live}"."{table}"')
            continue
        # Moving (not copying) keeps the table's sequences, indexes and rows written meanwhile.
        await conn.execute(f'DROP TABLE "{new}"."{table}"')
        await conn.execute(f'ALTER TABLE "{live}"."{table}" SET SCHEMA "{new}"')


async def schema_rows(conn: Any, schema: str) -> dict[str, Counter[str]]:
    """Every table of a schema as a multiset of its rows (JSON text), bookkeeping tables left out."""
    names = [r["table_name"] for r in await conn.fetch(
        "SELECT table_name FROM information_schema.tables WHERE table_schema = $1 AND table_type = 'BASE TABLE'",
        schema)]
    out = {}
    for name in names:
        if name in ("tracking", "schema_migrations"):
            continue  # positions (equal by construction) and migration bookkeeping, not the read model
        rows = await conn.fetch(f'SELECT to_jsonb(t)::text AS j FROM "{schema}"."{name}" t')
        out[name] = Counter(r["j"] for r in rows)
    return out


async def _compare(conn: Any, live: str, rebuilt: str) -> list[dict[str, Any]]:
    before, after = await schema_rows(conn, live), await schema_rows(conn, rebuilt)
    differences = []
    for name in sorted(set(before) | set(after)):
        b, a = before.get(name, Counter()), after.get(name, Counter())
        if a != b:
            differences.append({"table": name, "live_rows": sum(b.values()), "only_rebuilt": sum((a - b).values()),
                                "only_live": sum((b - a).values()),
                                "example": json.loads(next(iter(a - b or b - a)))})
    return differences


async def _fetch(sub: Any, timeout: float = 2.0) -> list[Any]:
    try:
        return list(await sub.fetch(FETCH, timeout=timeout))
    except TimeoutError:
        return []
