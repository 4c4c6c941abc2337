"""Composition root of the scraper: the read schedule projected from TweetPosted and our own events
(projections.py), and its worker (jobs.py): the scrape job (checkpoint reads through the gateway at P1 ->
MetricsScraped) and the followers job (profile snapshot -> FollowersSnapshotted with attribution).
Domain logic: checkpoints.py, attribution.py."""

from __future__ import annotations

from pathlib import Path

from libs.runtime.service import Service
from services.scraper import projections
from services.scraper.checkpoints import checkpoints_from
from services.scraper.jobs import ScraperJobs
from services.scraper.settings import ScraperSettings

NAME = "scraper"
MIGRATIONS = Path(__file__).parent / "migrations"
Settings = ScraperSettings


def build(settings: ScraperSettings) -> Service[ScraperSettings]:
    svc = Service(NAME, settings, migrations=MIGRATIONS, job_tables=projections.JOB_TABLES)
    projections.register(svc, checkpoints_from(settings), missed_fraction=settings.scrape_missed_fraction)
    svc.runs(ScraperJobs)
    return svc
