"""Composition root of the planner: projections of the policy in force, the opportunity pool, own items and the
budget ledger (projections.py), and the plan job (jobs.py) that writes with the LLM through the gates.
Domain logic: choices.py, prompts.py, llm.py, gates.py, replies.py, budget.py, drafting.py."""

from __future__ import annotations

import asyncio
import random
from datetime import timedelta
from pathlib import Path

from libs.bus.broker import jetstream
from libs.runtime.service import Service
from libs.text import Embedder
from services.planner import projections
from services.planner.config import PlannerSettings
from services.planner.jobs import Planner
from services.planner.llm import RetryPolicy, TextModel

NAME = "planner"
MIGRATIONS = Path(__file__).parent / "migrations"
Settings = PlannerSettings


class PlannerHandle:
    """The plan job of a built service, available once the service has started (tests and status read it)."""

    planner: Planner | None = None

    def __call__(self) -> Planner:
        if self.planner is None:
            raise RuntimeError("the planner service has not started yet")
        return self.planner


def compose(settings: PlannerSettings, *, rng: random.Random | None = None) -> tuple[Service, PlannerHandle]:
    config = settings.niche()  # a bad niche file stops the service here, before it connects to anything
    svc = Service(NAME, settings, migrations=MIGRATIONS)
    projections.register(svc)
    handle = PlannerHandle()
    model = TextModel(base_url=settings.llm_base_url, api_key=settings.llm_api_key,
                      timeout=settings.llm_timeout_seconds, retry=RetryPolicy(max_attempts=settings.llm_max_attempts))

    @svc.on_start
    async def make_planner() -> None:
        assert svc.pool is not None
        # Loading the embedding model takes seconds of CPU: keep the event loop free meanwhile.
        embedder = await asyncio.to_thread(Embedder)
        handle.planner = Planner(settings, config=config, pool=svc.pool, js=jetstream(svc.broker),
                                 consumers=svc.consumer_specs(), publisher=svc.publisher, clock=svc.clock,
                                 model=model, embedder=embedder, rng=rng)

    @svc.on_stop
    async def close_model() -> None:
        await model.close()

    interval = timedelta(minutes=settings.plan_interval_minutes)

    @svc.job("plan", interval, offset=min(timedelta(minutes=settings.plan_first_run_minutes), interval))
    async def plan() -> None:
        await handle().run()

    async def status() -> dict:
        return await handle().status(svc.clock.now()) if handle.planner else {"started": False}

    svc.status("planning", status)
    return svc, handle


def build(settings: PlannerSettings) -> Service:
    return compose(settings)[0]
