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


import typer

from ops.access import OPERATOR, component_env
from ops.infra import ROOT, ensure_secure_servers, ensure_servers, secure_stack_running
from ops.registry import SERVICES
from libs.core.settings import CommonSettings, SettingsError, load_settings

BENCHES = ("events", "gateway", "planner", "learner", "chaos", "embedders", "safety", "upgrade", "growth", "policy")

app = typer.Typer(help="xbot: an autonomous growth engine for one X account", no_args_is_help=True)
dlq_app = typer.Typer(help="the dead-letter stream", no_args_is_help=True)
events_app = typer.Typer(help="event streams", no_args_is_help=True)
model_app = typer.Typer(help="the learner's model", no_args_is_help=True)
app.add_typer(dlq_app, name="dlq")
app.add_typer(events_app, name="events")
app.add_typer(model_app, name="model")


def _env() -> dict[str, str]:
    """The operator's environment: on the local `xbot up` stack when it runs (as the operator's NATS user and the
    migration role), else the servers ops/infra.py finds or starts (the shared ones, or XBOT_* as set)."""
    env = dict(os.environ)
    if "XBOT_NATS_URL" not in env and secure_stack_running():
        env.update(_secure_envs(env, reconfigure=False)[OPERATOR])
    else:
        env.update(ensure_servers(env))
    env.setdefault("PYTHONPATH", str(ROOT))
    return env


def _secure_envs(env: dict[str, str], *, reconfigure: bool = True) -> dict[str, dict[str, str]]:
    """Each component's environment on the local authenticated stack (ops/infra.ensure_secure_servers): its own
    NATS user and database role, its own secret files, none of the others' secrets."""
    namespace = env.get("XBOT_NAMESPACE", "xbot")
    return {c: {**component_env(env, c), **own, "PYTHONPATH": env.get("PYTHONPATH", str(ROOT))}
            for c, own in ensure_secure_servers(namespace, reconfigure=reconfigure).items()}


def _settings(env: dict[str, str] | None = None) -> CommonSettings:
    if env:
        os.environ.update(env)
    from libs.bus.streams import retention_from

    try:
        settings = load_settings(CommonSettings)
        retention_from(settings)  # XBOT_STREAM_LIMITS names known streams (checked here, not half-way through)
        return settings
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


def _each_service(command: str, names: list[str] | tuple[str, ...], env: dict[str, str]) -> dict[str, int]:
    """``python -m services.<name> <command>`` (``provision``, ``migrate``) for each service, side by side: each
    touches its own schema and consumers only (the demo provisions the same way), and one after another they took
    a process start each. Their output is printed service by service, in order; each one's exit code."""
    procs = {s: subprocess.Popen(_module_cmd(f"services.{s}", command), env=env, cwd=ROOT,
                                 stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True) for s in names}
    codes = {}
    for name, proc in procs.items():
        out, err = proc.communicate()
        typer.echo(out, nl=False)
        typer.echo(err, nl=False, err=True)
        codes[name] = proc.returncode
    return codes


def _provision_services(names: list[str] | tuple[str, ...], env: dict[str, str]) -> list[str]:
    """Each service's durable consumers (and migrations); the names of those that failed."""
    return [name for name, code in _each_service("provision", names, env).items() if code != 0]


@app.command()
def run(service: str) -> None:
    """Run one service in the foreground."""
    raise typer.Exit(_run_module(f"services.{_check_service(service)}", "run"))


async def _provision_streams(settings: CommonSettings) -> list[str]:
    from libs.bus.provision import provision_streams
    from libs.bus.nats import connect
    from libs.bus.streams import retention_from

    retention = retention_from(settings)
    nc = await connect(settings)
    try:
        return await provision_streams(nc.jetstream(), settings.namespace, settings.stream_replicas, retention)
    finally:
        await nc.close()


