"""Per-service credentials on real servers: the PostgreSQL roles of ops/pg_roles.py keep each service in its own
schema, and a real service (the poster) does its whole job with nothing but its own NATS user and its own role."""

from __future__ import annotations

import json
import uuid
from urllib.parse import urlsplit, urlunsplit

import asyncpg
import pytest

from libs.bus.broker import jetstream, make_broker
from libs.bus.dlq import DeadLetter, DeadLetters, retry_subject
from libs.bus.provision import provision_consumer, provision_streams
from libs.bus.publish import EventPublisher
from libs.core.clock import Clock
from libs.core.settings import CommonSettings
from ops import pg_roles
from ops.registry import CONSUMERS
from services.poster.app import build
from services.poster.settings import PosterSettings
from tests.helpers import eventually
from tests.integration.foundation.helpers import queued


def _dsn(admin: str, *, user: str, database: str, password: str | None = None) -> str:
    u = urlsplit(admin)
    auth = f"{user}:{password}" if password else user
    return urlunsplit(u._replace(netloc=f"{auth}@{u.hostname}:{u.port}", path=f"/{database}"))


@pytest.fixture
async def roles(servers):
    """A database of its own with the roles applied (a unique prefix: roles are cluster-wide)."""
    admin = servers["XBOT_DATABASE_URL"]
    database, prefix = f"xbot_roles_{uuid.uuid4().hex[:8]}", f"t{uuid.uuid4().hex[:8]}"
    conn = await asyncpg.connect(admin)
    await conn.execute(f'CREATE DATABASE "{database}"')
    passwords = {s: uuid.uuid4().hex for s in (*pg_roles.services_with_schema(), pg_roles.MIGRATOR)}
    await pg_roles.apply(_dsn(admin, user=urlsplit(admin).username or "postgres", database=database), passwords,
                         prefix)
    await pg_roles.apply(_dsn(admin, user=urlsplit(admin).username or "postgres", database=database), passwords,
                         prefix)  # idempotent
    try:
        yield {"admin": admin, "database": database, "prefix": prefix, "passwords": passwords,
               "dsn": lambda key: _dsn(admin, user=pg_roles.role(key, prefix), database=database,
                                       password=passwords[key])}
    finally:
        await conn.execute(f'DROP DATABASE IF EXISTS "{database}" WITH (FORCE)')
        for key in (pg_roles.MIGRATOR, *pg_roles.services_with_schema()):
            await conn.execute(f'DROP ROLE IF EXISTS "{pg_roles.role(key, prefix)}"')
        await conn.close()


async def test_no_service_role_is_privileged(roles) -> None:
    conn = await asyncpg.connect(roles["admin"])
    try:
        rows = await conn.fetch("SELECT rolname, rolsuper, rolcreatedb, rolcreaterole, rolbypassrls FROM pg_roles "
                                "WHERE rolname LIKE $1", f"{roles['prefix']}_%")
    finally:
        await conn.close()
    assert len(rows) == len(pg_roles.services_with_schema()) + 1
    assert all(not (r["rolsuper"] or r["rolcreatedb"] or r["rolcreaterole"] or r["rolbypassrls"]) for r in rows)


async def test_the_posters_role_cannot_read_the_planners_schema(roles) -> None:
    planner = await asyncpg.connect(roles["dsn"]("planner"))
    poster = await asyncpg.connect(roles["dsn"]("poster"))
    try:
        await planner.execute("CREATE TABLE planner.secrets_of_the_planner (x text)")
        await planner.execute("INSERT INTO planner.secrets_of_the_planner VALUES ('mine')")
        with pytest.raises(asyncpg.InsufficientPrivilegeError):
            await poster.fetch("SELECT * FROM planner.secrets_of_the_planner")
        with pytest.raises(asyncpg.InsufficientPrivilegeError):
            await poster.execute("CREATE TABLE planner.planted (x text)")
        # Nothing outside its own schema: no new schema, no table in public.
        with pytest.raises(asyncpg.InsufficientPrivilegeError):
            await poster.execute("CREATE SCHEMA elsewhere")
        with pytest.raises(asyncpg.InsufficientPrivilegeError):
            await poster.execute("CREATE TABLE public.planted (x text)")
        # Its own schema is its own.
        await poster.execute("CREATE TABLE poster.mine (x text)")
        assert await poster.fetchval("SELECT count(*) FROM poster.mine") == 0
    finally:
        await planner.close()
        await poster.close()


async def test_the_migration_role_migrates_as_the_services_role(roles) -> None:
    """`xbot migrate` / `replay` run as the migration role; what they create still belongs to the service."""
    from libs.store.migrations import migrate

    migrator = await asyncpg.connect(roles["dsn"](pg_roles.MIGRATOR))
    try:
        await migrate(migrator, "poster", None)
        await migrate(migrator, "poster__replay", None, owner=pg_roles.role("poster", roles["prefix"]))
        owners = await migrator.fetch(
            "SELECT n.nspname, pg_get_userbyid(c.relowner) AS owner FROM pg_class c JOIN pg_namespace n "
            "ON n.oid = c.relnamespace WHERE n.nspname IN ('poster', 'poster__replay') AND c.relkind = 'r'")
    finally:
        await migrator.close()
    assert owners and {r["owner"] for r in owners} == {pg_roles.role("poster", roles["prefix"])}


