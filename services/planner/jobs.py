"""The plan job: read the projections, decide how many items to write, write them through the Drafter, publish.

One run: wait until the projections have applied everything already published (the previous run's own events
included, so queue depth and spend are current), then plan posts and replies within the poster's caps and the
budget tier, and record every LlmUsageRecorded, ContentRejected and ContentQueued the Drafter produced in the
outbox, in that order, one item's events per transaction (the runtime publishes them; each item's are published
before the next is written). A permanent LLM error (a bad key) raises an alert and stops all calls until the
service restarts. While the model cannot be used (unreachable, halted, the budget spent) the queue's empty post
slots are filled from the evergreen pool, which runs with budget to spare fill (services/planner/evergreen.py).
"""

from __future__ import annotations

import asyncio
import logging
import random
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

import numpy as np

from libs.contracts.events import (
    BudgetExhausted,
    Choice,
    ContentQueued,
    ContentRejected,
    DraftSelection,
    LlmHalted,
    LlmUsageRecorded,
)
from libs.core.logging import mask, redact
from libs.runtime.context import JobContext, Worker
from libs.runtime.scheduler import Job
from libs.store.tracking import ProjectionsBehind
from libs.contracts.base import uuid7
from libs.text import Embedder, content_hash
from services.planner import evergreen, metrics
from services.planner import projections as db
from services.planner.budget import BudgetLedger, BudgetTier, limit_quota_for_tier
from services.planner.choices import (
    PosterCaps,
    Policy,
    next_slot,
    hour_arms,
    open_hours,
    plan_quota,
    REPLY_DIMENSIONS,
    arms,
    draft_hooks,
    sample_post_choice,
)
from libs.formats import predicted_reward
from libs.niche import NicheConfig
from services.planner.config import PlannerSettings
from libs.facts import FactIndex
from services.planner.news import pick_news
from services.planner.drafting import POST_LIFETIME, DraftOutcome, Drafter, fact_index
from libs.gates import OwnPost, RecentPosts, check_topic_freshness
from services.planner.llm import LlmPermanentError, RetryPolicy, TextModel
from services.planner.replies import plan_replies

logger = logging.getLogger("xbot.planner")

# How long (real time) a run waits for the projections to catch up before it gives up for this interval.
CATCH_UP_TIMEOUT = timedelta(seconds=60)
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
    evergreen: int = 0  # queued from the evergreen pool
    evergreen_drafted: int = 0  # drafted into the pool
    # Facts no prompt carries: those a post of ours rested on when X showed a Community Note under it.
    disputed_facts: int = 0

    def as_dict(self) -> dict:
        return {k: v for k, v in self.__dict__.items()}


