"""The one broker factory: every service builds its FastStream NatsBroker here."""

from __future__ import annotations

import logging

from faststream.nats import NatsBroker
from faststream.nats.opentelemetry import NatsTelemetryMiddleware
from faststream.nats.prometheus import NatsPrometheusMiddleware
from faststream.nats.security import NatsSecurity, NatsUserPassword
from nats.js import JetStreamContext

from libs.bus.nats import tls_context

from libs.core import metrics
from libs.core.settings import CommonSettings
from libs.core.tracing import tracer_provider

logger = logging.getLogger("xbot.bus")


def _security(settings: CommonSettings, password: str | None) -> NatsSecurity | None:
    tls = tls_context(settings)
    if settings.nats_user:
        return NatsUserPassword(settings.nats_user, password or "", ssl_context=tls)
    return NatsSecurity(ssl_context=tls) if tls else None


def make_broker(settings: CommonSettings, *, service: str) -> NatsBroker:
    password = settings.nats_password.get_secret_value() if settings.nats_password else None

    async def on_disconnect() -> None:
        logger.warning("disconnected from NATS")

    async def on_reconnect() -> None:
        logger.info("reconnected to NATS")

    return NatsBroker(
        settings.nats_url,
        security=_security(settings, password),
        name=f"xbot-{service}",
        # Its own inbox prefix: the NATS users of ops/access.py may subscribe to their own inbox only, so no
        # service reads the answers meant for another.
        inbox_prefix=f"_INBOX_{service}",
        # Reconnect forever: a NATS restart must not take the service down (it turns /ready false instead).
        max_reconnect_attempts=-1,
        reconnect_time_wait=1,
        allow_reconnect=True,
        disconnected_cb=on_disconnect,
        reconnected_cb=on_reconnect,
        middlewares=(
            NatsPrometheusMiddleware(registry=metrics.registry, app_name=f"xbot_{service}"),
            NatsTelemetryMiddleware(tracer_provider=tracer_provider(service, settings)),
        ),
        logger=logging.getLogger(f"xbot.{service}.faststream"),
        graceful_timeout=30.0,
    )


def jetstream(broker: NatsBroker) -> JetStreamContext:
    """The JetStream context of a connected broker (for provisioning, KV, stream reads)."""
    stream: JetStreamContext = broker.config.connection_state.stream
    return stream
