"""Publishing, provisioning and dead letters against a real JetStream server."""

from __future__ import annotations

import asyncio
import time
from datetime import UTC, datetime, timedelta

import nats
import pytest
from nats.js.api import ConsumerConfig

from libs.bus import gateway as gateway_module
from libs.bus.broker import make_broker
from libs.bus.gateway import GatewayClient
from libs.bus.provision import provision_consumer, provision_streams
from libs.bus.publish import EventPublisher
from libs.bus.streams import ConsumerSpec, kv_bucket, stream_name
from libs.contracts.events import TweetPosted
from libs.contracts.gateway import GatewayError, GatewayFault, GatewayReply, subject
from libs.core.clock import Clock
from libs.runtime.health import register_service

from .helpers import queued


def posted(content_id: str) -> TweetPosted:
    return TweetPosted(content_id=content_id, kind="post", tweet_ids=["1"], url="http://x/1",
                       posted_at=datetime.now(UTC))


async def test_same_fact_published_twice_is_one_stream_message(settings, js):
    broker = make_broker(settings, service="test")
    await broker.connect()
    try:
        pub = EventPublisher(broker, settings, Clock(), "test")
        first = await pub.publish(posted("c1"))
        second = await pub.publish(posted("c1"))  # a retry after a crash: new event_id, same natural key
        third = await pub.publish(posted("c2"))
        assert not first.duplicate and second.duplicate and not third.duplicate
        info = await js.stream_info(stream_name(settings.namespace, "poster"))
        assert info.state.messages == 2
        # Events without a natural key use their event_id: two emissions are two facts.
        await pub.publish(queued(content_id="same"))
        await pub.publish(queued(content_id="same"))
        assert (await js.stream_info(stream_name(settings.namespace, "planner"))).state.messages == 1
    finally:
        await broker.stop()


async def test_publish_without_a_stream_raises(settings):
    # No streams provisioned in this namespace: the server has no stream for the subject -> no PubAck.
    broker = make_broker(settings, service="test")
    await broker.connect()
    try:
        pub = EventPublisher(broker, settings, Clock(), "test", timeout=2.0)
        with pytest.raises(Exception):  # noqa: B017 - nats-py raises NoRespondersError or a JetStream error
            await pub.publish(posted("c1"))
    finally:
        await broker.stop()


async def test_a_gateway_request_nobody_takes_is_unreachable_and_one_taken_but_unanswered_a_timeout(settings):
    # The poster reads these apart: after "timeout" the write may still be running at the gateway (read back,
    # wait out the grace); after "unreachable" it reached nobody (send it again); after a "timeout" X itself
    # answered nothing is on its way to X (read back once X's own delay is over).
    broker = make_broker(settings, service="test")
    await broker.connect()
    silent = await nats.connect(settings.nats_url)
    try:
        client = GatewayClient(broker, settings.namespace, timeout=1.0)
        with pytest.raises(GatewayError) as err:
            await client.login_check()
        assert err.value.code == "unreachable" and err.value.retryable, err.value

        async def failure_once_taken(call) -> GatewayError:
            # The server had the subscription (flush) yet once, on a loaded CI machine, still answered "no
            # responders" to the next request from the other connection: allow it a few tries to see the interest.
            await silent.flush()
            for _ in range(5):
                with pytest.raises(GatewayError) as err:
                    await call()
                if err.value.code != "unreachable":
                    break
                await asyncio.sleep(0.2)
            return err.value

        await silent.subscribe(subject(settings.namespace, "login_check"))  # takes requests, answers none
        failure = await failure_once_taken(client.login_check)
        assert failure.code == "timeout" and failure.retryable and not failure.x_answered, failure

        async def went_wrong(msg) -> None:  # what the gateway answers after X's own "Something went wrong"
            fault = GatewayFault(code="timeout", retryable=True, message="Something went wrong. Try reloading.",
                                 x_answered=True)
            await msg.respond(GatewayReply(ok=False, error=fault).model_dump_json().encode())

        await silent.subscribe(subject(settings.namespace, "own_timeline"), cb=went_wrong)
        failure = await failure_once_taken(client.own_timeline)
        assert failure.code == "timeout" and failure.x_answered, failure
    finally:
        await silent.close()
        await broker.stop()


async def test_a_request_whose_gateway_was_replaced_ends_as_a_timeout_without_waiting_it_out(settings, js,
                                                                                               monkeypatch):
    # A gateway killed mid-write answers nothing, ever: the request ends once a gateway registers that began to
    # start after it was sent (the one that took it is gone), not at the client's timeout (minutes).
    monkeypatch.setattr(gateway_module, "REPLACED_POLL_S", 0.2)
    registry = await js.key_value(kv_bucket(settings.namespace, "services"))
    broker = make_broker(settings, service="test")
    await broker.connect()
    taker = await nats.connect(settings.nats_url)
    try:
        await register_service(js, settings.namespace, "browser_gateway", "http://old", started=time.time() - 60)
        taken = await taker.subscribe(subject(settings.namespace, "post_tweet"))  # takes the write, then "dies"
        await taker.flush()
        # The server routes the subject to the taker before the write is sent: once, on a loaded machine, the
        # write found nobody subscribed ("unreachable") though the subscription had been flushed.
        await broker.publish(b"probe", subject(settings.namespace, "post_tweet"))
        await taken.next_msg(timeout=10)
        client = GatewayClient(broker, settings.namespace, timeout=60.0)
        pending = asyncio.ensure_future(client.post_tweet("hello"))
        await asyncio.sleep(1.0)
        # The same gateway announcing itself again (or one started before the request) is not a replacement.
        await register_service(js, settings.namespace, "browser_gateway", "http://old", started=time.time() - 60)
        await asyncio.sleep(1.0)
        assert not pending.done()
        began = time.monotonic()
        await register_service(js, settings.namespace, "browser_gateway", "http://new", started=time.time())
        with pytest.raises(GatewayError) as err:
            await pending
        assert time.monotonic() - began < 10, "ended long after the replacement registered"
        assert err.value.code == "timeout" and err.value.retryable and not err.value.x_answered, err.value
        assert "replaced" in err.value.message
    finally:
        await registry.delete("svc.browser_gateway")
        await taker.close()
        await broker.stop()


async def test_provision_is_idempotent_and_applies_changed_consumer_config(settings, js):
    assert await provision_streams(js, settings.namespace) == []  # the fixture provisioned already
    spec = ConsumerSpec(service="svc", name="p", producer="planner", ack_wait=timedelta(seconds=30))
    assert "created" in await provision_consumer(js, spec, settings.namespace)
    assert await provision_consumer(js, spec, settings.namespace) is None
    changed = ConsumerSpec(service="svc", name="p", producer="planner", ack_wait=timedelta(seconds=45))
    msg = await provision_consumer(js, changed, settings.namespace)
    assert msg and ("updated" in msg or "recreated" in msg)
    info = await js.consumer_info(spec.stream(settings.namespace), spec.durable(settings.namespace))
    assert info.config.ack_wait == 45
    # nats-py binding to the durable with another config does NOT change it: only provision does.
    sub = await js.pull_subscribe(spec.filter_subject(settings.namespace), durable=spec.durable(settings.namespace),
                                  stream=spec.stream(settings.namespace),
                                  config=ConsumerConfig(ack_wait=2))
    await sub.unsubscribe()
    info = await js.consumer_info(spec.stream(settings.namespace), spec.durable(settings.namespace))
    assert info.config.ack_wait == 45
