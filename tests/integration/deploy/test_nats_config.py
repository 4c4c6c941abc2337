"""The NATS configs of deploy/ start a real server: the compose one refuses clients without the password and
serves JetStream to those with it; the cluster one of deploy/k8s passes the server's own config test."""

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

USER, PASSWORD = "xbot", "canary-nats-5e1d"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture
def server(tmp_path: Path):
    port = free_port()
    # The container's store path becomes a temporary one (the server refuses a second store_dir from a flag);
    # flags override the ports so the test runs beside other servers.
    text = (DEPLOY / "nats" / "nats.conf").read_text()
    assert text.count("/data/jetstream") == 1
    conf = tmp_path / "nats.conf"
    conf.write_text(text.replace("/data/jetstream", str(tmp_path / "js")))
    proc = subprocess.Popen(
        [tool("nats-server"), "-c", str(conf), "-a", "127.0.0.1", "-p", str(port), "-m", str(free_port())],
        env={**os.environ, "XBOT_NATS_USER": USER, "XBOT_NATS_PASSWORD": PASSWORD},
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


def test_cluster_config_is_valid() -> None:
    done = subprocess.run(
        [tool("nats-server"), "-t", "-c", str(DEPLOY / "k8s" / "nats" / "nats.conf")],
        env={**os.environ, "POD_NAME": "nats-0", "XBOT_NATS_USER": USER, "XBOT_NATS_PASSWORD": PASSWORD},
        capture_output=True, text=True, timeout=30,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    assert "is valid" in done.stdout + done.stderr
