"""Composition root: the broker, one request/reply subscriber per op, the gateway core, the side port.

The gateway has no database (nothing durable but the session file), so it does not use
libs.runtime.service.Service, whose start-up migrates a schema; it reuses that module's parts instead.
Subjects ``<ns>.browser.<op>`` are core NATS: a request is answered once and never stored.
"""

from __future__ import annotations

import asyncio
import logging
import signal
from typing import Any

from faststream.nats import NatsBroker

from libs.bus.broker import jetstream, make_broker
from libs.bus.publish import EventPublisher
from libs.contracts.gateway import OPERATIONS, subject
from libs.runtime.clock import Clock
from libs.runtime.health import HealthServer, register_service
from libs.runtime.logging import setup_logging
from services.browser_gateway.gateway import BrowserGateway
from services.browser_gateway.settings import GatewaySettings

SERVICE = "browser_gateway"
log = logging.getLogger("xbot.browser_gateway")
# Requests in hand at once: far more than contexts, so that waiting requests sit in the arbiter's priority
# queue (where P0 overtakes) rather than in NATS's FIFO subscription buffer (where it could not).
MAX_IN_FLIGHT = 1024


class GatewayApp:
    def __init__(self, settings: GatewaySettings, *, clock: Clock | None = None,
                 broker: NatsBroker | None = None) -> None:
        self.settings = settings
        self.clock = clock or Clock.from_settings(settings)
        self.broker = broker or make_broker(settings, service=SERVICE)
        self.publisher = EventPublisher(self.broker, settings, self.clock, SERVICE)
        self.gateway = BrowserGateway(settings, self.clock, publish=self.publisher.publish)
        self.health = HealthServer(SERVICE, settings.http_host, settings.http_port)
        self.health.checks["session"] = self._session_ready
        self.health.checks["broker"] = self._broker_ready
        for op in OPERATIONS:
            self._subscribe(op)

    def _subscribe(self, op: str) -> None:
        gateway = self.gateway

        async def on_request(body: dict[str, Any]) -> dict[str, Any]:
            return await gateway.handle(op, body)

        on_request.__name__ = f"browser_{op}"
        self.broker.subscriber(
            subject(self.settings.namespace, op), queue=f"{self.settings.namespace}_{SERVICE}",
            max_workers=MAX_IN_FLIGHT, title=f"browser.{op}",
        )(on_request)

    async def _session_ready(self) -> tuple[bool, str]:
        return self.gateway.ready(), "" if self.gateway.ready() else "X session expired: run `xbot login`"

    async def _broker_ready(self) -> tuple[bool, str]:
        conn = self.broker.connection if self.broker.config.connection_state else None
        return (conn is not None and conn.is_connected), ""

    async def start(self) -> str:
        await self.gateway.start()
        await self.broker.start()
        url = await self.health.start()
        await register_service(jetstream(self.broker), self.settings.namespace, SERVICE, url)
        log.info("browser gateway started on %s; side port %s", self.settings.x_base_url, url)
        return url

    async def stop(self) -> None:
        await self.broker.stop()  # waits for requests in hand (graceful_timeout)
        await self.gateway.stop()
        await self.health.stop()


async def run(settings: GatewaySettings) -> None:
    setup_logging(SERVICE, settings.log_level)
    app = GatewayApp(settings)
    stopping = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stopping.set)
    await app.start()
    await stopping.wait()
    await app.stop()
