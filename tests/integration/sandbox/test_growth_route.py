"""/sim/growth on a running sandbox: the ground truth's valuation of what the account did, behind the token."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import aiohttp
import pytest

from libs.core.clock import Clock
from sandbox.app import WORLD, start_sandbox
from sandbox.growth import growth
from sandbox.settings import SandboxSettings

TOKEN = "growth-truth"


@pytest.fixture
async def sandbox(tmp_path):
    clock = Clock(scale=1e-9, epoch=datetime(2025, 3, 3, 14, tzinfo=UTC))
    settings = SandboxSettings(port=0, db_path=tmp_path / "world.sqlite3", admin_token=TOKEN, population=60,
                               seed=11)
    runner, base_url = await start_sandbox(settings, clock)
    yield runner.app[WORLD], base_url
    await runner.cleanup()


async def test_growth_route_values_the_accounts_tweets_with_the_token(sandbox):
    world, base_url = sandbox
    since = world.now()
    world.create_tweet("Myth: you need 8 glasses of water a day. Thirst is a fine guide for most.")
    world.clock.epoch += timedelta(hours=3)
    now = world.now()
    targets = [t.id for t in world.population.tweets_between(now - 3 * 3600, now)
               if t.in_reply_to is None and world.may_reply(t)][:8]
    reply = world.create_tweet("Good point: a regular wake time helps more than most people think.",
                               in_reply_to=targets[-1])
    world.clock.epoch += timedelta(hours=22)
    body = {"since": datetime.fromtimestamp(since, UTC).isoformat(), "until": world.now(),
            "hours": list(range(7, 23)), "reply_pools": {reply.id: targets}}
    async with aiohttp.ClientSession() as http:
        async with http.post(f"{base_url}/sim/growth", json=body) as resp:
            assert resp.status == 401
        headers = {"Authorization": f"Bearer {TOKEN}"}
        async with http.post(f"{base_url}/sim/growth", json=body, headers=headers) as resp:
            assert resp.status == 200
            answer = await resp.json()
        async with http.post(f"{base_url}/sim/growth", json={**body, "since": "yesterday"}, headers=headers) as resp:
            assert resp.status == 400
    assert answer == growth(world, since=since, until=world.now(), hours=range(7, 23),
                            reply_pools={reply.id: targets})
    total = answer["total"]
    assert (total["posts"], total["replies"], answer["replies_with_pool"]) == (1, 1, 1)
    assert total["uniform"] < total["oracle"] and total["policy"] <= total["oracle"]
    assert total["by_kind"]["reply"]["choices_per_slot"] == len(targets)
