"""`xbot demo` in its CI size: a few simulated hours of the whole system against a fresh sandbox, then its report
is checked file by file and figure by figure against the sandbox's admin API and the event streams."""

from __future__ import annotations

import json
import math
from collections import Counter
from datetime import datetime
from pathlib import Path

import aiohttp
import pytest
from nats.js.api import DeliverPolicy
from PIL import Image
from prometheus_client.parser import text_string_to_metric_families

from libs.bus.streams import stream_name
from libs.contracts.registry import PRODUCERS
from libs.core.clock import Clock
from libs.bus.nats import connect
from libs.core.settings import CommonSettings
from ops.registry import SERVICES
from sandbox.app import start_sandbox
from sandbox.settings import SandboxSettings
from tests.unit.deploy.test_dashboards_and_rules import (PROMETHEUS_SYNTHETIC, alert_queries, dashboard_queries,
                                                         metric_names)

from tests.e2e.demo.conftest import HOURS, MINUTES, SEED

WEIGHTS = {"likes": 0.5, "retweets": 1.0, "replies": 13.5, "profile_clicks": 12.0, "negative": -74.0}
SUMMARY_KEYS = {"run", "outcome", "time_scale", "period_start", "period_end", "simulated_hours", "as_of", "posts",
                "threads", "thread_parts", "replies", "followers_start", "followers_end", "followers_gained",
                "reward_mean", "reward_by", "llm_spend_usd", "policy_version", "events", "choice_source",
                "decisions", "best_choice", "share_of_best", "charts", "html"}
TOKEN = "e2e-demo-token"
# The series names PromQL selects a family by (a counter "x" is queried as x_total): a labelled family nobody has
# observed yet is declared in /metrics (HELP and TYPE) without any sample line.
QUERIED_AS = {"counter": ("_total",), "histogram": ("_bucket", "_count", "_sum"), "summary": ("_count", "_sum"),
              "info": ("_info",)}

pytestmark = [pytest.mark.timeout(MINUTES * 60 + 180), pytest.mark.long(minutes=6)]


def _summary(run_dir: Path) -> dict:
    return json.loads((run_dir / "summary.json").read_text())


def test_report_files_exist_and_are_well_formed(run_dir: Path) -> None:
    summary = _summary(run_dir)
    assert SUMMARY_KEYS <= set(summary), SUMMARY_KEYS - set(summary)
    # "complete" says the period ran to its end; a service that never started (its settings refused) shows only
    # in the errors.
    assert summary["outcome"] == "complete" and summary["errors"] == [], summary["errors"]
    assert summary["simulated_hours"] >= HOURS
    html = (run_dir / "report.html").read_text()
    for chart in summary["charts"].values():
        path = run_dir / chart
        assert path.stat().st_size > 0
        with Image.open(path) as img:
            img.load()  # decodes every pixel: a truncated file fails here
            assert img.format == "PNG" and img.width > 100 and img.height > 100
        assert f'src="{chart}"' in html
    for log in ("browser_gateway", "planner", "poster", "harvester", "scraper", "learner", "login"):
        assert (run_dir / "logs" / f"{log}.log").exists()


def test_memory_of_every_service_is_sampled_and_reported(run_dir: Path) -> None:
    summary = _summary(run_dir)
    memory = summary["memory"]
    for name in SERVICES:
        assert memory[name]["samples"] > 0 and 0 < memory[name]["mean_mb"] <= memory[name]["peak_mb"], name
    stack = memory["stack_without_chromium"]
    assert stack["peak_mb"] >= max(memory[name]["peak_mb"] for name in SERVICES)
    assert memory["chromium"]["peak_mb"] > 0  # the gateway's browser, counted apart
    assert set(memory["targets_met"]) == {"planner", "harvester", "stack_without_chromium"}
    rows = (run_dir / "report.html").read_text()
    assert "memory of the stack without Chromium" in rows and "first post" in rows
    if summary["first_post"] is not None:
        assert 0 < summary["first_post"]["real_s_after_demo_start"] <= summary["real_seconds"]


