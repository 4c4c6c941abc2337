"""Explicit provisioning of streams, KV buckets and durable consumers (``xbot provision``).

Idempotent: creating what exists is a no-op, a changed stream or consumer config is applied. nats-py's
``pull_subscribe`` binds to an existing durable without applying a new config, so consumers are updated
here: editable fields in place, and a consumer whose immutable fields changed is recreated from its current
ack floor so no event is skipped or replayed twice by the tracking table.
"""

from __future__ import annotations

import dataclasses
import logging
from collections.abc import Mapping

from nats.js import JetStreamContext
from nats.js.api import ConsumerConfig, DeliverPolicy, StreamConfig
from nats.js.errors import BadRequestError, NotFoundError

from libs.bus.control import KillSwitch
from libs.bus.streams import KV_BUCKETS, ConsumerSpec, Retention, kv_bucket, stream_configs

logger = logging.getLogger("xbot.provision")

# Fields the server refuses to change on an existing consumer (deliver policy is left out: a recreated
# consumer starts by sequence, which is what it should keep doing).
_IMMUTABLE = ("ack_policy", "filter_subject", "replay_policy")
_COMPARED = ("ack_wait", "max_deliver", "max_ack_pending", "filter_subject", "ack_policy", "description", "backoff")


async def provision_streams(js: JetStreamContext, namespace: str, replicas: int = 1,
                            retention: Mapping[str, Retention] | None = None) -> list[str]:
    """Streams (with ``retention``'s limits applied to existing ones too; none: unbounded), KV buckets and the
    kill switch's first value."""
    changes = []
    for cfg in stream_configs(namespace, replicas, retention):
        try:
            info = await js.stream_info(_name(cfg.name))
        except NotFoundError:
            await js.add_stream(cfg)
            changes.append(f"stream {cfg.name} created")
            continue
        if _stream_differs(info.config, cfg):
            # Lowered limits take effect at once: the server drops what no longer fits, oldest first.
            await js.update_stream(cfg)
            changes.append(f"stream {cfg.name} updated ({_limits(cfg)})")
    for name, kv in KV_BUCKETS.items():
        bucket = kv_bucket(namespace, name)
        try:
            await js.key_value(bucket)
        except Exception:  # nats-py raises BucketNotFoundError, a NotFoundError subclass on some versions
            await js.create_key_value(dataclasses.replace(kv, bucket=bucket, replicas=replicas))
            changes.append(f"kv {bucket} created")
    if await (await KillSwitch.open(js, namespace)).provision():
        changes.append("kill switch set: writes allowed")
    return changes


def _stream_differs(have: StreamConfig, want: StreamConfig) -> bool:
    return (
        sorted(have.subjects or []) != sorted(want.subjects or [])
        or have.retention != want.retention
        or have.storage != want.storage
        or float(have.duplicate_window or 0) != float(want.duplicate_window or 0)
        or (have.num_replicas or 1) != (want.num_replicas or 1)
        or have.discard != want.discard
        or abs(float(have.max_age or 0) - float(want.max_age or 0)) > 1e-3
        or _limit(have.max_bytes) != _limit(want.max_bytes)
        or _limit(have.max_msgs) != _limit(want.max_msgs)
    )


def _limit(value: int | None) -> int:
    # The server reports "no limit" as -1; an unset field means the same.
    return -1 if value is None or value <= 0 else value


def _limits(cfg: StreamConfig) -> str:
    age = float(cfg.max_age or 0)
    return (f"max_age {age / 86400:g} days" if age else "no max_age") + \
        f", max_bytes {_limit(cfg.max_bytes)}, max_msgs {_limit(cfg.max_msgs)}"


async def provision_consumer(js: JetStreamContext, spec: ConsumerSpec, namespace: str) -> str | None:
    want = spec.config(namespace)
    stream = spec.stream(namespace)
    try:
        info = await js.consumer_info(stream, _name(want.durable_name))
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
    await js.delete_consumer(stream, _name(want.durable_name))
    recreated = dataclasses.replace(want, deliver_policy=DeliverPolicy.BY_START_SEQUENCE, opt_start_seq=floor + 1)
    await js.add_consumer(stream, recreated)
    return f"consumer {want.durable_name} recreated from sequence {floor + 1}"


def _name(name: str | None) -> str:
    # Every stream and durable xbot declares is named (libs/bus/streams.py); nats-py types the field optional.
    assert name is not None
    return name


def _same(a: object, b: object) -> bool:
    if isinstance(a, float | int) or isinstance(b, float | int):
        return float(a if isinstance(a, float | int) else 0) == float(b if isinstance(b, float | int) else 0)
    return (a or None) == (b or None)


def _consumer_differs(have: ConsumerConfig, want: ConsumerConfig) -> bool:
    return any(not _same(getattr(have, f), getattr(want, f)) for f in _COMPARED)


async def remove_namespace(js: JetStreamContext, namespace: str) -> None:
    """Delete every stream and KV bucket of a namespace (tests, benchmarks, `xbot demo --cleanup`)."""
    for cfg in stream_configs(namespace):
        try:
            await js.delete_stream(_name(cfg.name))
        except NotFoundError:
            pass
    for name in KV_BUCKETS:
        try:
            await js.delete_key_value(kv_bucket(namespace, name))
        except NotFoundError:
            pass
