"""The account's past posts (XBOT_SANDBOX_HISTORY_POSTS) through the X API's user timeline, signed in through the
real OAuth 2.0 PKCE flow: newest first, each with the public_metrics the world shows for it."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, datetime

import aiohttp
import pytest
import pytest_asyncio

from libs.core.clock import Clock
from sandbox.app import start_sandbox
from sandbox.settings import SandboxSettings
from tests.integration.xapi.conftest import ADMIN, HANDLE, PASSWORD, Sandbox, api_settings, sign_in

pytestmark = pytest.mark.asyncio(loop_scope="module")

PAST_POSTS = 60


@pytest.fixture(scope="module")
def clock() -> Clock:
    # Stopped: the counts the API answers and the ones the admin API reads are of one instant.
    return Clock(scale=1e-9, epoch=datetime(2025, 3, 3, 9, tzinfo=UTC))


@pytest_asyncio.fixture(scope="module", loop_scope="module")
async def sandbox(tmp_path_factory, clock: Clock) -> AsyncIterator[Sandbox]:
    settings = SandboxSettings(port=0, db_path=tmp_path_factory.mktemp("sandbox") / "world.sqlite3", handle=HANDLE,
                               password=PASSWORD, admin_token=ADMIN, population=60, history_posts=PAST_POSTS,
                               history_days=60)
    runner, base_url = await start_sandbox(settings, clock, mount_partners=False)
    async with aiohttp.ClientSession() as http:
        yield Sandbox(base_url, http)
    await runner.cleanup()


async def get(sandbox: Sandbox, bearer: str, path: str, **params: str) -> dict:
    async with sandbox.http.get(sandbox.base_url + path, params=params,
                                headers={"Authorization": f"Bearer {bearer}"}) as resp:
        assert resp.status == 200, await resp.text()
        return await resp.json()


async def test_user_timeline_returns_the_past_posts_with_public_metrics(sandbox: Sandbox, clock: Clock, tmp_path):
    settings = api_settings(sandbox.base_url, tmp_path / "token.json")
    bearer = (await sign_in(sandbox, settings, clock)).access_token.get_secret_value()
    me = await get(sandbox, bearer, "/2/users/me", **{"user.fields": "public_metrics"})
    assert me["data"]["public_metrics"]["tweet_count"] == PAST_POSTS  # X counts every post the account has

    timeline = await get(sandbox, bearer, f"/2/users/{me['data']['id']}/tweets", max_results="100",
                         exclude="replies", **{"tweet.fields": "created_at,public_metrics"})
    past = (await sandbox.admin_get("/admin/history"))["tweets"]
    newest_first = sorted(past, key=lambda t: t["created_at"], reverse=True)
    assert timeline["meta"]["result_count"] == PAST_POSTS
    assert [(t["id"], t["text"], t["created_at"]) for t in timeline["data"]] == \
        [(t["id"], t["text"], t["created_at"]) for t in newest_first]
    for answered, truth in zip(timeline["data"], newest_first):
        metrics, counts = answered["public_metrics"], truth["counts"]
        assert (metrics["impression_count"], metrics["like_count"], metrics["retweet_count"],
                metrics["reply_count"], metrics["bookmark_count"]) == \
            (counts["views"], counts["likes"], counts["retweets"], counts["replies"], counts["bookmarks"])
        assert metrics["impression_count"] > 0
    assert sum(t["public_metrics"]["like_count"] for t in timeline["data"]) > 0
