"""The running system as the chaos suite sees it: every xbot service that consumes events, built from its own
composition root (so a newly wired service is attacked without changing this suite), and what its consumers
have done (tracking positions, dead letters)."""

from __future__ import annotations

import asyncio
import importlib
import time
from typing import Any

import asyncpg
from nats.js import JetStreamContext
from nats.js.errors import NotFoundError

from libs.bus.control import KillSwitch
from libs.bus.dlq import DeadLetter, DeadLetters
from libs.bus.streams import ConsumerSpec
from libs.contracts.base import Event
from libs.runtime.service import Service
from libs.core.settings import CommonSettings

from ops.registry import CONSUMERS as SERVICES


def build(name: str, common: CommonSettings, **overrides: Any) -> Service:
    app = importlib.import_module(f"services.{name}.app")
    settings = app.Settings(nats_url=common.nats_url, database_url=common.dsn, namespace=common.namespace,
                            **overrides)
    return app.build(settings)


def consumers(common: CommonSettings, overrides: dict[str, dict] | None = None) -> list[Service]:
    """Every service that has projections, freshly built (not started)."""
    built = [build(n, common, **(overrides or {}).get(n, {})) for n in SERVICES]
    return [s for s in built if s.projections]


def consumed_events(svc: Service) -> set[type[Event]]:
    return {t for p in svc.projections for t in p.handlers}


async def fresh_schema(dsn: str, name: str) -> None:
    """Services share the session database; a test starts from an empty schema."""
    conn = await asyncpg.connect(dsn)
    try:
        await conn.execute(f'DROP SCHEMA IF EXISTS "{name}" CASCADE')
        await conn.execute(f'DROP SCHEMA IF EXISTS "{name}__replay" CASCADE')
    finally:
        await conn.close()


async def pause_writes(js: JetStreamContext, namespace: str, reason: str) -> None:
    await (await KillSwitch.open(js, namespace)).pause(reason, by="chaos suite")


async def positions(dsn: str, svc: Service) -> dict[tuple[str, str], int]:
    """(durable, stream) -> the stream sequence the service's projection has committed."""
    conn = await asyncpg.connect(dsn)
    try:
        rows = await conn.fetch(f'SELECT consumer, stream, stream_seq FROM "{svc.name}".tracking')
    finally:
        await conn.close()
    return {(r["consumer"], r["stream"]): r["stream_seq"] for r in rows}


async def last_read(js: JetStreamContext, spec: ConsumerSpec, namespace: str) -> int:
    """The stream sequence of the last message a durable reads: its stream's last, or a filtered durable's last on
    its subject (the stream's last is usually another event's)."""
    stream = spec.stream(namespace)
    if spec.filter_event is None:
        return int((await js.stream_info(stream)).state.last_seq)
    try:
        return int((await js.get_last_msg(stream, spec.filter_subject(namespace))).seq or 0)
    except NotFoundError:
        return 0


async def lagging(js: JetStreamContext, dsn: str, svc: Service) -> dict[str, tuple[int, int]]:
    """Consumers of ``svc`` that have not committed their stream's last sequence: durable -> (position, last)."""
    done = await positions(dsn, svc)
    out = {}
    for spec in svc.consumer_specs():
        durable, stream = spec.durable(svc.namespace), spec.stream(svc.namespace)
        last = await last_read(js, spec, svc.namespace)
        if done.get((durable, stream), 0) < last:
            out[durable] = (done.get((durable, stream), 0), last)
    return out


async def settle(js: JetStreamContext, dsn: str, services: list[Service], timeout: float) -> dict:
    """Wait until every consumer is at its stream's end; what still lags after ``timeout`` (empty = settled)."""
    deadline = time.monotonic() + timeout
    while True:
        lag = {k: v for s in services for k, v in (await lagging(js, dsn, s)).items()}
        if not lag or time.monotonic() > deadline:
            return lag
        await asyncio.sleep(0.2)


async def letters_by_consumer(js: JetStreamContext, namespace: str) -> dict[str, list[DeadLetter]]:
    out: dict[str, list[DeadLetter]] = {}
    for letter in await DeadLetters(js, namespace).list():
        out.setdefault(letter.consumer, []).append(letter)
    return out

