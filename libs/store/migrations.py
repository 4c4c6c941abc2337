"""Numbered SQL migrations per service schema (``services/<name>/migrations/NNNN_name.sql``).

Every schema first gets libs' own tables (the tracking table of the projection runner), then the service's
files in order. Each file runs once, in its own transaction, under an advisory lock so two replicas
starting together do not race.
"""

from __future__ import annotations

import re
from pathlib import Path

import asyncpg

LIBS_MIGRATIONS = Path(__file__).parent / "migrations"
_NAME = re.compile(r"^(\d{4})_[a-z0-9_]+\.sql$")


def migration_files(directory: Path) -> list[tuple[int, Path]]:
    files = []
    for path in sorted(directory.glob("*.sql")) if directory.exists() else []:
        m = _NAME.match(path.name)
        if not m:
            raise ValueError(f"migration file {path} must be named NNNN_name.sql")
        files.append((int(m.group(1)), path))
    versions = [v for v, _ in files]
    if len(set(versions)) != len(versions):
        raise ValueError(f"duplicate migration numbers in {directory}")
    return files


async def schema_owner(conn: asyncpg.Connection, schema: str) -> str | None:
    owner = await conn.fetchval("SELECT pg_get_userbyid(nspowner) FROM pg_namespace WHERE nspname = $1", schema)
    return str(owner) if owner is not None else None


async def migrate(conn: asyncpg.Connection, schema: str, service_dir: Path | None, *,
                  owner: str | None = None) -> list[str]:
    """Create ``schema`` if needed and apply pending migrations; returns the names applied.

    Everything runs as the schema's owner (``owner`` for a schema created here, e.g. a replay's rebuild), so the
    tables belong to the service's role whoever migrates: the service itself at start (it owns its schema and
    may create nothing outside it, so an existing schema is never "created" again) or the operator's migration
    role (a member of every service role)."""
    applied: list[str] = []
    await conn.execute("SELECT pg_advisory_lock(hashtext($1))", f"migrate:{schema}")
    switched = False
    try:
        existing = await schema_owner(conn, schema)
        if existing is None:
            authorization = f' AUTHORIZATION "{owner}"' if owner else ""
            await conn.execute(f'CREATE SCHEMA IF NOT EXISTS "{schema}"{authorization}')
        run_as = existing or owner
        if run_as and run_as != await conn.fetchval("SELECT current_user"):
            await conn.execute(f'SET ROLE "{run_as}"')
            switched = True
        await conn.execute(
            f'CREATE TABLE IF NOT EXISTS "{schema}".schema_migrations ('
            " scope text NOT NULL, version int NOT NULL, name text NOT NULL,"
            " applied_at timestamptz NOT NULL DEFAULT now(), PRIMARY KEY (scope, version))"
        )
        for scope, directory in (("libs", LIBS_MIGRATIONS), ("service", service_dir)):
            if directory is None:
                continue
            done = {r["version"] for r in await conn.fetch(
                f'SELECT version FROM "{schema}".schema_migrations WHERE scope = $1', scope)}
            for version, path in migration_files(directory):
                if version in done:
                    continue
                async with conn.transaction():
                    await conn.execute(f'SET LOCAL search_path TO "{schema}", public')
                    await conn.execute(path.read_text())
                    await conn.execute(
                        f'INSERT INTO "{schema}".schema_migrations (scope, version, name) VALUES ($1, $2, $3)',
                        scope, version, path.name)
                applied.append(f"{schema}:{path.name}")
    finally:
        if switched:
            await conn.execute("RESET ROLE")
        await conn.execute("SELECT pg_advisory_unlock(hashtext($1))", f"migrate:{schema}")
    return applied
