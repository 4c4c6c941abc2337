"""A real nats-server running the users generated from ops/access.py refuses what a component may not do, and
lets each do its job: publish its own events, read its own durables, request what it needs from the gateway."""

from __future__ import annotations

import asyncio
import json

import nats
import pytest
from nats.errors import NoRespondersError
from nats.errors import TimeoutError as NatsTimeout

from libs.bus.control import KillSwitch
from libs.bus.provision import provision_consumer, provision_streams
from libs.bus.streams import kv_bucket, stream_name
from libs.contracts.gateway import subject as gateway_subject
from ops.access import ACCESS, GATEWAY_WRITES, access, consumer_specs, durables
from ops.nats_auth import inbox_prefix


@pytest.fixture
async def provisioned(connect, namespace: str):
    """Streams, KV and every service's durables, provisioned by the operator (the only one who may)."""
    op = await connect("operator")
    js = op.nc.jetstream()
    await provision_streams(js, namespace)
    for a in ACCESS:
        for spec in consumer_specs(a.component):
            await provision_consumer(js, spec, namespace)
    return js


async def test_a_wrong_password_and_no_user_are_refused(secure_nats: str) -> None:
    for kwargs in ({}, {"user": "planner", "password": "not-its-password"}):
        with pytest.raises(Exception):  # noqa: B017 - NoServersError or an authorization error, by version
            await nats.connect(secure_nats, allow_reconnect=False, max_reconnect_attempts=0, connect_timeout=2,
                               **kwargs)


async def test_a_service_publishing_outside_its_subjects_is_refused(connect, provisioned, namespace: str) -> None:
    planner = await connect("planner")
    js = planner.nc.jetstream()
    # Its own stream: stored and acknowledged.
    ack = await js.publish(f"{namespace}.planner.content_queued.v1", b"{}", timeout=5)
    assert ack.stream == stream_name(namespace, "planner")
    # The poster's stream: the server refuses the publish, nothing is stored.
    forged = f"{namespace}.poster.tweet_posted.v1"
    with pytest.raises((NatsTimeout, NoRespondersError, TimeoutError)):
        await js.publish(forged, b"{}", timeout=1)
    assert await planner.violation(forged)
    info = await provisioned.stream_info(stream_name(namespace, "poster"))
    assert info.state.messages == 0


async def test_only_the_poster_may_request_gateway_writes(connect, provisioned, namespace: str) -> None:
    gateway = await connect("browser_gateway")
    seen: list[str] = []

    async def answer(msg) -> None:
        seen.append(msg.subject)
        await msg.respond(json.dumps({"ok": True}).encode())

    await gateway.nc.subscribe(gateway_subject(namespace, ">"), queue=f"{namespace}_browser_gateway", cb=answer)
    await gateway.nc.flush()
    for component in ("planner", "harvester", "scraper", "learner"):
        client = await connect(component)
        for op in GATEWAY_WRITES:
            with pytest.raises((NatsTimeout, NoRespondersError, TimeoutError)):
                await client.nc.request(gateway_subject(namespace, op), b"{}", timeout=0.5)
            assert await client.violation(gateway_subject(namespace, op)), (component, op)
    assert seen == []
    poster = await connect("poster")
    reply = await poster.nc.request(gateway_subject(namespace, "post_tweet"), b"{}", timeout=5)
    assert json.loads(reply.data) == {"ok": True}
    # What the table grants, the server grants: the scraper's metrics reads get through.
    scraper = await connect("scraper")
    await scraper.nc.request(gateway_subject(namespace, "tweet_metrics"), b"{}", timeout=5)
    assert seen == [gateway_subject(namespace, "post_tweet"), gateway_subject(namespace, "tweet_metrics")]


async def test_only_the_gateway_answers_gateway_subjects(connect, namespace: str) -> None:
    planner = await connect("planner")
    await planner.nc.subscribe(gateway_subject(namespace, ">"))
    assert await planner.violation(gateway_subject(namespace, ">"))


async def test_no_one_reads_another_components_inbox(connect) -> None:
    planner = await connect("planner")
    await planner.nc.subscribe(f"{inbox_prefix('poster')}.>")
    assert await planner.violation(f"{inbox_prefix('poster')}.>")


