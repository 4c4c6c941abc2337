"""Composition root of the planner: projections of the policy in force, the opportunity pool, own items and the
budget ledger (projections.py), and its worker, the plan job (jobs.py) that writes with the LLM through the
gates. Domain logic: choices.py, prompts.py, llm.py, gates.py, replies.py, budget.py, drafting.py."""

from __future__ import annotations

import random
from functools import partial
from pathlib import Path

from libs.runtime.service import Service
from services.planner import projections
from services.planner.config import PlannerSettings
from services.planner.jobs import Planner

NAME = "planner"
MIGRATIONS = Path(__file__).parent / "migrations"
Settings = PlannerSettings


def build(settings: PlannerSettings, *, rng: random.Random | None = None) -> Service[PlannerSettings]:
    settings.niche()  # a bad niche file stops the service here, before it connects to anything
    # The evergreen pool is written by the plan job, not from events: a replay carries it over whole.
    svc = Service(NAME, settings, migrations=MIGRATIONS, job_tables=("evergreen",))
    projections.register(svc)
    svc.runs(partial(Planner, rng=rng))
    return svc
