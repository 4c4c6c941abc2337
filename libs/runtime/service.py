"""What every xbot service is made of, composed in one place: settings, clock, the one broker, the one pool,
projections and their consumers, periodic jobs, the side HTTP port, and a graceful shutdown.

A service's ``app.py`` builds a :class:`Service` and registers its projections and jobs; its ``__main__``
calls :func:`service_main`, which also gives every service the operator subcommands ``migrate``,
``provision`` (its durable consumers), ``replay`` and ``dlq-retry``.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import logging
import signal
import sys
import time
from collections.abc import Awaitable, Callable
from typing import Union
from datetime import timedelta
from pathlib import Path

import asyncpg
from faststream.nats import JStream, NatsBroker, PullSub
from opentelemetry import propagate, trace
from opentelemetry.trace import Link

from libs.bus.broker import jetstream, make_broker
from libs.bus.dlq import DeadLetters
from libs.bus.provision import provision_consumer
from libs.bus.publish import EventPublisher
from libs.bus.streams import ConsumerSpec, kv_bucket, stream_name
from libs.contracts.events import ALL_EVENTS
from libs.runtime.clock import Clock
from libs.runtime.health import HealthServer, ReadyCheck, StatusProvider, register_service
from libs.runtime.logging import redact, setup_logging
from libs.runtime.scheduler import Job, Lease, Scheduler
from libs.runtime.settings import CommonSettings, SettingsError, load_settings
from libs.store.migrations import migrate
from libs.store.pool import create_pool
from libs.store.projection import Projection, ProjectionRunner
from libs.store.replay import replay_service

logger = logging.getLogger("xbot.service")

# A consumer with pending messages and no applied batch for this long is reported as stalled by /ready.
STALL_AFTER_S = 60.0
TRACE_LINKS = 16


class Service:
    def __init__(self, name: str, settings: CommonSettings, *, migrations: Path | None = None,
                 batch_size: int = 256) -> None:
        self.name = name
        self.settings = settings
        self.clock = Clock.from_settings(settings)
        self.migrations = migrations
        self.batch_size = batch_size
        self.broker: NatsBroker = make_broker(settings, service=name)
        self.publisher = EventPublisher(self.broker, settings, self.clock, name)
        self.pool: asyncpg.Pool | None = None
        self.projections: list[Projection] = []
        # Tables a replay must not rebuild from events (see keep_on_replay); table -> "move" | "merge".
        self.replay_kept: dict[str, str] = {}
        self.runners: list[ProjectionRunner] = []
        self.scheduler: Scheduler | None = None
        self._jobs: list[Job] = []
        self.health = HealthServer(name, settings.http_host, settings.http_port)
        self._on_start: list[Callable[[], Awaitable[None]]] = []
        self._on_stop: list[Callable[[], Awaitable[None]]] = []
        self.stopping = asyncio.Event()
        self._draining = asyncio.Event()
        self._consumers: list[asyncio.Task] = []
        self._fetching: set[str] = set()
        redact(settings.dsn.split("@")[0] if "@" in settings.dsn else None,
               settings.nats_password.get_secret_value() if settings.nats_password else None)

    # ------------------------------------------------------------------ composition

    @property
    def namespace(self) -> str:
        return self.settings.namespace

    def projection(self, name: str, *, max_deliver: int = 5) -> Projection:
        p = Projection(service=self.name, name=name, max_deliver=max_deliver)
        self.projections.append(p)
        return p

    def keep_on_replay(self, *tables: str, merge: bool = False) -> None:
        """Declare tables that hold state no event carries, so that ``replay`` keeps them instead of dropping them
        with the old projection schema.

        By default a table is written by jobs only (an outbox, attempts, a cursor) and moves over whole, with its
        sequences and indexes. ``merge=True`` is for a table whose rows a projection inserts and jobs then change
        (the poster's queue): the rebuilt rows are kept only where the live table has no row with the same
        primary key, so the jobs' changes survive and rows the live table lacks are restored."""
        for table in tables:
            self.replay_kept[table] = "merge" if merge else "move"

    def job(self, name: str, interval: timedelta, *, offset: timedelta = timedelta(0), jitter: float = 0.1):
        def register(fn: Callable[[], Awaitable[object]]):
            self._jobs.append(Job(name=name, interval=interval, run=fn, offset=offset, jitter=jitter))
            return fn

        return register

    def asyncapi_broker(self) -> NatsBroker:
        """A broker that is never started, describing what this service publishes and consumes, for the
        AsyncAPI document (deploy/asyncapi/). Publishing and consuming go through EventPublisher and the pull
        loop; this only declares them."""
        doc = NatsBroker(self.settings.nats_url)
        ns = self.namespace
        document_publishers(doc, self.name, ns)
        for runner_projection in self.projections:
            for spec in runner_projection.consumers():
                handled = tuple(t for t in runner_projection.handlers if t.PRODUCER == spec.producer)

                async def consume(event) -> None:  # never called: a declaration for the document
                    raise NotImplementedError

                consume.__annotations__ = {"event": Union[handled] if len(handled) > 1 else handled[0],  # noqa: UP007
                                           "return": None}
                doc.subscriber(spec.filter_subject(ns), stream=JStream(spec.stream(ns), declare=False),
                               durable=spec.durable(ns), pull_sub=PullSub(batch_size=self.batch_size), title=f"{spec.service}.{spec.name} <- {spec.producer}",
                               description=", ".join(f"{t.TYPE}.v{t.VERSION}" for t in handled))(consume)
        return doc

    def ready_check(self, name: str, check: ReadyCheck) -> None:
        self.health.checks[name] = check

    def status(self, name: str, provider: StatusProvider) -> None:
        self.health.status_providers[name] = provider

    def on_start(self, fn: Callable[[], Awaitable[None]]):
        self._on_start.append(fn)
        return fn

    def on_stop(self, fn: Callable[[], Awaitable[None]]):
        self._on_stop.append(fn)
        return fn

    def consumer_specs(self) -> list[ConsumerSpec]:
        return [spec for p in self.projections for spec in p.consumers()]

    # ------------------------------------------------------------------ lifecycle

    async def open_pool(self, schema: str | None = None) -> asyncpg.Pool:
        if self.pool is None:
            self.pool = await create_pool(self.settings.dsn, schema=schema or self.name)
        return self.pool

    async def migrate(self) -> list[str]:
        pool = await self.open_pool()
        async with pool.acquire() as conn:
            return await migrate(conn, self.name, self.migrations)

    async def provision(self) -> list[str]:
        await self.broker.connect()
        js = jetstream(self.broker)
        changes = []
        for spec in self.consumer_specs():
            change = await provision_consumer(js, spec, self.namespace)
            if change:
                changes.append(change)
        return changes

    async def _consume(self, runner: ProjectionRunner, spec: ConsumerSpec) -> None:
        """Pull batches from the provisioned durable and hand each to the runner, one at a time, in order.

        A plain nats-py pull loop rather than FastStream's batch subscriber: nats-py's fetch returns a partial
        batch as soon as the server has no more, while FastStream's loop keeps re-fetching with ever shorter
        timeouts to fill the batch, and a message the server delivers to an already abandoned request then
        waits out the ack wait (seen as 30 s stalls).
        """
        ns = self.namespace
        sub = await jetstream(self.broker).pull_subscribe_bind(durable=spec.durable(ns), stream=spec.stream(ns))
        tracer = trace.get_tracer("xbot.projection")
        while not self._draining.is_set():
            try:
                self._fetching.add(spec.durable(ns))
                msgs = await sub.fetch(self.batch_size, timeout=5.0)
            except TimeoutError:
                continue
            except asyncio.CancelledError:
                raise
            except Exception as err:  # noqa: BLE001 - NATS reconnecting: report, wait, go on
                logger.warning("fetch on %s failed: %s", spec.durable(ns), err)
                await asyncio.sleep(1.0)
                continue
            finally:
                self._fetching.discard(spec.durable(ns))
            # One span per batch, linked to the producers' spans carried in the headers (the first few: enough
            # to follow a trace across the hop without paying per message on a large batch).
            links = [Link(ctx) for ctx in (trace.get_current_span(propagate.extract(m.headers or {}))
                                           .get_span_context() for m in msgs[:TRACE_LINKS]) if ctx.is_valid]
            with tracer.start_as_current_span(f"apply {spec.service}.{spec.name} <- {spec.producer}", links=links,
                                              attributes={"messaging.batch.message_count": len(msgs)}):
                await runner.handle(spec, msgs)

    async def start(self) -> None:
        setup_logging(self.name, self.settings.log_level)
        await self.migrate()
        dead_letters: DeadLetters | None = None
        for p in self.projections:
            self.runners.append(ProjectionRunner(p, pool=self.pool, dead_letters=None, namespace=self.namespace))  # type: ignore[arg-type]
        await self.broker.connect()
        js = jetstream(self.broker)
        await self._check_provisioned(js)
        dead_letters = DeadLetters(js, self.namespace)
        for r in self.runners:
            r.dead_letters = dead_letters
        for fn in self._on_start:
            await fn()
        await self.broker.start()
        for runner in self.runners:
            for spec in runner.projection.consumers():
                self._consumers.append(asyncio.create_task(self._consume(runner, spec), name=spec.durable(self.namespace)))
        kv = await js.key_value(kv_bucket(self.namespace, "leases"))
        self.scheduler = Scheduler(service=self.name, clock=self.clock, lease=Lease(kv))
        for job in self._jobs:
            self.scheduler.add(job)
        self.scheduler.start()
        self.ready_check("broker", self._broker_ready)
        self.ready_check("database", self._database_ready)
        if self.runners:
            self.ready_check("consumers", self._consumers_ready)
        url = await self.health.start()
        await register_service(js, self.namespace, self.name, url)
        logger.info("%s started; side port %s", self.name, url)

    async def _check_provisioned(self, js) -> None:
        missing = []
        for spec in self.consumer_specs():
            try:
                await js.consumer_info(spec.stream(self.namespace), spec.durable(self.namespace))
            except Exception:  # noqa: BLE001
                missing.append(spec.durable(self.namespace))
        if missing:
            raise SystemExit(f"{self.name}: consumers {', '.join(missing)} are not provisioned; run `xbot provision`")

    async def stop(self) -> None:
        if self.scheduler:
            await self.scheduler.stop()
        for fn in reversed(self._on_stop):
            try:
                await fn()
            except Exception:  # noqa: BLE001
                logger.exception("shutdown hook failed")
        # Finish the batch in hand, then stop; a consumer idle in a fetch has nothing in hand and is cancelled.
        self._draining.set()
        for task in self._consumers:
            if task.get_name() in self._fetching:
                task.cancel()
        if self._consumers:
            await asyncio.wait(self._consumers, timeout=30)
        await self.broker.stop()
        await self.health.stop()
        if self.pool:
            await self.pool.close()
            self.pool = None  # a later open_pool (a replay after the stop) gets a fresh one

    async def run_forever(self) -> None:
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGTERM, signal.SIGINT):
            loop.add_signal_handler(sig, self.stopping.set)
        await self.start()
        await self.stopping.wait()
        logger.info("%s stopping: finishing the work in hand", self.name)
        await self.stop()

    # ------------------------------------------------------------------ readiness

    async def _broker_ready(self) -> tuple[bool, str]:
        conn = self.broker.connection if self.broker.config.connection_state else None
        return (conn is not None and conn.is_connected), ""

    async def _database_ready(self) -> tuple[bool, str]:
        assert self.pool is not None
        try:
            await asyncio.wait_for(self.pool.fetchval("SELECT 1"), timeout=2)
            return True, ""
        except Exception as err:  # noqa: BLE001
            return False, type(err).__name__

    async def _consumers_ready(self) -> tuple[bool, str]:
        now = time.time()
        stalled = [c for r in self.runners for c, lag in r.lag.items()
                   if lag > 0 and now - r.last_progress.get(c, now) > STALL_AFTER_S]
        return not stalled, ("stalled: " + ", ".join(stalled)) if stalled else ""


