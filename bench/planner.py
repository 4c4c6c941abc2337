"""Planner benchmark: N items through drafting, normalisation and the gates against a text endpoint.

``python -m bench.planner [--items N] [--mode realistic|template]`` serves the sandbox's text endpoint in-process
(realistic by default: real models' habits and API failures at documented rates, docs/sandbox.md) and, in the same
run against a second endpoint with the same settings, the template-era planner (the code of
``TEMPLATE_ERA_COMMIT``, run from ``git archive`` in a subprocess: bench/planner_template_era.py).
``--llm-url URL --model M`` runs against any OpenAI-compatible server instead (the key from the environment
variable named by ``--key-env``, default XBOT_LLM_API_KEY); only this module's own detector then judges the texts.

Reported per planner: queued items (every queued text is written to the results), defects queued — per the
sandbox's ground-truth log (planted defects still visible) and per bench/defects.py's own detector —, answered LLM
calls per queued item, and cost per queued item at gpt-4o-mini prices (tokens of every call, rejected drafts
included; a call without usage is counted at its reservation's tokens). Writes bench/results/planner.json.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import random
import subprocess
import sys
import tempfile
import threading
import time
from collections import Counter
from datetime import timedelta
from pathlib import Path

import aiohttp
from aiohttp import web
from pydantic import SecretStr

from bench.defects import detect, planted_survivors
from bench.planner_template_era import TEMPLATE_ERA_COMMIT, schedule
from libs.niche import Price, load_niche
from libs.text import Embedder
from services.planner.budget import BudgetLedger
from services.planner.choices import Policy, sample_post_choice, sample_reply_choice
from services.planner.drafting import Drafter
from services.planner.llm import LlmPermanentError, RetryPolicy, TextModel
from services.planner.replies import Opportunity

ROOT = Path(__file__).resolve().parent.parent
RESULTS = Path(__file__).parent / "results" / "planner.json"
PRICE = Price(prompt=0.15, completion=0.60)  # gpt-4o-mini, USD per million tokens
PRICE_MODEL = "gpt-4o-mini"
ADMIN = "bench"


class Endpoint:
    """The sandbox's text endpoint on a free port, served from a thread."""

    def __init__(self, mode: str, seed: int) -> None:
        from sandbox.llm import make_llm_app  # the benchmark, not the planner, knows the sandbox

        self.app = make_llm_app(admin_token=ADMIN, seed=seed, mode=mode)
        ready = threading.Event()
        self._thread = threading.Thread(target=self._serve, args=(ready,), daemon=True)
        self._thread.start()
        ready.wait(10)
        self.root = f"http://127.0.0.1:{self.port}"
        self.url = f"{self.root}/v1"

    def _serve(self, ready: threading.Event) -> None:
        self.loop = asyncio.new_event_loop()
        runner = web.AppRunner(self.app)
        self.loop.run_until_complete(runner.setup())
        site = web.TCPSite(runner, "127.0.0.1", 0)
        self.loop.run_until_complete(site.start())
        self.port = site._server.sockets[0].getsockname()[1]
        ready.set()
        self.loop.run_forever()

    async def log(self) -> list[dict]:
        async with aiohttp.ClientSession() as http:
            async with http.get(f"{self.root}/sim/llm/log", headers={"Authorization": f"Bearer {ADMIN}"}) as r:
                return (await r.json())["entries"]

    def stop(self) -> None:
        self.loop.call_soon_threadsafe(self.loop.stop)


