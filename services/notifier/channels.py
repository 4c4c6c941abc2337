"""Where notices go: one Apprise URL per channel (Telegram, Discord, Slack, e-mail, ntfy, a JSON webhook, …).

Each channel is its own Apprise object so that the notify job knows which channel took a notice and retries
only the one that failed. A channel is named by its position and scheme (``1-mailto``), never by its URL, which
carries the channel's token.
"""

from __future__ import annotations

import asyncio
import logging
import re
from dataclasses import dataclass

import apprise

from libs.core.logging import redact
from services.notifier.notices import defuse

logger = logging.getLogger("xbot.notifier")

_TYPES = {"critical": apprise.NotifyType.FAILURE, "warning": apprise.NotifyType.WARNING,
          "info": apprise.NotifyType.INFO}


class ChannelFailed(RuntimeError):
    pass


@dataclass
class Channel:
    name: str
    target: apprise.Apprise
    timeout_s: float

    async def send(self, *, title: str, body: str, severity: str) -> None:
        # Here, not where notices are made: every send (the test notification too) goes through it, whatever
        # the channel.
        title, body = defuse(title), defuse(body)
        try:
            # A timeout stops the wait, not the send: Apprise posts from a worker thread, which may still deliver
            # after it. The notice is then retried and can arrive twice; no channel here takes an idempotency key
            # that would let it drop the second copy, and a duplicate is better than a lost notice.
            ok = await asyncio.wait_for(
                self.target.async_notify(title=title, body=body, body_format=apprise.NotifyFormat.TEXT,
                                         notify_type=_TYPES.get(severity, apprise.NotifyType.INFO)),
                timeout=self.timeout_s)
        except TimeoutError:
            raise ChannelFailed(f"{self.name}: no answer within {self.timeout_s:.0f} s") from None
        if not ok:
            raise ChannelFailed(f"{self.name}: the service refused or could not be reached")


def secret_parts(url: str) -> list[str]:
    """The parts of a channel URL that are likely its credentials: the password, and every host, path or query
    part that carries a digit and is 8 characters or more, or is 20 or more (bot tokens, webhook ids, keys)."""
    parts = re.split(r"[/:@?&=#,]+", url.split("://", 1)[-1])
    return [p for p in parts if (len(p) >= 8 and any(c.isdigit() for c in p) and p.count(".") != 3) or len(p) >= 20]


def open_channels(urls: list[str], *, timeout_s: float, spacing_s: float | None = None) -> list[Channel]:
    # The URLs carry tokens and passwords: never in a log line, a notice or /status.
    redact(*urls, *(part for url in urls for part in secret_parts(url)))
    # Apprise logs each failure at WARNING with the URL's privacy form; its chatter below that is noise.
    logging.getLogger("apprise").setLevel(logging.WARNING)
    channels = []
    for i, url in enumerate(urls, start=1):
        target = apprise.Apprise()
        target.add(url)
        if spacing_s is not None:
            for server in target:
                server.request_rate_per_sec = spacing_s  # Apprise's throttle: seconds between two sends
        channels.append(Channel(f"{i}-{url.split('://', 1)[0]}", target, timeout_s))
    return channels
