"""A NATS server and a PostgreSQL server of the chaos suite's own, on free loopback ports with temporary data
directories, so the suite can stop and restart them without touching the servers other tests share."""

from __future__ import annotations

import glob
import os
import shutil
import signal
import subprocess
import tempfile
from pathlib import Path

from ops.infra import _wait, nats_server_binary, start_postgres
from tests.helpers import free_port


class OwnNats:
    def __init__(self, *, config: Path | None = None) -> None:
        self.port = free_port()
        self.dir = Path(tempfile.mkdtemp(prefix="xbot-chaos-nats-"))
        self.config = config
        self.proc: subprocess.Popen | None = None
        self.log = self.dir / "nats.log"

    @property
    def url(self) -> str:
        return f"nats://127.0.0.1:{self.port}"

    def start(self) -> None:
        cmd = [nats_server_binary(), "-a", "127.0.0.1", "-p", str(self.port), "-js", "-sd", str(self.dir / "js")]
        if self.config:
            cmd += ["-c", str(self.config)]
        self.proc = subprocess.Popen(cmd, stdout=open(self.log, "ab"), stderr=subprocess.STDOUT)  # noqa: SIM115
        _wait(self.url, "chaos nats-server", 20)

    def kill(self) -> None:
        """SIGKILL: no goodbye to the clients, as when the host dies."""
        if self.proc and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGKILL)
            self.proc.wait()

    def close(self) -> None:
        self.kill()
        shutil.rmtree(self.dir, ignore_errors=True)


def _pg_ctl() -> str:
    found = sorted(glob.glob("/usr/lib/postgresql/*/bin/pg_ctl"))
    return found[-1] if found else (shutil.which("pg_ctl") or "pg_ctl")


class OwnPostgres:
    def __init__(self) -> None:
        self.port = free_port()
        self.root = Path(tempfile.mkdtemp(prefix="xbot-chaos-pg-"))
        os.chmod(self.root, 0o755)  # the postgres user must reach its data directory inside
        self.data = self.root / "data"
        self.run_as = ["runuser", "-u", "postgres", "--"] if os.geteuid() == 0 else []

    @property
    def url(self) -> str:
        return f"postgresql://postgres@127.0.0.1:{self.port}/postgres"

    def start(self) -> None:
        start_postgres(self.port, self.data)

    def stop(self, mode: str = "immediate") -> None:
        """``immediate``: no checkpoint, crash recovery at the next start (what a killed server leaves)."""
        subprocess.run([*self.run_as, _pg_ctl(), "-D", str(self.data), "-m", mode, "-w", "stop"],
                       check=False, capture_output=True)

    def close(self) -> None:
        self.stop()
        shutil.rmtree(self.root, ignore_errors=True)