@app.command()
def provision() -> None:
    """Create or update streams, KV buckets and every service's durable consumers (idempotent)."""
    env = _env()
    settings = _settings(env)
    for line in asyncio.run(_provision_streams(settings)) or ["streams up to date"]:
        typer.echo(line)
    failed = _provision_services(SERVICES, env)
    if failed:
        typer.echo(f"provisioning failed for: {', '.join(failed)}", err=True)
        raise typer.Exit(1)


@app.command()
def migrate(service: str = typer.Argument(None, help="one service; all when omitted")) -> None:
    """Apply pending SQL migrations (services also migrate at start)."""
    env = _env()
    names = [_check_service(service)] if service else list(SERVICES)
    raise typer.Exit(max(_each_service("migrate", names, env).values()))


@app.command()
def replay(service: str,
           verify: bool = typer.Option(False, "--verify", help="rebuild up to the live positions and compare, "
                                       "leaving the live tables alone; exit 1 when they differ")) -> None:
    """Rebuild a service's projections from sequence 1 into fresh tables and swap them in."""
    args = ("replay", "--verify") if verify else ("replay",)
    raise typer.Exit(_run_module(f"services.{_check_service(service)}", *args))


@app.command()
def snapshot(service: str) -> None:
    """Copy a service's projections and their stream positions into <service>__snapshot, where a replay starts
    once the streams' retention has dropped their first events (take one before the retention limit is hit)."""
    raise typer.Exit(_run_module(f"services.{_check_service(service)}", "snapshot"))


@app.command()
def backup(out: str = typer.Option(None, "--out", help="the archive to write; backups/xbot-<namespace>-<time>.tar.gz "
                                                        "when omitted")) -> None:
    """Write one archive with every service's schema (pg_dump), every stream and KV bucket, and a manifest of
    positions (ops/backup.py)."""
    from datetime import UTC, datetime
    from pathlib import Path

    from ops.backup import backup as write_backup

    settings = _settings(_env())
    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ")
    path = Path(out) if out else ROOT / "backups" / f"xbot-{settings.namespace}-{stamp}.tar.gz"
    manifest = asyncio.run(write_backup(settings, list(SERVICES), path))
    streams = ", ".join(f"{k} {v['messages']}" for k, v in manifest["streams"].items())
    typer.echo(f"{path}: schemas {', '.join(manifest['schemas']) or '-'}; messages {streams}")


@app.command()
def restore(archive: str) -> None:
    """Load a backup into empty servers (refuses a database or streams already in use), then provision every
    service's consumers; start the services after."""
    from pathlib import Path

    from ops.backup import RestoreRefused, restore as load_backup

    env = _env()
    settings = _settings(env)
    try:
        done = asyncio.run(load_backup(settings, Path(archive)))
    except RestoreRefused as err:
        typer.echo(f"error: {err}", err=True)
        raise typer.Exit(1) from None
    typer.echo(f"restored schemas {', '.join(done['schemas']) or '-'}; messages "
               + ", ".join(f"{k} {v}" for k, v in done["streams"].items()))
    failed = _provision_services(SERVICES, env)
    if failed:
        typer.echo(f"provisioning failed for: {', '.join(failed)}", err=True)
        raise typer.Exit(1)


