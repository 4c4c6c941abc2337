"""Helpers shared by the integration tests (real servers)."""

from __future__ import annotations

import asyncio
import socket
import subprocess
import time
from pathlib import Path

import asyncpg
import pytest

from libs.bus.broker import make_broker
from libs.bus.publish import EventPublisher
from libs.core.clock import Clock


async def publish(settings, events) -> None:
    """Publish events as a producer would (JetStream, PubAck, Nats-Msg-Id)."""
    broker = make_broker(settings, service="test-producer")
    await broker.connect()
    try:
        pub = EventPublisher(broker, settings, Clock(), "test-producer")
        for e in events:
            await pub.publish(e)
    finally:
        await broker.stop()


async def drop_schemas(dsn: str, *schemas: str) -> None:
    """Start a service's tables afresh: the test database lives for the whole session."""
    conn = await asyncpg.connect(dsn)
    try:
        for schema in schemas:
            await conn.execute(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE')
    finally:
        await conn.close()


async def eventually(predicate, timeout: float = 20.0, interval: float = 0.1):
    """Poll an async predicate until it returns a truthy value (servers apply asynchronously)."""
    deadline = asyncio.get_running_loop().time() + timeout
    while True:
        value = await predicate()
        if value:
            return value
        if asyncio.get_running_loop().time() > deadline:
            raise AssertionError(f"condition not met within {timeout}s (last value {value!r})")
        await asyncio.sleep(interval)


def free_port() -> int:
    """A loopback port that is free now, for a server of the test's own (NATS, PostgreSQL, a catcher)."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


def wait_until_listening(proc: subprocess.Popen[bytes], port: int, log: Path) -> None:
    """Poll (every 50 ms, 10 s at most) until a server this test started accepts connections on ``port``; fail
    with its log if it exits first or never listens."""
    for _ in range(200):
        with socket.socket() as s:
            if s.connect_ex(("127.0.0.1", port)) == 0:
                return
        if proc.poll() is not None:
            pytest.fail(f"{Path(str(proc.args[0])).name} exited: {log.read_text()}")
        time.sleep(0.05)
    pytest.fail(f"nothing listens on port {port} after 10 s: {log.read_text()}")
