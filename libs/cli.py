"""The ``xbot`` command.

Service-specific work runs in the service's own process (``python -m services.<name> <command>``), so this
module knows service names but imports no service code: each service stays deployable on its own.
"""

from __future__ import annotations

import asyncio
import json
import os
import signal
import subprocess
import sys
import time


import typer

from libs.runtime.infra import ROOT, ensure_servers
from libs.runtime.settings import CommonSettings, SettingsError, load_settings

SERVICES = ("browser_gateway", "planner", "poster", "harvester", "scraper", "learner")
BENCHES = ("events", "gateway", "planner", "learner", "chaos")

app = typer.Typer(help="xbot: an autonomous growth engine for one X account", no_args_is_help=True)
dlq_app = typer.Typer(help="the dead-letter stream", no_args_is_help=True)
events_app = typer.Typer(help="event streams", no_args_is_help=True)
model_app = typer.Typer(help="the learner's model", no_args_is_help=True)
app.add_typer(dlq_app, name="dlq")
app.add_typer(events_app, name="events")
app.add_typer(model_app, name="model")


def _env() -> dict[str, str]:
    env = dict(os.environ)
    env.update(ensure_servers(env))
    env.setdefault("PYTHONPATH", str(ROOT))
    return env


def _settings(env: dict[str, str] | None = None) -> CommonSettings:
    if env:
        os.environ.update(env)
    try:
        return load_settings(CommonSettings)
    except SettingsError as err:
        typer.echo(f"error: {err}", err=True)
        raise typer.Exit(2) from None


def _check_service(name: str) -> str:
    if name not in SERVICES:
        typer.echo(f"unknown service {name!r}; one of: {', '.join(SERVICES)}", err=True)
        raise typer.Exit(2)
    return name


def _module_cmd(module: str, *args: str) -> list[str]:
    return [sys.executable, "-m", module, *args]


def _run_module(module: str, *args: str, env: dict[str, str] | None = None) -> int:
    return subprocess.call(_module_cmd(module, *args), env=env or _env(), cwd=ROOT)


@app.command()
def run(service: str) -> None:
    """Run one service in the foreground."""
    raise typer.Exit(_run_module(f"services.{_check_service(service)}", "run"))


async def _provision_streams(settings: CommonSettings) -> list[str]:
    from libs.bus.provision import provision_streams
    from libs.runtime.nats import connect

    nc = await connect(settings)
    try:
        return await provision_streams(nc.jetstream(), settings.namespace, settings.stream_replicas)
    finally:
        await nc.close()


@app.command()
def provision() -> None:
    """Create or update streams, KV buckets and every service's durable consumers (idempotent)."""
    env = _env()
    settings = _settings(env)
    for line in asyncio.run(_provision_streams(settings)) or ["streams up to date"]:
        typer.echo(line)
    failed = [s for s in SERVICES if _run_module(f"services.{s}", "provision", env=env) != 0]
    if failed:
        typer.echo(f"provisioning failed for: {', '.join(failed)}", err=True)
        raise typer.Exit(1)


@app.command()
def migrate(service: str = typer.Argument(None, help="one service; all when omitted")) -> None:
    """Apply pending SQL migrations (services also migrate at start)."""
    env = _env()
    names = [_check_service(service)] if service else list(SERVICES)
    codes = [_run_module(f"services.{s}", "migrate", env=env) for s in names]
    raise typer.Exit(max(codes))


@app.command()
def replay(service: str,
           verify: bool = typer.Option(False, "--verify", help="rebuild up to the live positions and compare, "
                                       "leaving the live tables alone; exit 1 when they differ")) -> None:
    """Rebuild a service's projections from sequence 1 into fresh tables and swap them in."""
    args = ("replay", "--verify") if verify else ("replay",)
    raise typer.Exit(_run_module(f"services.{_check_service(service)}", *args))


@app.command()
def up(services: list[str] = typer.Argument(None, help="services to run; all when omitted")) -> None:
    """Provision, then run services under one local supervisor (restarts a crashed one; Ctrl-C stops all)."""
    from libs.runtime.supervisor import Supervisor

    env = _env()
    names = [_check_service(s) for s in services] if services else list(SERVICES)
    settings = _settings(env)
    for line in asyncio.run(_provision_streams(settings)):
        typer.echo(line)
    for s in names:
        if _run_module(f"services.{s}", "provision", env=env) != 0:
            raise typer.Exit(1)
    sup = Supervisor(env=env, cwd=ROOT)
    for s in names:
        sup.add(s, _module_cmd(f"services.{s}", "run"))
    raise typer.Exit(sup.run_until_interrupted())


@app.command()
def sandbox() -> None:
    """Serve the X look-alike with its simulated audience and text endpoint (default 127.0.0.1:8400, where the
    gateway, the poster and the planner look for X and the text endpoint by default)."""
    env = _env()
    env.setdefault("XBOT_SANDBOX_PORT", "8400")
    raise typer.Exit(_run_module("sandbox", env=env))


@app.command()
def login() -> None:
    """Create the X session file (mode 0600) against the configured X base URL."""
    raise typer.Exit(_run_module("services.browser_gateway", "login"))


