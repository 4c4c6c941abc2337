"""The NATS configs of deploy/ start a real server: the compose one (with the generated users of
deploy/nats/auth.conf) refuses clients without a component's password and serves JetStream to the operator; the
cluster one of deploy/k8s, with its routes' Secret as `xbot credentials k8s` writes it, passes the server's own
config test; the committed auth.conf files are what ops/nats_auth.py generates."""

from __future__ import annotations

import os
import socket
import subprocess
import time
from pathlib import Path

import nats
import pytest
from nats.errors import NoServersError

from tests.integration.deploy.tools import DEPLOY, tool

from ops.access import components
from ops.nats_auth import main as nats_auth_main
from ops.nats_auth import password_variable, routes_config
from tests.helpers import free_port

USER, PASSWORD = "operator", "canary-nats-5e1d"
PASSWORDS = {password_variable(c): f"canary-{c}-5e1d" for c in components()} | {password_variable(USER): PASSWORD}


@pytest.fixture
def server(tmp_path: Path):
    port = free_port()
    # The container's store path becomes a temporary one (the server refuses a second store_dir from a flag);
    # flags override the ports so the test runs beside other servers.
    text = (DEPLOY / "nats" / "nats.conf").read_text()
    assert text.count("/data/jetstream") == 1
    conf = tmp_path / "nats.conf"
    conf.write_text(text.replace("/data/jetstream", str(tmp_path / "js")))
    (tmp_path / "auth.conf").write_text((DEPLOY / "nats" / "auth.conf").read_text())
    proc = subprocess.Popen(
        [tool("nats-server"), "-c", str(conf), "-a", "127.0.0.1", "-p", str(port), "-m", str(free_port())],
        env={**os.environ, **PASSWORDS},
        stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
    )
    try:
        for _ in range(100):
            with socket.socket() as s:
                if s.connect_ex(("127.0.0.1", port)) == 0:
                    break
            if proc.poll() is not None:
                pytest.fail(f"nats-server exited: {proc.stdout.read()}")
            time.sleep(0.05)
        yield f"nats://127.0.0.1:{port}"
    finally:
        proc.terminate()
        proc.wait(timeout=10)


async def test_compose_nats_requires_the_password(server: str) -> None:
    for kwargs in ({}, {"user": USER, "password": "wrong"}):
        with pytest.raises((NoServersError, nats.errors.Error)):
            await nats.connect(server, allow_reconnect=False, max_reconnect_attempts=0, connect_timeout=2,
                               **kwargs)
    nc = await nats.connect(server, user=USER, password=PASSWORD, allow_reconnect=False)
    try:
        info = await nc.jetstream().account_info()
        assert info.limits is not None
    finally:
        await nc.close()


def test_cluster_config_is_valid(tmp_path: Path) -> None:
    # The pod's layout: the ConfigMap in config/, the routes' Secret in routes/ (included as ../routes/routes.conf).
    (tmp_path / "config").mkdir()
    (tmp_path / "routes").mkdir()
    for name in ("nats.conf", "auth.conf"):
        (tmp_path / "config" / name).write_text((DEPLOY / "k8s" / "nats" / name).read_text())
    (tmp_path / "routes" / "routes.conf").write_text(routes_config("canary-route-5e1d"))
    done = subprocess.run(
        [tool("nats-server"), "-t", "-c", str(tmp_path / "config" / "nats.conf")],
        env={**os.environ, "POD_NAME": "nats-0", **PASSWORDS},
        capture_output=True, text=True, timeout=30,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    assert "is valid" in done.stdout + done.stderr
    text = (DEPLOY / "k8s" / "nats" / "nats.conf").read_text()
    assert "http: 127.0.0.1:8222" in text and 'include "../routes/routes.conf"' in text
    assert "http: 127.0.0.1:8222" in (DEPLOY / "nats" / "nats.conf").read_text()


def test_the_committed_users_are_the_generated_ones() -> None:
    assert nats_auth_main(["--check"]) == 0
