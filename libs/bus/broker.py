"""The one broker factory: every service builds its FastStream NatsBroker here."""

from __future__ import annotations

import logging

from faststream.nats import NatsBroker
from faststream.nats.opentelemetry import NatsTelemetryMiddleware
from faststream.nats.prometheus import NatsPrometheusMiddleware
from faststream.nats.security import NatsUserPassword

from libs.runtime import metrics
from libs.runtime.settings import CommonSettings
from libs.runtime.tracing import tracer_provider

logger = logging.getLogger("xbot.bus")


def make_broker(settings: CommonSettings, *, service: str) -> NatsBroker:
    password = settings.nats_password.get_secret_value() if settings.nats_password else None

    async def on_disconnect() -> None:
        logger.warning("disconnected from NATS")

    async def on_reconnect() -> None:
        logger.info("reconnected to NATS")

    return NatsBroker(
        settings.nats_url,
        security=NatsUserPassword(settings.nats_user, password or "") if settings.nats_user else None,
        name=f"xbot-{service}",
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


def jetstream(broker: NatsBroker):
    """The JetStream context of a connected broker (for provisioning, KV, stream reads)."""
    return broker.config.connection_state.stream
