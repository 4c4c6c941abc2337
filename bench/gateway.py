"""Benchmark of the browser gateway against the sandbox (`python -m bench.gateway`).

(a) 200 tweet_metrics ops through the pool vs a baseline that opens a fresh context per op (same concurrency);
(b) P0 queue wait (p50/p99) while 200 P2 ops are queued, against the median duration of one op;
(c) Chromium PSS of the whole process tree with 1 and with 3 contexts open.
The gateway core is driven in-process (no NATS hop), so the figures are the pool's, not the bus's.
"""

from __future__ import annotations

import asyncio
import json
import statistics
import tempfile
import time
import uuid
from pathlib import Path

from libs.bus.control import WriteSwitch
from libs.contracts.gateway import PostTweetRequest, TweetMetricsRequest
from libs.core.clock import Clock
from sandbox.app import start_sandbox
from sandbox.settings import SandboxSettings
from services.browser_gateway.gateway import BrowserGateway
from services.browser_gateway.login import login
from services.browser_gateway.settings import GatewaySettings

RESULTS = Path(__file__).parent / "results" / "gateway.json"
HANDLE, PASSWORD = "xbot_demo", "bench-password"
OPS = 200


def pct(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(q * (len(ordered) - 1))))]


async def throughput(gateway: BrowserGateway, tweet_id: str) -> dict:
    req = TweetMetricsRequest(ids=[tweet_id], author=HANDLE)
    t0 = time.monotonic()
    replies = await asyncio.gather(*(gateway.execute(req) for _ in range(OPS)))
    pooled = time.monotonic() - t0
    assert all(r.ok for r in replies), [r.error for r in replies if not r.ok][:3]

    # Baseline: the same op and the same concurrency (the contexts P1 may use), a fresh context every time.
    browser = await gateway.browser.pool._ensure_browser()
    slots = asyncio.Semaphore(gateway.browser.arbiter.slots - gateway.browser.arbiter.reserved)

    async def fresh_context_op() -> None:
        async with slots:
            context = await browser.new_context(storage_state=gateway.browser.pool.storage_state)
            context.set_default_timeout(gateway.settings.call_timeout_real.total_seconds() * 1000)
            try:
                await gateway.browser.site.tweet_metrics(await context.new_page(), req)
            finally:
                await context.close()

    t0 = time.monotonic()
    await asyncio.gather(*(fresh_context_op() for _ in range(OPS)))
    baseline = time.monotonic() - t0
    return {"ops": OPS, "pool_ops_per_s": OPS / pooled, "baseline_ops_per_s": OPS / baseline,
            "speedup": baseline / pooled}


async def p0_wait(gateway: BrowserGateway, tweet_id: str) -> dict:
    waits: dict[int, list[float]] = {0: [], 2: []}
    gateway.browser.arbiter._on_wait = lambda p, s: waits.setdefault(p, []).append(s)
    first_op = len(gateway.browser.op_seconds)
    background = [asyncio.create_task(gateway.execute(TweetMetricsRequest(ids=[tweet_id], author=HANDLE, priority=2)))
                  for _ in range(OPS)]
    while gateway.browser.arbiter.depth(2) < OPS - 5:
        await asyncio.sleep(0.002)
    posts = 0
    while gateway.browser.arbiter.depth(2) > 10:  # post repeatedly while the background queue is still long
        reply = await gateway.execute(PostTweetRequest(text=f"Benchmark post {uuid.uuid4().hex[:10]}"))
        assert reply.ok, reply.error
        posts += 1
    await asyncio.gather(*background)
    metric_ops = gateway.browser.op_seconds[first_op:]
    median_op = statistics.median(metric_ops)
    return {"p2_queued": OPS, "p0_posts": posts, "p0_wait_p50_s": pct(waits[0], 0.5),
            "p0_wait_p99_s": pct(waits[0], 0.99), "median_op_s": median_op,
            "p2_wait_p50_s": pct(waits[2], 0.5)}


