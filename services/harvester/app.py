"""Composition root of the harvester: the opportunity pool and discovered accounts projected from events
(projections.py), and its worker (jobs.py): the harvest job (search through the gateway at P1 ->
OpportunityFound / OpportunityExpired) and the discovery job (-> AccountDiscovered, and their recent tweets into
the pool). Domain logic: queries.py, selection.py, discovery.py."""

from __future__ import annotations

from pathlib import Path

from libs.runtime.service import Service
from services.harvester import projections
from services.harvester.jobs import HarvesterJobs
from services.harvester.settings import HarvesterSettings

NAME = "harvester"
MIGRATIONS = Path(__file__).parent / "migrations"
Settings = HarvesterSettings


def build(settings: HarvesterSettings) -> Service[HarvesterSettings]:
    svc = Service(NAME, settings, migrations=MIGRATIONS, job_tables=projections.JOB_TABLES)
    projections.register(svc)
    svc.runs(HarvesterJobs)
    return svc
