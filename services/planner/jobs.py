"""The plan job: read the projections, decide how many items to write, write them through the Drafter, publish.

One run: wait until the projections have applied everything already published (the previous run's own events
included, so queue depth and spend are current), then plan posts and replies within the poster's caps and the
budget tier, and publish every LlmUsageRecorded, ContentRejected and ContentQueued the Drafter produced, in that
order. A permanent LLM error (a bad key) raises an alert and stops all calls until the service restarts.
"""

from __future__ import annotations

import asyncio
import logging
import random
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta

import asyncpg
import numpy as np

from libs.bus.streams import ConsumerSpec
from libs.bus.publish import EventPublisher
from libs.contracts.events import BudgetExhausted, ContentQueued, ContentRejected, LlmUsageRecorded
from libs.runtime.clock import Clock
from libs.text import Embedder, content_hash
from services.planner import metrics
from services.planner import projections as db
from services.planner.budget import BudgetLedger, BudgetTier, limit_quota_for_tier
from services.planner.choices import (
    PosterCaps,
    next_slot,
    open_hours,
    plan_quota,
    sample_post_choice,
    sample_reply_choice,
)
from services.planner.config import NicheConfig, PlannerSettings
from services.planner.drafting import DraftOutcome, Drafter
from services.planner.gates import OwnPost, RecentPosts
from services.planner.llm import LlmPermanentError, TextModel
from services.planner.replies import pick_targets

logger = logging.getLogger("xbot.planner")

# How long (real seconds) a run waits for the projections to catch up before it gives up for this interval.
CATCH_UP_TIMEOUT_S = 60.0
# Replies further back than this do not matter to any cooldown or daily cap.
REPLY_MEMORY = timedelta(days=2)


@dataclass
class RunReport:
    """What one run did (also the ``last`` block of ``xbot status``)."""

    at: str
    policy_version: str = ""
    tier: str = ""
    planned_posts: int = 0
    planned_replies: int = 0
    queued: dict[str, int] = field(default_factory=dict)
    rejected: int = 0
    llm_calls: int = 0
    spent_usd: float = 0.0
    stopped: str | None = None

    def as_dict(self) -> dict:
        return {k: v for k, v in self.__dict__.items()}