async def test_only_the_operator_writes_the_kill_switch(connect, provisioned, namespace: str) -> None:
    for component in ("poster", "planner", "browser_gateway"):
        client = await connect(component)
        js = client.nc.jetstream()
        if "control" in access(component).kv_reads:
            switch = await KillSwitch.open(js, namespace)
            assert (await switch.read()).paused is False  # it reads the switch the operator set
            kv = switch.kv
        else:
            kv = await provisioned.key_value(kv_bucket(namespace, "control"))
            kv._js = js  # the operator's bucket handle, used through this component's connection
        for attempt in (kv.put("writes.paused", b"{}"), kv.delete("writes.paused"), kv.purge("writes.paused")):
            with pytest.raises(Exception):  # noqa: B017 - a timeout: the server drops the refused publish
                await asyncio.wait_for(attempt, 0.5)
        assert await client.violation(f"$KV.{kv_bucket(namespace, 'control')}.writes.paused")
    assert (await (await KillSwitch.open(provisioned, namespace)).read()).paused is False
    # The operator may.
    op = await connect("operator")
    switch = await KillSwitch.open(op.nc.jetstream(), namespace)
    await switch.pause("test", by="operator")
    assert (await switch.read()).paused is True


async def test_a_service_reads_its_own_durable_only(connect, provisioned, namespace: str) -> None:
    op = await connect("operator")
    await op.nc.jetstream().publish(f"{namespace}.planner.content_queued.v1", b"{}", timeout=5)
    # The poster's durable on the planner's stream (it also reads the gateway's: AccountRiskChanged).
    poster_stream, poster_durable = next((s, d) for s, d in durables("poster", namespace) if s.endswith("_PLANNER"))
    poster = await connect("poster")
    sub = await poster.nc.jetstream().pull_subscribe_bind(durable=poster_durable, stream=poster_stream)
    (msg,) = await sub.fetch(1, timeout=5)
    await msg.ack_sync()
    # The learner reads the planner's stream too, but through its own durable; the poster's is not its to pull.
    learner = await connect("learner")
    stolen = learner.nc.jetstream()
    with pytest.raises(Exception):  # noqa: B017 - the consumer info request is refused (a timeout)
        sub = await stolen.pull_subscribe_bind(durable=poster_durable, stream=poster_stream)
        await sub.fetch(1, timeout=1)
    assert await learner.violation(poster_durable)
    # Nor may a service create a consumer (that is provisioning, the operator's).
    with pytest.raises(Exception):  # noqa: B017
        await asyncio.wait_for(stolen.add_consumer(poster_stream, durable_name="mine"), 2)
    assert await learner.violation("$JS.API.CONSUMER")


async def test_the_console_reads_of_the_harvesters_stream_only_the_events_left_to_the_owner(
        connect, provisioned, namespace: str) -> None:
    """The harvester's stream holds strangers' tweets (OpportunityFound): the console's durables on it are
    filtered on the two events it may read, and it can neither read the stream's messages directly nor make a
    consumer of its own."""
    op = await connect("operator")
    publish = op.nc.jetstream().publish
    await publish(f"{namespace}.harvester.opportunity_found.v1", b'{"text": "a stranger\'s words"}', timeout=5)
    await publish(f"{namespace}.harvester.reply_left_to_owner.v1", b'{"tweet_id": "1"}', timeout=5)
    await publish(f"{namespace}.harvester.personal_data_purged.v1", b'{"before": "x"}', timeout=5)
    console = await connect("console")
    js = console.nc.jetstream()
    stream = stream_name(namespace, "harvester")
    read = []
    for stream_of, durable in durables("console", namespace):
        if stream_of != stream:
            continue
        sub = await js.pull_subscribe_bind(durable=durable, stream=stream)
        for msg in await sub.fetch(5, timeout=2):
            read.append(msg.subject)
            await msg.ack_sync()
    assert sorted(read) == [f"{namespace}.harvester.personal_data_purged.v1",
                            f"{namespace}.harvester.reply_left_to_owner.v1"]
    with pytest.raises(Exception):  # noqa: B017 - the message get is refused (a timeout)
        await asyncio.wait_for(js.get_msg(stream, 1), 2)
    assert await console.violation(f"$JS.API.STREAM.MSG.GET.{stream}")
    with pytest.raises(Exception):  # noqa: B017
        await asyncio.wait_for(js.add_consumer(stream, durable_name="everything"), 2)
    assert await console.violation("$JS.API.CONSUMER")
