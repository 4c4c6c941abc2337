"""The console's worker: the web app (web.py) for the life of the service, and the approval job, which asks the
owner about each new draft that waits for approval (ApprovalRequested, once per item: the notifier batches them
into one notification), except an item queued from an evergreen post the owner approved: that one it approves."""

from __future__ import annotations

import json
import logging
from collections.abc import Sequence
from typing import Any

from libs.bus.broker import jetstream
from libs.contracts.events import ApprovalRequested, ContentApproved
from libs.runtime.context import JobContext, Worker
from libs.runtime.scheduler import Job
from services.console.projections import record_decision
from services.console.settings import ConsoleSettings
from services.console.web import Console

logger = logging.getLogger("xbot.console")


class ConsoleWorker(Worker):
    status_block = "console"

    def __init__(self, ctx: JobContext[ConsoleSettings], *, broker: Any) -> None:
        self.ctx = ctx
        self.settings = ctx.settings
        self.console = Console(ctx, jetstream(broker), broker)

    def jobs(self) -> Sequence[Job]:
        return (Job("ask_approval", self.settings.console_interval, self.ask_approval, jitter=0.05),)

    async def start(self) -> None:
        url = await self.console.start()
        # The demo and `xbot up` read this line to tell the owner where the console is.
        print(f"console: {url}", flush=True)

    async def stop(self) -> None:
        await self.console.stop()

    async def ask_approval(self) -> int:
        kinds = self.settings.approval_kinds()
        if not kinds:
            return 0
        now = self.ctx.clock.now()
        async with self.ctx.pool.acquire() as conn, conn.transaction():
            rows = await conn.fetch(
                "SELECT i.content_id, i.kind, i.parts, i.edited_parts, i.scheduled_for,"
                " v.decision AS evergreen_decision, v.decided_by AS evergreen_decided_by"
                " FROM items i LEFT JOIN evergreen v ON v.evergreen_id = i.evergreen_id"
                " WHERE i.status = 'queued' AND i.decision IS NULL AND i.kind = ANY($1::text[]) AND NOT EXISTS"
                " (SELECT 1 FROM asked a WHERE a.content_id = i.content_id) ORDER BY i.scheduled_for LIMIT 100",
                sorted(kinds))
            for r in rows:
                if r["evergreen_decision"] == "approved" and r["edited_parts"] is None:
                    # Queued from an evergreen post the owner approved (the same text): approved at once, by the
                    # owner's decision on the entry, rather than asking again while the model is down.
                    approved = ContentApproved(
                        content_id=r["content_id"], kind=r["kind"], parts=json.loads(r["parts"]),
                        approved_by=r["evergreen_decided_by"], approved_at=now)
                    await self.ctx.outbox.record(conn, approved)
                    await record_decision(conn, approved)
                    await conn.execute("INSERT INTO asked (content_id, asked_at) VALUES ($1, $2)", r["content_id"],
                                       now)
                    continue
                preview = json.loads(r["edited_parts"] or r["parts"])[0][:280]
                await self.ctx.outbox.record(conn, ApprovalRequested(
                    content_id=r["content_id"], kind=r["kind"], preview=preview, scheduled_for=r["scheduled_for"],
                    requested_at=now))
                await conn.execute("INSERT INTO asked (content_id, asked_at) VALUES ($1, $2)", r["content_id"], now)
        return len(rows)

    async def status(self) -> dict[str, Any]:
        waiting = await self.ctx.pool.fetchval(
            "SELECT count(*) FROM items WHERE status = 'queued' AND decision IS NULL AND kind = ANY($1::text[])",
            sorted(self.settings.approval_kinds()))
        return {"url": self.console.url, "approval": sorted(self.settings.approval_kinds()), "waiting": waiting}