@app.command(context_settings={"allow_extra_args": True, "ignore_unknown_options": True})
def bench(ctx: typer.Context, name: str = typer.Argument(..., help=" | ".join(BENCHES))) -> None:
    """Run a benchmark; options after the name go to it (`xbot bench events --events 1000`); results land in
    bench/results/<name>.json."""
    if name not in BENCHES:
        typer.echo(f"unknown benchmark {name!r}; one of: {', '.join(BENCHES)}", err=True)
        raise typer.Exit(2)
    raise typer.Exit(_run_module(f"bench.{name}", *ctx.args))


@app.command()
def status(as_json: bool = typer.Option(False, "--json")) -> None:
    """Every service at a glance: ready, consumer lag, DLQ size, and what each reports."""
    from libs.runtime.status import collect_status, render_status

    settings = _settings(_env())
    report = asyncio.run(collect_status(settings, SERVICES))
    typer.echo(json.dumps(report, indent=2, default=str) if as_json else render_status(report))


async def _kv_control(settings: CommonSettings, key: str, value: bytes | None) -> bytes | None:
    from libs.bus.streams import kv_bucket
    from libs.runtime.nats import connect

    nc = await connect(settings)
    try:
        kv = await nc.jetstream().key_value(kv_bucket(settings.namespace, "control"))
        if value is not None:
            await kv.put(key, value)
        entry = await kv.get(key)
        return entry.value
    finally:
        await nc.close()


@app.command()
def pause(reason: str = typer.Option("operator", help="why writes stop")) -> None:
    """Kill switch: stop every write to X within one cycle (state survives restarts)."""
    settings = _settings(_env())
    asyncio.run(_kv_control(settings, "writes.paused",
                            json.dumps({"paused": True, "reason": reason, "at": time.time()}).encode()))
    typer.echo("writes paused")


@app.command()
def resume() -> None:
    """Lift the kill switch and any operator stop (locked / session expired) after you checked the account."""
    settings = _settings(_env())
    asyncio.run(_kv_control(settings, "writes.paused",
                            json.dumps({"paused": False, "reason": "resumed", "at": time.time()}).encode()))
    typer.echo("writes resumed")


@model_app.command("rollback")
def model_rollback() -> None:
    """Restore the learner's previous model version (republished as the policy in force)."""
    raise typer.Exit(_run_module("services.learner", "rollback"))


@dlq_app.command("list")
def dlq_list(service: str = typer.Option(None, help="only this service's letters")) -> None:
    from libs.bus.dlq import DeadLetters
    from libs.runtime.nats import connect

    settings = _settings(_env())

    async def go() -> None:
        nc = await connect(settings)
        try:
            letters = await DeadLetters(nc.jetstream(), settings.namespace).list(service)
        finally:
            await nc.close()
        if not letters:
            typer.echo("dead-letter stream is empty")
        for letter in letters:
            typer.echo(f"#{letter.dlq_seq} {letter.service} {letter.subject} seq={letter.stream_seq} "
                       f"deliveries={letter.deliveries}: {letter.error}")

    asyncio.run(go())


@dlq_app.command("retry")
def dlq_retry(seq: int, service: str = typer.Option(..., help="the service whose projection failed")) -> None:
    """Re-apply a dead letter (after fixing its cause) in its service, then drop it."""
    raise typer.Exit(_run_module(f"services.{_check_service(service)}", "dlq-retry", str(seq)))


@dlq_app.command("drop")
def dlq_drop(seq: int) -> None:
    from libs.bus.dlq import DeadLetters
    from libs.runtime.nats import connect

    settings = _settings(_env())

    async def go() -> None:
        nc = await connect(settings)
        try:
            await DeadLetters(nc.jetstream(), settings.namespace).drop(seq)
        finally:
            await nc.close()

    asyncio.run(go())
    typer.echo(f"dropped dead letter {seq}")


@events_app.command("tail")
def events_tail(subject: str = typer.Option(None, help="subject filter; all xbot events when omitted"),
                last: int = typer.Option(10, help="print this many stored messages of each stream first")) -> None:
    """Print the last stored events of every stream the filter touches, then new ones (Ctrl-C to stop)."""
    from libs.bus.tail import tail_events
    from libs.runtime.nats import connect

    settings = _settings(_env())

    async def go() -> int:
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGINT, signal.SIGTERM):
            loop.add_signal_handler(sig, stop.set)
        nc = await connect(settings)
        try:
            return await tail_events(nc.jetstream(), settings.namespace, typer.echo, stop, subject=subject, last=last)
        finally:
            await nc.close()

    if asyncio.run(go()) == 0:
        typer.echo(f"no provisioned stream of namespace {settings.namespace!r} holds {subject or 'events'}", err=True)
        raise typer.Exit(1)


@app.command()
def demo(hours: float = typer.Option(72.0, help="simulated hours"),
         minutes: float = typer.Option(10.0, help="real minutes at most"),
         seed: int = typer.Option(42, help="seed of the sandbox's world"),
         cleanup: bool = typer.Option(False, help="delete the run's streams and database afterwards")) -> None:
    """The whole system against the sandbox, with a live display and a report at the end (docs/demo.md)."""
    from libs.demo.__main__ import main as demo_main

    args = ["--hours", str(hours), "--minutes", str(minutes), "--seed", str(seed)]
    raise typer.Exit(demo_main(args + (["--cleanup"] if cleanup else [])))


def main() -> None:  # pragma: no cover - console script
    app()


if __name__ == "__main__":
    main()
