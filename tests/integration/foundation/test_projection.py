"""The projection runner against real JetStream and Postgres: exactly-once effects, poison, retries, replay."""

from __future__ import annotations

import asyncio
import subprocess
import sys

from pathlib import Path

import asyncpg
import pytest

from libs.bus.dlq import DeadLetters
from libs.bus.streams import stream_name
from libs.store.replay import replay_service

from . import ledger
from tests.helpers import eventually

from .helpers import queued
from tests.helpers import publish

LEDGER = Path(ledger.__file__)


@pytest.fixture
async def ledger_service(settings, js):
    """The ledger service, provisioned (consumers with a short ack wait so redelivery is quick)."""
    conn = await asyncpg.connect(settings.dsn)
    await conn.execute("DROP SCHEMA IF EXISTS ledger CASCADE")  # the database lives for the whole session
    await conn.close()
    svc = ledger.build(settings)
    for p in svc.projections:
        p.ack_wait_s = 2.0
    await svc.provision()
    yield svc
    await svc.stop()




async def rows(settings, sql: str):
    conn = await asyncpg.connect(settings.dsn, server_settings={"search_path": "ledger"})
    try:
        return await conn.fetch(sql)
    finally:
        await conn.close()


async def test_killed_after_commit_before_ack_applies_exactly_once(settings, ledger_service, service_env):
    await publish(settings, [queued("sleep", f"c{i}") for i in range(5)])
    crashed = subprocess.run([sys.executable, str(LEDGER), "crash-after-commit"], env=service_env,
                             capture_output=True, text=True, timeout=60)
    assert crashed.returncode == -9, crashed.stderr
    assert "committed 5" in crashed.stdout
    # The effects are there, the acks are not: the server will redeliver all five.
    assert len(await rows(settings, "SELECT * FROM applications")) == 5

    await ledger_service.start()
    await publish(settings, [queued("sleep", "c5")])

    async def settled():
        return len(await rows(settings, "SELECT * FROM applications")) == 6

    await eventually(settled)
    await asyncio.sleep(2.5)  # past the ack wait: any redelivery would have been applied by now
    apps = await rows(settings, "SELECT content_id, count(*) AS n FROM applications GROUP BY content_id")
    assert {r["content_id"]: r["n"] for r in apps} == {f"c{i}": 1 for i in range(6)}
    assert (await rows(settings, "SELECT n FROM topic_counts"))[0]["n"] == 6


async def test_poison_goes_to_dlq_and_the_next_event_is_applied(settings, js, ledger_service):
    await ledger_service.start()
    subject = f"{settings.namespace}.planner.content_queued.v1"
    stream = stream_name(settings.namespace, "planner")
    await js.publish(subject, b"{not json", stream=stream)
    await js.publish(subject, b'{"type": "ContentQueued", "schema_version": 99, "occurred_at": '
                              b'"2026-01-01T00:00:00Z", "producer": "planner", "payload": {}}', stream=stream)
    bad = queued("sleep", "bad").model_dump(mode="json")
    bad["propensity"] = 0  # out of range
    from libs.contracts.base import Envelope

    env = Envelope(type="ContentQueued", schema_version=1, occurred_at="2026-01-01T00:00:00Z",
                   producer="planner", payload=bad)
    await js.publish(subject, env.model_dump_json().encode(), stream=stream)
    await publish(settings, [queued("sleep", "good")])

    async def applied():
        return [r["content_id"] for r in await rows(settings, "SELECT content_id FROM queued")]

    assert await eventually(applied) == ["good"]
    letters = await eventually(lambda: _letters(js, settings, 3))
    reasons = sorted(letter.error for letter in letters)
    assert any("invalid envelope" in r for r in reasons)
    assert any("unknown event type 'ContentQueued' version 99" in r for r in reasons)
    assert any("propensity" in r for r in reasons)
    assert {letter.stream_seq for letter in letters} == {1, 2, 3}
    assert all(letter.service == "ledger" for letter in letters)


async def _letters(js, settings, n):
    letters = await DeadLetters(js, settings.namespace).list("ledger")
    return letters if len(letters) >= n else None


