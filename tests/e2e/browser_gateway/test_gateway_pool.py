"""The context pool with real Chromium: recycling after N operations or an error, and idle contexts closed."""

from __future__ import annotations

import asyncio
import os
from pathlib import Path

import pytest

from libs.core.clock import Clock
from services.browser_gateway.pool import BrowserPool

CHROMIUM = Path(os.environ.get("XBOT_CHROMIUM_PATH", "/usr/bin/chromium"))


async def test_contexts_are_recycled_after_max_ops_and_errors_and_closed_when_idle():
    # 1000x: the 300 s idle limit is 0.3 real seconds.
    pool = BrowserPool(clock=Clock(scale=1000), storage_state=None, executable=CHROMIUM, max_ops=3, idle_s=300)
    await pool.start()
    try:
        used = []
        for _ in range(4):
            async with pool.page() as page:
                used.append(page.context)
        assert used[0] is used[1] is used[2], "a context serves up to max_ops operations"
        assert used[3] is not used[0], "then it is closed and a fresh one opened"

        with pytest.raises(RuntimeError):
            async with pool.page() as page:
                failed = page.context
                raise RuntimeError("the operation failed mid-way")
        async with pool.page() as page:
            assert page.context is not failed, "a context is never reused after an error"
        assert pool.open_contexts == 1

        assert await pool.reap_idle() == 0  # just used
        await asyncio.sleep(0.5)
        assert await pool.reap_idle() == 1
        assert pool.open_contexts == 0
    finally:
        await pool.close()