async def memory(gateway: BrowserGateway, tweet_id: str) -> dict:
    pool = gateway.browser.pool
    for slot in list(pool._free):
        pool._free.remove(slot)
        await pool._close_slot(slot)
    await gateway.execute(TweetMetricsRequest(ids=[tweet_id], author=HANDLE))
    assert pool.open_contexts == 1
    one = pool.process_tree_pss()
    # Two P1 ops and a P0 at once make the pool open all three contexts.
    await asyncio.gather(gateway.execute(TweetMetricsRequest(ids=[tweet_id], author=HANDLE)),
                         gateway.execute(TweetMetricsRequest(ids=[tweet_id], author=HANDLE)),
                         gateway.execute(TweetMetricsRequest(ids=[tweet_id], author=HANDLE, priority=0)))
    three_contexts = pool.open_contexts
    three = pool.process_tree_pss()
    return {"pss_mb_1_context": one / 2**20, "pss_mb_3_contexts": three / 2**20, "contexts_open": three_contexts}


class _Resumed:
    """The benchmark runs without NATS, so without the kill switch (which a gateway without one reads as paused)."""

    async def read(self) -> WriteSwitch:
        return WriteSwitch(False, 1, "benchmark")


async def main() -> dict:
    clock = Clock(scale=60.0)
    with tempfile.TemporaryDirectory() as tmp:
        sandbox_settings = SandboxSettings(
            port=0, db_path=Path(tmp) / "world.sqlite3", handle=HANDLE, password=PASSWORD, population=60,
            daily_posts=100_000, daily_replies=100_000, half_hour_posts=100_000, half_hour_replies=100_000,
            enforce_reading_limit=False, suspicion=False)  # a throughput benchmark, not one of X's limits
        runner, base_url = await start_sandbox(sandbox_settings, clock, mount_partners=False)
        settings = GatewaySettings(
            x_base_url=base_url, x_handle=HANDLE, session_file=Path(tmp) / "session.json", time_scale=60.0,
            write_min_spacing_s=0, write_jitter_s=0, queue_timeout_p2_s=100_000, queue_timeout_p1_s=100_000,
            queue_timeout_p0_s=100_000,
            # A throughput benchmark of the browser, not of the account's guards: room for every benchmark post,
            # and the activity budget counts without pacing (its page every 10-16 s is the account's pace, not
            # the pool's: with it on, 200 reads at once are refused budget_exhausted).
            x_account_tier="verified", hard_posts_per_day=2000, activity_budget=False)
        await login(settings, username=HANDLE, password=PASSWORD)
        gateway = BrowserGateway(settings, clock, kill_switch=_Resumed())
        await gateway.start()
        try:
            posted = await gateway.execute(PostTweetRequest(text="Benchmark target: walk after dinner."))
            assert posted.ok, posted.error
            tweet_id = posted.result["tweet_ids"][0]
            results = {"throughput": await throughput(gateway, tweet_id),
                       "priority": await p0_wait(gateway, tweet_id),
                       "memory": await memory(gateway, tweet_id)}
        finally:
            await gateway.stop()
            await runner.cleanup()
    t, p, m = results["throughput"], results["priority"], results["memory"]
    results["targets"] = {"speedup_ge_3": t["speedup"] >= 3.0,
                          "p0_p99_le_median_op": p["p0_wait_p99_s"] <= p["median_op_s"]}
    rows = [
        ("(a) pool tweet_metrics ops/s", f"{t['pool_ops_per_s']:.2f}"),
        ("(a) fresh-context baseline ops/s", f"{t['baseline_ops_per_s']:.2f}"),
        ("(a) speedup (target >= 3x)", f"{t['speedup']:.2f}x"),
        ("(b) P0 wait p50 / p99 (s)", f"{p['p0_wait_p50_s']:.4f} / {p['p0_wait_p99_s']:.4f}"),
        ("(b) median op duration (s)", f"{p['median_op_s']:.4f}"),
        ("(b) P0 posts during 200-P2 backlog", str(p["p0_posts"])),
        ("(c) Chromium PSS, 1 context (MB)", f"{m['pss_mb_1_context']:.1f}"),
        ("(c) Chromium PSS, 3 contexts (MB)", f"{m['pss_mb_3_contexts']:.1f}"),
    ]
    width = max(len(r[0]) for r in rows)
    for name, value in rows:
        print(f"{name:<{width}}  {value}")
    print("targets:", results["targets"])
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    RESULTS.write_text(json.dumps(results, indent=2) + "\n")
    return results


if __name__ == "__main__":
    asyncio.run(main())
