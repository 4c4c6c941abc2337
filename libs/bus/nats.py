"""A plain nats-py connection for operator tools (CLI, status, benchmarks); services use the broker factory."""

from __future__ import annotations

import ssl

import nats
from nats.aio.client import Client

from libs.core.settings import CommonSettings


def tls_context(settings: CommonSettings) -> ssl.SSLContext | None:
    """Verification against XBOT_NATS_TLS_CA when set (servers with certificates of a private CA)."""
    if not settings.nats_tls_ca:
        return None
    return ssl.create_default_context(cafile=settings.nats_tls_ca)


async def connect(settings: CommonSettings, *, name: str = "xbot-cli", component: str = "operator") -> Client:
    """``component`` names the inbox (``_INBOX_<component>``) its NATS user may subscribe to (ops/access.py)."""
    password = settings.nats_password.get_secret_value() if settings.nats_password else None
    return await nats.connect(settings.nats_url, user=settings.nats_user, password=password, name=name,
                              connect_timeout=5, max_reconnect_attempts=3, inbox_prefix=f"_INBOX_{component}",
                              tls=tls_context(settings))
