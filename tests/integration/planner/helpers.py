from __future__ import annotations

import random

from pydantic import SecretStr

from libs.text import Embedder
from services.planner.budget import BudgetLedger
from libs.niche import NicheConfig
from services.planner.drafting import Drafter
from services.planner.llm import RetryPolicy, TextModel


async def no_sleep(_: float) -> None:
    return None


def drafter(endpoint, config: NicheConfig, embedder: Embedder, *, budget: float | None = None,
            key: str = "sandbox", seed: int = 0) -> Drafter:
    ledger = BudgetLedger.for_day("2025-03-01", config)
    if budget is not None:
        ledger.budget_usd = budget
    # A generous timeout: these tests are about drafting, and a loaded machine may answer slowly.
    model = TextModel(base_url=endpoint.base_url, api_key=SecretStr(key), timeout=30,
                      retry=RetryPolicy(max_attempts=3, base_delay=0.01, max_delay=0.02), sleep=no_sleep)
    return Drafter(config=config, model=model, ledger=ledger, embedder=embedder, rng=random.Random(seed))
