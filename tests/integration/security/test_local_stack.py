"""The local `xbot up` runs its own servers with per-service credentials: a nats-server with the generated users,
a PostgreSQL cluster that wants a password from everyone, its socket in a private folder, and each component's
secrets in files only it is meant to read."""

from __future__ import annotations

import os
import shutil
import signal
import stat
import subprocess
import tempfile
from pathlib import Path

import asyncpg
import nats
import pytest

from libs.core.settings import CommonSettings
from ops import infra
from ops.access import ACCESS, OPERATOR, component_env
from tests.helpers import free_port


@pytest.fixture
def stack(namespace: str):
    # Not pytest's tmp_path: its parent is private to root, and PostgreSQL runs as another user.
    tmp = Path(tempfile.mkdtemp(prefix="xbot-secure-"))
    os.chmod(tmp, 0o755)
    ports = {"nats": free_port(), "pg": free_port()}
    envs = infra.ensure_secure_servers(namespace, credentials_dir=tmp / "credentials", nats_port=ports["nats"],
                                       pg_port=ports["pg"], nats_data=tmp / "nats", pg_data=tmp / "pg")
    try:
        yield tmp, ports, envs
    finally:
        run_as = ["runuser", "-u", infra._unprivileged_user(), "--"] if os.geteuid() == 0 else []
        subprocess.run([*run_as, infra._pg_bin("pg_ctl"), "-D", str(tmp / "pg"), "stop", "-m", "fast"],
                       capture_output=True)
        os.kill(int((tmp / "nats" / "nats-server.pid").read_text()), signal.SIGTERM)
        shutil.rmtree(tmp, ignore_errors=True)


def settings_of(env: dict[str, str], monkeypatch: pytest.MonkeyPatch) -> CommonSettings:
    for name in list(os.environ):
        if name.startswith("XBOT_"):
            monkeypatch.delenv(name)
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    return CommonSettings()


async def test_every_component_connects_with_its_own_files_and_nothing_else_gets_in(stack, monkeypatch) -> None:
    tmp, ports, envs = stack
    assert set(envs) == {a.component for a in ACCESS}
    creds = tmp / "credentials"
    assert stat.S_IMODE(creds.stat().st_mode) == 0o700
    for path in creds.rglob("*"):
        assert stat.S_IMODE(path.stat().st_mode) == (0o700 if path.is_dir() else 0o600), path
    for component, env in envs.items():
        assert "XBOT_NATS_PASSWORD" not in env and "XBOT_DATABASE_PASSWORD" not in env  # files, not variables
        settings = settings_of(env, monkeypatch)
        nc = await nats.connect(settings.nats_url, user=settings.nats_user,
                                password=settings.nats_password.get_secret_value(), allow_reconnect=False)
        await nc.close()
        if "XBOT_DATABASE_URL" in env:
            conn = await asyncpg.connect(settings.dsn)
            role = await conn.fetchval("SELECT current_user")
            assert not await conn.fetchval("SELECT rolsuper FROM pg_roles WHERE rolname = current_user")
            await conn.close()
            assert role == ("xbot_migrator" if component == OPERATOR else f"xbot_{component}")
    # Without the password: refused by both servers (password authentication, not trust).
    with pytest.raises(Exception):  # noqa: B017 - NoServersError or an authorization error, by version
        await nats.connect(f"nats://127.0.0.1:{ports['nats']}", allow_reconnect=False, max_reconnect_attempts=0,
                           connect_timeout=2)
    for user in ("postgres", "xbot_poster"):
        with pytest.raises((asyncpg.InvalidPasswordError, asyncpg.InvalidAuthorizationSpecificationError)):
            await asyncpg.connect(f"postgresql://{user}@127.0.0.1:{ports['pg']}/xbot")
    # The Unix socket is in the cluster's private folder, not /tmp.
    assert list((tmp / "pg").glob(f".s.PGSQL.{ports['pg']}"))
    assert not Path(f"/tmp/.s.PGSQL.{ports['pg']}").exists()
    assert stat.S_IMODE((tmp / "pg").stat().st_mode) == 0o700
    # The monitoring port is not opened.
    assert "http" not in (creds / "nats.conf").read_text().split("authorization")[0]


def test_a_component_never_receives_anothers_secret() -> None:
    shell = {"XBOT_LLM_API_KEY": "sk-llm", "XBOT_X_SESSION": "c2Vzc2lvbg==", "XBOT_X_API_CLIENT_SECRET": "cs",
             "XBOT_NATS_PASSWORD": "shared", "XBOT_DATABASE_PASSWORD": "shared", "XBOT_TIME_SCALE": "1"}
    for a in ACCESS:
        env = component_env(shell, a.component)
        assert env["XBOT_TIME_SCALE"] == "1"
        assert "XBOT_NATS_PASSWORD" not in env and "XBOT_DATABASE_PASSWORD" not in env
        assert ("XBOT_LLM_API_KEY" in env) == (a.component == "planner")
        assert ("XBOT_X_SESSION" in env) == ("XBOT_X_API_CLIENT_SECRET" in env) == (a.component == "browser_gateway")
