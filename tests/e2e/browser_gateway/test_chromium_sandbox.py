"""Chromium renders strangers' tweets with its sandbox on: the gateway's pool launches it (as an unprivileged
user when the gateway runs as root, since Chromium refuses its sandbox as root), its renderers run under a
seccomp filter in a user namespace of their own, and the fallback to --no-sandbox is reported, never silent."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from libs.core.clock import Clock
from services.browser_gateway.pool import BrowserPool

CHROMIUM = Path(os.environ.get("XBOT_CHROMIUM_PATH", "/usr/bin/chromium"))


async def render_and_report(pool: BrowserPool) -> dict:
    await pool.start()
    try:
        async with pool.page() as page:
            await page.set_content("<p>a stranger's tweet</p>")
            assert await page.inner_text("p") == "a stranger's tweet"
            return pool.sandbox_status()
    finally:
        await pool.close()


async def test_the_gateways_chromium_runs_with_its_sandbox() -> None:
    status = await render_and_report(BrowserPool(clock=Clock(), storage_state=None, executable=CHROMIUM))
    assert status["sandbox"] is True and status["reason"] == ""
    assert status["verified"] is True  # renderers seen under seccomp-bpf in their own user namespace
    if os.geteuid() == 0:
        assert status["user"] != "root"


async def test_required_never_falls_back(tmp_path: Path) -> None:
    missing = tmp_path / "no-chromium-here"
    pool = BrowserPool(clock=Clock(), storage_state=None, executable=missing, sandbox_mode="required")
    with pytest.raises(Exception):  # noqa: B017 - Playwright's launch error
        await render_and_report(pool)
    assert pool.sandbox.sandbox is False


async def test_off_is_reported() -> None:
    status = await render_and_report(BrowserPool(clock=Clock(), storage_state=None, executable=CHROMIUM,
                                                 sandbox_mode="off"))
    assert status["sandbox"] is False and status["verified"] is False
    assert "XBOT_CHROMIUM_SANDBOX=off" in status["reason"]
