"""What every xbot service is made of, composed in one place: settings, clock, the one broker, the one pool,
projections and their consumers, the job context and the service's worker (its periodic jobs), the outbox, the
side HTTP port, and a graceful shutdown.

A service's ``app.py`` builds a :class:`Service`, registers its projections, names its job-owned tables and
hands ``runs`` the factory of its worker; its ``__main__`` calls :func:`service_main`, which also gives every
service the operator subcommands ``migrate``, ``provision`` (its durable consumers), ``replay`` and
``dlq-retry``, plus any the service adds with ``command``.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import logging
import signal
import sys
import time
import dataclasses
from collections.abc import Awaitable, Callable, Sequence
from datetime import timedelta
from pathlib import Path
from typing import Any, Generic, TypeVar, Union

import asyncpg
from aiohttp import web
from faststream.nats import JStream, NatsBroker, PullSub
from nats.aio.msg import Msg
from nats.js import JetStreamContext
from opentelemetry import propagate, trace
from opentelemetry.trace import Link

from libs.bus.broker import jetstream, make_broker
from libs.bus.control import KillSwitch
from libs.bus.dlq import DeadLetters, retry_subject
from libs.bus.gateway import GatewayClient
from libs.bus.provision import provision_consumer
from libs.bus.publish import EventPublisher
from libs.bus.streams import ConsumerSpec, kv_bucket, stream_name
from libs.contracts.events import ALL_EVENTS
from libs.core.clock import Clock
from libs.core.logging import redact, setup_logging
from libs.core.settings import CommonSettings, SettingsError, load_settings
from libs.runtime.context import JobContext, Worker
from libs.runtime.health import HealthServer, ReadyCheck, StatusProvider, register_service
from libs.runtime.scheduler import Job, Lease, Scheduler
from libs.store.migrations import migrate
from libs.store.outbox import Outbox
from libs.store.pool import create_pool
from libs.store.projection import Projection, ProjectionRunner
from libs.store.replay import replay_service
from libs.store.snapshot import ensure_snapshot_schema, take_snapshot
from libs.store.tracking import Tracking

logger = logging.getLogger("xbot.service")

# A consumer with pending messages and no applied batch for this long is reported as stalled by /ready.
STALL_AFTER_S = 60.0
TRACE_LINKS = 16
# The first snapshot soon after start (simulated time), so a service restarted more often than the interval still
# takes them.
SNAPSHOT_FIRST = timedelta(hours=1)


S = TypeVar("S", bound=CommonSettings)
WorkerFactory = Callable[[JobContext[S]], Worker]
# A command runs in the service's own process with a context but no consumers or jobs; it returns what to print.
Command = Callable[[JobContext[S], list[str]], Awaitable[str]]


class Service(Generic[S]):
    def __init__(self, name: str, settings: S, *, migrations: Path | None = None,
                 job_tables: Sequence[str] = (), batch_size: int = 256) -> None:
        self.name = name
        self.settings = settings
        self.clock = Clock.from_settings(settings)
        self.migrations = migrations
        # Tables written by jobs, not projections (no event carries what they hold): replay moves them whole.
        self.job_tables = tuple(job_tables)
        self.batch_size = batch_size
        self.broker: NatsBroker = make_broker(settings, service=name)
        self.publisher = EventPublisher(self.broker, settings, self.clock, name)
        self.pool: asyncpg.Pool | None = None
        self.projections: list[Projection] = []
        self.runners: list[ProjectionRunner] = []
        self.scheduler: Scheduler | None = None
        self.commands: dict[str, Command[S]] = {}
        self._worker_factory: WorkerFactory[S] | None = None
        self._context: JobContext[S] | None = None
        self._worker: Worker | None = None
        self.health = HealthServer(name, settings.http_host, settings.http_port)
        self.stopping = asyncio.Event()
        self._draining = asyncio.Event()
        self._consumers: list[asyncio.Task[None]] = []
        self._fetching: set[str] = set()
        self._pull_subs: list[Any] = []
        redact(*settings.secret_values())

    # ------------------------------------------------------------------ composition

    @property
    def namespace(self) -> str:
        return self.settings.namespace

    def projection(self, name: str, *, max_deliver: int | None = None, filtered: bool = False) -> Projection:
        """A read model; ``filtered``: read through a durable per event type it handles, not the producers' whole
        streams (libs.store.projection.Projection.filtered)."""
        p = Projection(service=self.name, name=name,
                       max_deliver=max_deliver or self.settings.projection_max_tries, filtered=filtered)
        self.projections.append(p)
        return p

    def runs(self, factory: WorkerFactory[S]) -> None:
        """The service's worker, made from the job context once the service has started."""
        self._worker_factory = factory

    def command(self, name: str, fn: Command[S]) -> None:
        """An operator subcommand (``python -m services.<name> <command> [args]``)."""
        self.commands[name] = fn

    @property
    def context(self) -> JobContext[S]:
        if self._context is None:
            raise RuntimeError(f"{self.name} has not started: its job context does not exist yet")
        return self._context

    @property
    def worker(self) -> Worker:
        if self._worker is None:
            raise RuntimeError(f"{self.name} has not started: its worker does not exist yet")
        return self._worker

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

                async def consume(event: Any) -> None:  # never called: a declaration for the document
                    raise NotImplementedError

                consume.__annotations__ = {"event": Union[handled] if len(handled) > 1 else handled[0],  # noqa: UP007
                                           "return": None}
                doc.subscriber(spec.filter_subject(ns), stream=JStream(spec.stream(ns), declare=False),
                               durable=spec.durable(ns), pull_sub=PullSub(batch_size=self.batch_size),
                               title=f"{spec.service}.{spec.name} <- {spec.producer}",
                               description=", ".join(f"{t.TYPE}.v{t.VERSION}" for t in handled))(consume)
        return doc

    def ready_check(self, name: str, check: ReadyCheck) -> None:
        self.health.checks[name] = check

    def route(self, method: str, path: str, handler: Callable[[web.Request], Awaitable[web.StreamResponse]]) -> None:
        """An HTTP route on the side port, beside /health, /ready, /metrics and /status."""
        self.health.routes.append((method, path, handler))

    def status(self, name: str, provider: StatusProvider) -> None:
        self.health.status_providers[name] = provider

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
            applied = await migrate(conn, self.name, self.migrations)
            if self.projections:
                # Where the scheduled snapshots go: created here when this role may (the operator's `xbot migrate`
                # on a deployment with per-service roles, or a service owning its database), then kept up to date
                # by the snapshots themselves.
                await ensure_snapshot_schema(conn, self.name, self.migrations, create_only=True)
            return applied

    async def snapshot(self) -> dict[str, Any]:
        """Copy the projections and their positions into ``<name>__snapshot`` (libs.store.snapshot), where a
        replay starts when the streams' retention has dropped their first events."""
        return await take_snapshot(await self.open_pool(), self.name, self.migrations,
                                   ("event_outbox", *self.job_tables))

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
        durable = spec.durable(ns)
        sub = await jetstream(self.broker).pull_subscribe_bind(durable=durable, stream=spec.stream(ns))
        self._pull_subs.append(sub)
        tracer = trace.get_tracer("xbot.projection")
        # The next batch is fetched while this one is applied: nats-py parses the incoming messages on the event
        # loop while the transaction waits on PostgreSQL. Batches are still applied one at a time, in order.
        prefetch: asyncio.Future[list[Msg]] | None = None
        try:
            while not self._draining.is_set():
                if prefetch is None:
                    prefetch = asyncio.ensure_future(sub.fetch(self.batch_size, timeout=5.0))
                try:
                    self._fetching.add(durable)
                    msgs = await prefetch
                except TimeoutError:
                    continue
                except asyncio.CancelledError:
                    raise
                except Exception as err:  # noqa: BLE001 - NATS reconnecting: report, wait, go on
                    logger.warning("fetch on %s failed: %s", durable, err)
                    await asyncio.sleep(1.0)
                    continue
                finally:
                    self._fetching.discard(durable)
                    if prefetch.done():
                        prefetch = None
                if not self._draining.is_set():
                    prefetch = asyncio.ensure_future(sub.fetch(self.batch_size, timeout=5.0))
                # One span per batch, linked to the producers' spans carried in the headers (the first few:
                # enough to follow a trace across the hop without paying per message on a large batch).
                links = [Link(ctx) for ctx in (trace.get_current_span(propagate.extract(m.headers or {}))
                                               .get_span_context() for m in msgs[:TRACE_LINKS]) if ctx.is_valid]
                with tracer.start_as_current_span(f"apply {spec.service}.{spec.name} <- {spec.producer}",
                                                  links=links,
                                                  attributes={"messaging.batch.message_count": len(msgs)}):
                    await runner.handle(spec, msgs)
        finally:
            if prefetch is not None:
                await self._return_prefetched(prefetch)

    @staticmethod
    async def _return_prefetched(prefetch: asyncio.Future[list[Msg]]) -> None:
        """Hand a batch fetched ahead but never applied back to the server at once (nak), rather than leave it to
        wait out the ack wait; a fetch still idle after a moment holds nothing and is cancelled."""
        done, _ = await asyncio.wait({prefetch}, timeout=0.5)
        if not done:
            prefetch.cancel()
            return
        try:
            msgs = prefetch.result()
        except Exception:  # noqa: BLE001 - a timed-out or failed fetch holds nothing
            return
        for m in msgs:
            try:
                await m.nak()
            except Exception:  # noqa: BLE001 - the connection is going: the ack wait redelivers them
                pass

    async def open_context(self) -> JobContext[S]:
        """Migrate, open the pool, connect the broker and build the job context (no consumers, no jobs)."""
        await self.migrate()
        assert self.pool is not None
        await self.broker.connect()
        js = jetstream(self.broker)
        self._context = JobContext(
            service=self.name, settings=self.settings, clock=self.clock, pool=self.pool,
            outbox=Outbox(self.pool, self.publisher, self.clock),
            gateway=GatewayClient(self.broker, self.namespace,
                                  timeout=self.settings.gateway_timeout_real.total_seconds()),
            kill_switch=await KillSwitch.open(js, self.namespace),
            tracking=Tracking(self.pool, self.consumer_specs(), self.namespace, js))
        return self._context

    async def start(self) -> None:
        started = time.time()
        setup_logging(self.name, self.settings.log_level)
        ctx = await self.open_context()
        js = jetstream(self.broker)
        await self._check_provisioned(js)
        dead_letters = DeadLetters(js, self.namespace)
        self.runners = [ProjectionRunner(p, pool=ctx.pool, dead_letters=dead_letters, namespace=self.namespace,
                                         on_commit=ctx.tracking.committed) for p in self.projections]
        # Events a crash left between a job's commit and their publication go out before anything new happens.
        await ctx.outbox.flush()
        if self._worker_factory is not None:
            self._worker = self._worker_factory(ctx)
            await self._worker.start()
            self.status(self._worker.status_block or self.name, self._worker.status)
        if self.runners:
            self._answer_retries()
        await self.broker.start()
        for runner in self.runners:
            for spec in runner.projection.consumers():
                self._consumers.append(
                    asyncio.create_task(self._consume(runner, spec), name=spec.durable(self.namespace)))
        kv = await js.key_value(kv_bucket(self.namespace, "leases"))
        self.scheduler = Scheduler(service=self.name, clock=self.clock, lease=Lease(kv))
        for job in self._worker.jobs() if self._worker else ():
            self.scheduler.add(dataclasses.replace(job, run=self._then_publish(job.run)))
        if self.projections:
            # The streams drop their oldest events (retention): a replay then starts from the latest snapshot.
            every = self.settings.snapshot_interval
            self.scheduler.add(Job("snapshot", every, self.snapshot, offset=min(every, SNAPSHOT_FIRST)))
        self.scheduler.start()
        self.ready_check("broker", self._broker_ready)
        self.ready_check("database", self._database_ready)
        if self.runners:
            self.ready_check("consumers", self._consumers_ready)
        url = await self.health.start()
        await register_service(js, self.namespace, self.name, url, started=started)
        logger.info("%s started; side port %s", self.name, url)

    def _answer_retries(self) -> None:
        """Answer the owner's console's "retry dead letter N" (its Operations page): re-applied here, in the
        service whose projection failed, exactly as ``xbot dlq retry`` does; the console drops the letter once
        this answers ok."""
        async def on_retry(body: dict[str, Any]) -> dict[str, Any]:
            try:
                return {"ok": True, "message": await self.retry_dead_letter(int(body["seq"]))}
            except Exception as err:  # noqa: BLE001 - answered: the owner sees why (still poison, not ours, ...)
                logger.warning("retrying dead letter %s failed: %s", body.get("seq"), err)
                return {"ok": False, "message": f"{type(err).__name__}: {err}"}

        on_retry.__name__ = f"{self.name}_dlq_retry"
        self.broker.subscriber(retry_subject(self.namespace, self.name),
                               queue=f"{self.namespace}_{self.name}_dlq_retry")(on_retry)

    async def retry_dead_letter(self, seq: int) -> str:
        """Re-apply dead letter ``seq`` through the projection whose consumer failed it (it must be this
        service's); raises while it is still poison. The caller drops the letter."""
        letters = DeadLetters(jetstream(self.broker), self.namespace)
        letter = await letters.get(seq)
        if letter.service != self.name:
            raise ValueError(f"dead letter {seq} belongs to {letter.service}, not {self.name}")
        runners = self.runners or [ProjectionRunner(p, pool=self.context.pool, dead_letters=letters,
                                                    namespace=self.namespace) for p in self.projections]
        runner = next((r for r in runners
                       if letter.consumer in {s.durable(self.namespace) for s in r.projection.consumers()}), None)
        if runner is None:
            raise ValueError(f"dead letter {seq}: {self.name} has no consumer {letter.consumer} any more")
        await runner.reapply(letter)
        return f"re-applied dead letter {seq} ({letter.subject} seq {letter.stream_seq})"

    def _then_publish(self, run: Callable[[], Awaitable[object]]) -> Callable[[], Awaitable[object]]:
        """A job run followed by the publication of what it recorded in the outbox (also when it failed half-way:
        what it committed stands)."""
        outbox = self.context.outbox

        async def run_and_publish() -> object:
            try:
                return await run()
            finally:
                try:
                    await outbox.flush()
                except Exception as err:  # noqa: BLE001 - NATS away: the rows wait for the next flush
                    logger.warning("publishing the outbox after a job failed (%s); it is retried after the next "
                                   "job run", err)

        return run_and_publish

    async def _check_provisioned(self, js: JetStreamContext) -> None:
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
        if self._worker is not None:
            try:
                await self._worker.stop()
            except Exception:  # noqa: BLE001 - the rest of the shutdown must still happen
                logger.exception("stopping the %s worker failed", self.name)
        # Finish the batch in hand, then stop; a consumer idle in a fetch has nothing in hand and is cancelled.
        self._draining.set()
        for task in self._consumers:
            if task.get_name() in self._fetching:
                task.cancel()
        if self._consumers:
            await asyncio.wait(self._consumers, timeout=30)
        # Unsubscribe the pull subscriptions before the broker drains the connection: nats-py's fetch takes
        # buffered messages with get_nowait() and never marks them done, so a drain (which joins each
        # subscription's queue) then waits out its whole 30 s timeout. Nothing is lost: unacked messages are
        # redelivered to the durable.
        for sub in self._pull_subs:
            try:
                await sub.unsubscribe()
            except Exception:  # noqa: BLE001 - already gone with the connection
                pass
        self._pull_subs.clear()
        await self.broker.stop()
        await self.health.stop()
        if self.pool:
            await self.pool.close()
            self.pool = None  # a later open_pool (a replay after the stop) gets a fresh one
        self._context = None

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
        if self.pool is None:
            return False, "no pool"
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

