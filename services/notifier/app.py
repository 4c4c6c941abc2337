"""Composition root of the notifier: its projections (projections.py: notices from events, approvals, the
day's figures), its worker (jobs.py: delivery, approval batches, the digest, its own watch) and Alertmanager's
webhook on the side port (POST /alertmanager). What it tells and when: notices.py."""

from __future__ import annotations

from pathlib import Path

from aiohttp import web

from libs.core.logging import mask
from libs.runtime.context import JobContext
from libs.runtime.service import Service
from services.notifier import projections
from services.notifier.channels import ChannelFailed, open_channels
from services.notifier.jobs import NotifierWorker
from services.notifier.settings import NotifierSettings, channel_urls

NAME = "notifier"
MIGRATIONS = Path(__file__).parent / "migrations"
Settings = NotifierSettings
WEBHOOK_PATH = "/alertmanager"


def build(settings: NotifierSettings) -> Service[NotifierSettings]:
    svc = Service(NAME, settings, migrations=MIGRATIONS, job_tables=projections.JOB_TABLES)
    projections.register(svc)
    svc.runs(lambda ctx: NotifierWorker(ctx, broker=svc.broker))

    async def alertmanager(request: web.Request) -> web.Response:
        try:
            worker = svc.worker
        except RuntimeError:
            return web.json_response({"error": "starting"}, status=503)
        assert isinstance(worker, NotifierWorker)
        return await worker.alertmanager(request)

    svc.route("POST", WEBHOOK_PATH, alertmanager)
    svc.command("send-test", send_test)
    return svc


async def send_test(ctx: JobContext[NotifierSettings], _args: list[str]) -> str:
    """``python -m services.notifier send-test``: one test notification to every channel, each one's result."""
    s = ctx.settings
    channels = open_channels(channel_urls(s.notify_urls), timeout_s=s.notify_send_timeout_s_real,
                             spacing_s=s.notify_spacing_s_real)
    if not channels:
        return "no channel configured: set XBOT_NOTIFY_URLS (Apprise URLs, separated by spaces)"
    lines = []
    for channel in channels:
        try:
            await channel.send(title="[xbot] Test notification",
                               body=f"xbot's notifier reaches this channel ({channel.name}).", severity="info")
            lines.append(f"{channel.name}: sent")
        except ChannelFailed as err:
            lines.append(f"{channel.name}: FAILED ({mask(str(err))})")
    return "\n".join(lines)
