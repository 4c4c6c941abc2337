"""Helpers shared by the integration tests (real servers)."""

from __future__ import annotations

import asyncio

import asyncpg

from libs.bus.broker import make_broker
from libs.bus.publish import EventPublisher
from libs.runtime.clock import Clock


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
