"""A plain nats-py connection for operator tools (CLI, status, benchmarks); services use the broker factory."""

from __future__ import annotations

import nats
from nats.aio.client import Client

from libs.runtime.settings import CommonSettings


async def connect(settings: CommonSettings, *, name: str = "xbot-cli") -> Client:
    password = settings.nats_password.get_secret_value() if settings.nats_password else None
    return await nats.connect(settings.nats_url, user=settings.nats_user, password=password, name=name,
                              connect_timeout=5, max_reconnect_attempts=3)
