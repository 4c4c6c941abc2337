"""Composition root of the poster: the queue projection and its worker, the posting cycle (cycle.py, wired in
worker.py), behind the live guard."""

from __future__ import annotations

from pathlib import Path

from libs.runtime.service import Service
from services.poster import failpoints, projections
from services.poster.settings import PosterSettings
from services.poster.worker import PosterWorker

NAME = "poster"
MIGRATIONS = Path(__file__).parent / "migrations"
Settings = PosterSettings
# The posting cycle's own records: each item's progress, its durable intents, the write history pacing counts,
# the account's risk and breaker, its verdicts on the owner's edits. (The queue itself is the projection of
# ContentQueued.)
JOB_TABLES = ("item_progress", "attempts", "history", "poster_state", "edit_verdicts")


def build(settings: PosterSettings) -> Service[PosterSettings]:
    # Refuse before connecting to anything: a wrong base URL must not post to a real account.
    settings.write_target()
    failpoints.armed()  # a misspelt failpoint fails loudly instead of silently doing nothing
    service = Service(NAME, settings, migrations=MIGRATIONS, job_tables=JOB_TABLES)
    projections.register(service)
    service.runs(PosterWorker)
    return service
