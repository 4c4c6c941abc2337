"""The sandbox's text endpoint, served from a background thread for the whole session."""

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


@dataclass
class TextEndpoint:
    base_url: str
    root: str

    async def fault(self, mode: str, count: int = 1, **extra: object) -> None:
        async with aiohttp.ClientSession() as s:
            r = await s.post(f"{self.root}/admin/llm/faults", json={"mode": mode, "count": count, **extra},
                             headers={"Authorization": f"Bearer {ADMIN}"})
            assert r.status == 200, await r.text()


def _serve(ready: threading.Event, box: dict) -> None:
    loop = asyncio.new_event_loop()
    asyncio.set_event_loop(loop)
    runner = web.AppRunner(make_llm_app(admin_token=ADMIN, seed=6))
    loop.run_until_complete(runner.setup())
    site = web.TCPSite(runner, "127.0.0.1", 0)
    loop.run_until_complete(site.start())
    box["port"] = site._server.sockets[0].getsockname()[1]
    box["loop"], box["runner"] = loop, runner
    ready.set()
    loop.run_forever()
    loop.run_until_complete(runner.cleanup())


@pytest.fixture(scope="session")
def text_endpoint() -> Iterator[TextEndpoint]:
    ready, box = threading.Event(), {}
    t = threading.Thread(target=_serve, args=(ready, box), daemon=True)
    t.start()
    assert ready.wait(10)
    root = f"http://127.0.0.1:{box['port']}"
    yield TextEndpoint(base_url=f"{root}/v1", root=root)
    box["loop"].call_soon_threadsafe(box["loop"].stop)
    t.join(5)


@pytest.fixture(autouse=True)
async def _no_leftover_faults(text_endpoint: TextEndpoint):
    yield
    await text_endpoint.fault("none", 0)


@pytest.fixture(scope="session")
def embedder() -> Embedder:
    return Embedder()
