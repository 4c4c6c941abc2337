"""Data lifecycle against real JetStream and Postgres: provisioning applies changed limits to existing streams,
the server drops the oldest events, a replay then starts from a snapshot of the projections, and a backup of a
running service restores into fresh servers."""

from __future__ import annotations

from datetime import timedelta

import asyncpg
import pytest
from pydantic import SecretStr

from libs.bus.provision import provision_streams
from libs.bus.streams import Retention, stream_name
from libs.store.replay import replay_service
from libs.store.snapshot import SnapshotMissing
from ops.backup import RestoreRefused, backup, restore
from tests.chaos.servers import OwnNats, OwnPostgres
from tests.helpers import eventually, publish

from . import ledger
from .helpers import queued


@pytest.fixture
async def ledger_service(settings, js):
    conn = await asyncpg.connect(settings.dsn)
    await conn.execute("DROP SCHEMA IF EXISTS ledger CASCADE; DROP SCHEMA IF EXISTS ledger__snapshot CASCADE")
    await conn.close()
    svc = ledger.build(settings)
    await svc.provision()
    yield svc
    await svc.stop()
    conn = await asyncpg.connect(settings.dsn)
    await conn.execute("DROP SCHEMA IF EXISTS ledger__snapshot CASCADE")
    await conn.close()


async def rows(settings, sql: str):
    conn = await asyncpg.connect(settings.dsn, server_settings={"search_path": "ledger"})
    try:
        return await conn.fetch(sql)
    finally:
        await conn.close()


async def tables(settings):
    out = {t: sorted(map(tuple, await rows(settings, f"SELECT * FROM {t}")))
           for t in ("queued", "topic_counts", "applications")}
    return out | {"positions": sorted(map(tuple, await rows(settings, "SELECT consumer, stream, stream_seq "
                                                                       "FROM tracking")))}


async def applied(settings, n: int) -> bool:
    return len(await rows(settings, "SELECT * FROM applications")) == n


async def test_provision_applies_changed_limits_and_the_server_drops_the_oldest(settings, js):
    planner = stream_name(settings.namespace, "planner")
    await publish(settings, [queued("sleep", f"c{i}") for i in range(30)])
    changes = await provision_streams(js, settings.namespace, retention={"planner": Retention(max_msgs=10)})
    assert [c for c in changes if c.startswith("stream")] == [f"stream {planner} updated (no max_age, "
                                                              "max_bytes -1, max_msgs 10)"]
    state = (await js.stream_info(planner)).state
    assert (state.messages, state.first_seq, state.last_seq) == (10, 21, 30)
    # Applying the same limits again changes nothing.
    again = await provision_streams(js, settings.namespace, retention={"planner": Retention(max_msgs=10)})
    assert [c for c in again if c.startswith("stream")] == []


async def test_max_age_drops_events_older_than_the_limit(settings, js):
    harvester = stream_name(settings.namespace, "harvester")
    await provision_streams(js, settings.namespace, retention={"harvester": Retention(max_age=timedelta(seconds=1))})
    cfg = (await js.stream_info(harvester)).config
    assert cfg.max_age == pytest.approx(1.0) and cfg.duplicate_window == pytest.approx(1.0)
    await js.publish(f"{settings.namespace}.harvester.opportunity_found.v1", b"{}", stream=harvester)
    assert (await js.stream_info(harvester)).state.messages == 1

    async def aged_out():
        state = (await js.stream_info(harvester)).state
        return state.messages == 0 and state.first_seq == 2

    await eventually(aged_out, timeout=30)


async def test_replay_starts_from_the_snapshot_once_the_first_events_are_gone(settings, js, ledger_service):
    topics = ["sleep", "nutrition", "stress"]
    await publish(settings, [queued(topics[i % 3], f"c{i}") for i in range(30)])
    await ledger_service.start()
    await eventually(lambda: applied(settings, 30))

    # Retention drops the first five events and there is no snapshot: a replay refuses rather than rebuild less.
    await provision_streams(js, settings.namespace, retention={"planner": Retention(max_msgs=25)})
    with pytest.raises(SnapshotMissing, match="no snapshot"):
        await replay_service(ledger_service, verify=True)

    taken = await ledger_service.snapshot()
    durable = ledger_service.consumer_specs()[0].durable(settings.namespace)
    planner = stream_name(settings.namespace, "planner")
    assert taken["positions"] == {f"{durable}@{planner}": 30}
    assert taken["rows"]["queued"] == 30 and "notes" not in taken["rows"]  # job-owned tables stay out

    await publish(settings, [queued(topics[i % 3], f"c{i}") for i in range(30, 50)])
    await eventually(lambda: applied(settings, 50))
    # Exactly the events after the snapshot are left.
    await provision_streams(js, settings.namespace, retention={"planner": Retention(max_msgs=20)})
    assert (await js.stream_info(planner)).state.first_seq == 31

    verified = await replay_service(ledger_service, verify=True)
    assert verified["differences"] == [] and verified["applied"] == 20
    assert verified["from_snapshot"] == {f"{durable}@{planner}": 30}

    before = await tables(settings)
    swapped = await replay_service(ledger_service)
    assert swapped["applied"] == 20 and await tables(settings) == before
    # The live service carries on in the swapped-in tables.
    await publish(settings, [queued("sleep", "c50")])
    await eventually(lambda: applied(settings, 51))

    # Retention past the snapshot's position: events 31..46 are gone, and replay says so.
    await provision_streams(js, settings.namespace, retention={"planner": Retention(max_msgs=5)})
    with pytest.raises(SnapshotMissing, match="events 31..46 are gone"):
        await replay_service(ledger_service, verify=True)
    # A fresh snapshot covers it again.
    await ledger_service.snapshot()
    assert (await replay_service(ledger_service, verify=True))["differences"] == []