async def test_failing_handler_is_retried_then_dead_lettered_and_dlq_retry_reapplies(
        settings, js, ledger_service, service_env):
    await ledger_service.start()
    await publish(settings, [queued(ledger.FAILING_TOPIC, "doomed"), queued("sleep", "after")])

    async def applied():
        return [r["content_id"] for r in await rows(settings, "SELECT content_id FROM queued")]

    # max_deliver=3 with in-place retries after 2 s and 4 s: the event ends in the DLQ, the next is applied.
    letters = await eventually(lambda: _letters(js, settings, 1), timeout=90)
    assert "failed 3 attempts" in letters[0].error and "cannot handle topic" in letters[0].error
    assert await eventually(applied, timeout=60) == ["after"]

    # Operator "fixes" the cause (here: the failing topic is handled by a fixed build) and retries the letter.
    service_env = dict(service_env)
    proc = subprocess.run([sys.executable, "-c",
                           "import sys; sys.argv=['ledger', 'dlq-retry', sys.argv[1]];"
                           "sys.path.insert(0, '.'); from tests.integration.foundation import ledger;"
                           "ledger.FAILING_TOPIC = 'fixed';"
                           "from libs.runtime.service import service_main;"
                           "from libs.core.settings import CommonSettings;"
                           "service_main(ledger.build, CommonSettings)", str(letters[0].dlq_seq)],
                          env=service_env, capture_output=True, text=True, timeout=60)
    assert proc.returncode == 0, proc.stderr
    assert sorted(await applied()) == ["after", "doomed"]
    assert await DeadLetters(js, settings.namespace).list("ledger") == []


async def test_replay_rebuilds_tables_equal_to_the_live_ones(settings, js, ledger_service):
    topics = ["sleep", "nutrition", "stress"]
    await publish(settings, [queued(topics[i % 3], f"c{i}") for i in range(300)])
    await ledger_service.start()

    async def done():
        return len(await rows(settings, "SELECT * FROM queued")) == 300

    await eventually(done)
    before = {t: sorted(map(tuple, await rows(settings, f"SELECT * FROM {t}")))
              for t in ("queued", "topic_counts", "applications", "tracking")}
    progress = []
    stats = await replay_service(ledger_service, progress=lambda d, t: progress.append((d, t)))
    assert stats["messages"] == 300 and stats["applied"] == 300
    assert progress[-1] == (300, 300)
    after = {t: sorted(map(tuple, await rows(settings, f"SELECT * FROM {t}")))
             for t in ("queued", "topic_counts", "applications")}
    for t in after:
        assert after[t] == before[t], t
    tracking = sorted((r[0], r[1], r[2]) for r in await rows(settings, "SELECT * FROM tracking"))
    assert tracking == sorted((r[0], r[1], r[2]) for r in before["tracking"])
    # The live service keeps applying into the swapped-in tables.
    await publish(settings, [queued("sleep", "c300")])

    async def live():
        return len(await rows(settings, "SELECT * FROM queued")) == 301

    await eventually(live)
    assert len(await rows(settings, "SELECT * FROM applications")) == 301


async def test_replay_keeps_what_jobs_wrote(settings, js, ledger_service):
    await publish(settings, [queued("sleep", f"c{i}") for i in range(20)])
    await ledger_service.start()

    async def done():
        return len(await rows(settings, "SELECT * FROM queued")) == 20

    await eventually(done)
    # What "jobs" did: rows of their own tables, and a projected row gone missing (no job may write one).
    await rows(settings, "INSERT INTO reviews (content_id) VALUES ('c1'), ('c2')")
    await rows(settings, "INSERT INTO notes (text) VALUES ('first'), ('second')")
    await rows(settings, "DELETE FROM queued WHERE content_id = 'c3'")

    await replay_service(ledger_service)
    assert sorted(r[0] for r in await rows(settings, "SELECT content_id FROM reviews")) == ["c1", "c2"]
    assert len(await rows(settings, "SELECT * FROM queued")) == 20  # c3 rebuilt from its event
    # Moved, not copied: the id sequence goes on where it was.
    await rows(settings, "INSERT INTO notes (text) VALUES ('third')")
    assert [tuple(r) for r in await rows(settings, "SELECT id, text FROM notes ORDER BY id")] == [
        (1, "first"), (2, "second"), (3, "third")]


