"""The owner's console end to end, on one stack shared by the module: the poster's harness (a sandbox, the gateway
with real Chromium, a namespace), the poster as a subprocess with approval on, the console in this process on a
port of its own, and a second Chromium (Playwright) driving the console as the owner does."""

from __future__ import annotations

import os
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import pytest_asyncio
from playwright.async_api import Browser, Page, async_playwright

from libs.core.settings import CommonSettings
from services.console.app import build
from services.console.auth import hash_password
from services.console.jobs import ConsoleWorker
from services.console.settings import ConsoleSettings
from tests.e2e.browser_gateway.conftest import HANDLE
from tests.e2e.poster.conftest import Harness, Poster, harness  # noqa: F401 - the module's stack
from tests.e2e.sandbox.sandbox_harness import CHROMIUM_ARGS
from tests.helpers import drop_schemas

ROOT = Path(__file__).resolve().parents[3]
PASSWORD = "owner's long password"
# Screenshots of each page for docs/console.md when XBOT_DOCS_SCREENSHOTS=1 (else into the test's temp folder:
# still taken, so the pages render, without changing tracked files on every run).
DOCS_SHOTS = ROOT / "docs" / "console"


@dataclass
class Stack:
    harness: Harness
    poster: Poster
    worker: ConsoleWorker
    browser: Browser
    url: str
    shots: Path

    async def page(self) -> Page:
        """A signed-in page (a new browser context: its own cookie jar)."""
        context = await self.browser.new_context(base_url=self.url)
        context.set_default_timeout(20_000)
        page = await context.new_page()
        await page.goto("/login")
        await page.fill("input[name=password]", PASSWORD)
        await page.click("text=Sign in")
        await page.wait_for_url("**/queue")
        return page


def service_values(harness: Harness) -> dict[str, object]:  # noqa: F811 - the type, not the fixture
    """The settings every in-process service of the module shares: the harness's servers, namespace and clock."""
    env = harness.env
    common = CommonSettings(nats_url=env["XBOT_NATS_URL"], database_url=env["XBOT_DATABASE_URL"],
                            namespace=harness.namespace)
    values: dict[str, object] = {k: getattr(common, k) for k in CommonSettings.model_fields}
    values.update(time_scale=harness.clock.scale, sim_epoch=harness.clock.epoch, sim_anchor=harness.clock.anchor)
    return values


@pytest_asyncio.fixture(scope="module", loop_scope="module")
async def stack(harness: Harness, tmp_path_factory) -> AsyncIterator[Stack]:  # noqa: F811
    env = harness.env
    await drop_schemas(env["XBOT_DATABASE_URL"], "console")
    # Two tries before an event that keeps failing is dead-lettered (5 would take 30 s of the dead letters' test).
    settings = ConsoleSettings(**{**service_values(harness), "projection_max_tries": 2}, console_port=0,
                               approval="all", x_handle=HANDLE,
                               x_base_url=harness.sandbox.base_url)
    console = build(settings)
    await console.provision()
    await console.start()
    assert console.pool is not None
    await console.pool.execute("INSERT INTO owner (id, password_hash, set_at) VALUES (1, $1, $2)",
                               hash_password(PASSWORD), datetime.now(UTC))
    worker = console.worker
    assert isinstance(worker, ConsoleWorker)
    # The poster reads the console's stream: provisioned above with the console's own (the harness provisioned
    # the poster before the console's stream had a consumer of the poster's).
    poster = await harness.start_poster(XBOT_APPROVAL="all")
    shots = DOCS_SHOTS if os.environ.get("XBOT_DOCS_SCREENSHOTS") == "1" else tmp_path_factory.mktemp("shots")
    shots.mkdir(parents=True, exist_ok=True)
    try:
        async with async_playwright() as pw:
            browser = await pw.chromium.launch(executable_path="/usr/bin/chromium", headless=True, args=CHROMIUM_ARGS)
            try:
                yield Stack(harness, poster, worker, browser, worker.console.url, shots)
            finally:
                await browser.close()
    finally:
        await poster.stop()
        await console.stop()
