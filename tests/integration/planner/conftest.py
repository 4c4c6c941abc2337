"""The sandbox's text endpoint, served from a background thread for the whole session: in template mode (the
composer's exact answers the older tests rely on) and in realistic mode (real models' habits and API behaviour)."""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Iterator
from dataclasses import dataclass

import aiohttp
import pytest
from aiohttp import web

from libs.text import Embedder
from sandbox.llm import make_llm_app

ADMIN = "test-admin-token"
ENDPOINT_SEED = 6


@dataclass
class TextEndpoint:
    base_url: str
    root: str

    async def fault(self, mode: str, count: int = 1, **extra: object) -> None:
        async with aiohttp.ClientSession() as s:
            r = await s.post(f"{self.root}/admin/llm/faults", json={"mode": mode, "count": count, **extra},
                             headers={"Authorization": f"Bearer {ADMIN}"})
            assert r.status == 200, await r.text()

    async def configure(self, **config: object) -> dict:
        async with aiohttp.ClientSession() as s:
            r = await s.post(f"{self.root}/admin/llm/config", json=config,
                             headers={"Authorization": f"Bearer {ADMIN}"})
            assert r.status == 200, await r.text()
            return await r.json()

    async def log(self) -> list[dict]:
        async with aiohttp.ClientSession() as s:
            r = await s.get(f"{self.root}/sim/llm/log", headers={"Authorization": f"Bearer {ADMIN}"})
            assert r.status == 200, await r.text()
            return (await r.json())["entries"]


# The realistic endpoint's random API failures are off unless a test turns them on, so each test sees exactly
# the failure it forces.
QUIET_API = {"rate_limited": 0, "server_error": 0, "content_filter": 0, "no_usage": 0, "slow": 0}


def _serve(ready: threading.Event, box: dict, mode: str) -> None:
    loop = asyncio.new_event_loop()
    asyncio.set_event_loop(loop)
    runner = web.AppRunner(make_llm_app(admin_token=ADMIN, seed=ENDPOINT_SEED, mode=mode,
                                        api=QUIET_API if mode == "realistic" else None))
    loop.run_until_complete(runner.setup())
    site = web.TCPSite(runner, "127.0.0.1", 0)
    loop.run_until_complete(site.start())
    box["port"] = site._server.sockets[0].getsockname()[1]
    box["loop"], box["runner"] = loop, runner
    ready.set()
    loop.run_forever()
    loop.run_until_complete(runner.cleanup())


def _endpoint(mode: str) -> Iterator[TextEndpoint]:
    ready, box = threading.Event(), {}
    t = threading.Thread(target=_serve, args=(ready, box, mode), daemon=True)
    t.start()
    assert ready.wait(60)  # a condition, not a sleep: building the app takes seconds on a loaded machine
    root = f"http://127.0.0.1:{box['port']}"
    yield TextEndpoint(base_url=f"{root}/v1", root=root)
    box["loop"].call_soon_threadsafe(box["loop"].stop)
    t.join(5)


@pytest.fixture(scope="session")
def text_endpoint() -> Iterator[TextEndpoint]:
    yield from _endpoint("template")


@pytest.fixture(scope="session")
def realistic_endpoint() -> Iterator[TextEndpoint]:
    yield from _endpoint("realistic")


@pytest.fixture(autouse=True)
async def _endpoints_as_new(request: pytest.FixtureRequest):
    """Each test meets the text endpoints it uses as new: answers drawn as if it were their first (an endpoint lives
    as long as an xdist worker, and which test files share a worker changes from run to run: a review that had
    passed in every run was once answered with the answer format alone, which reviews nothing, after other files'
    calls), and no fault or API setting a test left behind."""
    endpoints = {name: request.getfixturevalue(name) for name in ("text_endpoint", "realistic_endpoint")
                 if name in request.fixturenames}
    for endpoint in endpoints.values():
        await endpoint.configure(seed=ENDPOINT_SEED)
    yield
    for name, endpoint in endpoints.items():
        await endpoint.fault("none", 0)
        if name == "realistic_endpoint":
            await endpoint.configure(api=QUIET_API, quota_exhausted=False, rpm_limit=None, rate_window_seconds=60)


@pytest.fixture(scope="session")
def embedder() -> Embedder:
    return Embedder()
