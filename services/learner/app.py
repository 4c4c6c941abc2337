"""Composition root of the learner: the projection of decisions, posts, metric reads, follower attribution and
its own published models (projections.py), and the model job that builds, gates and publishes ModelUpdated
(jobs.py). Domain logic: learning.py (facade), rewards.py, posterior.py, policy.py (libs.policy), ope.py,
predictors.py, features.py."""

from __future__ import annotations

from pathlib import Path

from libs.runtime.service import Service
from services.learner import projections
from services.learner.jobs import ModelJob
from services.learner.settings import LearnerSettings

NAME = "learner"
MIGRATIONS = Path(__file__).parent / "migrations"
Settings = LearnerSettings


class LearnerService(Service):
    def __init__(self, settings: LearnerSettings) -> None:
        super().__init__(NAME, settings, migrations=MIGRATIONS)
        self.learning = projections.register(self)
        self._model_job: ModelJob | None = None

    @property
    def model_job(self) -> ModelJob:
        """The model job (needs the pool: open it first, as start() and the rollback command do)."""
        if self._model_job is None:
            assert self.pool is not None, "open the pool before using the model job"
            s: LearnerSettings = self.settings  # type: ignore[assignment]
            self._model_job = ModelJob(
                pool=self.pool, publisher=self.publisher, clock=self.clock, projection=self.learning,
                namespace=s.namespace, config=s.learner_config(), interval=s.learner_model_interval,
                min_new_rewards=s.learner_min_new_rewards)
        return self._model_job


def build(settings: LearnerSettings) -> LearnerService:
    svc = LearnerService(settings)

    @svc.on_start
    async def export_policy_in_force() -> None:
        async with svc.pool.acquire() as conn:  # type: ignore[union-attr]
            svc.model_job.refresh_metrics(await projections.published_models(conn))

    @svc.job("learn", settings.learner_check_interval, offset=settings.learner_first_check)
    async def learn() -> None:
        await svc.model_job.run()

    async def learning() -> dict:
        return await svc.model_job.status()

    svc.status("learning", learning)
    return svc
