"""The one database pool per process (asyncpg). Each service works in its own schema: the pool sets the
search_path, so projection SQL names its tables without a schema and replay can build into another."""

from __future__ import annotations

import asyncio
import logging

import asyncpg

logger = logging.getLogger("xbot.store")


async def create_pool(dsn: str, *, schema: str, min_size: int = 1, max_size: int = 8,
                      attempts: int = 30) -> asyncpg.Pool:
    """Connect, retrying a database that is not up yet (reported, never swallowed: the last error raises)."""
    delay = 0.2
    for attempt in range(1, attempts + 1):
        try:
            return await asyncpg.create_pool(
                dsn, min_size=min_size, max_size=max_size,
                server_settings={"search_path": f"{schema},public", "application_name": f"xbot-{schema}"},
            )
        except (OSError, asyncpg.PostgresError) as err:
            if attempt == attempts:
                raise
            logger.warning("database not reachable (%s); retry %d/%d in %.1fs", err, attempt, attempts, delay)
            await asyncio.sleep(delay)
            delay = min(delay * 2, 5.0)
    raise AssertionError("unreachable")