class Planner:
    def __init__(
        self,
        settings: PlannerSettings,
        *,
        config: NicheConfig,
        pool: asyncpg.Pool,
        js,
        consumers: Sequence[ConsumerSpec],
        publisher: EventPublisher,
        clock: Clock,
        model: TextModel,
        embedder: Embedder,
        rng: random.Random | None = None,
    ) -> None:
        self.settings = settings
        self.config = config
        self.pool = pool
        self.js = js
        self.consumers = list(consumers)
        self.publisher = publisher
        self.clock = clock
        self.model = model
        self.embedder = embedder
        self.rng = rng or random.Random()
        self.caps = PosterCaps(settings.posts_per_hour, settings.posts_per_day, settings.replies_per_hour,
                               settings.replies_per_day)
        self.halted: str | None = None  # why LLM calls are stopped until restart
        self.last: RunReport | None = None
        self._vectors: dict[str, np.ndarray] = {}  # content hash -> embedding, recomputed from texts after start
        self._exhausted_days: set[str] = set()
        self._retries_seen = 0

    # ------------------------------------------------------------------ one run

    async def run(self) -> RunReport:
        now = self.clock.now()
        report = RunReport(at=now.isoformat())
        self.last = report
        if self.halted:
            report.stopped = "halted"
            logger.error("ALERT planner halted (%s): no LLM calls until the key is fixed and it restarts",
                         self.halted)
            return report
        if not await self.caught_up():
            report.stopped = "projections_behind"
            logger.warning("plan run skipped: projections did not catch up within %.0f s", CATCH_UP_TIMEOUT_S)
            return report
        day = now.date().isoformat()
        async with self.pool.acquire() as conn:
            in_force = await db.policy_in_force(conn)
            depth = await db.queue_depth(conn, now)
            spent = await db.spent_on(conn, day)
            if await db.exhausted_on(conn, day):
                self._exhausted_days.add(day)
            since = now - timedelta(days=self.config.gates.duplicate_window_days)
            posts = await db.own_posts_since(conn, since)
            tweets = await db.own_tweet_texts_since(conn, since)
            history = await db.reply_history(conn, now - REPLY_MEMORY)
            pool = await db.open_opportunities(conn, now, timedelta(hours=self.config.replies.max_age_hours))
        policy = in_force.policy
        ledger = BudgetLedger.for_day(day, self.config, spent_usd=spent)
        report.policy_version, report.tier = policy.version, ledger.tier().value
        self._show_budget(ledger, depth)
        if day in self._exhausted_days:
            report.stopped = "budget_exhausted"
            return report
        if ledger.tier() is BudgetTier.EXHAUSTED:
            await self._exhausted(ledger.exhausted_event())
            report.stopped = "budget_exhausted"
            return report

        quota = plan_quota(self.caps, depth, horizon_hours=self.settings.plan_horizon_hours)
        n_posts, n_replies = limit_quota_for_tier(quota.posts, quota.replies, ledger.tier())
        report.planned_posts, report.planned_replies = n_posts, n_replies
        if n_posts + n_replies == 0:
            return report
        drafter = Drafter(config=self.config, model=self.model, ledger=ledger, embedder=self.embedder,
                          recent=await self._recent_posts(posts, tweets), replies=history, rng=self.rng)
        try:
            queued_by_hour = dict(depth.queued_by_hour)
            for _ in range(n_posts):
                hours = open_hours(self.config.hours, queued_by_hour, self.caps.posts_per_hour)
                choice, propensity = sample_post_choice(policy, self.config, self.rng, open_hours=hours)
                out = await drafter.write_post(
                    choice, propensity=propensity, policy_version=policy.version, now=now,
                    scheduled_for=next_slot(choice.hour, now, self.rng), insights=dict(policy.insights))
                await self._publish(out, report, causation_id=in_force.event_id)
                if out.queued is not None:
                    queued_by_hour[choice.hour] = queued_by_hour.get(choice.hour, 0) + 1
                if out.stopped:
                    break
            if report.stopped not in ("llm_unavailable", "budget"):
                targets = pick_targets([p.opportunity for p in pool], history, now=now, config=self.config,
                                       own_handle=self.settings.x_handle, n=n_replies)
                by_id = {p.opportunity.tweet_id: p for p in pool}
                for opp in targets:
                    pooled = by_id[opp.tweet_id]
                    choice, propensity = sample_reply_choice(policy, self.config, self.rng, topic=opp.topic,
                                                             hour=now.hour)
                    out = await drafter.write_reply(opp, choice, propensity=propensity,
                                                    policy_version=policy.version, now=now,
                                                    content_id=pooled.content_id)
                    await self._publish(out, report, causation_id=pooled.event_id)
                    if out.stopped:
                        break
        except LlmPermanentError as err:
            self.halted = str(err)
            report.stopped = "halted"
            metrics.llm_errors.labels("permanent").inc()
            metrics.llm_halted.set(1)
            logger.error("ALERT LLM refused the planner permanently (%s): check XBOT_LLM_API_KEY and the model "
                         "names; no more LLM calls until the service restarts", err)
        finally:
            self._count_retries()
            report.spent_usd = ledger.spent_usd
            report.tier = ledger.tier().value
            self._show_budget(ledger, None)
        logger.info("plan run: %s", report.as_dict())
        return report

    # ------------------------------------------------------------------ pieces

    async def caught_up(self) -> bool:
        """Wait until every consumer's tracking position reached its stream's last message as of now; False when
        that takes longer than CATCH_UP_TIMEOUT_S."""
        targets = {}
        for spec in self.consumers:
            stream = spec.stream(self.settings.namespace)
            targets[(spec.durable(self.settings.namespace), stream)] = (await self.js.stream_info(stream)).state.last_seq
        loop = asyncio.get_running_loop()
        deadline = loop.time() + CATCH_UP_TIMEOUT_S
        while True:
            rows = await self.pool.fetch("SELECT consumer, stream, stream_seq FROM tracking")
            at = {(r["consumer"], r["stream"]): r["stream_seq"] for r in rows}
            if all(at.get(key, 0) >= seq for key, seq in targets.items()):
                return True
            if loop.time() > deadline:
                logger.warning("projections behind: %s", {k: (at.get(k, 0), v) for k, v in targets.items()})
                return False
            await asyncio.sleep(0.1)

    async def _recent_posts(self, rows: list[db.OwnPostRow], tweets: list[str]) -> RecentPosts:
        """Own posts of the duplicate window with their embeddings (computed once per text, off the event loop),
        and the hashes of every tweet of ours in it."""
        hashes = [content_hash(r.text) for r in rows]
        missing = sorted({(h, r.text) for h, r in zip(hashes, rows) if h not in self._vectors})
        if missing:
            vectors = await asyncio.to_thread(self.embedder.embed, [t for _, t in missing])
            self._vectors.update({h: v for (h, _), v in zip(missing, vectors)})
        recent = RecentPosts([OwnPost(r.text, h, r.topic, r.at, self._vectors[h]) for r, h in zip(rows, hashes)])
        recent.add_tweets(tweets)
        return recent

    async def _publish(self, out: DraftOutcome, report: RunReport, *, causation_id: str | None) -> None:
        for event in out.events:
            if isinstance(event, BudgetExhausted):
                await self._exhausted(event)
                continue
            await self.publisher.publish(event, correlation_id=out.content_id,
                                         causation_id=causation_id if isinstance(event, ContentQueued) else None)
            if isinstance(event, LlmUsageRecorded):
                metrics.llm_spend.labels(event.model).inc(event.cost_usd)
                report.llm_calls += 1
            elif isinstance(event, ContentRejected):
                metrics.gate_rejections.labels(event.gate).inc()
                report.rejected += 1
            elif isinstance(event, ContentQueued):
                metrics.items_queued.labels(event.kind).inc()
                report.queued[event.kind] = report.queued.get(event.kind, 0) + 1
        if out.malformed:
            metrics.llm_errors.labels("malformed").inc(out.malformed)
        if out.stopped == "llm_unavailable":
            metrics.llm_errors.labels("unavailable").inc()
            logger.warning("LLM unavailable after retries: the rest of this run waits for the next one")
        if out.stopped in ("llm_unavailable", "budget"):
            report.stopped = out.stopped

    async def _exhausted(self, event: BudgetExhausted) -> None:
        """Once per day: the event (its Nats-Msg-Id is the day, so a second replica's is dropped) and the alert."""
        if event.day in self._exhausted_days:
            return
        await self.publisher.publish(event)
        self._exhausted_days.add(event.day)
        logger.error("ALERT LLM budget exhausted for %s: spent $%.4f of $%.2f; no more LLM calls today",
                     event.day, event.spent_usd, event.budget_usd)

    def _count_retries(self) -> None:
        retries = self.model.retries
        if retries > self._retries_seen:
            metrics.llm_retries.inc(retries - self._retries_seen)
        self._retries_seen = retries

    def _show_budget(self, ledger: BudgetLedger, depth) -> None:
        metrics.llm_budget.set(ledger.budget_usd)
        metrics.budget_remaining.set(max(0.0, ledger.budget_usd - ledger.spent_usd) / ledger.budget_usd)
        if depth is not None:
            metrics.queue_depth.labels("post").set(depth.pending_posts)
            metrics.queue_depth.labels("reply").set(depth.pending_replies)

    # ------------------------------------------------------------------ xbot status

    async def status(self, now: datetime) -> dict:
        day = now.date().isoformat()
        async with self.pool.acquire() as conn:
            in_force = await db.policy_in_force(conn)
            depth = await db.queue_depth(conn, now)
            spent = await db.spent_on(conn, day)
            exhausted = await db.exhausted_on(conn, day)
            opportunities = await db.pool_size(conn)
        ledger = BudgetLedger.for_day(day, self.config, spent_usd=spent)
        return {
            "policy_version": in_force.policy.version,
            "queue": {"posts": depth.pending_posts, "replies": depth.pending_replies},
            "posted_today": {"posts": depth.posted_posts_today, "replies": depth.posted_replies_today},
            "opportunities": opportunities,
            "spend_today_usd": round(spent, 6),
            "budget_usd": ledger.budget_usd,
            "tier": BudgetTier.EXHAUSTED.value if exhausted else ledger.tier().value,
            "halted": self.halted,
            "embedder": self.embedder.kind,
            "last": self.last.as_dict() if self.last else None,
        }
