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


async def migrate(conn: asyncpg.Connection, schema: str, service_dir: Path | None) -> list[str]:
    """Create ``schema`` if needed and apply pending migrations; returns the names applied."""
    applied: list[str] = []
    await conn.execute("SELECT pg_advisory_lock(hashtext($1))", f"migrate:{schema}")
    try:
        await conn.execute(f'CREATE SCHEMA IF NOT EXISTS "{schema}"')
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
        await conn.execute("SELECT pg_advisory_unlock(hashtext($1))", f"migrate:{schema}")
    return applied
