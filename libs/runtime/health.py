"""The side HTTP port of every service: /health (alive), /ready (dependencies fine), /metrics, /status."""

from __future__ import annotations

import json
import logging
import os
import socket
from collections.abc import Awaitable, Callable
from typing import Any

from aiohttp import web
from nats.js import JetStreamContext
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest

from libs.bus.streams import kv_bucket
from libs.core import metrics

logger = logging.getLogger("xbot.health")

ReadyCheck = Callable[[], Awaitable[tuple[bool, str]]]
StatusProvider = Callable[[], Awaitable[dict[str, Any]]]


class HealthServer:
    def __init__(self, service: str, host: str, port: int) -> None:
        self.service = service
        self.host = host
        self.port = port
        self.checks: dict[str, ReadyCheck] = {}
        self.status_providers: dict[str, StatusProvider] = {}
        # Routes a service adds to its side port (the notifier's Alertmanager webhook): (method, path, handler).
        self.routes: list[tuple[str, str, Callable[[web.Request], Awaitable[web.StreamResponse]]]] = []
        self._runner: web.AppRunner | None = None
        self.url = ""

    async def readiness(self) -> tuple[bool, dict[str, str]]:
        results: dict[str, str] = {}
        ok = True
        for name, check in self.checks.items():
            try:
                passed, detail = await check()
            except Exception as err:  # noqa: BLE001 - a check that raises means not ready
                passed, detail = False, repr(err)
            ok = ok and passed
            results[name] = ("ok" if passed else "FAIL") + (f": {detail}" if detail else "")
        metrics.service_ready.labels(self.service).set(1 if ok else 0)
        return ok, results

    async def _health(self, _: web.Request) -> web.Response:
        return web.json_response({"service": self.service, "status": "alive"})

    async def _ready(self, _: web.Request) -> web.Response:
        ok, results = await self.readiness()
        return web.json_response({"service": self.service, "ready": ok, "checks": results}, status=200 if ok else 503)

    async def _metrics(self, _: web.Request) -> web.Response:
        return web.Response(body=generate_latest(metrics.registry), headers={"Content-Type": CONTENT_TYPE_LATEST})

    async def _status(self, _: web.Request) -> web.Response:
        ok, checks = await self.readiness()
        body: dict[str, Any] = {"service": self.service, "ready": ok, "checks": checks}
        for name, provider in self.status_providers.items():
            try:
                body[name] = await provider()
            except Exception as err:  # noqa: BLE001
                body[name] = {"error": repr(err)}
        return web.Response(text=json.dumps(body, default=str), content_type="application/json")

    async def start(self) -> str:
        app = web.Application()
        app.router.add_get("/health", self._health)
        app.router.add_get("/ready", self._ready)
        app.router.add_get("/metrics", self._metrics)
        app.router.add_get("/status", self._status)
        for method, path, handler in self.routes:
            app.router.add_route(method, path, handler)
        self._runner = web.AppRunner(app, access_log=None)
        await self._runner.setup()
        site = web.TCPSite(self._runner, self.host, self.port)
        await site.start()
        port = int(self._runner.addresses[0][1])  # the port chosen for port 0
        self.url = f"http://{self.host}:{port}"
        return self.url

    async def stop(self) -> None:
        if self._runner:
            await self._runner.cleanup()


async def register_service(js: JetStreamContext, namespace: str, service: str, url: str, *, started: float) -> None:
    """Announce a service's side port in KV so `xbot status` finds every running service. ``started``: when this
    process began to start (real epoch seconds), before it took any request: gateway clients read it to learn that
    the gateway which took their request has been replaced (libs/bus/gateway.py)."""
    try:
        kv = await js.key_value(kv_bucket(namespace, "services"))
    except Exception as err:  # noqa: BLE001 - the service works without it; only `xbot status` won't see it
        logger.warning("cannot announce %s in KV (%s); run `xbot provision`", service, err)
        return
    await kv.put(f"svc.{service}", json.dumps(
        {"url": url, "pid": os.getpid(), "host": socket.gethostname(), "started": started}).encode())
