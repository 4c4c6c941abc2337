"""A snapshot of a service's projections at a stream position (``xbot snapshot <service>``), so a replay keeps
working once the streams' retention has dropped their first events.

The snapshot is a schema ``<service>__snapshot`` with the service's tables (same migrations) holding a copy of
every projection table and of the tracking table, read in one REPEATABLE READ transaction: every live batch
writes its tables and its tracking row in one transaction, so the copy is the projections exactly as they stood
at the positions it records. Job-owned tables are left out (a replay moves the live ones whole). The tables are
dropped, migrated afresh and filled in that one transaction, so a failed snapshot leaves the previous one.

A replay (libs.store.replay) starts from it when a stream it reads no longer begins at sequence 1: it copies
the snapshot's tables into the rebuild and applies the events after the snapshot's positions.
"""

from __future__ import annotations

from typing import Any

import asyncpg

from libs.store.migrations import migrate, schema_owner

BOOKKEEPING = ("schema_migrations",)


def snapshot_schema(service: str) -> str:
    return f"{service}__snapshot"


class SnapshotMissing(RuntimeError):
    """A replay needs a snapshot (the streams' first events are gone) and none covers the gap."""


async def projection_tables(conn: Any, schema: str, job_tables: tuple[str, ...]) -> list[str]:
    """The tables a snapshot holds: every table of the schema but the job-owned and bookkeeping ones (tracking
    included: it records the positions the copy stands at)."""
    rows = await conn.fetch(
        "SELECT table_name FROM information_schema.tables WHERE table_schema = $1 AND table_type = 'BASE TABLE' "
        "ORDER BY table_name", schema)
    return [r["table_name"] for r in rows if r["table_name"] not in (*BOOKKEEPING, *job_tables)]


async def take_snapshot(pool: asyncpg.Pool, service: str, migrations: Any,
                        job_tables: tuple[str, ...]) -> dict[str, Any]:
    """Copy the live projections and their positions into ``<service>__snapshot``, replacing the previous copy in
    one transaction (a failure leaves the previous one). The schema is created once, owned like the live one (by
    the operator's `xbot snapshot` or `xbot migrate` on a deployment with per-service roles, where the service's
    own role may create nothing outside its schema); after that the service rebuilds it in place."""
    live, schema = service, snapshot_schema(service)
    async with pool.acquire() as conn:
        await migrate(conn, live, migrations)
        if not await ensure_snapshot_schema(conn, service, migrations):
            raise PermissionError(f"{service}: the schema {schema} is missing and this role may not create it; "
                                  f"`xbot snapshot {service}` or `xbot migrate` as the operator creates it once")
        async with conn.transaction(isolation="repeatable_read"):
            # Fresh tables from the migrations (a snapshot taken before an upgrade had yesterday's).
            old = [r["table_name"] for r in await conn.fetch(
                "SELECT table_name FROM information_schema.tables WHERE table_schema = $1 "
                "AND table_type = 'BASE TABLE'", schema)]
            if old:
                await conn.execute("DROP TABLE " + ", ".join(f'"{schema}"."{t}"' for t in old) + " CASCADE")
            await migrate(conn, schema, migrations)
            tables = await projection_tables(conn, live, job_tables)
            rows = await _copy(conn, live, schema, tables)
            positions = {f"{r['consumer']}@{r['stream']}": r["stream_seq"] for r in await conn.fetch(
                f'SELECT consumer, stream, stream_seq FROM "{schema}".tracking')}
    return {"service": service, "schema": schema, "rows": rows, "positions": positions}


async def ensure_snapshot_schema(conn: Any, service: str, migrations: Any, *, create_only: bool = False) -> bool:
    """Create ``<service>__snapshot`` owned by the live schema's owner when it is missing and this role may
    (``create_only``: an empty schema, the next snapshot fills it); whether it exists now."""
    schema = snapshot_schema(service)
    if await schema_owner(conn, schema) is not None:
        return True
    try:
        if create_only:
            owner = await schema_owner(conn, service)
            await conn.execute(f'CREATE SCHEMA IF NOT EXISTS "{schema}"' + (f' AUTHORIZATION "{owner}"' if owner
                                                                               else ""))
        else:
            await migrate(conn, schema, migrations, owner=await schema_owner(conn, service))
    except asyncpg.InsufficientPrivilegeError:
        return False
    return True


async def load_snapshot(conn: Any, service: str, migrations: Any, into: str,
                        job_tables: tuple[str, ...]) -> dict[tuple[str, str], int] | None:
    """Copy the snapshot's tables into the (freshly migrated, empty) schema ``into``; its positions, or None when
    there is no snapshot. The snapshot is migrated first, so one taken before an upgrade fits today's tables."""
    schema = snapshot_schema(service)
    if not await conn.fetchval("SELECT 1 FROM information_schema.tables WHERE table_schema = $1 "
                               "AND table_name = 'tracking'", schema):
        return None  # no snapshot schema, or one created for the snapshots to come and never filled
    await migrate(conn, schema, migrations)
    async with conn.transaction():
        await _copy(conn, schema, into, await projection_tables(conn, schema, job_tables))
    return {(r["consumer"], r["stream"]): r["stream_seq"]
            for r in await conn.fetch(f'SELECT consumer, stream, stream_seq FROM "{into}".tracking')}


async def _copy(conn: Any, source: str, target: str, tables: list[str]) -> dict[str, int]:
    """Copy ``tables`` from ``source`` into the same tables of the freshly migrated ``target`` (emptied first:
    a migration may seed rows; CASCADE for a job-owned table's foreign key into a projection table), and move
    each serial column's sequence past the copied rows so the events applied next do not collide with them."""
    rows: dict[str, int] = {}
    if not tables:
        return rows
    await conn.execute("TRUNCATE " + ", ".join(f'"{target}"."{t}"' for t in tables) + " CASCADE")
    for table in tables:
        status = await conn.execute(f'INSERT INTO "{target}"."{table}" SELECT * FROM "{source}"."{table}"')
        rows[table] = int(status.split()[-1])
        serials = await conn.fetch(
            "SELECT column_name, pg_get_serial_sequence(format('%I.%I', table_schema, table_name), column_name) "
            "AS seq FROM information_schema.columns WHERE table_schema = $1 AND table_name = $2", target, table)
        for col in (r for r in serials if r["seq"]):
            await conn.execute(
                f'SELECT setval($1, COALESCE((SELECT max("{col["column_name"]}") FROM "{target}"."{table}"), 0) + 1, '
                "false)", col["seq"])
    return rows
