"""Rebuild a service's projections from sequence 1 into fresh tables, then swap them in (``xbot replay``).

1. Migrate a fresh schema ``<service>__replay``.
2. Read every stream the service consumes from its first message with an ephemeral consumer and apply it
   through the same handlers and the same tracking table (under the live consumers' names), batch by batch.
3. Swap with every live table locked against writes (tracking last, the order live batches write in), so no live
   batch or job writes meanwhile; replay applies what arrived meanwhile, renames the schemas and drops the
   old one, all in one transaction. The live consumers then carry on against the new tables, and their
   tracking positions there make anything replay already applied a skip.

Tables a service declares with ``keep_on_replay`` hold state that no event carries (outboxes, attempts, cursors):
in the swap they move into the new schema whole, or, for a table a projection fills and jobs then change, their
live rows replace the rebuilt ones with the same key. Jobs writing them wait on the table lock and then carry on
against the new schema, because they name tables through the search path.

``verify`` rebuilds the same way but only up to the live consumers' positions (read under the same locks, so a
running service is compared at one instant), compares every table and drops the rebuild.
"""

from __future__ import annotations

import asyncio
import json
import logging
import time
from collections import Counter
from collections.abc import Callable
from typing import TYPE_CHECKING

import asyncpg
from nats.js.api import AckPolicy, ConsumerConfig, DeliverPolicy

from libs.bus.broker import jetstream
from libs.store.migrations import migrate
from libs.store.pool import create_pool
from libs.store.projection import ProjectionRunner

if TYPE_CHECKING:
    from libs.runtime.service import Service

FETCH = 1000
DEADLOCK_ATTEMPTS = 5
logger = logging.getLogger("xbot.replay")


async def replay_service(service: "Service", *, progress: Callable[[int, int], None] | None = None,
                         verify: bool = False) -> dict:
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
        await migrate(conn, new_schema, service.migrations)
    pool = await create_pool(service.settings.dsn, schema=new_schema, max_size=2)
    work = []
    total = 0
    for projection in service.projections:
        runner = ProjectionRunner(projection, pool=pool, dead_letters=None, namespace=ns)
        for spec in projection.consumers():
            stream = spec.stream(ns)
            info = await js.stream_info(stream)
            last_seq = info.state.last_seq
            if verify:  # as far as the live tables have got, not further
                async with main.acquire() as conn:
                    last_seq = await conn.fetchval(
                        f'SELECT stream_seq FROM "{live_schema}".tracking WHERE consumer = $1 AND stream = $2',
                        spec.durable(ns), stream) or 0
            sub = await js.pull_subscribe(
                spec.filter_subject(ns), stream=stream,
                config=ConsumerConfig(deliver_policy=DeliverPolicy.ALL, ack_policy=AckPolicy.NONE,
                                      inactive_threshold=300.0))
            work.append((runner, spec, sub, stream, last_seq))
            total += info.state.messages
    done = 0
    applied = 0
    try:
        for runner, spec, sub, stream, last_seq in work:
            seq = 0
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
        for _, _, sub, _, _ in work:
            try:
                await sub.unsubscribe()
            except Exception:  # noqa: BLE001 - the ephemeral consumer expires by itself
                pass
        await pool.close()
    elapsed = time.perf_counter() - started
    stats = {"service": service.name, "messages": done, "applied": applied, "kept": service.replay_kept,
             "seconds": round(elapsed, 3), "rate": round(done / elapsed, 1) if elapsed else None}
    return (stats | {"verified": True, "differences": differences}) if verify else stats


async def _finish(main, js, service: "Service", work: list, new_schema: str, *, verify: bool) -> tuple[int, list]:
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
                await _carry_over(conn, live, new_schema, service.replay_kept, copy=verify)
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


async def _lock_live_tables(conn, live: str) -> None:
    """Every table of the live schema in EXCLUSIVE mode (reads go on, writes wait), tracking last."""
    names = [r["table_name"] for r in await conn.fetch(
        "SELECT table_name FROM information_schema.tables WHERE table_schema = $1 AND table_type = 'BASE TABLE' "
        "AND table_name <> 'tracking' ORDER BY table_name", live)]
    tables = ", ".join(f'"{live}"."{name}"' for name in [*names, "tracking"])
    await conn.execute(f"LOCK TABLE {tables} IN EXCLUSIVE MODE")


async def _apply_range(js, runner: ProjectionRunner, spec, conn, ns: str, *, after: int, upto: int) -> int:
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


async def _carry_over(conn, live: str, new: str, kept: dict[str, str], *, copy: bool = False) -> None:
    """Bring the tables replay must not rebuild from the live schema into the new one (inside the swap; with
    ``copy``, for a verification, the live tables stay where they are)."""
    for table, how in kept.items():
        if how == "move" and copy:
            await conn.execute(f'INSERT INTO "{new}"."{table}" SELECT * FROM "{live}"."{table}"')
            continue
        if how == "move":
            # Moving (not copying) keeps the table's sequences, indexes and rows written meanwhile.
            await conn.execute(f'DROP TABLE "{new}"."{table}"')
            await conn.execute(f'ALTER TABLE "{live}"."{table}" SET SCHEMA "{new}"')
            continue
        key = await conn.fetch(
            "SELECT a.attname FROM pg_index i JOIN pg_attribute a ON a.attrelid = i.indrelid "
            "AND a.attnum = ANY(i.indkey) WHERE i.indrelid = $1::regclass AND i.indisprimary",
            f'"{live}"."{table}"')
        if not key:
            raise RuntimeError(f"{live}.{table} is kept on replay by merging and needs a primary key")
        cols = ", ".join(f'"{r["attname"]}"' for r in key)
        await conn.execute(f'DELETE FROM "{new}"."{table}" WHERE ({cols}) IN (SELECT {cols} FROM "{live}"."{table}")')
        await conn.execute(f'INSERT INTO "{new}"."{table}" SELECT * FROM "{live}"."{table}"')


async def schema_rows(conn, schema: str) -> dict[str, Counter]:
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


async def _compare(conn, live: str, rebuilt: str) -> list[dict]:
    before, after = await schema_rows(conn, live), await schema_rows(conn, rebuilt)
    differences = []
    for name in sorted(set(before) | set(after)):
        b, a = before.get(name, Counter()), after.get(name, Counter())
        if a != b:
            differences.append({"table": name, "live_rows": sum(b.values()), "only_rebuilt": sum((a - b).values()),
                                "only_live": sum((b - a).values()),
                                "example": json.loads(next(iter(a - b or b - a)))})
    return differences


async def _fetch(sub, timeout: float = 2.0):
    try:
        return await sub.fetch(FETCH, timeout=timeout)
    except TimeoutError:
        return []
