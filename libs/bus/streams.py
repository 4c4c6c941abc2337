"""Every JetStream stream, KV bucket and durable-consumer shape, declared in one place.

One stream per producer (Limits retention: replay and late consumers need the history; file storage; an
explicit duplicate window so a retried publish of the same fact is dropped by the server), plus the
dead-letter stream. Names derive from the namespace so tests can run side by side on one server.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import timedelta

from nats.js.api import (
    AckPolicy,
    ConsumerConfig,
    DeliverPolicy,
    DiscardPolicy,
    KeyValueConfig,
    RetentionPolicy,
    StorageType,
    StreamConfig,
)

from libs.contracts.base import snake
from libs.contracts.registry import PRODUCERS
from libs.core.settings import CommonSettings, SettingsError

# Long enough to cover a crash between publishing and recording that we did, plus a slow restart.
DUPLICATE_WINDOW = timedelta(hours=2)
DLQ = "dlq"


def stream_name(namespace: str, producer: str) -> str:
    return f"{namespace.upper()}_{producer.upper()}"


def producer_subjects(namespace: str, producer: str) -> str:
    return f"{namespace}.{producer}.>"


def dlq_subject(namespace: str, service: str) -> str:
    return f"{namespace}.{DLQ}.{service}"


@dataclass(frozen=True)
class Retention:
    """How much of a stream the server keeps: the oldest events go first (discard old) once one limit is hit.
    Zero age, -1 bytes or messages: no limit of that kind."""

    max_age: timedelta = timedelta(0)
    max_bytes: int = -1
    max_msgs: int = -1


UNBOUNDED = Retention()
HARVESTER = "harvester"  # its stream carries strangers' tweets and profiles: kept as long as personal data


def retention_from(settings: CommonSettings) -> dict[str, Retention]:
    """Each stream's limits from the settings: the common ones, the harvester's age bounded by the personal data
    retention, then XBOT_STREAM_LIMITS's overrides by producer."""
    streams = (*PRODUCERS, DLQ)
    unknown = sorted(set(settings.stream_limits) - set(streams))
    if unknown:
        raise SettingsError(f"invalid setting XBOT_STREAM_LIMITS: unknown stream {', '.join(unknown)}; "
                            f"one of {', '.join(streams)}")
    out = {}
    for producer in streams:
        age = settings.stream_max_age_real
        if producer == HARVESTER:
            age = min(age, settings.personal_data_retention) if age else settings.personal_data_retention
        base = Retention(max_age=age, max_bytes=settings.stream_max_bytes)
        over = settings.stream_limits.get(producer)
        if over is not None:
            base = Retention(
                max_age=base.max_age if over.max_age_real is None else over.max_age_real,
                max_bytes=base.max_bytes if over.max_bytes is None else over.max_bytes,
                max_msgs=base.max_msgs if over.max_msgs is None else over.max_msgs)
        out[producer] = base
    return out


def stream_configs(namespace: str, replicas: int = 1,
                   retention: Mapping[str, Retention] | None = None) -> list[StreamConfig]:
    """Every stream's config; without ``retention`` (tests, benchmarks) the streams keep everything."""
    configs = []
    for producer in (*PRODUCERS, DLQ):
        limits = (retention or {}).get(producer, UNBOUNDED)
        configs.append(StreamConfig(
            name=stream_name(namespace, producer),
            subjects=[producer_subjects(namespace, producer)],
            retention=RetentionPolicy.LIMITS,
            storage=StorageType.FILE,
            discard=DiscardPolicy.OLD,
            # The server refuses a duplicate window longer than the stream keeps its messages.
            duplicate_window=(min(DUPLICATE_WINDOW, limits.max_age) if limits.max_age else DUPLICATE_WINDOW)
            .total_seconds(),
            max_age=limits.max_age.total_seconds(),
            max_bytes=limits.max_bytes,
            max_msgs=limits.max_msgs,
            num_replicas=replicas,
            description=f"xbot events produced by {producer}",
        ))
    return configs


def kv_bucket(namespace: str, name: str) -> str:
    return f"{namespace}_{name}"


# control: the kill switch (the operator's alone); services: where each running service announces its side
# port (for `xbot status`); leases: job leases (entries expire with the TTL).
KV_BUCKETS = {
    "control": KeyValueConfig(bucket="control", history=5, storage=StorageType.FILE),
    "services": KeyValueConfig(bucket="services", history=1, storage=StorageType.FILE),
    "leases": KeyValueConfig(bucket="leases", history=1, storage=StorageType.FILE, ttl=3600),
    # account: the browser gateway's guardian state per account (write caps, activity budget, risk level), so a
    # restart or a second replica of the gateway sees the same counters.
    "account": KeyValueConfig(bucket="account", history=1, storage=StorageType.FILE),
}


@dataclass(frozen=True)
class ConsumerSpec:
    """A durable pull consumer a service reads one producer's stream with."""

    service: str
    name: str
    producer: str
    ack_wait: timedelta = timedelta(seconds=30)
    max_deliver: int = 5
    # Room for several batches: the fetch loop fills a batch without waiting for the server to see acks.
    # Two replicas pulling from one durable stay in order through the runner's gap check.
    max_ack_pending: int = 4096
    # The one event (its subject's last two tokens, ``<event_snake>.v<N>``) a filtered durable delivers, for a
    # reader with no right to the rest of the producer's stream; None: the whole stream.
    filter_event: str | None = None

    def durable(self, namespace: str) -> str:
        return f"{namespace}_{self.service}_{self.name}_{self.producer}"

    def stream(self, namespace: str) -> str:
        return stream_name(namespace, self.producer)

    @property
    def filter_name(self) -> str | None:
        """The snake-case name of the one event a filtered durable delivers (None: the whole stream)."""
        return None if self.filter_event is None else self.filter_event.rsplit(".", 1)[0]

    def reads(self, event_type: str) -> bool:
        """Whether this durable delivers events of ``event_type`` (``Event.TYPE``) of its producer."""
        return self.filter_name is None or self.filter_name == snake(event_type)

    def filter_subject(self, namespace: str) -> str:
        # One filter subject per consumer: the Debian nats-server 2.9 knows no filter_subjects list.
        if self.filter_event is not None:
            return f"{namespace}.{self.producer}.{self.filter_event}"
        return producer_subjects(namespace, self.producer)

    def config(self, namespace: str) -> ConsumerConfig:
        return ConsumerConfig(
            durable_name=self.durable(namespace),
            deliver_policy=DeliverPolicy.ALL,
            ack_policy=AckPolicy.EXPLICIT,
            ack_wait=self.ack_wait.total_seconds(),
            # Unlimited on the server: the runner counts failed attempts itself (a nak that only waits for
            # order must not use up an event's deliveries) and dead-letters after max_deliver of them.
            max_deliver=-1,
            max_ack_pending=self.max_ack_pending,
            filter_subject=self.filter_subject(namespace),
            description=f"{self.service}.{self.name} reads {self.producer}",
        )
