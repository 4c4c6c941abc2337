"""Shared fixtures: real servers (started by the project when the machine has none), a fresh database per
test session, and a fresh namespace (subjects, streams, KV, durables) per test, so tests can share one NATS."""

from __future__ import annotations

import asyncio
import os
import uuid
from urllib.parse import urlparse, urlunparse

import asyncpg
import pytest

from ops.infra import ensure_servers
from libs.core.settings import CommonSettings

# Every owner's console a test starts (the chaos suite's services, `xbot up` in the security tests, the demo's)
# listens on a port of its own: two at once on the default 8470 would collide (two xdist workers; other suites
# share the machine). Subprocesses inherit it.
os.environ.setdefault("XBOT_CONSOLE_PORT", "0")
# The services' clock follows the wall clock in most tests, and tests run at any hour: the account's quiet hours
# (outside 07-23 UTC by default, libs.core.account) would hold a poster test's writes at night and pass it by
# day. So the suite opens the whole day, in this process and the services it starts; tests of the hours set them.
os.environ.setdefault("XBOT_ACTIVE_HOURS_START", "0")
os.environ.setdefault("XBOT_ACTIVE_HOURS_END", "0")


@pytest.fixture(scope="session")
def servers() -> dict[str, str]:
    env = ensure_servers()
    os.environ.update(env)
    return env


def _with_db(url: str, db: str) -> str:
    u = urlparse(url)
    return urlunparse(u._replace(path=f"/{db}"))


@pytest.fixture(scope="session")
def database_url(servers: dict[str, str]):
    admin = servers["XBOT_DATABASE_URL"]
    name = f"xbot_t_{uuid.uuid4().hex[:10]}"

    async def create() -> None:
        conn = await asyncpg.connect(admin)
        try:
            await conn.execute(f'CREATE DATABASE "{name}"')
        finally:
            await conn.close()

    async def drop() -> None:
        conn = await asyncpg.connect(admin)
        try:
            await conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        finally:
            await conn.close()

    asyncio.run(create())
    yield _with_db(admin, name)
    asyncio.run(drop())


@pytest.fixture
def namespace() -> str:
    return "t" + uuid.uuid4().hex[:10]


@pytest.fixture
def settings(servers: dict[str, str], database_url: str, namespace: str) -> CommonSettings:
    return CommonSettings(nats_url=servers["XBOT_NATS_URL"], database_url=database_url, namespace=namespace)


@pytest.fixture
def service_env(settings: CommonSettings) -> dict[str, str]:
    """Environment for a service subprocess of this test."""
    env = dict(os.environ)
    env.update({"XBOT_NATS_URL": settings.nats_url, "XBOT_DATABASE_URL": settings.dsn,
                "XBOT_NAMESPACE": settings.namespace, "PYTHONPATH": os.getcwd()})
    return env


@pytest.fixture
async def js(settings: CommonSettings):
    """A JetStream context with this test's streams and KV provisioned; removed afterwards."""
    from libs.bus.provision import provision_streams, remove_namespace
    from libs.bus.nats import connect

    nc = await connect(settings, name="xbot-test")
    ctx = nc.jetstream()
    await provision_streams(ctx, settings.namespace)
    yield ctx
    await remove_namespace(ctx, settings.namespace)
    await nc.close()


# ---------------------------------------------------------------- test tiers
# `pytest -m fast` is the quick tier: unit tests of pure logic, no subprocess, no server. A unit test is in it
# unless it is marked `slow` or needs a server fixture; a fast test that starts a process or connects to a
# server anyway fails (below), so the tier cannot silently grow slow.

SERVER_FIXTURES = {"servers", "database_url", "settings", "js", "service_env"}


# The runs of the whole system (every service a subprocess, the gateway with its Chromium), in one line that runs
# one after the other: one system at a time. Three at once on two cores left a planner past the demo's readiness
# window; two at once (two lines) on a slow host left the demo and the SIGKILL run with nothing posted and the X
# API run without a metric read, in the same CI run (2026-12-05). One line takes about 9 minutes there, less than
# the rest of the suite on the other two workers.
WHOLE_SYSTEM_LINES = {
    "tests/e2e/demo": "whole-system", "tests/e2e/demo_api/test_demo_api.py": "whole-system",
    "tests/chaos/test_crashes.py": "whole-system", "tests/chaos/test_secrets.py": "whole-system",
    "tests/integration/security/test_xbot_up.py": "whole-system",
}


def pytest_itemcollected(item: pytest.Item) -> None:
    # With xdist (`./xbot test` runs three workers), a file's tests stay on one worker so its module fixtures (a
    # gateway with its Chromium, a sandbox) start once; the demo package shares one demo run; the whole-system
    # runs keep to their lines. Marked as each item is collected, so the mark is there whenever xdist's own
    # collection hook reads it.
    root = item.config.rootpath
    path = item.path.relative_to(root)
    group = next((line for prefix, line in WHOLE_SYSTEM_LINES.items() if path.is_relative_to(prefix)), str(path))
    item.add_marker(pytest.mark.xdist_group(group))


def _long_minutes(item: pytest.Item) -> float:
    mark = item.get_closest_marker("long")
    return float(mark.kwargs.get("minutes", 1)) if mark else 0.0


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    # Longest first: xdist hands out whole groups in this order (`./xbot test` turns off its reordering by test
    # count), so the runs that take minutes start at once instead of keeping one worker busy after the other has
    # finished. The sort is stable: everything else keeps its collection order.
    items.sort(key=lambda item: -_long_minutes(item))
    for item in items:
        unit = item.path.is_relative_to(config.rootpath / "tests" / "unit")
        needs_server = bool(SERVER_FIXTURES & set(getattr(item, "fixturenames", ())))
        if unit and not needs_server and item.get_closest_marker("slow") is None \
                and item.get_closest_marker("chromium") is None:
            item.add_marker(pytest.mark.fast)


class SlowInFastTier(AssertionError):
    pass


@pytest.fixture(autouse=True)
def _fast_tests_stay_fast(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> None:
    if request.node.get_closest_marker("fast") is None:
        return
    import socket
    import subprocess

    def no_process(*args: object, **kwargs: object) -> None:
        raise SlowInFastTier("a fast test started a process: mark it @pytest.mark.slow")

    real_connect, real_connect_ex = socket.socket.connect, socket.socket.connect_ex

    def guarded(real):  # type: ignore[no-untyped-def]
        def connect(sock: socket.socket, address: object) -> object:
            if sock.family in (socket.AF_INET, socket.AF_INET6):
                raise SlowInFastTier(f"a fast test connected to {address}: mark it @pytest.mark.slow")
            return real(sock, address)
        return connect

    monkeypatch.setattr(subprocess.Popen, "_execute_child", no_process)
    monkeypatch.setattr(socket.socket, "connect", guarded(real_connect))
    monkeypatch.setattr(socket.socket, "connect_ex", guarded(real_connect_ex))
