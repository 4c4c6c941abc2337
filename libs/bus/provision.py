"""Explicit provisioning of streams, KV buckets and durable consumers (``xbot provision``).

Idempotent: creating what exists is a no-op, a changed stream or consumer config is applied. nats-py's
``pull_subscribe`` binds to an existing durable without applying a new config, so consumers are updated
here: editable fields in place, and a consumer whose immutable fields changed is recreated from its current
ack floor so no event is skipped or replayed twice by the tracking table.
"""

from __future__ import annotations

import dataclasses
import logging

from nats.js import JetStreamContext
from nats.js.api import ConsumerConfig, DeliverPolicy, StreamConfig
from nats.js.errors import BadRequestError, NotFoundError

from libs.bus.streams import KV_BUCKETS, ConsumerSpec, kv_bucket, stream_configs

logger = logging.getLogger("xbot.provision")

# Fields the server refuses to change on an existing consumer (deliver policy is left out: a recreated
# consumer starts by sequence, which is what it should keep doing).
_IMMUTABLE = ("ack_policy", "filter_subject", "replay_policy")
_COMPARED = ("ack_wait", "max_deliver", "max_ack_pending", "filter_subject", "ack_policy", "description", "backoff")


async def provision_streams(js: JetStreamContext, namespace: str, replicas: int = 1) -> list[str]:
    changes = []
    for cfg in stream_configs(namespace, replicas):
        try:
            info = await js.stream_info(cfg.name)
        except NotFoundError:
            await js.add_stream(cfg)
            changes.append(f"stream {cfg.name} created")
            continue
        if _stream_differs(info.config, cfg):
            await js.update_stream(cfg)
            changes.append(f"stream {cfg.name} updated")
    for name, kv in KV_BUCKETS.items():
        bucket = kv_bucket(namespace, name)
        try:
            await js.key_value(bucket)
        except Exception:  # nats-py raises BucketNotFoundError, a NotFoundError subclass on some versions
            await js.create_key_value(dataclasses.replace(kv, bucket=bucket, replicas=replicas))
            changes.append(f"kv {bucket} created")
    return changes


def _stream_differs(have: StreamConfig, want: StreamConfig) -> bool:
    return (
        sorted(have.subjects or []) != sorted(want.subjects or [])
        or have.retention != want.retention
        or have.storage != want.storage
        or float(have.duplicate_window or 0) != float(want.duplicate_window or 0)
        or (have.num_replicas or 1) != (want.num_replicas or 1)
    )


async def provision_consumer(js: JetStreamContext, spec: ConsumerSpec, namespace: str) -> str | None:
    want = spec.config(namespace)
    stream = spec.stream(namespace)
    try:
        info = await js.consumer_info(stream, want.durable_name)
    except NotFoundError:
        await js.add_consumer(stream, want)
        return f"consumer {want.durable_name} created"
    have = info.config
    if not _consumer_differs(have, want):
        return None
    if all(_same(getattr(have, f), getattr(want, f)) for f in _IMMUTABLE):
        try:
            # The server treats CONSUMER.DURABLE.CREATE of an existing durable as an update of editable fields.
            await js.add_consumer(stream, want)
            return f"consumer {want.durable_name} updated"
        except BadRequestError as err:
            logger.warning("in-place update of %s refused (%s); recreating", want.durable_name, err)
    floor = info.ack_floor.stream_seq if info.ack_floor else 0
    await js.delete_consumer(stream, want.durable_name)
    recreated = dataclasses.replace(want, deliver_policy=DeliverPolicy.BY_START_SEQUENCE, opt_start_seq=floor + 1)
    await js.add_consumer(stream, recreated)
    return f"consumer {want.durable_name} recreated from sequence {floor + 1}"


def _same(a: object, b: object) -> bool:
    if isinstance(a, float | int) or isinstance(b, float | int):
        return float(a or 0) == float(b or 0)
    return (a or None) == (b or None)


def _consumer_differs(have: ConsumerConfig, want: ConsumerConfig) -> bool:
    return any(not _same(getattr(have, f), getattr(want, f)) for f in _COMPARED)


async def remove_namespace(js: JetStreamContext, namespace: str) -> None:
    """Delete every stream and KV bucket of a namespace (tests, benchmarks, `xbot demo --cleanup`)."""
    for cfg in stream_configs(namespace):
        try:
            await js.delete_stream(cfg.name)
        except NotFoundError:
            pass
    for name in KV_BUCKETS:
        try:
            await js.delete_key_value(kv_bucket(namespace, name))
        except NotFoundError:
            pass