def document_publishers(broker: NatsBroker, producer: str, namespace: str) -> None:
    """Declare on ``broker`` (for AsyncAPI only) every event ``producer`` publishes."""
    for event in ALL_EVENTS:
        if event.PRODUCER == producer:
            broker.publisher(event.subject(namespace), stream=JStream(stream_name(namespace, producer), declare=False),
                             title=f"{event.TYPE}.v{event.VERSION}", schema=event)


# ---------------------------------------------------------------------- entry point

def service_main(build: Callable[[CommonSettings], Service], settings_cls: type[CommonSettings],
                 argv: list[str] | None = None) -> None:
    """``python -m services.<name> [run|migrate|provision|replay [--verify]|dlq-retry SEQ]``."""
    parser = argparse.ArgumentParser(prog=f"python -m {build.__module__.rsplit('.', 1)[0]}")
    parser.add_argument("command", nargs="?", default="run",
                        choices=["run", "migrate", "provision", "replay", "dlq-retry"])
    parser.add_argument("arg", nargs="?")
    parser.add_argument("--verify", action="store_true",
                        help="replay: rebuild up to the live positions and compare, changing nothing live")
    args = parser.parse_args(argv)
    try:
        settings = load_settings(settings_cls)
        service = build(settings)
    except SettingsError as err:
        print(f"error: {err}", file=sys.stderr)
        raise SystemExit(2) from None
    asyncio.run(_command(service, args.command, args.arg, verify=args.verify))