def service_main(build: Callable[[Any], Service[Any]], settings_cls: type[CommonSettings],
                 argv: list[str] | None = None) -> None:
    """``python -m services.<name> [run|migrate|provision|replay [--verify]|snapshot|dlq-retry SEQ|<command> ...]``."""
    try:
        settings = load_settings(settings_cls)
        service = build(settings)
    except SettingsError as err:
        print(f"error: {err}", file=sys.stderr)
        raise SystemExit(2) from None
    builtin = ["run", "migrate", "provision", "replay", "snapshot", "dlq-retry"]
    parser = argparse.ArgumentParser(prog=f"python -m {build.__module__.rsplit('.', 1)[0]}")
    parser.add_argument("command", nargs="?", default="run", choices=[*builtin, *service.commands])
    parser.add_argument("args", nargs=argparse.REMAINDER)
    parser.add_argument("--verify", action="store_true",
                        help="replay: rebuild up to the live positions and compare, changing nothing live")
    args = parser.parse_args(argv)
    asyncio.run(_command(service, args.command, args.args, verify=args.verify))


async def _command(service: Service[Any], command: str, args: list[str], *, verify: bool = False) -> None:
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
            stats = await replay_service(service, progress=_print_progress, verify=verify or "--verify" in args)
            print(json.dumps(stats, default=str))
            if stats.get("differences"):
                raise SystemExit(1)
        elif command == "snapshot":
            print(json.dumps(await service.snapshot(), default=str))
        elif command == "dlq-retry":
            if not args:
                raise SystemExit("dlq-retry needs the dead letter's sequence number")
            await _dlq_retry(service, int(args[0]))
        else:
            ctx = await service.open_context()
            print(await service.commands[command](ctx, args))
    finally:
        await service.broker.stop()
        if service.pool:
            await service.pool.close()


async def _dlq_retry(service: Service[Any], seq: int) -> None:
    await service.open_context()
    try:
        done = await service.retry_dead_letter(seq)
    except ValueError as err:
        raise SystemExit(str(err)) from None
    await DeadLetters(jetstream(service.broker), service.namespace).drop(seq)
    print(f"{done} and dropped it")


def _print_progress(done: int, total: int) -> None:
    width = 40
    filled = int(width * done / total) if total else width
    print(f"\rreplay [{'#' * filled}{'.' * (width - filled)}] {done}/{total}", end="", file=sys.stderr, flush=True)
    if done >= total:
        print(file=sys.stderr)
