"""Writing one item: prompt → LLM → gates → (rewrite at most twice) → ContentQueued or a final ContentRejected.

Every answered call is charged to the day's budget before its text is looked at, every rejection becomes a
ContentRejected, and the outcome carries the events for the service to publish; nothing here does I/O besides
the LLM call, so the service decides when and how the events go out.
"""

from __future__ import annotations

import random
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from libs.contracts.base import uuid7
from libs.contracts.events import BudgetExhausted, Choice, ContentQueued, ContentRejected, LlmUsageRecorded
from libs.text import Embedder, content_hash, cosine
from services.planner.budget import BudgetLedger, BudgetTier, model_for, prompt_token_bound
from services.planner.config import NicheConfig
from services.planner.gates import OwnPost, Rejection, RecentPosts, check_repeated_tweets, gate_post
from services.planner.llm import Completion, LlmMalformedOutput, LlmUnavailable, TextModel
from services.planner.prompts import post_messages, reply_messages, split_parts
from services.planner.replies import Opportunity, OurReply, ReplyHistory, content_words, gate_reply

POST_LIFETIME = timedelta(hours=6)
REPLY_LIFETIME = timedelta(hours=3)
# A reply call with the cheap model and a typical prompt: when even that does not fit, the day is over.
MIN_CALL_PROMPT_BYTES = 1500


@dataclass
class DraftOutcome:
    content_id: str
    kind: str
    queued: ContentQueued | None = None
    rejections: list[ContentRejected] = field(default_factory=list)
    usage: list[LlmUsageRecorded] = field(default_factory=list)
    malformed: int = 0
    # Why no item came out although no gate dropped it: "budget", "tier", "llm_unavailable".
    stopped: str | None = None
    budget_exhausted: BudgetExhausted | None = None

    @property
    def events(self) -> list:
        out: list = [*self.usage, *self.rejections]
        if self.queued is not None:
            out.append(self.queued)
        if self.budget_exhausted is not None:
            out.append(self.budget_exhausted)
        return out

    @property
    def tokens(self) -> int:
        return sum(u.prompt_tokens + u.completion_tokens for u in self.usage)

    @property
    def cost_usd(self) -> float:
        return sum(u.cost_usd for u in self.usage)


