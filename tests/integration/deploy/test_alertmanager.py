"""Alertmanager's configuration (deploy/alertmanager/alertmanager.yml): `amtool check-config` passes and fails
on a broken copy, every alert reaches the notifier's webhook, and a real Alertmanager (Debian's
prometheus-alertmanager, run here on free ports) groups alerts by name and lets a cause silence its
consequences, with the notifier's parser reading what it sends."""

from __future__ import annotations

import asyncio
import shutil
import subprocess
from datetime import UTC, datetime
from pathlib import Path

import aiohttp
import pytest
import yaml
from aiohttp import web

from services.notifier.notices import ALERT_KINDS, alert_notice
from tests.integration.deploy.tools import DEPLOY, tool
from tests.integration.notifier.catchers import free_port

CONFIG = DEPLOY / "alertmanager" / "alertmanager.yml"
RULES = DEPLOY / "prometheus" / "alerts.yml"


def amtool(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([tool("amtool"), *args], capture_output=True, text=True, timeout=60)


def alert_names() -> set[str]:
    return {r["alert"] for g in yaml.safe_load(RULES.read_text())["groups"] for r in g["rules"] if "alert" in r}


def test_config_checks_and_a_broken_one_fails(tmp_path: Path) -> None:
    done = amtool("check-config", str(CONFIG))
    assert done.returncode == 0 and "SUCCESS" in done.stdout, done.stdout + done.stderr
    broken = tmp_path / "alertmanager.yml"
    broken.write_text(CONFIG.read_text().replace("receiver: notifier\n  # One", "receiver: nobody\n  # One"))
    done = amtool("check-config", str(broken))
    assert done.returncode != 0 and "nobody" in done.stdout + done.stderr


def test_every_alert_routes_to_the_notifier_and_is_a_known_kind() -> None:
    names = alert_names()
    for name in sorted(names):
        for severity in ("critical", "warning"):
            done = amtool("config", "routes", "test", f"--config.file={CONFIG}", f"alertname={name}",
                          f"severity={severity}")
            assert done.returncode == 0 and done.stdout.strip() == "notifier", (name, done.stdout, done.stderr)
    # The notifier sorts every rule's alert into a kind the owner can switch off; none falls to "alert".
    assert names <= set(ALERT_KINDS), names - set(ALERT_KINDS)
    # Inhibition names only alerts that exist (a renamed rule must not silently end an inhibition).
    text = CONFIG.read_text()
    named = {w for w in text.replace('"', " ").replace("|", " ").replace("~", " ").replace("=", " ").split()
             if w.startswith("Xbot")}
    assert named and named <= names, named - names


@pytest.fixture
async def alertmanager(tmp_path: Path):
    """A real Alertmanager with the committed inhibitions and grouping, its webhook pointed at a local receiver
    standing in for the notifier, and a 1-second group wait."""
    binary = shutil.which("prometheus-alertmanager") or shutil.which("alertmanager")
    assert binary, "apt-get install prometheus-alertmanager (./xbot test and ./xbot setup do this)"
    received: list[dict] = []

    async def webhook(request: web.Request) -> web.Response:
        received.append(await request.json())
        return web.json_response({})

    app = web.Application()
    app.router.add_post("/alertmanager", webhook)
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    hook_port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
    config = yaml.safe_load(CONFIG.read_text())
    config["receivers"][0]["webhook_configs"][0]["url"] = f"http://127.0.0.1:{hook_port}/alertmanager"
    for route in [config["route"], *config["route"]["routes"]]:
        route["group_wait"] = "1s"
    (tmp_path / "am.yml").write_text(yaml.safe_dump(config))
    port = free_port()
    proc = subprocess.Popen([binary, f"--config.file={tmp_path / 'am.yml'}", f"--storage.path={tmp_path / 'data'}",
                             f"--web.listen-address=127.0.0.1:{port}", "--cluster.listen-address="],
                            stdout=subprocess.DEVNULL, stderr=open(tmp_path / "am.log", "wb"))  # noqa: SIM115
    url = f"http://127.0.0.1:{port}"
    try:
        async with aiohttp.ClientSession() as http:
            for _ in range(200):
                try:
                    async with http.get(f"{url}/-/ready") as resp:
                        if resp.status == 200:
                            break
                except aiohttp.ClientError:
                    pass
                await asyncio.sleep(0.05)
            yield http, url, received
    finally:
        proc.terminate()
        proc.wait(timeout=10)
        await runner.cleanup()


def alert(name: str, severity: str, **labels: str) -> dict:
    return {"labels": {"alertname": name, "severity": severity, **labels},
            "annotations": {"summary": f"{name} {labels.get('service', '')}".strip()},
            "startsAt": datetime.now(UTC).isoformat()}


async def test_a_lock_silences_its_consequences_and_alerts_are_grouped(alertmanager) -> None:
    http, url, received = alertmanager
    sent = [alert("XbotAccountLocked", "critical"), alert("XbotAccountRiskHigh", "critical"),
            alert("XbotBreakerOpen", "warning", family="write"), alert("XbotWriteLimitsHit", "warning"),
            alert("XbotServiceNotReady", "critical", service="planner"),
            alert("XbotServiceNotReady", "critical", service="poster")]
    async with http.post(f"{url}/api/v2/alerts", json=sent) as resp:
        assert resp.status == 200, await resp.text()

    async def states() -> dict[str, str]:
        async with http.get(f"{url}/api/v2/alerts") as resp:
            body = await resp.json()
        return {f"{a['labels']['alertname']}/{a['labels'].get('service', '')}": a["status"]["state"] for a in body}

    for _ in range(200):
        if len(await states()) == 6 and {tuple(sorted(r["groupLabels"].items())) for r in received} >= {
                (("alertname", "XbotAccountLocked"),), (("alertname", "XbotServiceNotReady"),)}:
            break
        await asyncio.sleep(0.05)
    assert await states() == {"XbotAccountLocked/": "active", "XbotAccountRiskHigh/": "suppressed",
                              "XbotBreakerOpen/": "suppressed", "XbotWriteLimitsHit/": "suppressed",
                              "XbotServiceNotReady/planner": "active", "XbotServiceNotReady/poster": "active"}
    names = sorted(r["groupLabels"]["alertname"] for r in received)
    assert names == ["XbotAccountLocked", "XbotServiceNotReady"], names  # nothing of the inhibited ones
    # What the notifier makes of them: one notice per group, the two services in one message.
    notices = {n.kind: n for n in (alert_notice(r, received_at=datetime.now(UTC)) for r in received)}
    assert notices["account"].title == "Alert: XbotAccountLocked"
    assert notices["service"].title == "Alert: XbotServiceNotReady (2)"
    assert "planner" in notices["service"].body and "poster" in notices["service"].body