async def test_the_poster_does_its_job_with_its_own_credentials_only(roles, secure_nats, credentials,
                                                                     namespace, tmp_path) -> None:
    operator = CommonSettings(nats_url=secure_nats, nats_user="operator",
                              nats_password=credentials.nats["operator"], namespace=namespace)
    settings = PosterSettings(
        nats_url=secure_nats, nats_user="poster", nats_password=credentials.nats["poster"], namespace=namespace,
        database_url=_dsn(roles["admin"], user=pg_roles.role("poster", roles["prefix"]), database=roles["database"]),
        database_password=roles["passwords"]["poster"])
    svc = build(settings)
    op_broker = make_broker(operator, service="operator")
    await op_broker.connect()
    js = op_broker.config.connection_state.stream
    await provision_streams(js, namespace)
    for spec in svc.consumer_specs():
        await provision_consumer(js, spec, namespace)
    planner_broker = make_broker(CommonSettings(nats_url=secure_nats, nats_user="planner",
                                                nats_password=credentials.nats["planner"], namespace=namespace),
                                 service="planner")
    await planner_broker.connect()
    await svc.start()  # migrations, consumers, KV lease and registration, the worker: all as the poster
    try:
        item = queued("sleep")
        item = item.model_copy(update={"scheduled_for": item.expires_at})  # never due: nothing is written to X
        await EventPublisher(planner_broker, settings, Clock(), "planner").publish(item)
        pool = svc.pool

        async def queued_row() -> bool:
            return await pool.fetchval("SELECT count(*) FROM queue WHERE content_id = $1", item.content_id) == 1

        await eventually(queued_row, timeout=20)
        assert await pool.fetchval("SELECT current_user") == pg_roles.role("poster", roles["prefix"])
        registered = await (await js.key_value(f"{namespace}_services")).get("svc.poster")
        assert registered.value
        # Its jobs took their leases (a refused KV write would only log a warning and skip the job).
        leases = await js.key_value(f"{namespace}_leases")

        async def leased() -> bool:
            try:
                return any(k.startswith("poster.") for k in await leases.keys())
            except Exception:  # noqa: BLE001 - nats-py raises on an empty bucket
                return False

        await eventually(leased, timeout=20)
        log = (tmp_path / "nats-server.log").read_text()
        assert "violation" not in log.lower(), log[-2000:]
    finally:
        await svc.stop()
        await planner_broker.stop()
    # `xbot replay poster` as the operator runs it: the operator's NATS user, the migration role. The rebuilt
    # schema is swapped in and still belongs to the poster's role, which keeps working in it.
    from libs.store.replay import replay_service

    replayer = build(settings.model_copy(update={
        "nats_user": "operator", "nats_password": operator.nats_password,
        "database_url": settings.database_url.__class__(_dsn(roles["admin"], user=pg_roles.role(
            pg_roles.MIGRATOR, roles["prefix"]), database=roles["database"])),
        "database_password": settings.database_password.__class__(roles["passwords"][pg_roles.MIGRATOR])}))
    try:
        await replayer.broker.connect()
        await replay_service(replayer)
    finally:
        await replayer.stop()
        await op_broker.stop()
    poster_role = await asyncpg.connect(settings.dsn)
    try:
        assert await poster_role.fetchval("SELECT count(*) FROM poster.queue WHERE content_id = $1",
                                          item.content_id) == 1
        owners = await poster_role.fetch(
            "SELECT DISTINCT pg_get_userbyid(c.relowner) AS owner FROM pg_class c JOIN pg_namespace n "
            "ON n.oid = c.relnamespace WHERE n.nspname = 'poster' AND c.relkind = 'r'")
        assert [r["owner"] for r in owners] == [pg_roles.role("poster", roles["prefix"])]
        assert await poster_role.fetchval("SELECT pg_get_userbyid(nspowner) FROM pg_namespace "
                                          "WHERE nspname = 'poster'") == pg_roles.role("poster", roles["prefix"])
    finally:
        await poster_role.close()


