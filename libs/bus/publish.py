"""Publishing events: always through JetStream, always awaiting the PubAck, always with a Nats-Msg-Id.

A publish the server does not acknowledge raises (nats-py raises on timeout or a JetStream error), so a
caller never believes a fact was recorded when it was not. Retrying the same fact is safe: the message id
is the event's natural key where it has one, and the stream's duplicate window drops the repeat.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

from faststream.nats import NatsBroker
from nats.js.api import PubAck

from libs.bus.streams import stream_name
from libs.contracts.base import Envelope, Event
from libs.contracts.registry import TYPE_HEADER, VERSION_HEADER
from libs.core import metrics
from libs.core.clock import Clock
from libs.core.logging import log
from libs.core.settings import CommonSettings


_log = logging.getLogger("xbot.publish")


class PublishNotAcknowledged(RuntimeError):
    pass


@dataclass
class EventPublisher:
    broker: NatsBroker
    settings: CommonSettings
    clock: Clock
    service: str
    timeout: float = 10.0

    async def publish(
        self,
        event: Event,
        *,
        correlation_id: str | None = None,
        causation_id: str | None = None,
    ) -> PubAck:
        envelope = Envelope.wrap(
            event, occurred_at=self.clock.now(), correlation_id=correlation_id, causation_id=causation_id
        )
        return await self.publish_envelope(envelope, event)

    async def publish_envelope(self, envelope: Envelope, event: Event) -> PubAck:
        ns = self.settings.namespace
        msg_id = envelope.msg_id(event)
        ack = await self.broker.publish(
            envelope.model_dump_json().encode(),
            subject=event.subject(ns),
            headers={"Nats-Msg-Id": msg_id, "content-type": "application/json",
                     TYPE_HEADER: event.TYPE, VERSION_HEADER: str(event.VERSION)},
            correlation_id=envelope.correlation_id,
            stream=stream_name(ns, event.PRODUCER),
            timeout=self.timeout,
        )
        if ack is None:
            raise PublishNotAcknowledged(f"no PubAck for {event.TYPE} {envelope.event_id}")
        metrics.events_published.labels(self.service, event.TYPE).inc()
        # The producer's own record of what the stream acknowledged: the chaos suite holds the streams to it.
        log(_log, logging.INFO, "published", type=event.TYPE, event_id=envelope.event_id, msg_id=msg_id,
            stream=ack.stream, seq=ack.seq, duplicate=bool(ack.duplicate))
        return ack
