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
import json
import logging
import re
from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from typing import Any

from libs.contracts.events import ModelUpdated
from libs.runtime.context import JobContext, Worker
from libs.runtime.scheduler import Job
from services.learner import metrics
from services.learner.learning import Learner, LearnerConfig, ModelSnapshot
from services.learner.projections import (
    PublishedModel,
    TrainingData,
    published_models,
    training_data,
)
from services.learner.settings import LearnerSettings

log = logging.getLogger("xbot.learner")
_VERSION = re.compile(r"^v(\d+)-([0-9a-f]+)$")
# How long (real time) to wait for our own ModelUpdated to come back through the projection.
CATCH_UP = timedelta(seconds=15)


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
    for d in data.replies:
        learner.observe_decision(d.content_id, d.choice, d.propensity, d.policy_version, text=d.text, kind=d.kind,
                                 reply_context=d.reply_context)
    for content_id, hour in data.posted_hours:
        learner.observe_posted(content_id, hour)
    for m in data.metrics:
        learner.observe_metrics(m.content_id, m.checkpoint_hours, m.counts)
    learner.observe_followers(data.followers, data.follower_snapshots)
    for content_id in data.rejections:
        learner.observe_owner_rejection(content_id)
    for content_id in data.withdrawn:
        learner.observe_withdrawn(content_id)
    learner.observe_format_insights(dict(data.format_lifts))
    learner.observe_past_posts(data.past_posts)
    return learner


def matured_rewards(data: TrainingData, matured_hours: float) -> int:
    """Posts and learned replies of the decision log with a read at or after the matured checkpoint, and the
    account's posts from before xbot (matured when read): a first model is due as soon as they are read."""
    posts = {d.content_id for d in data.decisions} | {d.content_id for d in data.replies}
    return len({m.content_id for m in data.metrics if m.checkpoint_hours >= matured_hours
                and m.content_id in posts}) + len(data.past_posts)


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


def trained_on(payload: dict) -> int:
    """Matured items a published model learned from: its posts, its replies and the account's past posts."""
    return (int(payload.get("training_size") or 0) + int((payload.get("replies") or {}).get("training_size") or 0)
            + int((payload.get("evaluation") or {}).get("past_posts") or 0))


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


class ModelJob(Worker):
    status_block = "learning"

    def __init__(self, ctx: JobContext[LearnerSettings]) -> None:
        self.ctx = ctx
        self.pool = ctx.pool
        self.clock = ctx.clock
        s = ctx.settings
        self.config = s.learner_config()
        self.interval = s.learner_model_interval
        self.min_new_rewards = s.learner_min_new_rewards
        self.last: Evaluation | None = None
        self._rejected: set[str] = set()  # data digests whose candidate the gate rejected (deterministic: skip)
        self._unrollable: set[str] = set()  # versions the owner asked to undo that have nothing before them

    def jobs(self) -> Sequence[Job]:
        s = self.ctx.settings
        return (Job("learn", s.learner_check_interval, self.run, offset=s.learner_first_check),)

    async def start(self) -> None:
        # The policy in force on /metrics from the first scrape on.
        async with self.pool.acquire() as conn:
            self.refresh_metrics(await published_models(conn))

    async def wait_current(self) -> None:
        """Until the models table holds every ModelUpdated of our stream (a version count must not be stale)."""
        try:
            await self.ctx.publish(timeout=CATCH_UP)
        except TimeoutError as err:
            raise TimeoutError("the learner's projection has not applied its own ModelUpdated stream yet; "
                               f"is the learner service running? ({err})") from None

    async def run(self) -> Evaluation | None:
        """One tick: evaluate and maybe publish a candidate. Returns the evaluation, None when nothing was due."""
        await self.wait_current()
        if await self.rollback_if_asked():
            return None
        async with self.pool.acquire() as conn:
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
                     reference=trained_on(latest.payload) if latest else 0, min_new=self.min_new_rewards,
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
        await self._emit(ModelUpdated(created_at=now, **snapshot.payload()))
        metrics.evaluations.labels("published").inc()
        log.info("published %s (%s, %d matured posts)", snapshot.version, reason, snapshot.training_size)
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
        # Published, not waited for: the running learner's projection applies it (a command process has none).
        async with self.pool.acquire() as conn:
            await self.ctx.outbox.record(conn, event)
        await self.ctx.outbox.flush()
        log.info("rolled back %s: %s restores %s", event.rollback_of, event.version, event.parent_version)
        return event

    async def rollback_if_asked(self) -> bool:
        """The owner's rollback from the console (ModelRollbackRequested), done while the version it undoes is in
        force; waited for, so the next tick sees the restored version and does not roll back twice."""
        async with self.pool.acquire() as conn:
            models = await published_models(conn)
            if not models or await conn.fetchval("SELECT 1 FROM rollback_requests WHERE version = $1",
                                                 models[-1].version) is None:
                return False
        try:
            event = rollback_event(models, self.clock.now())
        except NothingToRollBack as err:
            if models[-1].version not in self._unrollable:
                self._unrollable.add(models[-1].version)
                log.warning("the owner's rollback of %s cannot be done: %s", models[-1].version, err)
            return False
        await self._emit(event)
        log.info("rolled back %s at the owner's request: %s restores %s", event.rollback_of, event.version,
                 event.parent_version)
        return True

    async def _emit(self, event: ModelUpdated) -> None:
        """Record, publish, and wait until the models table holds it (the next version number counts it)."""
        async with self.pool.acquire() as conn:
            await self.ctx.outbox.record(conn, event)
        await self.wait_current()

    @staticmethod
    def refresh_metrics(models: Sequence[PublishedModel]) -> None:
        latest = models[-1] if models else None
        metrics.show_policy(version_number(latest.version) if latest else 0, latest.payload if latest else None)

    async def status(self) -> dict[str, Any]:
        async with self.pool.acquire() as conn:
            models = await published_models(conn)
            data = await training_data(conn)
            # The owner's rejections per arm (each is a penalty for its choice in the next model).
            rejected = await conn.fetch(
                "SELECT d.choice FROM owner_rejections r JOIN decisions d USING (content_id)")
        by_arm: dict[str, int] = {}
        for r in rejected:
            choice = json.loads(r["choice"])
            for dim in ("content_type", "topic"):
                arm = f"{dim}={choice.get(dim)}"
                by_arm[arm] = by_arm.get(arm, 0) + 1
        latest = models[-1] if models else None
        return {
            "owner_rejections": by_arm,
            "policy_version": latest.version if latest else None,
            "rollback_of": latest.rollback_of if latest else None,
            "versions_published": len(models),
            "training_size": latest.training_size if latest else 0,
            "post_decisions": len(data.decisions),
            "reply_decisions": len(data.replies),  # replies with their draw: the reply policy's decisions
            "matured_rewards": matured_rewards(data, self.config.matured_hours),
            "last_evaluation": self.last.as_dict() if self.last else None,
        }


async def rollback_command(ctx: JobContext[LearnerSettings], args: list[str]) -> str:
    """``python -m services.learner rollback`` (``xbot model rollback``)."""
    try:
        event = await ModelJob(ctx).rollback()
    except (NothingToRollBack, TimeoutError) as err:
        raise SystemExit(f"rollback: {err}") from None
    return f"rolled back {event.rollback_of}: {event.version} restores {event.parent_version}"