class Planner(Worker):
    status_block = "planning"

    def __init__(self, ctx: JobContext[PlannerSettings], *, rng: random.Random | None = None) -> None:
        settings = ctx.settings
        self.ctx = ctx
        self.settings = settings
        self.config: NicheConfig = settings.niche()
        self.pool = ctx.pool
        self.clock = ctx.clock
        # The key never reaches a log line or an event (LlmHalted carries the server's words, masked).
        redact(settings.llm_api_key.get_secret_value())
        self.model = TextModel(base_url=settings.llm_base_url, api_key=settings.llm_api_key,
                               timeout=settings.llm_timeout.total_seconds(),
                               retry=RetryPolicy(max_attempts=settings.llm_max_attempts))
        self.embedder: Embedder | None = None  # loaded at start, off the event loop
        self.facts: FactIndex | None = None  # the facts prompts may carry, embedded at start
        self.rng = rng or random.Random()
        self.caps = PosterCaps(settings.posts_per_hour, settings.posts_per_day, settings.replies_per_hour,
                               settings.replies_per_day)
        self.halted: str | None = None  # why LLM calls are stopped until restart
        self.last: RunReport | None = None
        self._vectors: dict[str, np.ndarray] = {}  # content hash -> embedding, recomputed from texts after start
        self._exhausted_days: set[str] = set()
        self._retries_seen = 0

    def jobs(self) -> Sequence[Job]:
        interval = self.settings.plan_interval
        return (Job("plan", interval, self.run,
                    offset=min(self.settings.plan_first_run, interval)),)

    async def start(self) -> None:
        # Loading the embedding model and embedding the facts file take seconds of CPU: keep the event loop free
        # meanwhile (a bad facts file stops the start here, naming the entry).
        self.embedder = await asyncio.to_thread(Embedder)
        self.facts = await asyncio.to_thread(fact_index, self.config, self.embedder)

    async def stop(self) -> None:
        await self.model.close()

    # ------------------------------------------------------------------ one run

    async def run(self) -> RunReport:
        now = self.clock.now()
        report = RunReport(at=now.isoformat())
        self.last = report
        if self.halted:
            report.stopped = "halted"
            logger.error("ALERT planner halted (%s): no LLM calls until the key is fixed and it restarts",
                         self.halted)
            await self._keep_alive(report, now)
            return report
        try:
            await self.ctx.wait_caught_up(timeout=CATCH_UP_TIMEOUT)
        except ProjectionsBehind as err:
            report.stopped = "projections_behind"
            logger.warning("plan run skipped: %s", err)
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
            patterns = await db.format_patterns(conn)
            news = await db.unused_news(conn, now - self.settings.news_max_age)
            avoid = await db.owner_reasons(conn, now)
            noted = await db.noted_texts(conn)
        policy = in_force.policy
        ledger = BudgetLedger.for_day(day, self.config, spent_usd=spent)
        report.policy_version, report.tier = policy.version, ledger.tier().value
        self._show_budget(ledger, depth)
        if day in self._exhausted_days:
            report.stopped = "budget_exhausted"
            await self._keep_alive(report, now)
            return report
        if ledger.tier() is BudgetTier.EXHAUSTED:
            await self._exhausted(ledger.exhausted_event())
            report.stopped = "budget_exhausted"
            await self._keep_alive(report, now)
            return report

        active = self.settings.active_hours()
        config = hour_arms(self.config, active, now)
        horizon = self.settings.plan_horizon
        if active is not None and active.contains(now):
            # Replies are written for now and the poster writes them in the active hours only: a run minutes
            # before the window closed planned the horizon's worth, and they expired overnight (a demo: 7 replies
            # queued at 22:58, the window closing at 23:00, all expired at 02:00, their drafts' model calls spent).
            horizon = min(horizon, active.next_close(now) - now)
        quota = plan_quota(self.caps, depth, horizon_hours=horizon / timedelta(hours=1),
                           hours_a_day=len(config.hours))
        n_posts, n_replies = limit_quota_for_tier(quota.posts, quota.replies, ledger.tier())
        if active is not None and not active.contains(now):
            n_replies = 0  # replies are written for now, and the poster writes nothing in the quiet hours
        report.planned_posts, report.planned_replies = n_posts, n_replies
        if n_posts + n_replies == 0 and not self._pool_wanted(ledger, await self._pool_reserve()):
            if quota.posts:  # the tier allows no posts: the pool fills the slots
                await self._keep_alive(report, now)
            return report
        assert self.embedder is not None, "start() loads the embedder before the first run"
        disputed = await self._disputed(noted)
        report.disputed_facts = len(disputed)
        drafter = Drafter(config=self.config, model=self.model, ledger=ledger, embedder=self.embedder,
                          recent=await self._recent_posts(posts, tweets), replies=history, rng=self.rng,
                          facts=self.facts, clock=self.clock.now, disputed=disputed)
        try:
            queued_by_hour = dict(depth.queued_by_hour)
            # One draft per slot: the run's items are drafted together (Drafter.draft_together), in turn, and the
            # model reviews of their drafts asked in one call per round. Several drafts per slot (growth) are
            # written slot by slot, the others' items still together.
            k = self.settings.plan_drafts_per_slot if ledger.tier() is BudgetTier.NORMAL else 1
            together: list[tuple[Any, str | None]] = []  # (write, causation id)
            topics = drafter.recent.topics_latest_last()  # and the run's own, as they are drawn
            for _ in range(n_posts):
                hours = open_hours(config.hours, queued_by_hour, self.caps.posts_per_hour)
                choice, propensity = sample_post_choice(policy, config, self.rng, open_hours=hours,
                                                        fresh_topics=self._fresh(topics))
                topics.append(choice.topic)
                item = pick_news(news, topic=choice.topic, now=now, max_age=self.settings.news_max_age)

                def write(c: Choice, remember: bool = True, item: Any = item, propensity: float = propensity) -> Any:
                    # The slot from the time this draft starts: the drafts before it took model calls.
                    slot = next_slot(c.hour, max(now, self.clock.now()), self.rng)
                    return drafter.write_post(
                        c, propensity=propensity, policy_version=policy.version, now=now, scheduled_for=slot,
                        insights={**{k: list(v) for k, v in policy.insights.items()}, "formats": patterns,
                                  "avoid": avoid},
                        best_posts=policy.best_posts, news=item, remember=remember)

                if item is not None:  # one post per news item (an item not used stays for the next run)
                    news = [n for n in news if n.item_id != item.item_id]
                if k > 1:
                    out = await self._best_of_drafts(drafter, write, choice, k, policy, report,
                                                     causation_id=in_force.event_id)
                    if out.queued is not None:
                        queued_by_hour[choice.hour] = queued_by_hour.get(choice.hour, 0) + 1
                    if out.stopped:
                        break
                else:
                    # Planned: the next slots are drawn among the hours still open after this one.
                    queued_by_hour[choice.hour] = queued_by_hour.get(choice.hour, 0) + 1
                    together.append((lambda c=choice, w=write: w(c), in_force.event_id))
            if report.stopped not in ("llm_unavailable", "budget"):
                planned = plan_replies([p.opportunity for p in pool], history, now=now, config=self.config,
                                       own_handle=self.settings.x_handle, n=n_replies, model=policy.replies,
                                       dimensions={d: arms(self.config, d) for d in REPLY_DIMENSIONS},
                                       rng=self.rng)
                by_id = {p.opportunity.tweet_id: p for p in pool}
                for reply in planned:
                    opp = reply.opportunity
                    pooled = by_id[opp.tweet_id]

                    async def write_reply(opp: Any = opp, pooled: Any = pooled, reply: Any = reply) -> DraftOutcome:
                        # A reply is written for now: the items drafted before it took model calls.
                        reply_now = max(now, self.clock.now())
                        if active is not None and not active.contains(reply_now):
                            # Those calls took the run into the quiet hours: a reply drafted now would wait for the
                            # morning and expire first (the demo lost most of its replies so); the next run in the
                            # active hours answers the pool. Nothing is drafted, nothing published.
                            return DraftOutcome(pooled.content_id, "reply")
                        choice = Choice(content_type="reply", topic=opp.topic or "general", format="single",
                                        hour=reply_now.hour, voice=reply.voice, reply_style=reply.reply_style)
                        return await drafter.write_reply(opp, choice, propensity=reply.propensity,
                                                         policy_version=policy.version, now=reply_now,
                                                         content_id=pooled.content_id, best_posts=policy.best_posts,
                                                         reply_context=reply.context)

                    together.append((write_reply, pooled.event_id))
            finished: dict[int, DraftOutcome] = {}
            published = 0

            async def publish(i: int, out: DraftOutcome) -> None:
                """Each item's events as soon as it and the items planned before it are finished: in plan order
                (the propensities of one run's posts follow it), and none lost to a crash later in the run."""
                nonlocal published
                finished[i] = out
                while published in finished:
                    await self._publish(finished.pop(published), report, causation_id=together[published][1])
                    published += 1

            await drafter.draft_together([w for w, _ in together], on_done=publish)
            if not report.stopped and self._pool_wanted(ledger, await self._pool_reserve()):
                await self._fill_pool(drafter, policy, report, now)
        except LlmPermanentError as err:
            self.halted = str(err)
            report.stopped = "halted"
            metrics.llm_errors.labels("permanent").inc()
            metrics.llm_halted.set(1)
            logger.error("ALERT LLM refused the planner permanently (%s): check XBOT_LLM_API_KEY and the model "
                         "names; no more LLM calls until the service restarts", err)
            await self._announce_halt(err, now)
        finally:
            self._count_retries()
            report.spent_usd = ledger.spent_usd
            report.tier = ledger.tier().value
            self._show_budget(ledger, None)
        if report.stopped in ("llm_unavailable", "budget", "halted"):
            await self._keep_alive(report, now)
        logger.info("plan run: %s", report.as_dict())
        return report

    # ------------------------------------------------------------------ choosing among drafts (issue 24, item 3)

    async def _best_of_drafts(self, drafter: Drafter, write: Any, choice: Choice, k: int, policy: Policy,
                              report: RunReport, *, causation_id: str | None) -> DraftOutcome:
        """Up to ``k`` drafts for one slot (the same choice, hook styles by draft_hooks), each through every gate;
        the one the learner's engagement predictor scores best is queued with how it was chosen (ContentQueued.drafts),
        the others' calls and rejections are published as any. The choice's propensity stays exact: the drafts
        differ in their text only. Returns the kept outcome (or the last one when none passed)."""
        outcomes: list[DraftOutcome] = []
        hooks = draft_hooks(choice.hook_style, self.config.hook_styles, k, self.rng)
        for i, hook in enumerate(hooks):
            c = choice if i == 0 else choice.model_copy(update={"hook_style": hook})
            out = await write(c, remember=False)
            outcomes.append(out)
            if out.stopped:
                break
        passed = [o for o in outcomes if o.queued is not None]
        scores = [predicted_reward(policy.predictor, o.queued.choice.model_dump(), "\n".join(o.queued.parts))
                  if o.queued is not None and policy.predictor else None for o in passed]
        best = max(range(len(passed)), key=lambda i: (scores[i] is not None, scores[i] or 0.0, -i)) if passed \
            else None
        for o in outcomes:
            if best is not None and o is passed[best]:
                continue
            o.queued = None  # a draft not kept: its calls and rejections are published, it is not queued
            await self._publish(o, report, causation_id=causation_id)
        if best is None:
            return outcomes[-1]
        kept = passed[best]
        assert kept.queued is not None
        kept.queued = kept.queued.model_copy(update={"drafts": DraftSelection(
            drafted=len(outcomes), scores=scores, chosen=best, predictor_version=policy.version)})
        drafter.remember(kept)
        if any(o.stopped for o in outcomes):
            kept.stopped = next(o.stopped for o in outcomes if o.stopped)
        await self._publish(kept, report, causation_id=causation_id)
        return kept

    # ------------------------------------------------------------------ the evergreen pool

    def _fresh(self, recent_topics: list[str | None]) -> list[str]:
        """The topics the topic gate would take after ``recent_topics`` (latest last)."""
        g = self.config.gates
        return [t for t in self.config.topics if check_topic_freshness(
            t, recent_topics, window=g.topic_window_posts, max_in_window=g.topic_max_in_window) is None]

    async def _pool_reserve(self) -> int:
        async with self.pool.acquire() as conn:
            return await db.evergreen_unused(conn)

    def _pool_wanted(self, ledger: BudgetLedger, reserve: int) -> bool:
        """Drafting for the pool only when the budget is in its normal tier and the pool is short."""
        return (self.settings.evergreen_per_run > 0 and reserve < self.settings.evergreen_target
                and ledger.tier() is BudgetTier.NORMAL)

    async def _fill_pool(self, drafter: Drafter, policy: Policy, report: RunReport, now: datetime) -> None:
        """Draft posts for the pool (every gate and the review, as any post) after the queue's own items; their
        calls are charged like any other, their ContentQueued is kept instead of published."""
        reserve = await self._pool_reserve()
        for _ in range(min(self.settings.evergreen_per_run, self.settings.evergreen_target - reserve)):
            choice, propensity = sample_post_choice(policy, self.config, self.rng,
                                                    fresh_topics=self._fresh(drafter.recent.topics_latest_last()))
            out = await drafter.write_post(choice, propensity=propensity, policy_version=policy.version, now=now,
                                           scheduled_for=now, best_posts=policy.best_posts)
            await self._publish(out, report, causation_id=None, evergreen=True)
            if out.stopped:
                break

    async def _keep_alive(self, report: RunReport, now: datetime) -> None:
        """While the model cannot be used, the queue's empty post slots are filled from the evergreen pool, best
        predicted reward first, never a tweet of ours of the duplicate window again, nor a post stating a fact a
        post under a Community Note rested on."""
        if self.settings.evergreen_target == 0:
            return
        try:
            await self.ctx.wait_caught_up(timeout=CATCH_UP_TIMEOUT)
        except ProjectionsBehind as err:
            logger.warning("evergreen fill skipped: %s", err)
            return
        since = now - timedelta(days=self.config.gates.duplicate_window_days)
        async with self.pool.acquire() as conn:
            in_force = await db.policy_in_force(conn)
            depth = await db.queue_depth(conn, now)
            tweets = await db.own_tweet_texts_since(conn, since)
            pooled = await db.evergreen_posts(conn)
            decisions = await db.evergreen_decisions(conn)
            noted = await db.noted_texts(conn)
        if disputed := await self._disputed(noted):  # drafted before X's readers disputed a fact one of them states
            assert self.facts is not None
            pooled = [p for p in pooled if not self.facts.stated_by(["\n".join(p.parts)]) & disputed]
        quota = plan_quota(self.caps, depth, horizon_hours=self.settings.plan_horizon / timedelta(hours=1))
        chosen = evergreen.usable(pooled, policy=in_force.policy, config=self.config, now=now,
                                  recent_tweet_hashes={content_hash(t) for t, _ in tweets}, n=quota.posts,
                                  decisions=decisions, approval_kinds=self.settings.approval_kinds())
        queued_by_hour = dict(depth.queued_by_hour)
        for entry in chosen:
            hours = open_hours(self.config.hours, queued_by_hour, self.caps.posts_per_hour)
            hour = entry.choice.hour if entry.choice.hour in hours or not hours else hours[0]
            scheduled = next_slot(hour, now, self.rng)
            item = ContentQueued(content_id=uuid7(), kind=entry.kind, parts=list(entry.parts),
                                 choice=entry.choice.model_copy(update={"hour": hour}),
                                 policy_version=in_force.policy.version, propensity=entry.propensity,
                                 scheduled_for=scheduled, expires_at=scheduled + POST_LIFETIME, model=entry.model,
                                 evergreen_id=entry.content_hash)
            async with self.pool.acquire() as conn, conn.transaction():
                await self.ctx.outbox.record(conn, item, correlation_id=item.content_id,
                                             causation_id=in_force.event_id)
                await db.mark_evergreen_used(conn, entry.content_hash, now)
            await self.ctx.outbox.flush()
            queued_by_hour[hour] = queued_by_hour.get(hour, 0) + 1
            metrics.items_queued.labels(entry.kind).inc()
            report.queued[entry.kind] = report.queued.get(entry.kind, 0) + 1
            report.evergreen += 1
        if chosen:
            logger.warning("model unavailable (%s): %d evergreen post(s) queued from the pool", report.stopped,
                           len(chosen))
        elif quota.posts:
            waiting = sum(1 for p in pooled if p.content_hash not in decisions) \
                if self.settings.approval_kinds() & {"post", "thread"} else 0
            logger.error("ALERT model unavailable (%s) and the evergreen pool has nothing usable: the post queue "
                         "runs dry%s", report.stopped,
                         f" ({waiting} evergreen post(s) wait for the owner's approval in the console)"
                         if waiting else "")

    # ------------------------------------------------------------------ pieces

    async def _disputed(self, noted: list[str]) -> frozenset[str]:
        """The facts the texts of our posts under a Community Note (``noted``) rested on: no prompt carries them."""
        assert self.facts is not None, "start() loads the facts before the first run"
        return await asyncio.to_thread(self.facts.stated_by, noted) if noted else frozenset()

    async def _announce_halt(self, err: LlmPermanentError, now: datetime) -> None:
        """Tell the owner (through the notifier) once per halt; the halt itself lasts until a restart."""
        async with self.pool.acquire() as conn:
            await self.ctx.outbox.record(conn, LlmHalted(cause=err.cause, message=mask(str(err))[:500],
                                                         status=err.status, halted_at=now))
        await self.ctx.outbox.flush()

    async def _recent_posts(self, rows: list[db.OwnPostRow], tweets: list[tuple[str, datetime]]) -> RecentPosts:
        """Own posts of the duplicate window with their embeddings (computed once per text, off the event loop),
        and every tweet of ours in it, with when."""
        assert self.embedder is not None
        hashes = [content_hash(r.text) for r in rows]
        missing = sorted({(h, r.text) for h, r in zip(hashes, rows) if h not in self._vectors})
        if missing:
            vectors = await asyncio.to_thread(self.embedder.embed, [t for _, t in missing])
            self._vectors.update({h: v for (h, _), v in zip(missing, vectors)})
        recent = RecentPosts([OwnPost(r.text, h, r.topic, r.at, self._vectors[h]) for r, h in zip(rows, hashes)])
        for text, at in tweets:
            recent.add_tweets([text], at=at)
        return recent

    async def _publish(self, out: DraftOutcome, report: RunReport, *, causation_id: str | None,
                       evergreen: bool = False) -> None:
        """Record one item's events in the outbox (one transaction) and publish them; an evergreen draft goes
        into the pool instead of the queue (its calls and rejections are published all the same)."""
        async with self.pool.acquire() as conn, conn.transaction():
            for event in out.events:
                if evergreen and isinstance(event, ContentQueued):
                    drafted = await db.add_evergreen(conn, event, self.clock.now())
                    if drafted is not None:  # for the owner's console (approval of evergreen posts)
                        await self.ctx.outbox.record(conn, drafted, correlation_id=out.content_id)
                    continue
                if not isinstance(event, BudgetExhausted):
                    await self.ctx.outbox.record(
                        conn, event, correlation_id=out.content_id,
                        causation_id=causation_id if isinstance(event, ContentQueued) else None)
        await self.ctx.outbox.flush()
        for event in out.events:
            if isinstance(event, BudgetExhausted):
                await self._exhausted(event)
            elif isinstance(event, LlmUsageRecorded):
                metrics.llm_spend.labels(event.model).inc(event.cost_usd)
                report.llm_calls += 1
            elif isinstance(event, ContentRejected):
                metrics.gate_rejections.labels(event.gate).inc()
                report.rejected += 1
            elif isinstance(event, ContentQueued) and evergreen:
                report.evergreen_drafted += 1
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
        async with self.pool.acquire() as conn:
            await self.ctx.outbox.record(conn, event)
        await self.ctx.outbox.flush()
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

    async def status(self) -> dict[str, Any]:
        now = self.clock.now()
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
            "embedder": self.embedder.kind if self.embedder else None,
            "last": self.last.as_dict() if self.last else None,
        }
