"""Same seed, same world; a restart loses nothing. Served over HTTP by real sandboxes (no browser needed)."""

from __future__ import annotations

import re
import time
from datetime import datetime

import aiohttp
import pytest

from sandbox.app import WORLD
from tests.e2e.sandbox.sandbox_harness import (
    Sandbox, advance, create_tweet, frozen_clock, http_session, launch_sandbox, web_page,
)

ARTICLE = re.compile(r'data-tweet-id="(\d+)".*?aria-label="([^"]*)" role="button">\s*<span class="icon icon-like"',
                     re.S)


async def search_page(sandbox: Sandbox, q: str) -> list[tuple[str, str]]:
    http = await http_session(sandbox)
    async with http:
        return ARTICLE.findall((await web_page(http, "/search", q=q, src="typed_query", f="live"))[1])


async def test_same_seed_same_world_and_another_seed_another(tmp_path):
    worlds = []
    for name, seed in (("a", 11), ("b", 11), ("c", 12)):
        sb = await launch_sandbox(tmp_path / f"{name}.sqlite3", frozen_clock(), seed=seed)
        try:
            worlds.append(await search_page(sb, "sleep"))
        finally:
            await sb.stop()
    assert len(worlds[0]) >= 10
    assert worlds[0] == worlds[1]  # same ids, same like counts
    assert {i for i, _ in worlds[0]}.isdisjoint({i for i, _ in worlds[2]})


async def test_restart_loses_no_post_follower_metric_or_session(tmp_path):
    db = tmp_path / "sandbox.sqlite3"
    clock = frozen_clock()
    sb = await launch_sandbox(db, clock)
    http = await http_session(sb)
    # A post whose author lets anyone reply (X greys the others' reply button out).
    world = sb.runner.app[WORLD]  # type: ignore[attr-defined]
    target = next(i for i, _ in await search_page(sb, "min_faves:2000 -filter:replies") if world.tweet(i).can_reply)
    post = await create_tweet(http, "Protein at breakfast keeps you full until lunch. Try 30g.")
    reply = await create_tweet(http, "Consistent wake times helped me more than anything.", reply_to=target)
    ids = [r["data"]["create_tweet"]["tweet_results"]["result"]["rest_id"] for r in (post, reply)]
    advance(clock, hours=6)
    before = (await sb.admin("GET", "/admin/tweets"), await sb.admin("GET", "/admin/account"))
    await sb.stop()

    sb = await launch_sandbox(db, clock)
    try:
        after = (await sb.admin("GET", "/admin/tweets"), await sb.admin("GET", "/admin/account"))
        assert [t["id"] for t in after[0]["tweets"]] == ids
        assert after == before
        # Followers are the start count plus the follows our tweets have brought by now.
        gained = sum(t["counts"]["follows"] for t in before[0]["tweets"])
        assert before[1]["followers"] == sb.settings.start_followers + gained
        http._base_url = http._base_url.with_port(int(sb.url.rsplit(":", 1)[1]))  # same cookies, new port
        async with http.get("/home", allow_redirects=False) as response:
            assert response.status == 200
    finally:
        await http.close()
        await sb.stop()


async def test_sandbox_mounts_text_endpoint_and_token_protected_ground_truth(tmp_path):
    sb = await launch_sandbox(tmp_path / "sandbox.sqlite3")
    try:
        async with aiohttp.ClientSession(base_url=sb.url) as http:
            async with http.get("/v1/models") as response:
                assert response.status == 200 and (await response.json())["data"]
            async with http.get("/sim/affinities") as response:
                assert response.status == 401
            async with http.get("/admin/account") as response:
                assert response.status == 401
        affinities = await sb.admin("GET", "/sim/affinities")  # the ground-truth token defaults to the admin one
        assert set(affinities) == {"content_type", "topic", "format", "hour"}
    finally:
        await sb.stop()


async def test_python_m_sandbox_prints_its_url_first(tmp_path):
    import asyncio
    import os
    import sys

    env = os.environ | {"XBOT_SANDBOX_DB_PATH": str(tmp_path / "main.sqlite3"), "XBOT_SANDBOX_PORT": "0",
                        "XBOT_TIME_SCALE": "60"}
    proc = await asyncio.create_subprocess_exec(sys.executable, "-m", "sandbox", env=env,
                                                stdout=asyncio.subprocess.PIPE)
    try:
        line = (await asyncio.wait_for(proc.stdout.readline(), 30)).decode()
        m = re.fullmatch(r"sandbox listening on (http://127\.0\.0\.1:\d+)\n", line)
        assert m, line
        async with aiohttp.ClientSession() as http:
            async with http.get(m.group(1) + "/i/flow/login") as response:
                assert response.status == 200 and "LoginForm_Login_Button" in await response.text()
    finally:
        proc.terminate()
        await proc.wait()


async def test_snapshot_reads_account_and_tweets_at_one_instant(tmp_path):
    clock = frozen_clock()
    sb = await launch_sandbox(tmp_path / "sandbox.sqlite3", clock)
    http = await http_session(sb)
    try:
        for text in ("Protein at breakfast keeps you full until lunch.", "Morning light sets the body clock."):
            await create_tweet(http, text)
            advance(clock, hours=1)
        # Time now races (a simulated second per real microsecond): two reads a moment apart differ visibly.
        clock.anchor, clock.scale = time.time(), 1e6
        snapshot = await sb.admin("GET", "/admin/snapshot")
    finally:
        await http.close()
        await sb.stop()
    now = datetime.fromisoformat(snapshot["account"]["now"].replace("Z", "+00:00"))
    first, second = snapshot["tweets"]
    created = [datetime.fromisoformat(t["created_at"].replace("Z", "+00:00")) for t in (first, second)]
    # Both ages are of one instant: they differ by exactly the hour between the posts...
    assert first["age_hours"] - second["age_hours"] == pytest.approx(1.0, abs=1e-9)
    # ...and agree with the account's `now` (which, like created_at, is rounded to the millisecond).
    assert first["age_hours"] == pytest.approx((now - created[0]).total_seconds() / 3600, abs=1e-6)
    assert snapshot["account"]["tweets"] == 2