async def test_a_running_service_snapshots_its_projections_on_a_schedule(settings, js):
    conn = await asyncpg.connect(settings.dsn)
    await conn.execute("DROP SCHEMA IF EXISTS ledger CASCADE; DROP SCHEMA IF EXISTS ledger__snapshot CASCADE")
    await conn.close()
    # One simulated hour (the first snapshot's offset) is half a real second here.
    svc = ledger.build(settings.model_copy(update={"time_scale": 7200.0}))
    await svc.provision()
    await publish(settings, [queued("sleep", f"c{i}") for i in range(10)])
    await svc.start()
    try:
        await eventually(lambda: applied(settings, 10))

        async def snapshotted():
            conn = await asyncpg.connect(settings.dsn)
            try:
                if not await conn.fetchval("SELECT 1 FROM information_schema.schemata "
                                           "WHERE schema_name = 'ledger__snapshot'"):
                    return None
                return await conn.fetchval("SELECT max(stream_seq) FROM ledger__snapshot.tracking") == 10 and \
                    await conn.fetchval("SELECT count(*) FROM ledger__snapshot.queued") == 10
            except asyncpg.UndefinedTableError:  # met a snapshot being rebuilt (its tables dropped, not yet back)
                return None
            finally:
                await conn.close()

        await eventually(snapshotted, timeout=30)
    finally:
        await svc.stop()
        conn = await asyncpg.connect(settings.dsn)
        await conn.execute("DROP SCHEMA IF EXISTS ledger__snapshot CASCADE")
        await conn.close()


@pytest.fixture
async def fresh_servers(settings):
    """An empty NATS and an empty PostgreSQL of this test's own, and settings pointing at them."""
    nats, pg = OwnNats(), OwnPostgres()
    nats.start()
    pg.start()
    yield settings.model_copy(update={"nats_url": nats.url, "database_url": SecretStr(pg.url)})
    nats.close()
    pg.close()


async def test_a_backup_of_a_running_service_restores_into_fresh_servers(settings, js, ledger_service,
                                                                         fresh_servers, tmp_path):
    await publish(settings, [queued("sleep", f"c{i}") for i in range(30)])
    await ledger_service.start()
    await eventually(lambda: applied(settings, 30))
    # Retention has dropped the first events (the restore keeps the original sequences); a snapshot covers them.
    await ledger_service.snapshot()
    await provision_streams(js, settings.namespace, retention={"planner": Retention(max_msgs=25)})
    await publish(settings, [queued("stress", f"c{i}") for i in range(30, 35)])
    await eventually(lambda: applied(settings, 35))

    # A dropped dead letter leaves a gap in its stream's sequences, which the restore keeps.
    dlq = stream_name(settings.namespace, "dlq")
    for i in range(3):
        await js.publish(f"{settings.namespace}.dlq.ledger", f"letter {i}".encode(), stream=dlq)
    await js.delete_msg(dlq, 2)

    archive = tmp_path / "backup.tar.gz"
    manifest = await backup(settings, ["ledger"], archive)
    planner = stream_name(settings.namespace, "planner")
    durable = ledger_service.consumer_specs()[0].durable(settings.namespace)
    assert manifest["streams"][planner] == {"first_seq": 11, "last_seq": 35, "messages": 25}
    assert manifest["tracking"] == {"ledger": {f"{durable}@{planner}": 35}}
    assert manifest["schemas"] == ["ledger", "ledger__snapshot"] and manifest["kv"]["control"] == 1
    before = await tables(settings)

    fresh = fresh_servers
    done = await restore(fresh, archive)
    assert done["streams"][planner] == 25
    with pytest.raises(RestoreRefused, match="already has the schemas ledger"):
        await restore(fresh, archive)

    svc = ledger.build(fresh)
    await svc.provision()
    await svc.start()
    try:
        assert await tables(fresh) == before
        from libs.bus.nats import connect

        nc = await connect(fresh, name="test")
        try:
            state = (await nc.jetstream().stream_info(planner)).state
        finally:
            await nc.close()
        assert (state.first_seq, state.last_seq, state.messages) == (11, 35, 25)
        nc = await connect(fresh, name="test")
        try:
            fresh_js = nc.jetstream()
            letters = (await fresh_js.stream_info(dlq)).state
            assert (letters.first_seq, letters.last_seq, letters.messages) == (1, 3, 2)
            assert (await fresh_js.get_msg(dlq, 3)).data == b"letter 2"
        finally:
            await nc.close()
        assert (await replay_service(svc, verify=True))["differences"] == []
        # The restored service goes on: a new event is applied once, nothing old a second time.
        await publish(fresh, [queued("sleep", "c35")])
        await eventually(lambda: applied(fresh, 36))
        counts = await rows(fresh, "SELECT count(*) AS n, count(DISTINCT content_id) AS d FROM applications")
        assert tuple(counts[0]) == (36, 36)
    finally:
        await svc.stop()
