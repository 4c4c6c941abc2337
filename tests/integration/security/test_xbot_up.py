"""`xbot up` runs its own authenticated servers and each service with its own NATS user, database role and
secrets; `xbot status` (the operator) sees them ready on that stack. Two services keep it fast."""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import psutil
import pytest

from ops import infra
from tests.helpers import free_port

pytestmark = [pytest.mark.timeout(240), pytest.mark.long(minutes=1.1)]
UP = ("poster", "learner")


def _status(env: dict[str, str]) -> dict:
    done = subprocess.run([sys.executable, "-m", "ops.cli", "status", "--json"], env=env, capture_output=True,
                          text=True, timeout=60)
    return json.loads(done.stdout) if done.returncode == 0 else {}


def test_xbot_up_runs_each_service_with_its_own_credentials(namespace: str) -> None:
    # Not pytest's tmp_path: its parent is private to root, and PostgreSQL runs as another user.
    tmp = Path(tempfile.mkdtemp(prefix="xbot-up-"))
    os.chmod(tmp, 0o755)
    env = {k: v for k, v in os.environ.items() if not k.startswith("XBOT_")}
    env.update(XBOT_UP_DIR=str(tmp), XBOT_UP_NATS_PORT=str(free_port()), XBOT_UP_PG_PORT=str(free_port()),
               XBOT_NAMESPACE=namespace, PYTHONPATH=str(infra.ROOT), XBOT_LLM_API_KEY="sk-not-for-the-poster",
               XBOT_X_SESSION="bm90IGZvciB0aGUgcG9zdGVy")
    up = subprocess.Popen([sys.executable, "-m", "ops.cli", "up", *UP], env=env, cwd=infra.ROOT,
                          stdout=(tmp / "up.log").open("w"), stderr=subprocess.STDOUT)
    try:
        deadline = time.time() + 180
        report: dict = {}
        while time.time() < deadline and up.poll() is None:
            report = _status(env)
            if all(report.get("services", {}).get(s, {}).get("state") == "ready" for s in UP):
                break
            time.sleep(1)
        assert all(report["services"][s]["state"] == "ready" for s in UP), (tmp / "up.log").read_text()[-3000:]
        # Each child's environment: its own user and secret folder; nobody's secret variables but its own.
        children = {p.cmdline()[2].removeprefix("services."): p for p in psutil.Process(up.pid).children()
                    if len(p.cmdline()) > 3 and p.cmdline()[1] == "-m"}
        assert set(children) == set(UP)
        for name, proc in children.items():
            environ = proc.environ()
            assert environ["XBOT_NATS_USER"] == name
            assert environ["XBOT_DATABASE_URL"].startswith(f"postgresql://xbot_{name}@127.0.0.1:")
            assert environ["XBOT_SECRETS_DIR"] == str(tmp / "credentials" / name)
            assert "XBOT_NATS_PASSWORD" not in environ and "XBOT_DATABASE_PASSWORD" not in environ
            assert "XBOT_LLM_API_KEY" not in environ and "XBOT_X_SESSION" not in environ
        # `xbot db-roles` (what compose's one-shot and the k8s Job run) as the superuser, idempotent; a missing
        # role password stops it naming the variable.
        creds = json.loads((tmp / "credentials" / "credentials.json").read_text())
        roles_env = {k: v for k, v in env.items() if not k.startswith("XBOT_UP_")}
        roles_env.update({f"XBOT_DB_PASSWORD_{k.upper()}": v for k, v in creds["database"].items()},
                         XBOT_DATABASE_URL=f"postgresql://postgres@127.0.0.1:{env['XBOT_UP_PG_PORT']}/xbot",
                         XBOT_DATABASE_PASSWORD=creds["database"]["pg_admin"])
        done = subprocess.run([sys.executable, "-m", "ops.cli", "db-roles"], env=roles_env, capture_output=True,
                              text=True, timeout=60)
        assert done.returncode == 0 and "xbot_poster" in done.stdout, done.stderr
        roles_env.pop("XBOT_DB_PASSWORD_LEARNER")
        done = subprocess.run([sys.executable, "-m", "ops.cli", "db-roles"], env=roles_env, capture_output=True,
                              text=True, timeout=60)
        assert done.returncode == 2 and "XBOT_DB_PASSWORD_LEARNER" in done.stderr
    finally:
        up.send_signal(signal.SIGTERM)
        try:
            up.wait(timeout=60)
        except subprocess.TimeoutExpired:
            up.kill()
        run_as = ["runuser", "-u", infra._unprivileged_user(), "--"] if os.geteuid() == 0 else []
        subprocess.run([*run_as, infra._pg_bin("pg_ctl"), "-D", str(tmp / "pg"), "stop", "-m", "fast"],
                       capture_output=True)
        pid = tmp / "nats" / "nats-server.pid"
        if pid.exists():
            os.kill(int(pid.read_text()), signal.SIGTERM)
        shutil.rmtree(tmp, ignore_errors=True)