class Drafter:
    def __init__(
        self,
        *,
        config: NicheConfig,
        model: TextModel,
        ledger: BudgetLedger,
        embedder: Embedder,
        recent: RecentPosts | None = None,
        replies: ReplyHistory | None = None,
        rng: random.Random | None = None,
    ) -> None:
        self.config = config
        self.model = model
        self.ledger = ledger
        self.embedder = embedder
        self.recent = recent if recent is not None else RecentPosts()
        self.replies = replies if replies is not None else ReplyHistory()
        self.rng = rng or random.Random()

    # ------------------------------------------------------------ posts and threads

    async def write_post(
        self,
        choice: Choice,
        *,
        propensity: float,
        policy_version: str,
        now: datetime,
        scheduled_for: datetime,
        insights: dict[str, list[str]] | None = None,
        content_id: str | None = None,
    ) -> DraftOutcome:
        kind = "thread" if choice.format == "thread" else "post"
        out = DraftOutcome(content_id or uuid7(), kind)
        if self.ledger.tier() in (BudgetTier.REPLIES_ONLY, BudgetTier.EXHAUSTED):
            out.stopped = "tier"
            return self._maybe_exhausted(out)
        parts_wanted = self.rng.randint(self.config.gates.thread_min_parts, self.config.gates.thread_max_parts)
        previous: str | None = None
        reason: str | None = None
        for attempt in range(self.config.gates.max_rewrites + 1):
            messages = post_messages(choice, self.config, insights=insights, parts=parts_wanted,
                                     previous=previous, rejection_reason=reason)
            completion = await self._call(out, messages, kind)
            if completion is None:
                if out.stopped:
                    return out
                previous, reason = None, "the answer was not usable text"
                continue
            parts = split_parts(completion.text) if kind == "thread" else [completion.text.strip()]
            text = "\n".join(parts)
            vector = self.embedder.embed_one(text) if parts else None
            verdict = gate_post(parts, kind=kind, topic=choice.topic, config=self.config, recent=self.recent,
                                vector=vector, embedder_kind=self.embedder.kind, now=now)
            if verdict is None:
                self.recent.add(OwnPost(text, content_hash(text), choice.topic, now, vector))
                self.recent.add_tweets(parts)
                out.queued = ContentQueued(
                    content_id=out.content_id, kind=kind, parts=parts, choice=choice, policy_version=policy_version,
                    propensity=propensity, scheduled_for=scheduled_for, expires_at=scheduled_for + POST_LIFETIME,
                    model=completion.model,
                )
                return out
            self._reject(out, verdict, attempt, text, kind)
            previous, reason = text, f"{verdict.gate}: {verdict.reason}"
        return out

    # ------------------------------------------------------------ replies

    async def write_reply(
        self,
        opportunity: Opportunity,
        choice: Choice,
        *,
        propensity: float,
        policy_version: str,
        now: datetime,
        content_id: str | None = None,
    ) -> DraftOutcome:
        out = DraftOutcome(content_id or uuid7(), "reply")
        if self.ledger.tier() is BudgetTier.EXHAUSTED:
            out.stopped = "tier"
            return self._maybe_exhausted(out)
        tweet_vector = None
        previous: str | None = None
        reason: str | None = None
        for attempt in range(self.config.gates.max_rewrites + 1):
            messages = reply_messages(opportunity.text, opportunity.author, choice, self.config,
                                      previous=previous, rejection_reason=reason)
            completion = await self._call(out, messages, "reply")
            if completion is None:
                if out.stopped:
                    return out
                previous, reason = None, "the answer was not usable text"
                continue
            text = completion.text.strip()
            similarity = None
            # Embeddings cost CPU; grounding needs them only when the reply shares no word with the tweet.
            if not content_words(text) & content_words(opportunity.text):
                if tweet_vector is None:
                    tweet_vector = self.embedder.embed_one(opportunity.text)
                similarity = cosine(self.embedder.embed_one(text), tweet_vector)
            verdict = gate_reply(text, opportunity.text, config=self.config, similarity=similarity,
                                 embedder_kind=self.embedder.kind) \
                or check_repeated_tweets([text], self.recent.tweet_hashes)
            if verdict is None:
                self.replies.add(OurReply(opportunity.tweet_id, opportunity.author, opportunity.conversation, now))
                self.recent.add_tweets([text])
                expires = min(now + REPLY_LIFETIME, opportunity.created_at + timedelta(hours=24))
                out.queued = ContentQueued(
                    content_id=out.content_id, kind="reply", parts=[text], reply_to_tweet_id=opportunity.tweet_id,
                    reply_to_author=opportunity.author, choice=choice, policy_version=policy_version,
                    propensity=propensity, scheduled_for=now, expires_at=max(expires, now + timedelta(minutes=5)),
                    model=completion.model,
                )
                return out
            self._reject(out, verdict, attempt, text, "reply")
            # The rewrite prompt names the gate but never echoes a draft that obeyed an injection.
            previous = None if verdict.gate == "injection" else text
            reason = f"{verdict.gate}: {verdict.reason}"
        return out

    # ------------------------------------------------------------ shared

    async def _call(self, out: DraftOutcome, messages: list[dict[str, str]], kind: str) -> Completion | None:
        """One budgeted call. None with ``out.stopped`` set when planning must stop, else None = malformed."""
        tier = self.ledger.tier()
        model = model_for(tier, self.config)
        max_tokens = self.config.budget.max_tokens.get(kind, 300)
        reservation = None if model is None else self.ledger.reserve(model, prompt_token_bound(messages), max_tokens)
        if reservation is None:
            out.stopped = "budget"
            self._maybe_exhausted(out)
            return None
        try:
            completion = await self.model.complete(messages, model=model, max_tokens=max_tokens)
        except LlmMalformedOutput as err:
            if err.completion is not None:
                self._charge(out, reservation, err.completion, kind)
            else:
                self.ledger.release(reservation)
            out.malformed += 1
            attempt = len(out.rejections)
            final = attempt >= self.config.gates.max_rewrites
            out.rejections.append(ContentRejected(content_id=out.content_id, gate="malformed", reason=str(err),
                                                  attempt=attempt, final=final, kind=out.kind))
            return None
        except LlmUnavailable:
            self.ledger.release(reservation)
            out.stopped = "llm_unavailable"
            return None
        except BaseException:
            # Permanent errors propagate: the plan job stops and alerts.
            self.ledger.release(reservation)
            raise
        self._charge(out, reservation, completion, kind)
        return completion

    def _charge(self, out: DraftOutcome, reservation, completion: Completion, kind: str) -> None:
        out.usage.append(self.ledger.settle(
            reservation, request_id=completion.request_id or uuid7(), prompt_tokens=completion.prompt_tokens,
            completion_tokens=completion.completion_tokens, purpose=kind, content_id=out.content_id,
            model=completion.model if completion.model in self.ledger.prices.prices else reservation.model,
        ))

    def _reject(self, out: DraftOutcome, verdict: Rejection, attempt: int, text: str, kind: str) -> None:
        attempt = len(out.rejections)
        out.rejections.append(ContentRejected(
            content_id=out.content_id, gate=verdict.gate, reason=verdict.reason, attempt=attempt,
            final=attempt >= self.config.gates.max_rewrites, text=text[:1000], kind=kind,
        ))

    def _maybe_exhausted(self, out: DraftOutcome) -> DraftOutcome:
        cheapest = self.ledger.worst_case(self.config.budget.cheap_model, MIN_CALL_PROMPT_BYTES,
                                          self.config.budget.max_tokens.get("reply", 120))
        if self.ledger.tier() is BudgetTier.EXHAUSTED or self.ledger.remaining_usd < cheapest:
            out.budget_exhausted = self.ledger.exhausted_event()
        return out
