"""`xbot status`: readiness and figures of every service, consumer lag and the DLQ, read from the running
system (services announce their side port in the KV bucket ``services``), never made up."""

from __future__ import annotations

import json

import aiohttp
from nats.js.errors import NotFoundError

from libs.bus.control import KillSwitch
from libs.bus.streams import DLQ, dlq_subject, kv_bucket, stream_name
from libs.contracts.registry import PRODUCERS
from libs.bus.nats import connect
from libs.core.settings import CommonSettings


async def announced_services(js, namespace: str, services: tuple[str, ...]) -> dict[str, dict]:
    """What each running service announced in KV ``services`` at start (its side URL, pid, host); a service
    that never started is absent."""
    try:
        registry = await js.key_value(kv_bucket(namespace, "services"))
    except Exception:  # noqa: BLE001 - not provisioned
        return {}
    found: dict[str, dict] = {}
    for name in services:
        try:
            found[name] = json.loads((await registry.get(f"svc.{name}")).value)
        except Exception:  # noqa: BLE001 - never started
            continue
    return found


async def dead_letters_by_service(js, namespace: str) -> dict[str, int]:
    """Dead letters per service, counted by the server from the DLQ stream's subjects ``<ns>.dlq.<service>``
    (no message is read)."""
    prefix = dlq_subject(namespace, "")
    try:
        info = await js.stream_info(stream_name(namespace, DLQ), subjects_filter=dlq_subject(namespace, ">"))
    except NotFoundError:
        return {}
    return {subject.removeprefix(prefix): n for subject, n in sorted((info.state.subjects or {}).items())}


async def collect_status(settings: CommonSettings, services: tuple[str, ...]) -> dict:
    ns = settings.namespace
    nc = await connect(settings, name="xbot-status")
    js = nc.jetstream()
    report: dict = {"namespace": ns, "services": {}, "streams": {}, "consumers": {}}
    try:
        announced = await announced_services(js, ns, services)
        async with aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=3)) as http:
            for name in services:
                entry = announced.get(name)
                if entry is None:
                    report["services"][name] = {"state": "never started"}
                    continue
                try:
                    async with http.get(entry["url"] + "/status") as resp:
                        report["services"][name] = {"state": "ready" if resp.status == 200 else "running",
                                                    **(await resp.json())}
                except Exception as err:  # noqa: BLE001
                    report["services"][name] = {"state": "unreachable", "url": entry["url"], "error": repr(err)}
        for producer in (*PRODUCERS, "dlq"):
            sname = stream_name(ns, producer)
            try:
                info = await js.stream_info(sname)
            except NotFoundError:
                report["streams"][sname] = "not provisioned"
                continue
            report["streams"][sname] = info.state.messages
            for c in await js.consumers_info(sname):
                report["consumers"][c.name] = {"pending": c.num_pending, "ack_pending": c.num_ack_pending,
                                               "redelivered": c.num_redelivered}
        # Every listed service gets a count (0 included); letters of any other consumer are kept as well.
        by_service = await dead_letters_by_service(js, ns)
        report["dlq_by_service"] = {**{name: 0 for name in services}, **by_service}
        report["dlq"] = sum(by_service.values())
        # Fails closed, as the poster does: an unreadable switch shows as paused, with the reason.
        try:
            switch = await KillSwitch.open(js, ns)
        except Exception as err:  # noqa: BLE001 - not provisioned or unreachable
            report["writes"] = {"paused": True, "reason": f"the kill switch is unreadable ({type(err).__name__})"}
        else:
            report["writes"] = (await switch.read()).as_dict()
    finally:
        await nc.close()
    return report


def _flat(value: object) -> str:
    if isinstance(value, dict):
        return ", ".join(f"{k} {_flat(v)}" for k, v in value.items())
    return str(value)


def render_status(report: dict) -> str:
    """One line per service with its state, dead letters and failing checks, then each block the service
    reports (queue, last post, risk, spend, policy version, ...) on its own indented line."""
    dlq = report.get("dlq_by_service", {})
    lines = [f"namespace {report['namespace']}", "", "SERVICE            STATE                DLQ  DETAIL"]
    for name, s in report["services"].items():
        checks = s.get("checks") or {}
        failing = ", ".join(f"{k} {v}" for k, v in checks.items() if not str(v).startswith("ok"))
        lines.append(f"{name:<18} {s['state']:<15} {dlq.get(name, 0):>8}  {failing or s.get('error', '')}".rstrip())
        for block, value in s.items():
            if block not in ("state", "checks", "service", "ready", "url", "error"):
                lines.append(f"{'':<20}{block}: {_flat(value)}")
    lines += ["", "STREAM               MESSAGES"]
    lines += [f"{k:<20} {v}" for k, v in report["streams"].items()]
    lines += ["", "CONSUMER                                   PENDING  ACK-PENDING"]
    lines += [f"{k:<42} {v['pending']:>7}  {v['ack_pending']:>11}" for k, v in report["consumers"].items()]
    # The total, split by service; a consumer that is not a listed service (a tool, a test) shows up only here.
    split = ", ".join(f"{k} {v}" for k, v in dlq.items() if v)
    lines += ["", f"dead letters: {report.get('dlq', 0)}" + (f" ({split})" if split else ""),
              f"writes: {_flat(report.get('writes', {}))}"]
    # Chromium without its sandbox renders strangers' tweets next to the session: never a detail in a block.
    for name, s in report["services"].items():
        chromium = s.get("chromium")
        if isinstance(chromium, dict) and chromium.get("sandbox") is False:
            reason = chromium.get("reason") or "no reason given"
            lines.append(f"WARNING: {name}'s Chromium runs with --no-sandbox ({reason}); see XBOT_CHROMIUM_SANDBOX")
    return "\n".join(lines)
