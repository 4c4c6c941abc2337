"""The learner's model job and the rollback command.

Model job (every ``learner_check_interval``): read the training data from the projection tables, and when a
candidate is due (``learner_min_new_rewards`` matured rewards since the policy in force was trained, or
``learner_model_interval`` since the last version or evaluation with changed data), rebuild the Learner from the
tables in stream order, build the candidate against the policy in force, and publish ModelUpdated only if the
off-policy gate passes. The evaluation is kept either way (status and metrics).

Versions are ``v<N>-<data hash>``: N counts the versions published before (rollbacks included), the hash is the
training data's fingerprint. Same tables and same history of versions give the same version and, the Learner
being deterministic, the same payload bit for bit. A candidate is never built from data a published version
already had, so after a rollback the rolled-back model does not come straight back: learning resumes with new
data.

Rollback (``python -m services.learner rollback``): the previous version comes back as a new ModelUpdated (its
content, a new version id, ``parent_version`` = the restored version, ``rollback_of`` = the version undone); the
planner's projection takes the last ModelUpdated as the policy in force.
"""

from __future__ import annotations

import asyncio
import logging
import re
import time
from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import datetime, timedelta

import asyncpg

from libs.bus.broker import jetstream
from libs.bus.publish import EventPublisher
from libs.contracts.events import ModelUpdated
from libs.runtime.clock import Clock
from libs.store.projection import Projection
from services.learner import metrics
from services.learner.learning import Learner, LearnerConfig, ModelSnapshot
from services.learner.projections import (
    PublishedModel,
    TrainingData,
    own_stream_lag,
    published_models,
    training_data,
)

log = logging.getLogger("xbot.learner")
_VERSION = re.compile(r"^v(\d+)-([0-9a-f]+)$")
# How long (real seconds) to wait for our own ModelUpdated to come back through the projection.
CATCH_UP_S = 15.0


# ---------------------------------------------------------------------- pure parts


def version_id(number: int, digest: str) -> str:
    return f"v{number}-{digest}"


def version_number(version: str | None) -> int:
    m = _VERSION.match(version or "")
    return int(m.group(1)) if m else 0


def version_digest(version: str) -> str | None:
    m = _VERSION.match(version)
    return m.group(2) if m else None


def config_for(base: LearnerConfig, data: TrainingData) -> LearnerConfig:
    """The configured arms plus any the planner actually chose (in a fixed order: configured, then sorted)."""
    seen = {d: {str(x.choice.get(d)) for x in data.decisions} for d in ("content_type", "topic")}
    types = base.content_types + tuple(sorted(seen["content_type"] - set(base.content_types)))
    topics = base.topics + tuple(sorted(seen["topic"] - set(base.topics)))
    return replace(base, content_types=types, topics=topics)


def learner_from(data: TrainingData, base: LearnerConfig) -> Learner:
    learner = Learner(config_for(base, data))
    for d in data.decisions:
        learner.observe_decision(d.content_id, d.choice, d.propensity, d.policy_version, text=d.text, kind=d.kind)
    for m in data.metrics:
        learner.observe_metrics(m.content_id, m.checkpoint_hours, m.counts)
    learner.observe_followers(data.followers)
    return learner


def matured_rewards(data: TrainingData, matured_hours: float) -> int:
    """Posts of the decision log with a read at or after the matured checkpoint."""
    posts = {d.content_id for d in data.decisions}
    return len({m.content_id for m in data.metrics if m.checkpoint_hours >= matured_hours and m.content_id in posts})


def effective_versions(models: Sequence[PublishedModel]) -> list[PublishedModel]:
    """The chain of versions a rollback walks back through: a rollback replaces the version it undid and the one
    it restored by itself, so rolling back twice goes two versions back."""
    chain: list[PublishedModel] = []
    for m in models:
        if m.rollback_of is not None and chain and chain[-1].version == m.rollback_of:
            chain.pop()
            if chain:
                chain.pop()
        chain.append(m)
    return chain


class NothingToRollBack(RuntimeError):
    pass


def rollback_event(models: Sequence[PublishedModel], now: datetime) -> ModelUpdated:
    chain = effective_versions(models)
    if not chain:
        raise NothingToRollBack("no model has been published yet")
    if len(chain) < 2:
        raise NothingToRollBack(f"{chain[-1].version} is the first version in force; there is nothing before it")
    current, restored = chain[-1], chain[-2]
    digest = version_digest(restored.version) or "0"
    fields = {**restored.payload, "version": version_id(len(models) + 1, digest),
              "parent_version": restored.version, "rollback_of": current.version, "created_at": now}
    return ModelUpdated.model_validate(fields)


def due(*, matured: int, reference: int, min_new: int, last: datetime | None, now: datetime,
        interval: timedelta) -> str | None:
    """Why a candidate is due now (None: not due)."""
    if matured - reference >= min_new:
        return f"{matured - reference} new matured rewards"
    if matured >= min_new and (last is None or now - last >= interval):
        return "scheduled"
    return None


# ---------------------------------------------------------------------- the job


