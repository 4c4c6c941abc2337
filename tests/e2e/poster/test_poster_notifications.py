"""The owner hears about a lock: the sandbox's admin API locks the account, the poster's next write is answered
`locked` through the gateway (real Chromium), the poster halts and announces it (WritesHalted), and the notifier
sends exactly one notification to each channel (a local webhook receiver and a local SMTP catcher) within one
posting cycle; later cycles, still locked, send nothing more."""

from __future__ import annotations

import uuid
from datetime import timedelta

import pytest

from libs.core.settings import CommonSettings
from services.notifier.app import build
from services.notifier.settings import NotifierSettings
from tests.e2e.poster.conftest import BASE_ENV
from tests.helpers import drop_schemas, eventually
from tests.integration.notifier.catchers import catchers

pytestmark = [pytest.mark.chromium, pytest.mark.asyncio(loop_scope="module")]

# A posting cycle (30 simulated seconds) takes 1.5 real seconds: room for a loaded machine.
SCALE = 20.0
CYCLE = timedelta(seconds=float(BASE_ENV["XBOT_CYCLE_S"]))


async def test_a_lock_reaches_each_channel_once_within_a_posting_cycle(harness) -> None:
    await drop_schemas(harness.env["XBOT_DATABASE_URL"], "notifier")
    async with catchers() as channels:
        common = CommonSettings(nats_url=harness.env["XBOT_NATS_URL"], database_url=harness.env["XBOT_DATABASE_URL"],
                                namespace=harness.namespace)
        values = {k: getattr(common, k) for k in CommonSettings.model_fields}
        values.update(time_scale=harness.clock.scale, sim_epoch=harness.clock.epoch, sim_anchor=harness.clock.anchor,
                      notify_urls=channels.apprise_urls, notify_interval=timedelta(seconds=5), notify_watch=False,
                      notify_spacing_s_real=0.0)
        notifier = build(NotifierSettings(**values))
        await notifier.provision()
        await notifier.start()
        poster = await harness.start_poster()
        try:
            await harness.sandbox.admin("/admin/faults", {"mode": "locked"})
            await harness.queue(f"Protein at every meal keeps muscle as you age. #{uuid.uuid4().hex[:8]}")
            await eventually(lambda: _both(channels), timeout=60)
            want = ["[xbot] X locked the account"]
            assert channels.titles() == {"webhook": want, "mail": want}
            assert "xbot resume" in channels.mails[0].body
            halted_at = await notifier.pool.fetchval("SELECT occurred_at FROM notices WHERE key = 'account:locked'")
            # A channel's delivery row is written after its send returns: the catcher can hold the mail first.
            await eventually(lambda: _delivered(notifier, 2), timeout=30)
            delivered = await notifier.pool.fetch("SELECT channel, delivered_at FROM deliveries")
            assert len(delivered) == 2
            assert all(r["delivered_at"] - halted_at <= CYCLE for r in delivered), (halted_at, delivered)

            # Still locked, still halted: more cycles, no more notifications.
            cycles_before = harness.clock.now()
            await harness.clock.sleep(4 * CYCLE.total_seconds())
            assert harness.clock.now() - cycles_before >= 4 * CYCLE
            assert channels.titles() == {"webhook": want, "mail": want}
        finally:
            await harness.sandbox.admin("/admin/reset-faults")
            await poster.stop()
            await notifier.stop()
            await harness.set_paused(False)  # `xbot resume` lifts the halt for the module's next tests


async def _both(channels) -> bool:
    return bool(channels.hooks) and bool(channels.mails)


async def _delivered(notifier, count: int) -> bool:
    return await notifier.pool.fetchval("SELECT count(*) FROM deliveries WHERE delivered_at IS NOT NULL") >= count