@pytest.mark.parametrize("name", [s for s in CONSUMERS if s != "poster"])
async def test_every_service_starts_with_its_own_credentials_only(name, roles, secure_nats, credentials,
                                                                  namespace, tmp_path) -> None:
    """Migrations, bound durables, the outbox, KV registration and job leases: all within its permissions."""
    import importlib

    app = importlib.import_module(f"services.{name}.app")
    # A fast clock, so that every job's first run (offsets of minutes) comes within the test.
    settings = app.Settings(
        time_scale=600, gateway_timeout_real=5,
        nats_url=secure_nats, nats_user=name, nats_password=credentials.nats[name], namespace=namespace,
        database_url=_dsn(roles["admin"], user=pg_roles.role(name, roles["prefix"]), database=roles["database"]),
        database_password=roles["passwords"][name], **({"console_port": 0} if name == "console" else {}))
    svc = app.build(settings)
    op_broker = make_broker(CommonSettings(nats_url=secure_nats, nats_user="operator",
                                           nats_password=credentials.nats["operator"], namespace=namespace),
                            service="operator")
    await op_broker.connect()
    js = op_broker.config.connection_state.stream
    await provision_streams(js, namespace)
    for spec in svc.consumer_specs():
        await provision_consumer(js, spec, namespace)
    await svc.start()
    try:
        registered = await (await js.key_value(f"{namespace}_services")).get(f"svc.{name}")
        assert registered.value
        leases = await js.key_value(f"{namespace}_leases")

        async def leased() -> bool:
            try:
                return any(k.startswith(f"{name}.") for k in await leases.keys())
            except Exception:  # noqa: BLE001 - nats-py raises on an empty bucket
                return False

        await eventually(leased, timeout=30)
        if name == "console":
            # The owner's console holds the operator's right to the kill switch and to the dead letters.
            ctx = svc.context
            await ctx.kill_switch.pause("test", by="console:owner")
            assert (await ctx.kill_switch.read()).paused
            await ctx.kill_switch.resume(by="console:owner")
            assert not (await ctx.kill_switch.read()).paused
            await DeadLetters(js, namespace).add(DeadLetter.of(
                service="planner", consumer="c", subject="s", stream="S", seq=1, deliveries=5, error="bad", data=b"x"))
            letters = DeadLetters(jetstream(svc.broker), namespace)
            [letter] = await letters.list()
            assert letter.dlq_seq is not None
            await letters.drop(letter.dlq_seq)
            assert await letters.list() == []
            # Retry: the console asks the letter's service (here itself) to re-apply it; still poison, it says so.
            consumer = next(c.durable(namespace) for c in svc.consumer_specs() if c.producer == "console")
            await DeadLetters(js, namespace).add(DeadLetter.of(
                service="console", consumer=consumer, subject="s", stream="S", seq=2, deliveries=1, error="bad",
                data=b"not an envelope"))
            [letter] = await letters.list()
            answer = await svc.broker.request({"seq": letter.dlq_seq}, retry_subject(namespace, "console"),
                                              timeout=10)
            assert json.loads(answer.body)["ok"] is False and "PoisonEvent" in json.loads(answer.body)["message"]
            await letters.drop(letter.dlq_seq)
        for check in ("broker", "database", "consumers"):
            ok, detail = await svc.health.checks[check]()
            assert ok, (check, detail)
        # Nothing it did at start or in its jobs was refused by the server.
        log = (tmp_path / "nats-server.log").read_text()
        assert "violation" not in log.lower(), log[-2000:]
    finally:
        await svc.stop()
        await op_broker.stop()


async def test_the_operator_creates_the_snapshot_schema_and_the_service_takes_its_snapshots(roles) -> None:
    """A service's role may create nothing outside its schema: the operator's `xbot migrate` (or `xbot snapshot`)
    creates `<service>__snapshot` for it, owned by it, and the service's scheduled snapshots fill it from then."""
    from libs.store.migrations import migrate
    from libs.store.snapshot import ensure_snapshot_schema, take_snapshot
    from services.poster.app import JOB_TABLES, MIGRATIONS

    poster = pg_roles.role("poster", roles["prefix"])
    job_tables = ("event_outbox", *JOB_TABLES)
    pool = await asyncpg.create_pool(roles["dsn"]("poster"), min_size=1, max_size=1)
    migrator = await asyncpg.connect(roles["dsn"](pg_roles.MIGRATOR))
    try:
        await migrate(migrator, "poster", MIGRATIONS)
        with pytest.raises(PermissionError, match="xbot snapshot poster"):
            await take_snapshot(pool, "poster", MIGRATIONS, job_tables)
        assert await ensure_snapshot_schema(migrator, "poster", MIGRATIONS, create_only=True)
        taken = await take_snapshot(pool, "poster", MIGRATIONS, job_tables)
        assert taken["schema"] == "poster__snapshot" and "queue" in taken["rows"]
        owners = await migrator.fetch(
            "SELECT DISTINCT pg_get_userbyid(c.relowner) AS owner FROM pg_class c JOIN pg_namespace n "
            "ON n.oid = c.relnamespace WHERE n.nspname = 'poster__snapshot' AND c.relkind = 'r'")
        assert [r["owner"] for r in owners] == [poster]
        assert await migrator.fetchval("SELECT pg_get_userbyid(nspowner) FROM pg_namespace "
                                       "WHERE nspname = 'poster__snapshot'") == poster
    finally:
        await migrator.close()
        await pool.close()
