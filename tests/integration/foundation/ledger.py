"""A small service used only by the foundation tests: it projects ContentQueued into three tables.

Run as a script for the crash test: ``python ledger.py crash-after-commit`` applies one batch, commits, and
dies with SIGKILL before acking, exactly the window the tracking table exists for.
"""

from __future__ import annotations

import asyncio
import os
import signal
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[3]))

from libs.bus.broker import jetstream  # noqa: E402
from libs.contracts.events import ContentQueued  # noqa: E402
from libs.runtime.service import Service  # noqa: E402
from libs.core.settings import CommonSettings, load_settings  # noqa: E402
from libs.store.projection import Applied, ProjectionRunner  # noqa: E402

MIGRATIONS = Path(__file__).parent / "ledger_migrations"
# A topic whose events fail in the handler (a "bug"), to exercise retries and the max-deliver dead letter.
FAILING_TOPIC = "always_fails"


def build(settings: CommonSettings, *, batch_size: int = 256, filtered: bool = False) -> Service[CommonSettings]:
    """``filtered``: its projection reads ContentQueued alone, through a durable filtered on that event."""
    svc = Service("ledger", settings, migrations=MIGRATIONS, batch_size=batch_size, job_tables=("notes", "reviews"))
    proj = svc.projection("topics", max_deliver=3, filtered=filtered)

    @proj.on_batch(ContentQueued)
    async def on_queued(conn, items: list[Applied[ContentQueued]]) -> None:
        if any(i.event.choice.topic == FAILING_TOPIC for i in items):
            raise RuntimeError(f"cannot handle topic {FAILING_TOPIC}")
        rows = [(i.event.content_id, i.event.choice.topic, i.seq) for i in items]
        await conn.executemany("INSERT INTO queued (content_id, topic, seq) VALUES ($1, $2, $3) "
                               "ON CONFLICT DO NOTHING", rows)
        await conn.executemany("INSERT INTO applications VALUES ($1, $2)", [(r[0], r[2]) for r in rows])
        await conn.executemany(
            "INSERT INTO topic_counts VALUES ($1, 1) ON CONFLICT (topic) DO UPDATE SET n = topic_counts.n + 1",
            [(r[1],) for r in rows])

    return svc


async def crash_after_commit() -> None:
    svc = build(load_settings(CommonSettings))
    await svc.migrate()
    await svc.broker.connect()
    js = jetstream(svc.broker)
    spec = svc.consumer_specs()[0]
    ns = svc.namespace
    sub = await js.pull_subscribe(spec.filter_subject(ns), durable=spec.durable(ns), stream=spec.stream(ns))
    msgs = await sub.fetch(100, timeout=5)
    runner = ProjectionRunner(svc.projections[0], pool=svc.pool, dead_letters=None, namespace=ns)
    await runner._apply_in_transaction(spec, msgs)
    print(f"committed {len(msgs)}", flush=True)
    os.kill(os.getpid(), signal.SIGKILL)


if __name__ == "__main__":
    if sys.argv[1:] == ["crash-after-commit"]:
        asyncio.run(crash_after_commit())
    else:
        from libs.runtime.service import service_main

        service_main(build, CommonSettings)
