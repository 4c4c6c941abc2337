"""Every JetStream stream, KV bucket and durable-consumer shape, declared in one place.

One stream per producer (Limits retention: replay and late consumers need the history; file storage; an
explicit duplicate window so a retried publish of the same fact is dropped by the server), plus the
dead-letter stream. Names derive from the namespace so tests can run side by side on one server.
"""

from __future__ import annotations

from dataclasses import dataclass, field
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

from libs.contracts.registry import PRODUCERS

# Long enough to cover a crash between publishing and recording that we did, plus a slow restart.
DUPLICATE_WINDOW = timedelta(hours=2)
DLQ = "dlq"


def stream_name(namespace: str, producer: str) -> str:
    return f"{namespace.upper()}_{producer.upper()}"


def producer_subjects(namespace: str, producer: str) -> str:
    return f"{namespace}.{producer}.>"


def dlq_subject(namespace: str, service: str) -> str:
    return f"{namespace}.{DLQ}.{service}"


def stream_configs(namespace: str, replicas: int = 1) -> list[StreamConfig]:
    return [
        StreamConfig(
            name=stream_name(namespace, producer),
            subjects=[producer_subjects(namespace, producer)],
            retention=RetentionPolicy.LIMITS,
            storage=StorageType.FILE,
            discard=DiscardPolicy.OLD,
            duplicate_window=DUPLICATE_WINDOW.total_seconds(),
            max_age=0,
            num_replicas=replicas,
            description=f"xbot events produced by {producer}",
        )
        for producer in (*PRODUCERS, DLQ)
    ]


def kv_bucket(namespace: str, name: str) -> str:
    return f"{namespace}_{name}"


# control: the kill switch and operator flags; leases: job leases (entries expire with the TTL).
KV_BUCKETS = {
    "control": KeyValueConfig(bucket="control", history=5, storage=StorageType.FILE),
    "leases": KeyValueConfig(bucket="leases", history=1, storage=StorageType.FILE, ttl=3600),
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
    filter_events: tuple[str, ...] = field(default=())

    def durable(self, namespace: str) -> str:
        return f"{namespace}_{self.service}_{self.name}_{self.producer}"

    def stream(self, namespace: str) -> str:
        return stream_name(namespace, self.producer)

    def filter_subject(self, namespace: str) -> str:
        # One filter subject per consumer: the Debian nats-server 2.9 knows no filter_subjects list.
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
