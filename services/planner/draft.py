"""``xbot draft --n 5``: drafts for the configured model and niche, printed, never queued.

It runs the planner's own drafting (prompts, the LLM client, the normaliser, the gates) against
``XBOT_LLM_BASE_URL`` with ``XBOT_LLM_MODEL`` and the niche file, with no broker and no database: nothing is
published, so nothing is posted and the day's budget in the planner's ledger is not touched (the calls are still
real calls, paid at the provider; their cost is printed). Choices are drawn uniformly; ``reply_to`` drafts replies
to that text instead.
"""

from __future__ import annotations

import asyncio
import random
import sys
from collections.abc import Callable
from datetime import UTC, datetime

from libs.contracts.base import uuid7
from libs.text import Embedder
from services.planner.budget import BudgetLedger
from services.planner.choices import Policy, sample_post_choice, sample_reply_choice
from services.planner.config import PlannerSettings
from services.planner.drafting import DraftOutcome, Drafter, fact_index
from services.planner.llm import LlmPermanentError, RetryPolicy, TextModel
from services.planner.replies import Opportunity

Echo = Callable[[str], None]


async def draft(settings: PlannerSettings, n: int, *, reply_to: str | None = None, seed: int | None = None,
                echo: Echo = print) -> int:
    """Print ``n`` drafts; 0 when done, 2 when the LLM refused permanently (the cause is printed)."""
    config = settings.niche()
    now = datetime.now(UTC)
    ledger = BudgetLedger.for_day(now.date().isoformat(), config)
    model = TextModel(base_url=settings.llm_base_url, api_key=settings.llm_api_key,
                      timeout=settings.llm_timeout,
                      retry=RetryPolicy(max_attempts=settings.llm_max_attempts))
    rng = random.Random(seed)
    embedder = await asyncio.to_thread(Embedder)
    facts = await asyncio.to_thread(fact_index, config, embedder)
    drafter = Drafter(config=config, model=model, ledger=ledger, embedder=embedder, rng=rng, facts=facts)
    policy = Policy()
    echo(f"{n} drafts with {config.budget.normal_model} at {settings.llm_base_url} (niche: {config.niche}); "
         "nothing is queued")
    try:
        for i in range(1, n + 1):
            if reply_to:
                choice, p = sample_reply_choice(policy, config, rng, topic=None, hour=now.hour)
                opportunity = Opportunity(tweet_id=f"draft-{uuid7()}", author="someone", author_followers=0,
                                          text=reply_to, likes=0, retweets=0, replies=0, created_at=now,
                                          relevance=1.0)
                out = await drafter.write_reply(opportunity, choice, propensity=p, policy_version=policy.version,
                                                now=now)
                what = f"reply ({choice.reply_style})"
            else:
                choice, p = sample_post_choice(policy, config, rng)
                out = await drafter.write_post(choice, propensity=p, policy_version=policy.version, now=now,
                                               scheduled_for=now)
                what = f"{'thread' if choice.format == 'thread' else 'post'} · {choice.content_type} · {choice.topic}"
            _show(echo, i, n, what, out)
            if out.stopped:
                echo(f"stopped: {out.stopped}")
                break
    except LlmPermanentError as err:
        echo(f"ALERT the LLM refused permanently ({err.cause}): {err}")
        return 2
    finally:
        await model.close()
    echo(f"\nspent ${ledger.spent_usd:.4f}; nothing was queued")
    return 0


def _show(echo: Echo, i: int, n: int, what: str, out: DraftOutcome) -> None:
    echo(f"\n[{i}/{n}] {what} — {len(out.usage)} call(s), ${out.cost_usd:.5f}")
    for r in out.rejections:
        echo(f"  rejected ({r.gate}{', final' if r.final else ''}): {r.reason}")
    if out.queued is None:
        echo("  (no draft passed the gates)")
        return
    for j, part in enumerate(out.queued.parts, 1):
        prefix = f"  {j}. " if len(out.queued.parts) > 1 else "  "
        echo(prefix + part.replace("\n", "\n" + " " * len(prefix)))


def main(argv: list[str]) -> int:
    """``python -m services.planner draft [--n N] [--reply-to TEXT] [--seed S]``."""
    import argparse

    from libs.core.settings import SettingsError, load_settings

    parser = argparse.ArgumentParser(prog="python -m services.planner draft")
    parser.add_argument("--n", type=int, default=5, help="how many drafts (1-50)")
    parser.add_argument("--reply-to", help="draft replies to this tweet's text instead of posts")
    parser.add_argument("--seed", type=int, help="seed of the choices drawn")
    args = parser.parse_args(argv)
    if not 1 <= args.n <= 50:
        parser.error("--n must be between 1 and 50")
    try:
        settings = load_settings(PlannerSettings)
        return asyncio.run(draft(settings, args.n, reply_to=args.reply_to, seed=args.seed))
    except SettingsError as err:
        print(f"error: {err}", file=sys.stderr)
        return 2
