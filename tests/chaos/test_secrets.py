"""Canary secrets (the X session, the LLM API key, the database and NATS passwords) run through every service
as real subprocesses and must never show up in anything the suite can capture: stdout/stderr of every process
(including `provision`, `status --json` and a start-up refused for a bad setting), the side ports' /health,
/ready, /status and /metrics, and every message of every stream and KV bucket of the namespace.

Covered elsewhere, not repeated here: the sandbox's admin/ground-truth/LLM-fault routes refuse a missing or
wrong token (tests/integration/sandbox/test_ground_truth_routes.py, tests/e2e/sandbox/test_sandbox_server.py),
the session file is 0600 (tests/e2e/browser_gateway/test_gateway_ops.py), the compose NATS requires auth
(tests/integration/deploy)."""

from __future__ import annotations

import asyncio
import base64
import json
import signal
import subprocess
import sys
import uuid
from urllib.parse import urlparse, urlunparse

import aiohttp
import pytest

from libs.bus.streams import KV_BUCKETS, kv_bucket, stream_configs
from tests.chaos import system
from tests.chaos.servers import free_port

pytestmark = pytest.mark.timeout(240)

SERVICES_UNDER_TEST = (*system.SERVICES, "browser_gateway")


def _canaries() -> dict[str, str]:
    tag = uuid.uuid4().hex[:12]
    return {"session": f"CANARYSESSION{tag}", "api_key": f"sk-CANARYKEY{tag}", "db": f"CANARYDBPW{tag}",
            "nats": f"CANARYNATS{tag}"}


def _leaks(text: str | bytes, canaries: dict[str, str]) -> list[str]:
    blob = text.decode("utf-8", "replace") if isinstance(text, bytes) else text
    return [name for name, value in canaries.items() if value in blob]


async def _side_port_pages(port: int) -> dict[str, str]:
    pages = {}
    async with aiohttp.ClientSession() as session:
        for _ in range(450):  # the service may still be starting (the planner loads an embedding model)
            try:
                async with session.get(f"http://127.0.0.1:{port}/health") as r:
                    if r.status == 200:
                        break
            except aiohttp.ClientError:
                pass
            await asyncio.sleep(0.2)
        for page in ("health", "ready", "status", "metrics"):
            try:
                async with session.get(f"http://127.0.0.1:{port}/{page}") as r:
                    pages[page] = await r.text()
            except aiohttp.ClientError as err:
                pages[page] = f"unreachable: {err}"
    return pages


async def test_canary_secrets_never_leave_the_process(settings, js, service_env, tmp_path):
    canaries = _canaries()
    dsn = urlparse(settings.dsn)
    # Trust authentication ignores the password, so the services run normally while carrying it everywhere.
    dsn_with_password = urlunparse(dsn._replace(netloc=f"postgres:{canaries['db']}@{dsn.hostname}:{dsn.port}"))
    # The session as the gateway takes it: a base64 Playwright storage state whose auth cookie is the canary.
    state = {"cookies": [{"name": "auth_token", "value": canaries["session"], "domain": "127.0.0.1", "path": "/",
                          "expires": -1, "httpOnly": True, "secure": False, "sameSite": "Lax"}], "origins": []}
    session_b64 = base64.b64encode(json.dumps(state).encode()).decode()
    canaries["session_b64"] = session_b64
    env = dict(service_env, XBOT_DATABASE_URL=dsn_with_password, XBOT_X_SESSION=session_b64,
               XBOT_LLM_API_KEY=canaries["api_key"], XBOT_NATS_USER="xbot", XBOT_NATS_PASSWORD=canaries["nats"],
               XBOT_TIME_SCALE="600", XBOT_X_BASE_URL="http://127.0.0.1:9")
    captured: dict[str, str | bytes] = {}
    for name in SERVICES_UNDER_TEST:
        await system.fresh_schema(settings.dsn, name)
    provisioned = await asyncio.gather(*(asyncio.to_thread(
        subprocess.run, [sys.executable, "-m", f"services.{name}", "provision"], env=env, capture_output=True,
        text=True, timeout=120) for name in SERVICES_UNDER_TEST))
    for name, out in zip(SERVICES_UNDER_TEST, provisioned, strict=True):
        captured[f"{name} provision"] = out.stdout + out.stderr
        assert out.returncode == 0, out.stderr[-800:]

    procs, ports, logs = {}, {}, tmp_path
    for name in SERVICES_UNDER_TEST:
        ports[name] = free_port()
        # Output to a file, not a pipe: a full pipe would block a chatty service and hide its side port.
        procs[name] = subprocess.Popen([sys.executable, "-m", f"services.{name}", "run"],
                                       env=dict(env, XBOT_HTTP_PORT=str(ports[name])),
                                       stdout=open(logs / f"{name}.log", "wb"), stderr=subprocess.STDOUT)  # noqa: SIM115
    try:
        for name in SERVICES_UNDER_TEST:
            for page, body in (await _side_port_pages(ports[name])).items():
                captured[f"{name} /{page}"] = body
        status = await asyncio.to_thread(subprocess.run, [sys.executable, "-m", "libs.cli", "status", "--json"],
                                         env=env, capture_output=True, text=True, timeout=60)
        captured["xbot status"] = status.stdout + status.stderr
    finally:
        for name, proc in procs.items():
            proc.send_signal(signal.SIGTERM)
        for name, proc in procs.items():
            try:
                proc.wait(timeout=40)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()
            captured[f"{name} output"] = (logs / f"{name}.log").read_text(errors="replace")
    bad = await asyncio.to_thread(subprocess.run, [sys.executable, "-m", "services.poster", "run"],
                                  env=dict(env, XBOT_TIME_SCALE="fast"), capture_output=True, text=True, timeout=60)
    assert bad.returncode == 2 and "XBOT_TIME_SCALE" in bad.stderr
    captured["refused start"] = bad.stdout + bad.stderr

    for cfg in stream_configs(settings.namespace):
        info = await js.stream_info(cfg.name)
        for seq in range(info.state.first_seq, info.state.last_seq + 1 if info.state.messages else 0):
            msg = await js.get_msg(cfg.name, seq)
            captured[f"{cfg.name}#{seq}"] = msg.data + repr(msg.headers).encode()
    for bucket in KV_BUCKETS:
        kv = await js.key_value(kv_bucket(settings.namespace, bucket))
        try:
            keys = await kv.keys()
        except Exception:  # noqa: BLE001 - nats-py raises when a bucket is empty
            keys = []
        for key in keys:
            captured[f"kv {bucket}/{key}"] = (await kv.get(key)).value or b""

    # The grep proves something only if the services really ran and answered.
    for name in SERVICES_UNDER_TEST:
        assert "xbot_" in captured[f"{name} /metrics"], (name, str(captured[f"{name} output"])[-800:])
    leaks = {where: found for where, text in captured.items() if (found := _leaks(text, canaries))}
    assert leaks == {}