async def run_current(url: str, key: SecretStr, model_name: str, items: int, seed: int,
                      run_hours: float = 24) -> dict:
    """Today's planner: every item of the schedule through the Drafter."""
    config = load_niche()
    config = config.model_copy(update={
        "budget": config.budget.model_copy(update={"normal_model": model_name, "cheap_model": model_name}),
        "prices": {**config.prices, model_name: PRICE},
    })
    ledger = BudgetLedger.for_day("bench", config)
    ledger.budget_usd = 1e6  # measure cost, do not let the tiers change the model mid-run
    model = TextModel(base_url=url, api_key=key, timeout=timedelta(seconds=60),
                      retry=RetryPolicy(max_attempts=4, base_delay=0.05, max_delay=1.0))
    drafter = Drafter(config=config, model=model, ledger=ledger, embedder=Embedder(), rng=random.Random(seed + 2))
    choices_rng = random.Random(seed + 1)
    policy = Policy()
    results, halts = [], []

    def write(i: int, now, tweet: str | None):
        if tweet is not None:
            opp = Opportunity(tweet_id=f"b{i}", author=f"a{i}", author_followers=10_000, text=tweet, likes=500,
                              retweets=5, replies=5, created_at=now - timedelta(hours=1), relevance=0.8)
            choice, p = sample_reply_choice(policy, config, choices_rng, topic=None, hour=now.hour)
            return lambda: drafter.write_reply(opp, choice, propensity=p, policy_version="u", now=now)
        choice, p = sample_post_choice(policy, config, choices_rng)
        return lambda: drafter.write_post(choice, propensity=p, policy_version="u", now=now, scheduled_for=now)

    # The items of each planning run (``run_hours`` of the schedule) are drafted together, as the plan job does:
    # in turn, with their model reviews asked in one call per round.
    runs: list[list] = []
    for i, now, tweet in schedule(items, seed):
        if not runs or now - runs[-1][0][1] >= timedelta(hours=run_hours):
            runs.append([])
        runs[-1].append((i, now, tweet))
    for run_items in runs:
        try:
            outs = await drafter.draft_together([write(*item) for item in run_items])
        except LlmPermanentError as err:
            halts.append(str(err))
            break  # a halt is a halt: the planner stops until the operator fixes the cause
        for out in outs:
            results.append({
                "content_id": out.content_id, "kind": out.kind,
                "parts": list(out.queued.parts) if out.queued else None,
                "request_ids": [u.request_id for u in out.usage],
                "purposes": [u.purpose for u in out.usage],
                "causes": list(out.causes),
                "reviewed_by": list(out.reviewed_by),
                "prompt_tokens": sum(u.prompt_tokens for u in out.usage),
                "completion_tokens": sum(u.completion_tokens for u in out.usage),
                "rejections": [r.gate for r in out.rejections],
                "rejection_reasons": [r.reason[:300] for r in out.rejections],
                "repairs": list(out.repairs),
                "review_skipped": out.review_skipped,
                "stopped": out.stopped,
            })
    stats = {"retries": model.retries, "adaptations": model.adaptations}
    await model.close()
    return {"items": results, "halts": halts, "client": stats}


def run_template_era(url: str, items: int, seed: int) -> dict:
    """The template-era planner's code, extracted from git, in a subprocess against ``url``."""
    with tempfile.TemporaryDirectory(prefix="xbot-template-era-") as tmp:
        archive = subprocess.run(["git", "-C", str(ROOT), "archive", TEMPLATE_ERA_COMMIT, "libs", "services"],
                                 check=True, capture_output=True).stdout
        subprocess.run(["tar", "-x", "-C", tmp], input=archive, check=True)
        out = Path(tmp) / "result.json"
        env = {**os.environ, "PYTHONPATH": tmp}
        subprocess.run([sys.executable, str(Path(__file__).with_name("planner_template_era.py")), url, str(items),
                        str(seed), str(out)], check=True, env=env, cwd=tmp)
        return json.loads(out.read_text())