@app.command()
def up(services: list[str] = typer.Argument(None, help="services to run; all when omitted")) -> None:
    """Provision, then run services under one local supervisor (restarts a crashed one; Ctrl-C stops all)."""
    from ops.supervisor import Supervisor

    names = [_check_service(s) for s in services] if services else list(SERVICES)
    base = dict(os.environ)
    if "XBOT_NATS_URL" in base:
        # Servers the operator chose: their credentials are the operator's business (XBOT_NATS_USER, …).
        envs = {c: {**base, **ensure_servers(base), "PYTHONPATH": str(ROOT)} for c in (*names, OPERATOR)}
    else:
        # Its own servers, each service with its own NATS user, database role and secrets (ops/access.py).
        envs = _secure_envs(base)
        typer.echo(f"servers: {envs[OPERATOR]['XBOT_NATS_URL']} and PostgreSQL "
                   f"{envs[OPERATOR]['XBOT_DATABASE_URL'].split('@')[1]}, per-service credentials in "
                   f"{envs[OPERATOR]['XBOT_SECRETS_DIR'].rsplit('/', 1)[0]}")
    env = envs[OPERATOR]
    settings = _settings(env)
    for line in asyncio.run(_provision_streams(settings)):
        typer.echo(line)
    if failed := _provision_services(names, env):
        typer.echo(f"provisioning failed for: {', '.join(failed)}", err=True)
        raise typer.Exit(1)
    sup = Supervisor(env=env, cwd=ROOT)
    for s in names:
        sup.add(s, _module_cmd(f"services.{s}", "run"), env=envs[s])
    raise typer.Exit(sup.run_until_interrupted())


credentials_app = typer.Typer(help="per-component credentials (ops/credentials.py)", no_args_is_help=True)
app.add_typer(credentials_app, name="credentials")


@credentials_app.command("env")
def credentials_env() -> None:
    """Print the generated passwords as .env lines for docker compose (`xbot credentials env >> .env`)."""
    from ops.credentials import env_lines, load
    from ops.infra import CREDENTIALS

    typer.echo(env_lines(load(CREDENTIALS)), nl=False)


@credentials_app.command("k8s")
def credentials_k8s(namespace: str = typer.Option("xbot", help="the Kubernetes namespace")) -> None:
    """Print the per-workload Secrets of deploy/k8s (`xbot credentials k8s | kubectl apply -f -`); add the X
    session and the LLM key to theirs (docs/operations.md)."""
    from ops.credentials import k8s_secrets, load
    from ops.infra import CREDENTIALS

    typer.echo(k8s_secrets(load(CREDENTIALS), namespace), nl=False)


@app.command("db-roles")
def db_roles() -> None:
    """Create or update the PostgreSQL roles and schemas (ops/pg_roles.py) as the superuser in XBOT_DATABASE_URL;
    role passwords from XBOT_DB_PASSWORD_<ROLE> (a variable, or a file of that name in XBOT_SECRETS_DIR)."""
    from ops import pg_roles

    settings = _settings()
    secrets_dir = os.environ.get("XBOT_SECRETS_DIR")
    passwords = {}
    for key in (*pg_roles.services_with_schema(), pg_roles.MIGRATOR):
        var = pg_roles.password_variable(key)
        path = os.path.join(secrets_dir, var.lower()) if secrets_dir else None
        value = os.environ.get(var) or (open(path).read().strip() if path and os.path.exists(path) else None)
        if not value:
            typer.echo(f"error: no password for the {key} role: set {var}", err=True)
            raise typer.Exit(2)
        passwords[key] = value
    asyncio.run(pg_roles.apply(settings.dsn, passwords))
    typer.echo(f"roles up to date: {', '.join(pg_roles.role(k) for k in passwords)}")


@app.command()
def sandbox() -> None:
    """Serve the X look-alike with its simulated audience and text endpoint (default 127.0.0.1:8400, where the
    gateway, the poster and the planner look for X and the text endpoint by default)."""
    env = _env()
    env.setdefault("XBOT_SANDBOX_PORT", "8400")
    raise typer.Exit(_run_module("sandbox", env=env))


@app.command()
def draft(n: int = typer.Option(5, "--n", help="how many drafts"),
          reply_to: str = typer.Option(None, "--reply-to", help="draft replies to this tweet's text instead"),
          seed: int = typer.Option(None, help="seed of the choices drawn")) -> None:
    """Print drafts for the configured model (XBOT_LLM_*) and niche without queuing anything (the calls are real
    calls to the configured endpoint: they cost what they cost there)."""
    args = ["draft", "--n", str(n)] + (["--reply-to", reply_to] if reply_to else []) \
        + (["--seed", str(seed)] if seed is not None else [])
    # No broker or database is needed, so none is started (unlike _env()).
    env = {**os.environ, "PYTHONPATH": os.environ.get("PYTHONPATH", str(ROOT))}
    raise typer.Exit(subprocess.call(_module_cmd("services.planner", *args), env=env, cwd=ROOT))