async def test_figures_are_what_the_sandbox_reports(run_dir: Path) -> None:
    summary = _summary(run_dir)
    as_of = datetime.fromisoformat(summary["as_of"].replace("Z", "+00:00"))
    # The run's world reopened with time standing (almost) still at the moment of the demo's readings.
    clock = Clock(scale=1e-9, epoch=as_of)
    settings = SandboxSettings(port=0, db_path=run_dir / "sandbox.sqlite3", seed=SEED, admin_token=TOKEN)
    runner, base_url = await start_sandbox(settings, clock)
    headers = {"Authorization": f"Bearer {TOKEN}"}
    try:
        async with aiohttp.ClientSession(headers=headers) as http:
            async def get(path: str, **params) -> dict:
                async with http.get(base_url + path, params=params) as resp:
                    assert resp.status == 200, await resp.text()
                    return await resp.json()

            account = await get("/admin/account")
            tweets = (await get("/admin/tweets"))["tweets"]
            start = datetime.fromisoformat(summary["period_start"])
            hours = (as_of - start).total_seconds() / 3600
            series = (await get("/admin/followers_series", hours=str(hours), step_minutes=str(hours * 60)))["series"]
            best = await get("/sim/best_choice", followers=str(account["followers"]))
    finally:
        await runner.cleanup()

    assert summary["followers_end"] == account["followers"]
    assert summary["followers_start"] == series[0]["followers"]
    assert summary["followers_gained"] == account["followers"] - series[0]["followers"]
    roots = [t for t in tweets if not t["thread_root"]]
    assert summary["tweets"] == len(tweets) == account["tweets"]
    assert summary["posts"] == sum(1 for t in roots if t["kind"] == "post")
    assert summary["replies"] == sum(1 for t in roots if t["kind"] == "reply")
    assert summary["thread_parts"] == len(tweets) - len(roots)
    rewards = [math.log1p(max(0.0, sum(w * t["counts"][k] for k, w in WEIGHTS.items())))
               for t in roots if t["kind"] == "post"]
    assert summary["reward_mean"] == (round(sum(rewards) / len(rewards), 4) if rewards else None)
    assert summary["best_choice"] == best["choice"]
    # The report's tweets were read at the account's `now`, which the summary carries to the millisecond.
    reported = json.loads((run_dir / "data" / "tweets.json").read_text())
    assert [t["age_hours"] for t in reported] == pytest.approx([t["age_hours"] for t in tweets], abs=1e-6)
    assert [t | {"age_hours": None} for t in reported] == [t | {"age_hours": None} for t in tweets]


async def test_event_figures_are_what_the_streams_hold(run_dir: Path, servers: dict[str, str]) -> None:
    summary = _summary(run_dir)
    ns = summary["namespace"]
    nc = await connect(CommonSettings(nats_url=servers["XBOT_NATS_URL"], namespace=ns))
    js = nc.jetstream()
    types: Counter = Counter()
    spend = []
    try:
        for producer in PRODUCERS:
            total = (await js.stream_info(stream_name(ns, producer))).state.messages
            if not total:
                continue
            sub = await js.subscribe(f"{ns}.{producer}.>", ordered_consumer=True, deliver_policy=DeliverPolicy.ALL)
            for _ in range(total):
                env = json.loads((await sub.next_msg(timeout=5)).data)
                types[env["type"]] += 1
                if env["type"] == "LlmUsageRecorded":
                    spend.append(env["payload"]["cost_usd"])
            await sub.unsubscribe()
    finally:
        await nc.close()
    assert summary["events"] == dict(types)
    # The account's past posts are read once, early, whatever the harvest's background reads took (as background
    # work themselves they were never admitted in a 3-day demo of 2026-12-06).
    assert types["PastPostsRead"] == 1
    # The summary rounds to a millionth of a dollar.
    assert summary["llm_spend_usd"] == (pytest.approx(sum(spend), abs=1e-6) if spend else None)
    queued_posts = types.get("ContentQueued", 0)
    if summary["choice_source"] == "ContentQueued events":
        assert 0 < summary["decisions"] <= queued_posts
    else:
        assert summary["decisions"] == summary["posts"] - sum(
            1 for t in json.loads((run_dir / "data" / "tweets.json").read_text())
            if not t["thread_root"] and t["kind"] == "post" and not t.get("choice"))


def _exported_by_service(run_dir: Path) -> dict[str, set[str]]:
    exported: dict[str, set[str]] = {}
    for path in sorted((run_dir / "data" / "metrics").glob("*.prom")):
        names: set[str] = set()
        for family in text_string_to_metric_families(path.read_text()):
            names |= {family.name, *(family.name + suffix for suffix in QUERIED_AS.get(family.type, ()))}
            names |= {sample.name for sample in family.samples}
        exported[path.stem] = names
    return exported


def test_dashboards_and_alerts_name_metrics_the_running_services_export(run_dir: Path) -> None:
    scraped = _summary(run_dir)["metrics_scraped"]
    exported = _exported_by_service(run_dir)
    assert scraped == dict.fromkeys(SERVICES, True), scraped
    assert set(exported) == set(SERVICES)
    assert all(names for names in exported.values()), "a service answered /metrics with nothing"
    running = set().union(*exported.values()) | PROMETHEUS_SYNTHETIC
    referenced = {f"{source}: {name}" for source, exprs in dashboard_queries().items()
                  for expr in exprs for name in metric_names(expr)}
    referenced |= {f"alert {alert}: {name}" for alert, expr in alert_queries().items() for name in metric_names(expr)}
    missing = sorted(ref for ref in referenced if ref.rsplit(": ", 1)[1] not in running)
    assert not missing, f"queried, but no running service exports them: {missing}"
