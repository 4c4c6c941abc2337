"""Shared fixtures: real servers (started by the project when the machine has none), a fresh database per
test session, and a fresh namespace (subjects, streams, KV, durables) per test, so tests can share one NATS."""

from __future__ import annotations

import asyncio
import os
import uuid
from urllib.parse import urlparse, urlunparse

import asyncpg
import pytest

from libs.runtime.infra import ensure_servers
from libs.runtime.settings import CommonSettings


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
    from libs.runtime.nats import connect

    nc = await connect(settings, name="xbot-test")
    ctx = nc.jetstream()
    await provision_streams(ctx, settings.namespace)
    yield ctx
    await remove_namespace(ctx, settings.namespace)
    await nc.close()