@dataclass
class Evaluation:
    """The last candidate the job judged."""

    at: datetime
    version: str
    reason: str
    published: bool
    training_size: int
    evaluation: dict

    def as_dict(self) -> dict:
        e = self.evaluation
        return {"at": self.at.isoformat(), "version": self.version, "reason": self.reason,
                "published": self.published, "training_size": self.training_size,
                **{k: e.get(k) for k in ("gate_difference", "gate_low", "gate_high", "dr_ess", "snips",
                                         "heldout_rmse")}}


class ModelJob:
    def __init__(self, *, pool: asyncpg.Pool, publisher: EventPublisher, clock: Clock, projection: Projection,
                 namespace: str, config: LearnerConfig, interval: timedelta, min_new_rewards: int) -> None:
        self.pool = pool
        self.publisher = publisher
        self.clock = clock
        self.projection = projection
        self.namespace = namespace
        self.config = config
        self.interval = interval
        self.min_new_rewards = min_new_rewards
        self.last: Evaluation | None = None
        self._rejected: set[str] = set()  # data digests whose candidate the gate rejected (deterministic: skip)

    async def _current(self, conn: asyncpg.Connection) -> bool:
        js = jetstream(self.publisher.broker)
        return await own_stream_lag(conn, js, self.projection, self.namespace) == 0

    async def wait_current(self, timeout_s: float = CATCH_UP_S) -> None:
        """Until the models table holds every ModelUpdated of our stream (a version count must not be stale)."""
        deadline = time.monotonic() + timeout_s
        while True:
            async with self.pool.acquire() as conn:
                if await self._current(conn):
                    return
            if time.monotonic() > deadline:
                raise TimeoutError("the learner's projection has not applied its own ModelUpdated stream yet; "
                                   "is the learner service running?")
            await asyncio.sleep(0.1)

    async def run(self) -> Evaluation | None:
        """One tick: evaluate and maybe publish a candidate. Returns the evaluation, None when nothing was due."""
        async with self.pool.acquire() as conn:
            if not await self._current(conn):
                log.info("model job: waiting for our own ModelUpdated to be projected")
                return None
            models = await published_models(conn)
            data = await training_data(conn)
        self.refresh_metrics(models)
        digest = data.digest()
        if digest in self._rejected or digest in {version_digest(m.version) for m in models}:
            return None  # no data a published or rejected candidate did not already have
        now = self.clock.now()
        latest = models[-1] if models else None
        last = max([t for t in (latest.created_at if latest else None, self.last.at if self.last else None) if t],
                   default=None)
        reason = due(matured=matured_rewards(data, self.config.matured_hours),
                     reference=latest.training_size if latest else 0, min_new=self.min_new_rewards,
                     last=last, now=now, interval=self.interval)
        if reason is None:
            return None
        snapshot = await asyncio.to_thread(self.build, data, models)
        evaluation = Evaluation(at=now, version=snapshot.version, reason=reason, published=snapshot.publish,
                                training_size=snapshot.training_size, evaluation=dict(snapshot.evaluation))
        self.last = evaluation
        metrics.gate_difference.set(float(snapshot.evaluation.get("gate_difference") or 0.0))
        if not snapshot.publish:
            self._rejected.add(digest)
            metrics.evaluations.labels("rejected").inc()
            log.info("candidate %s rejected by the off-policy gate (%s)", snapshot.version, evaluation.as_dict())
            return evaluation
        await self.publisher.publish(ModelUpdated(created_at=now, **snapshot.payload()))
        metrics.evaluations.labels("published").inc()
        log.info("published %s (%s, %d matured posts)", snapshot.version, reason, snapshot.training_size)
        await self.wait_current()
        async with self.pool.acquire() as conn:
            self.refresh_metrics(await published_models(conn))
        return evaluation

    def build(self, data: TrainingData, models: Sequence[PublishedModel]) -> ModelSnapshot:
        """The candidate the job would build from these tables: a pure function of them."""
        incumbent = models[-1].payload if models else None
        return learner_from(data, self.config).build_model(version_id(len(models) + 1, data.digest()),
                                                           incumbent=incumbent)

    async def rollback(self) -> ModelUpdated:
        await self.wait_current()
        async with self.pool.acquire() as conn:
            models = await published_models(conn)
        event = rollback_event(models, self.clock.now())
        await self.publisher.publish(event)
        log.info("rolled back %s: %s restores %s", event.rollback_of, event.version, event.parent_version)
        return event

    @staticmethod
    def refresh_metrics(models: Sequence[PublishedModel]) -> None:
        latest = models[-1] if models else None
        metrics.show_policy(version_number(latest.version) if latest else 0, latest.payload if latest else None)

    async def status(self) -> dict:
        async with self.pool.acquire() as conn:
            models = await published_models(conn)
            data = await training_data(conn)
        latest = models[-1] if models else None
        return {
            "policy_version": latest.version if latest else None,
            "rollback_of": latest.rollback_of if latest else None,
            "versions_published": len(models),
            "training_size": latest.training_size if latest else 0,
            "post_decisions": len(data.decisions),
            "matured_rewards": matured_rewards(data, self.config.matured_hours),
            "last_evaluation": self.last.as_dict() if self.last else None,
        }
