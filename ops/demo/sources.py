"""Where the demo's figures come from: the sandbox's admin and ground-truth API over HTTP, and the planner's,
poster's and learner's event streams. The demo only reads; it never writes to the sandbox or the streams."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path
from typing import Any

import aiohttp
from nats.aio.client import Client

from libs.contracts.registry import PRODUCERS
from ops.demo.figures import EventLog
from libs.bus.nats import connect
from libs.core.settings import CommonSettings
from ops.status import announced_services

METRICS_TIMEOUT_S = 3.0
METRICS_DEADLINE_S = 20.0


class SandboxAdmin:
    def __init__(self, base_url: str, token: str, http: aiohttp.ClientSession) -> None:
        self.base_url = base_url.rstrip("/")
        self._headers = {"Authorization": f"Bearer {token}"}
        self._http = http

    async def _get(self, path: str, **params: Any) -> Any:
        async with self._http.get(self.base_url + path, params=params, headers=self._headers,
                                  timeout=aiohttp.ClientTimeout(total=20)) as resp:
            if resp.status != 200:
                raise RuntimeError(f"sandbox {path} answered {resp.status}: {(await resp.text())[:200]}")
            return await resp.json()

    async def account(self) -> dict:
        return await self._get("/admin/account")

    async def growth(self, body: dict[str, Any]) -> dict:
        """/sim/growth (sandbox/growth.py): expected follows of the choices made against uniform and best ones."""
        async with self._http.post(self.base_url + "/sim/growth", json=body, headers=self._headers,
                                   timeout=aiohttp.ClientTimeout(total=300)) as resp:
            if resp.status != 200:
                raise RuntimeError(f"sandbox /sim/growth answered {resp.status}: {(await resp.text())[:200]}")
            return await resp.json()

    async def snapshot(self) -> tuple[dict, list[dict]]:
        """The account and our tweets at one simulated instant (the account's ``now``)."""
        answer = await self._get("/admin/snapshot")
        return answer["account"], answer["tweets"]

    async def followers_series(self, *, hours: float, step_minutes: float) -> list[dict]:
        return (await self._get("/admin/followers_series", hours=f"{hours:.6f}",
                                step_minutes=f"{step_minutes:.6f}"))["series"]

    async def best_choice(self, followers: int) -> dict:
        return await self._get("/sim/best_choice", followers=str(followers))

    async def x_api_bill(self) -> dict:
        """What the sandbox's X API billed the account per UTC day (each resource once a day, X's prices)."""
        usage = await self._get("/admin/xapi/usage")
        return {"billed_usd": usage["billed_usd_total"],
                "days": [{k: d[k] for k in ("day", "posts_read_unique", "users_read_unique", "posts_created",
                                            "posts_created_url", "billed_usd")} for d in usage["days"]]}

    async def x_activity(self) -> dict:
        """What the sandbox served the account (its ground truth, as X would count it): per calendar day, and the
        automation-suspicion score now."""
        activity = await self._get("/sim/activity")
        suspicion = await self._get("/sim/suspicion")
        keys = ("page_loads", "posts_viewed", "searches", "status_views", "profile_views", "writes",
                "rate_limited", "notices")
        return {"days": [{"date": d["date"], **{k: d.get(k, 0) for k in keys}} for d in activity.get("days", [])],
                "reading_limit": activity.get("reading_limit", {}),
                "suspicion": {k: suspicion.get(k) for k in ("score", "state", "max_score", "max_score_at",
                                                            "thresholds", "notices", "locks")}}


class EventWatcher:
    """Follows every producer's stream from its first message with ordered consumers into an EventLog."""

    def __init__(self, settings: CommonSettings) -> None:
        self.settings = settings
        self.log = EventLog()
        self.unreadable = 0
        self._nc: Client | None = None

    async def start(self) -> None:
        self._nc = await connect(self.settings, name="xbot-demo")
        js = self._nc.jetstream()
        for producer in PRODUCERS:
            await js.subscribe(f"{self.settings.namespace}.{producer}.>", cb=self._on_message,
                               ordered_consumer=True)

    async def _on_message(self, msg) -> None:
        try:
            self.log.add(json.loads(msg.data))
        except (ValueError, TypeError, KeyError):
            self.unreadable += 1  # counted, not guessed at

    async def stop(self) -> None:
        if self._nc is not None:
            await self._nc.close()
            self._nc = None


async def service_urls(settings: CommonSettings, services: tuple[str, ...]) -> dict[str, str]:
    """Side URLs the services announced in the KV bucket ``control`` (as `xbot status` reads them)."""
    nc = await connect(settings, name="xbot-demo-metrics")
    try:
        return {name: entry["url"]
                for name, entry in (await announced_services(nc.jetstream(), settings.namespace, services)).items()}
    finally:
        await nc.close()


async def scrape_metrics(http: aiohttp.ClientSession, urls: dict[str, str], services: tuple[str, ...],
                         out_dir: Path) -> dict[str, str | None]:
    """Each service's /metrics as it answers now, into ``<out_dir>/<service>.prom``; for each service None when
    scraped, else why not (it did not announce itself, or did not answer within ``METRICS_DEADLINE_S``).

    A busy service is asked again until the deadline, as Prometheus would at its next scrape: one GET timing out
    while the service's loop was held by a draft on a loaded machine said nothing about its metrics."""
    out_dir.mkdir(parents=True, exist_ok=True)
    loop = asyncio.get_running_loop()

    async def scrape(name: str) -> str | None:
        if name not in urls:
            return "not announced"
        deadline = loop.time() + METRICS_DEADLINE_S
        while True:
            try:
                async with http.get(urls[name] + "/metrics",
                                    timeout=aiohttp.ClientTimeout(total=METRICS_TIMEOUT_S)) as resp:
                    if resp.status == 200:
                        (out_dir / f"{name}.prom").write_text(await resp.text())
                        return None
                    reason = f"HTTP {resp.status}"
            except Exception as err:  # noqa: BLE001 - a service that does not answer is recorded as such
                reason = repr(err)
            if loop.time() >= deadline:
                return reason
            await asyncio.sleep(0.5)

    return dict(zip(services, await asyncio.gather(*(scrape(n) for n in services)), strict=True))