def summarise(run: dict, log: list[dict] | None) -> dict:
    """Figures of one planner's run; ``log``: the sandbox's ground truth (None against another server)."""
    planted = {e["id"]: e.get("defects", []) for e in log or [] if "id" in e and "defects" in e}
    items = run["items"]
    queued = [r for r in items if r["parts"]]
    calls = sum(len(r["request_ids"]) for r in items)
    # The draft calls (rewrites included) against the model review of each draft that passed the rule gates.
    reviews = sum(1 for r in items for p in r.get("purposes", ()) if p == "review")
    prompt = sum(r["prompt_tokens"] for r in items)
    completion = sum(r["completion_tokens"] for r in items)
    cost = (prompt * PRICE.prompt + completion * PRICE.completion) / 1_000_000
    by_log: Counter[str] = Counter()
    by_detector: Counter[str] = Counter()
    texts = []
    for r in queued:
        # The queued text is the answer of the item's last draft call (a model review may follow it).
        drafts = [i for i, p in zip(r["request_ids"], r.get("purposes") or [""] * len(r["request_ids"]))
                  if p != "review"]
        survivors = planted_survivors(r["parts"], planted.get(drafts[-1], []) if drafts else []) \
            if log is not None else []
        found = detect(r["parts"], r["kind"])
        by_log.update(survivors)
        by_detector.update(found)
        texts.append({"content_id": r["content_id"], "kind": r["kind"], "parts": r["parts"],
                      "defects_planted_and_left": survivors, "defects_detected": found})
    rejections = Counter(g for r in items for g in r["rejections"])
    # Where the calls went: per kind, the items, what was queued, the draft and review calls, and the calls spent on
    # items that were not queued in the end, by the gate of their last rejection.
    by_kind: dict[str, dict] = {}
    # A review call shared by the items of a run counts for each of them as its share (1 / items it judged).
    judged = Counter(rid for r in items for rid in r.get("reviewed_by", ()))
    for r in items:
        k = by_kind.setdefault(r["kind"], {"items": 0, "queued": 0, "draft_calls": 0, "review_calls": 0,
                                           "calls_by_cause": Counter(),
                                           "calls_on_unqueued_items_by_last_gate": Counter()})
        # Why each call was made: the first draft, a rewrite after a rejection by <gate>, a retry after a time-out,
        # the model review (the template-era planner records no causes).
        k["calls_by_cause"].update(c for c in r.get("causes", ()) if c != "review")
        reviews_here = sum(1 for p in r.get("purposes", ()) if p == "review")
        share = sum(1 / judged[rid] for rid in r["reviewed_by"]) if "reviewed_by" in r else reviews_here
        k["items"] += 1
        k["queued"] += bool(r["parts"])
        k["review_calls"] += share
        k["draft_calls"] += len(r["request_ids"]) - reviews_here
        k["calls_by_cause"].update({"review": share} if share else {})
        if not r["parts"] and r["request_ids"]:
            last = r["rejections"][-1] if r["rejections"] else (r["stopped"] or "none")
            k["calls_on_unqueued_items_by_last_gate"][last] += len(r["request_ids"])
    for k in by_kind.values():
        k["calls_by_cause"] = {c: round(n, 1) for c, n in k["calls_by_cause"].most_common()}
        k["review_calls"] = round(k["review_calls"], 1)
        k["calls_per_queued_item"] = round((k["draft_calls"] + k["review_calls"]) / k["queued"], 3) \
            if k["queued"] else None
        k["calls_on_unqueued_items_by_last_gate"] = dict(k["calls_on_unqueued_items_by_last_gate"].most_common())
    out = {
        "items": len(items),
        "queued": len(queued),
        "queued_by_kind": dict(Counter(r["kind"] for r in queued)),
        "halts": len(run["halts"]),
        "halt_reasons": run["halts"][:5],
        "stopped_llm_unavailable": sum(1 for r in items if r["stopped"] == "llm_unavailable"),
        "llm_calls": calls,
        "llm_calls_per_queued_item": round(calls / len(queued), 3) if queued else None,
        "llm_draft_calls": calls - reviews,
        "llm_review_calls": reviews,
        "llm_draft_calls_per_queued_item": round((calls - reviews) / len(queued), 3) if queued else None,
        "llm_review_calls_per_queued_item": round(reviews / len(queued), 3) if queued else None,
        # Posts and threads the rule gates vouched for (review.posts "ungrounded"): queued without the review call.
        "queued_without_review": sum(1 for r in queued if r.get("review_skipped")),
        "prompt_tokens": prompt,
        "completion_tokens": completion,
        "cost_usd_at_gpt_4o_mini": round(cost, 6),
        "cost_per_queued_item_usd_at_gpt_4o_mini": round(cost / len(queued), 7) if queued else None,
        "rejections_per_gate": dict(rejections.most_common()),
        "calls_by_kind": by_kind,
        # Drafts a gate refused that were repaired without a new call (unsupported sentences left out).
        "repairs_per_gate": dict(Counter(g for r in items for g in r.get("repairs", ())).most_common()),
        "queued_items_with_defects_per_log": sum(1 for t in texts if t["defects_planted_and_left"])
        if log is not None else None,
        "queued_defects_per_log": dict(by_log.most_common()) if log is not None else None,
        "queued_items_with_defects_per_detector": sum(1 for t in texts if t["defects_detected"]),
        "queued_items_with_defects_per_detector_excluding_claims":
            sum(1 for t in texts if set(t["defects_detected"]) - {"unsupported_claim"}),
        "queued_defects_per_detector": dict(by_detector.most_common()),
        "queued_texts": texts,
    }
    if "client" in run:
        out["client"] = run["client"]
    return out