async def _command(service: Service, command: str, arg: str | None, *, verify: bool = False) -> None:
    if command == "run":
        await service.run_forever()
        return
    try:
        if command == "migrate":
            for line in await service.migrate() or [f"{service.name}: up to date"]:
                print(line)
        elif command == "provision":
            for line in await service.provision() or [f"{service.name}: consumers up to date"]:
                print(line)
        elif command == "replay":
            await service.broker.connect()
            stats = await replay_service(service, progress=_print_progress, verify=verify)
            print(json.dumps(stats, default=str))
            if stats.get("differences"):
                raise SystemExit(1)
        elif command == "dlq-retry":
            if arg is None:
                raise SystemExit("dlq-retry needs the dead letter's sequence number")
            await service.broker.connect()
            await service.open_pool()
            await service.migrate()
            letters = DeadLetters(jetstream(service.broker), service.namespace)
            letter = await letters.get(int(arg))
            if letter.service != service.name:
                raise SystemExit(f"dead letter {arg} belongs to {letter.service}, not {service.name}")
            runner = next(r for r in (ProjectionRunner(p, pool=service.pool, dead_letters=letters,  # type: ignore[arg-type]
                                                           namespace=service.namespace)
                                      for p in service.projections)
                          if letter.consumer in {s.durable(service.namespace) for s in r.projection.consumers()})
            await runner.reapply(letter)
            await letters.drop(int(arg))
            print(f"re-applied dead letter {arg} ({letter.subject} seq {letter.stream_seq}) and dropped it")
    finally:
        await service.broker.stop()
        if service.pool:
            await service.pool.close()


def _print_progress(done: int, total: int) -> None:
    width = 40
    filled = int(width * done / total) if total else width
    print(f"\rreplay [{'#' * filled}{'.' * (width - filled)}] {done}/{total}", end="", file=sys.stderr, flush=True)
    if done >= total:
        print(file=sys.stderr)
