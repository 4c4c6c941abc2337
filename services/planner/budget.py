"""The daily LLM budget: what a call costs, which tier the day is in, and whether a call may be made at all.

Spending never exceeds the budget because a call is made only after its worst-case cost (prompt tokens bounded
by the prompt's UTF-8 bytes, completion bounded by ``max_tokens``) has been reserved against what is left; the
real usage is charged when the answer arrives and the reservation released.
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass, field
from enum import Enum

from libs.contracts.events import BudgetExhausted, LlmUsageRecorded
from libs.niche import NicheConfig, Price

# Chat formatting adds a few tokens per message and per request beyond the text itself.
TOKENS_PER_MESSAGE = 4
TOKENS_PER_REQUEST = 8


class BudgetTier(str, Enum):
    NORMAL = "normal"  # normal model, full plan
    CHEAP = "cheap"  # cheaper model, one item per run
    REPLIES_ONLY = "replies_only"  # cheaper model, replies only
    EXHAUSTED = "exhausted"  # no calls until tomorrow


def prompt_token_bound(messages: list[dict[str, str]]) -> int:
    """An upper bound of the prompt's tokens: a BPE token is at least one byte."""
    return sum(len(m.get("content", "").encode("utf-8")) + TOKENS_PER_MESSAGE for m in messages) + TOKENS_PER_REQUEST


@dataclass(frozen=True)
class PriceTable:
    prices: dict[str, Price]

    @classmethod
    def from_config(cls, config: NicheConfig) -> "PriceTable":
        return cls(dict(config.prices))

    def price(self, model: str) -> Price:
        # An unpriced model is charged like the dearest known one, so a typo cannot make calls free.
        if model in self.prices:
            return self.prices[model]
        return max(self.prices.values(), key=lambda p: p.prompt + p.completion)

    def cost(self, model: str, prompt_tokens: int, completion_tokens: int) -> float:
        p = self.price(model)
        return (prompt_tokens * p.prompt + completion_tokens * p.completion) / 1_000_000


@dataclass(frozen=True)
class Reservation:
    id: int
    model: str
    amount: float
    # The bounds the amount was computed from: what a call without usage is taken to have used.
    prompt_tokens: int = 0
    completion_tokens: int = 0


@dataclass
class BudgetLedger:
    """One day's spending. Pure state: the service rebuilds it from LlmUsageRecorded of the day."""

    day: str
    budget_usd: float
    prices: PriceTable
    normal_above: float = 0.5
    cheap_above: float = 0.2
    spent_usd: float = 0.0
    _reserved: dict[int, Reservation] = field(default_factory=dict)
    _ids: itertools.count[int] = field(default_factory=itertools.count)

    @classmethod
    def for_day(cls, day: str, config: NicheConfig, *, spent_usd: float = 0.0) -> "BudgetLedger":
        return cls(
            day=day,
            budget_usd=config.budget.daily_usd,
            prices=PriceTable.from_config(config),
            normal_above=config.budget.normal_above,
            cheap_above=config.budget.cheap_above,
            spent_usd=spent_usd,
        )

    @property
    def reserved_usd(self) -> float:
        return sum(r.amount for r in self._reserved.values())

    @property
    def remaining_usd(self) -> float:
        return self.budget_usd - self.spent_usd - self.reserved_usd

    def tier(self) -> BudgetTier:
        left = (self.budget_usd - self.spent_usd) / self.budget_usd
        if left <= 0:
            return BudgetTier.EXHAUSTED
        if left > self.normal_above:
            return BudgetTier.NORMAL
        if left > self.cheap_above:
            return BudgetTier.CHEAP
        return BudgetTier.REPLIES_ONLY

    def worst_case(self, model: str, prompt_tokens_bound: int, max_tokens: int) -> float:
        return self.prices.cost(model, prompt_tokens_bound, max_tokens)

    def reserve(self, model: str, prompt_tokens_bound: int, max_tokens: int) -> Reservation | None:
        """Reserve the worst case of a call; None when it does not fit what is left (make no call)."""
        amount = self.worst_case(model, prompt_tokens_bound, max_tokens)
        if amount > self.remaining_usd:
            return None
        res = Reservation(next(self._ids), model, amount, prompt_tokens_bound, max_tokens)
        self._reserved[res.id] = res
        return res

    def release(self, reservation: Reservation) -> None:
        """The call was never answered (an error before any usage): nothing spent."""
        self._reserved.pop(reservation.id, None)

    def settle(
        self,
        reservation: Reservation,
        *,
        request_id: str,
        prompt_tokens: int,
        completion_tokens: int,
        purpose: str,
        content_id: str | None = None,
        model: str | None = None,
    ) -> LlmUsageRecorded:
        """Charge the real usage of an answered call and return the event that records it."""
        self._reserved.pop(reservation.id, None)
        used_model = model or reservation.model
        cost = self.prices.cost(used_model, prompt_tokens, completion_tokens)
        self.spent_usd += cost
        return LlmUsageRecorded(
            request_id=request_id,
            model=used_model,
            purpose=purpose,
            prompt_tokens=prompt_tokens,
            completion_tokens=completion_tokens,
            cost_usd=cost,
            day=self.day,
            content_id=content_id,
        )

    def settle_reserved(
        self, reservation: Reservation, *, request_id: str, purpose: str, content_id: str | None = None,
    ) -> LlmUsageRecorded:
        """Charge the whole reservation: the call timed out (the server may have done the work) or its answer
        carried no usage. Charging less would let such a server spend past the cap unseen."""
        self._reserved.pop(reservation.id, None)
        self.spent_usd += reservation.amount
        return LlmUsageRecorded(
            request_id=request_id,
            model=reservation.model,
            purpose=purpose,
            prompt_tokens=reservation.prompt_tokens,
            completion_tokens=reservation.completion_tokens,
            cost_usd=reservation.amount,
            day=self.day,
            content_id=content_id,
        )

    def exhausted_event(self) -> BudgetExhausted:
        return BudgetExhausted(day=self.day, budget_usd=self.budget_usd, spent_usd=self.spent_usd)


def model_for(tier: BudgetTier, config: NicheConfig) -> str | None:
    if tier is BudgetTier.NORMAL:
        return config.budget.normal_model
    if tier in (BudgetTier.CHEAP, BudgetTier.REPLIES_ONLY):
        return config.budget.cheap_model
    return None


def limit_quota_for_tier(posts: int, replies: int, tier: BudgetTier) -> tuple[int, int]:
    """What the tier allows of a planned (posts, replies): one item per run when cheap, replies only below."""
    if tier is BudgetTier.NORMAL:
        return posts, replies
    if tier is BudgetTier.CHEAP:
        return (1, 0) if posts > 0 else (0, min(replies, 1))
    if tier is BudgetTier.REPLIES_ONLY:
        return 0, replies
    return 0, 0
