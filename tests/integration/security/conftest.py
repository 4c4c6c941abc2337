"""A real nats-server running the configuration generated from ops/access.py (users and subject permissions of
this test's namespace, literal generated passwords), on a free port, with its own store."""

from __future__ import annotations

import subprocess
from pathlib import Path

import asyncio

import nats
import pytest

from ops.credentials import load
from ops.infra import nats_server_binary
from ops.nats_auth import inbox_prefix, server_config
from tests.helpers import free_port, wait_until_listening


@pytest.fixture
def credentials(tmp_path: Path):
    return load(tmp_path / "credentials")


@pytest.fixture
def secure_nats(tmp_path: Path, namespace: str, credentials) -> str:
    port = free_port()
    conf = tmp_path / "nats.conf"
    conf.write_text(server_config(credentials.nats, namespace=namespace, port=port, store_dir=tmp_path / "js"))
    # A file, not a pipe: an unread pipe would fill with the server's log and stall it.
    log = tmp_path / "nats-server.log"
    proc = subprocess.Popen([nats_server_binary(), "-c", str(conf)], stdout=log.open("w"), stderr=subprocess.STDOUT)
    try:
        wait_until_listening(proc, port, log)
        yield f"nats://127.0.0.1:{port}"
    finally:
        proc.terminate()
        proc.wait(timeout=10)


class Client:
    """A connection as one component, collecting the server's permission errors."""

    def __init__(self) -> None:
        self.errors: list[str] = []
        self.nc: nats.NATS | None = None

    async def connect(self, url: str, component: str, password: str) -> Client:
        async def on_error(err: Exception) -> None:
            self.errors.append(str(err))

        self.nc = await nats.connect(url, user=component, password=password, error_cb=on_error,
                                     inbox_prefix=inbox_prefix(component), allow_reconnect=False)
        return self

    async def violation(self, subject: str) -> bool:
        """True once the server reported a permissions violation naming ``subject``."""
        for _ in range(100):
            if any("permissions violation" in e.lower() and subject.lower() in e.lower() for e in self.errors):
                return True
            await asyncio.sleep(0.02)
        return False


@pytest.fixture
async def connect(secure_nats: str, credentials):
    clients: list[Client] = []

    async def make(component: str) -> Client:
        client = await Client().connect(secure_nats, component, credentials.nats[component])
        clients.append(client)
        return client

    yield make
    for c in clients:
        await c.nc.close()


