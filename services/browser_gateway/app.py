"""Composition root: the broker, one request/reply subscriber per op, the gateway core, the side port.

The gateway has no database (its durable state is the session file and the guardian's KV entry), so it does not
use libs.runtime.service.Service, whose start-up migrates a schema; it reuses that module's parts instead.
Subjects ``<ns>.browser.<op>`` are core NATS: a request is answered once and never stored.
"""

from __future__ import annotations

import asyncio
import logging
import signal
import time
from typing import Any

from faststream.nats import NatsBroker

from libs.bus.broker import jetstream, make_broker
from libs.bus.control import KillSwitchReader
from libs.bus.publish import EventPublisher
from libs.contracts.gateway import OPERATIONS, subject
from libs.core.clock import Clock
from libs.runtime.health import HealthServer, register_service
from libs.core.logging import redact, setup_logging
from services.browser_gateway.gateway import BrowserGateway, api_driver_of
from services.browser_gateway.guardian_store import KvGuardianStore
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
        self.health.status_providers["drivers"] = self._drivers_status
        self.health.status_providers["guardian"] = self._guardian_status
        self.health.status_providers["chromium"] = self._chromium_status
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
        return self.gateway.ready(), self.gateway.not_ready_reason()

    async def _drivers_status(self) -> dict[str, Any]:
        """Which driver serves writes and reads, and the X API's spend and rate limits when it is used."""
        out: dict[str, Any] = {"writes": self.settings.x_write_driver, "reads": self.settings.x_read_driver}
        api = api_driver_of(self.gateway.drivers)
        if api is not None:
            out["x_api"] = api.status()
        return out

    async def _guardian_status(self) -> dict[str, Any]:
        return {**self.gateway.guardian_status(), "writes_paused": (await self.gateway.kill_switch.read()).paused}

    async def _chromium_status(self) -> dict[str, Any]:
        """Chromium's sandbox: on, or the --no-sandbox fallback and why (services/browser_gateway/sandbox.py)."""
        browser = self.gateway.drivers.get("browser")
        pool = getattr(browser, "pool", None)
        return pool.sandbox_status() if pool is not None else {"sandbox": None, "reason": "no browser driver"}

    async def _broker_ready(self) -> tuple[bool, str]:
        conn = self.broker.connection if self.broker.config.connection_state else None
        return (conn is not None and conn.is_connected), ""

    async def start(self) -> str:
        started = time.time()  # before the subscriptions: a request sent after this may be ours, never one before
        await self.broker.connect()
        js = jetstream(self.broker)
        # Read before every write and every thread part; until then (and whenever unreadable) writes are refused.
        self.gateway.kill_switch = KillSwitchReader(js, self.settings.namespace)
        # The guardian's counters and risk survive restarts and are shared by replicas (guardian_store.py).
        self.gateway.store = await KvGuardianStore.open(js, self.settings.namespace, self.settings.x_handle)
        await self.gateway.start()
        await self.broker.start()
        url = await self.health.start()
        await register_service(jetstream(self.broker), self.settings.namespace, SERVICE, url, started=started)
        log.info("browser gateway started on %s (writes: %s driver, reads: %s driver); side port %s",
                 self.settings.x_base_url, self.settings.x_write_driver, self.settings.x_read_driver, url)
        return url

    async def stop(self) -> None:
        await self.broker.stop()  # waits for requests in hand (graceful_timeout)
        await self.gateway.stop()
        await self.health.stop()


async def run(settings: GatewaySettings) -> None:
    setup_logging(SERVICE, settings.log_level)
    redact(*settings.secret_values())
    app = GatewayApp(settings)
    stopping = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stopping.set)
    await app.start()
    await stopping.wait()
    await app.stop()
