"""Rebuild a service's projections from sequence 1 into fresh tables, then swap them in (``xbot replay``).

1. Migrate a fresh schema ``<service>__replay``.
2. Read every stream the service consumes from its first message with an ephemeral consumer and apply it
   through the same handlers and the same tracking table (under the live consumers' names), batch by batch.
3. Swap under a lock on the live tracking table: every live batch starts by locking its tracking row, so while
   replay holds the table no live batch runs; replay applies what arrived meanwhile, renames the schemas and drops the
   old one, all in one transaction. The live consumers then carry on against the new tables, and their
   tracking positions there make anything replay already applied a skip.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import TYPE_CHECKING

from nats.js.api import AckPolicy, ConsumerConfig, DeliverPolicy

from libs.bus.broker import jetstream
from libs.store.migrations import migrate
from libs.store.pool import create_pool
from libs.store.projection import ProjectionRunner

if TYPE_CHECKING:
    from libs.runtime.service import Service

FETCH = 1000


async def replay_service(service: "Service", *, progress: Callable[[int, int], None] | None = None) -> dict:
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
            sub = await js.pull_subscribe(
                spec.filter_subject(ns), stream=stream,
                config=ConsumerConfig(deliver_policy=DeliverPolicy.ALL, ack_policy=AckPolicy.NONE,
                                      inactive_threshold=300.0))
            work.append((runner, spec, sub, stream, info.state.last_seq))
            total += info.state.messages
    done = 0
    applied = 0
    try:
        for runner, spec, sub, stream, last_seq in work:
            seq = 0
            while seq < last_seq:
                msgs = await _fetch(sub)
                if not msgs:
                    break
                async with pool.acquire() as conn, conn.transaction():
                    out = await runner.apply_messages(conn, spec.durable(ns), stream, msgs, dead_letter=False)
                applied += out.applied
                seq = msgs[-1].metadata.sequence.stream
                done += len(msgs)
                if progress:
                    progress(min(done, total), total)
        # Swap: catch up on what arrived during the rebuild while no live batch can run, then rename.
        async with main.acquire() as conn, conn.transaction():
            # Live batches lock their tracking row first; this makes them wait until the swap is done.
            await conn.execute(f'LOCK TABLE "{live_schema}".tracking IN EXCLUSIVE MODE')
            await conn.execute(f'SET LOCAL search_path TO "{new_schema}", public')
            for runner, spec, sub, stream, _ in work:
                current = (await js.stream_info(stream)).state.last_seq
                pos = await conn.fetchval(
                    "SELECT stream_seq FROM tracking WHERE consumer = $1 AND stream = $2",
                    spec.durable(ns), stream) or 0
                while pos < current:
                    msgs = await _fetch(sub, timeout=1.0)
                    if not msgs:
                        break
                    out = await runner.apply_messages(conn, spec.durable(ns), stream, msgs, dead_letter=False)
                    applied += out.applied
                    pos = msgs[-1].metadata.sequence.stream
            await conn.execute(f'ALTER SCHEMA "{live_schema}" RENAME TO "{live_schema}__old"')
            await conn.execute(f'ALTER SCHEMA "{new_schema}" RENAME TO "{live_schema}"')
            await conn.execute(f'DROP SCHEMA "{live_schema}__old" CASCADE')
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
    return {"service": service.name, "messages": done, "applied": applied, "seconds": round(elapsed, 3),
            "rate": round(done / elapsed, 1) if elapsed else None}


async def _fetch(sub, timeout: float = 2.0):
    try:
        return await sub.fetch(FETCH, timeout=timeout)
    except TimeoutError:
        return []