@app.command()
def login(api: bool = typer.Option(False, "--api", help="sign in to the X API (OAuth 2.0 with PKCE) instead")) -> None:
    """Create the X session file (mode 0600) against the configured X base URL; with --api, the X API's tokens
    (XBOT_X_API_TOKEN_FILE, mode 0600)."""
    raise typer.Exit(_run_module("services.browser_gateway", "login", *(["--api"] if api else [])))


@app.command("notify-test")
def notify_test() -> None:
    """Send one test notification to every channel in XBOT_NOTIFY_URLS and print each one's result."""
    raise typer.Exit(_run_module("services.notifier", "send-test"))


console_app = typer.Typer(help="The owner's console (issue 22): a web app on 127.0.0.1:XBOT_CONSOLE_PORT.")
app.add_typer(console_app, name="console")


@console_app.command("set-password")
def console_set_password() -> None:
    """Set the owner's console password (asked twice, or read from XBOT_CONSOLE_PASSWORD); ends every session."""
    raise typer.Exit(_run_module("services.console", "set-password"))


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
    from ops.status import collect_status, render_status

    settings = _settings(_env())
    report = asyncio.run(collect_status(settings, SERVICES))
    typer.echo(json.dumps(report, indent=2, default=str) if as_json else render_status(report))


async def _switch(settings: CommonSettings, paused: bool, reason: str) -> None:
    from libs.bus.control import KillSwitch
    from libs.bus.nats import connect

    nc = await connect(settings)
    try:
        switch = await KillSwitch.open(nc.jetstream(), settings.namespace)
        by = f"{os.environ.get('USER', 'operator')} via xbot"
        await (switch.pause(reason, by=by) if paused else switch.resume(by=by))
    finally:
        await nc.close()


@app.command()
def pause(reason: str = typer.Option("operator", help="why writes stop")) -> None:
    """Kill switch: stop every write to X within one cycle (state survives restarts)."""
    asyncio.run(_switch(_settings(_env()), True, reason))
    typer.echo("writes paused")


@app.command()
def resume() -> None:
    """Lift the kill switch and any operator stop (locked / session expired) after you checked the account."""
    asyncio.run(_switch(_settings(_env()), False, "resumed"))
    typer.echo("writes resumed")


@model_app.command("rollback")
def model_rollback() -> None:
    """Restore the learner's previous model version (republished as the policy in force)."""
    raise typer.Exit(_run_module("services.learner", "rollback"))


@dlq_app.command("list")
def dlq_list(service: str = typer.Option(None, help="only this service's letters")) -> None:
    from libs.bus.dlq import DeadLetters
    from libs.bus.nats import connect

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
    from libs.bus.nats import connect

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
    from libs.bus.nats import connect

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
         driver: str = typer.Option("browser", help="browser (X's web client in Chromium) or api (the X API)"),
         cleanup: bool = typer.Option(False, help="delete the run's streams and database afterwards"),
         approval: str = typer.Option("none", help="drafts that wait for the owner's approval in the console: "
                                                   "all, posts or none")) -> None:
    """The whole system against the sandbox, with a live display and a report at the end (docs/demo.md)."""
    from ops.demo.__main__ import main as demo_main

    args = ["--hours", str(hours), "--minutes", str(minutes), "--seed", str(seed), "--driver", driver,
            "--approval", approval]
    raise typer.Exit(demo_main(args + (["--cleanup"] if cleanup else [])))


def main() -> None:  # pragma: no cover - console script
    app()


if __name__ == "__main__":
    main()
