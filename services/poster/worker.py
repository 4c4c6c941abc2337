"""The poster's worker: the posting cycle (cycle.py) wired to the real parts of the job context.

The store is Postgres (store.py), the gateway the NATS client, the kill switch the control KV, the outbox libs'
one; the cycle itself knows none of them.
"""

from __future__ import annotations

import logging
import random
from collections.abc import Sequence
from typing import Any

from libs.runtime.context import JobContext, Worker
from libs.runtime.scheduler import Job
from services.poster.account import AccountState
from services.poster.cycle import PostingCycle, PostingStore
from services.poster.risk import AccountRisk
from services.poster.settings import PosterSettings
from services.poster.store import PgPostingStore

log = logging.getLogger(__name__)


class PosterWorker(Worker):
    status_block = "posting"

    def __init__(self, ctx: JobContext[PosterSettings], *, rng: random.Random | None = None) -> None:
        settings = ctx.settings
        self.settings = settings
        risk_policy = settings.risk_policy()

        def new_account() -> AccountState:
            return AccountState(AccountRisk(policy=risk_policy), settings.breaker(ctx.clock))

        store: PostingStore = PgPostingStore(ctx.pool, ctx.outbox, new_account=new_account,
                                               handle=settings.x_handle)
        self.cycle = PostingCycle(settings, store=store, gateway=ctx.gateway, kill_switch=ctx.kill_switch,
                                  outbox=ctx.outbox, clock=ctx.clock, rng=rng)

    def jobs(self) -> Sequence[Job]:
        # Offset 0: the first cycle (reconcile first, then post) runs as soon as the service is up.
        return (Job("post_cycle", self.settings.posting_cycle, self.cycle.run, jitter=0.1),)

    async def start(self) -> None:
        if self.settings.replies_wait_despite_setting():
            log.warning("XBOT_APPROVAL=%s, but on a live account every reply waits for your approval in the console: "
                        "X's developer guidelines do not allow an app to auto-reply to posts found by keyword "
                        "searches, and want X's prior approval for AI-written replies", self.settings.approval)
        await self.cycle.start()

    async def status(self) -> dict[str, Any]:
        target = self.settings.write_target()
        return {"target": target, **await self.cycle.describe()}