async def test_replay_verify_compares_up_to_the_live_positions_and_changes_nothing(settings, js, ledger_service):
    await publish(settings, [queued("sleep", f"c{i}") for i in range(30)])
    await ledger_service.start()

    async def done():
        return len(await rows(settings, "SELECT * FROM queued")) == 30

    await eventually(done)
    await ledger_service.stop()  # what arrives now is on the stream but not yet in the live tables
    await publish(settings, [queued("stress", f"late{i}") for i in range(5)])
    await ledger_service.broker.connect()  # as `replay --verify` does, without starting the consumers
    clean = await replay_service(ledger_service, verify=True)
    assert clean["differences"] == [] and clean["applied"] == 30

    await rows(settings, "UPDATE topic_counts SET n = n + 1 WHERE topic = 'sleep'")  # a projection gone wrong
    tampered = await replay_service(ledger_service, verify=True)
    assert [(d["table"], d["only_rebuilt"], d["only_live"]) for d in tampered["differences"]] == [
        ("topic_counts", 1, 1)]
    assert [tuple(r) for r in await rows(settings, "SELECT n FROM topic_counts")] == [(31,)]  # left as it was
    assert await rows(settings, "SELECT * FROM queued WHERE content_id LIKE 'late%'") == []
    assert await rows(settings, "SELECT schema_name FROM information_schema.schemata "
                                "WHERE schema_name = 'ledger__replay'") == []


async def test_replay_verify_of_a_running_service_compares_at_one_instant(settings, js, ledger_service):
    await publish(settings, [queued("sleep", f"c{i}") for i in range(50)])
    await ledger_service.start()
    # Events keep arriving and being applied while the verification rebuilds, catches up and compares.
    feeding = asyncio.create_task(publish(settings, [queued("stress", f"more{i}") for i in range(400)]))
    results = []
    while not feeding.done() or not results:
        results.append(await replay_service(ledger_service, verify=True))
    await feeding
    assert all(r["differences"] == [] for r in results), [r["differences"] for r in results]
    assert results[-1]["applied"] > 50


async def test_a_filtered_projection_reads_its_event_alone_across_the_gaps_the_others_leave(settings, js):
    """A projection read through a durable filtered on one event (the console's of the harvester's stream): the
    stream's other events leave gaps it applies across, waiting until it has caught up ends though the stream's
    last event is another's, an event it does not read needs no wait, and a replay rebuilds the same tables."""
    from datetime import timedelta

    from libs.contracts.events import ContentRejected
    from libs.store.outbox import Published

    conn = await asyncpg.connect(settings.dsn)
    await conn.execute("DROP SCHEMA IF EXISTS ledger CASCADE")
    await conn.close()
    svc = ledger.build(settings, filtered=True)
    (spec,) = svc.consumer_specs()
    assert spec.filter_subject(svc.namespace) == f"{svc.namespace}.planner.content_queued.v1"
    await svc.provision()
    events = []
    for i in range(30):
        events.append(queued("sleep", f"f{i}"))
        events += [ContentRejected(content_id=f"r{i}", gate="banned", reason="x", attempt=0)] * (i % 3)
    events.append(ContentRejected(content_id="last", gate="banned", reason="x", attempt=0))
    await publish(settings, events)
    await svc.start()
    try:
        async def applied():
            return len(await rows(settings, "SELECT * FROM queued")) == 30

        await eventually(applied)
        await svc.context.wait_caught_up(timeout=timedelta(seconds=10))
        last = (await js.stream_info(stream_name(svc.namespace, "planner"))).state.last_seq
        await asyncio.wait_for(svc.context.wait_applied([Published("ContentRejected", spec.stream(svc.namespace),
                                                                   last)]), 2)
        assert (await replay_service(svc, verify=True))["differences"] == []
    finally:
        await svc.stop()
