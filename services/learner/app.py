"""Composition root of the learner: the projection of decisions, posts, metric reads, follower attribution and
its own published models (projections.py), and its worker, the model job that builds, gates and publishes
ModelUpdated (jobs.py), plus the ``rollback`` command. Domain logic: learning.py (facade), rewards.py,
posterior.py, policy.py (libs.policy), ope.py, predictors.py, features.py."""

from __future__ import annotations

from pathlib import Path

from libs.runtime.service import Service
from services.learner import projections
from services.learner.jobs import ModelJob, rollback_command
from services.learner.settings import LearnerSettings

NAME = "learner"
MIGRATIONS = Path(__file__).parent / "migrations"
Settings = LearnerSettings


def build(settings: LearnerSettings) -> Service[LearnerSettings]:
    svc = Service(NAME, settings, migrations=MIGRATIONS)
    projections.register(svc)
    svc.runs(ModelJob)
    svc.command("rollback", rollback_command)
    return svc