def planted_rates(log: list[dict]) -> dict:
    """How often each habit was planted per answer (the realised rates of this run)."""
    answers = [e for e in log if "defects" in e]
    habits = Counter(h for e in answers for h in {d["habit"] for d in e["defects"]})
    api = Counter(e["api"] for e in log if "api" in e)
    return {"answers": len(answers), "habit_rate": {h: round(n / len(answers), 3) for h, n in habits.most_common()}
            if answers else {}, "api_events": dict(api)}


async def run(args: argparse.Namespace) -> dict:
    started = time.perf_counter()
    result: dict = {"items": args.items, "seed": args.seed, "run_hours": args.run_hours, "price_model": PRICE_MODEL,
                    "template_era_commit": TEMPLATE_ERA_COMMIT}
    if args.llm_url:
        key = SecretStr(os.environ.get(args.key_env, ""))
        current = await run_current(args.llm_url, key, args.model, args.items, args.seed, args.run_hours)
        result.update(endpoint=args.llm_url, model=args.model, current=summarise(current, None))
    else:
        endpoint = Endpoint(args.mode, args.seed)
        current = await run_current(endpoint.url, SecretStr("bench"), args.model, args.items, args.seed,
                                    args.run_hours)
        log = await endpoint.log()
        endpoint.stop()
        result.update(endpoint=f"sandbox text endpoint ({args.mode} mode), in-process", model=args.model,
                      current=summarise(current, log), sandbox=planted_rates(log))
        if args.template_era:
            era_endpoint = Endpoint(args.mode, args.seed)
            era = await asyncio.to_thread(run_template_era, era_endpoint.url, args.items, args.seed)
            era_log = await era_endpoint.log()
            era_endpoint.stop()
            result.update(template_era=summarise(era, era_log), template_era_sandbox=planted_rates(era_log))
    result["elapsed_seconds"] = round(time.perf_counter() - started, 1)
    return result


def main(argv: list[str] | None = None) -> dict:
    parser = argparse.ArgumentParser(prog="python -m bench.planner")
    parser.add_argument("--items", type=int, default=1000)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--mode", choices=("realistic", "template"), default="realistic",
                        help="the sandbox text endpoint's mode")
    parser.add_argument("--llm-url", help="an OpenAI-compatible endpoint to use instead of the sandbox")
    parser.add_argument("--model", default=PRICE_MODEL, help="the model to ask (default gpt-4o-mini)")
    parser.add_argument("--key-env", default="XBOT_LLM_API_KEY", help="environment variable holding the API key")
    parser.add_argument("--no-template-era", dest="template_era", action="store_false",
                        help="skip the template-era planner's run")
    parser.add_argument("--run-hours", type=float, default=24,
                        help="hours of the schedule drafted together as one planning run (reviews in one call)")
    parser.add_argument("--out", type=Path, default=RESULTS)
    args = parser.parse_args(argv)
    result = asyncio.run(run(args))
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(result, indent=2, ensure_ascii=False) + "\n")
    brief = {k: v for k, v in result.items() if k not in ("current", "template_era")}
    for name in ("current", "template_era"):
        if name in result:
            brief[name] = {k: v for k, v in result[name].items() if k != "queued_texts"}
    print(json.dumps(brief, indent=2, ensure_ascii=False))
    return result


if __name__ == "__main__":
    main()
