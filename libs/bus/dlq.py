"""The dead-letter stream: where a message that can never be applied goes, with the reason, so nothing is
lost and the consumer moves on. ``xbot dlq list|retry|drop`` operate on it."""

from __future__ import annotations

import base64
from datetime import UTC, datetime

from nats.js import JetStreamContext
from nats.js.errors import NotFoundError
from pydantic import BaseModel

from libs.bus.streams import DLQ, dlq_subject, stream_name


def retry_subject(namespace: str, service: str) -> str:
    """Where a service answers "re-apply dead letter N" (core request/reply, the owner's console asks): no stream
    captures it (streams hold ``<ns>.<producer>.>`` and ``<ns>.dlq.>``; ``ops`` is no producer)."""
    return f"{namespace}.ops.dlq_retry.{service}"


class DeadLetter(BaseModel):
    service: str
    consumer: str
    subject: str
    stream: str
    stream_seq: int
    deliveries: int
    error: str
    payload_b64: str
    failed_at: datetime
    dlq_seq: int | None = None

    @property
    def payload(self) -> bytes:
        return base64.b64decode(self.payload_b64)

    @classmethod
    def of(cls, *, service: str, consumer: str, subject: str, stream: str, seq: int, deliveries: int,
           error: str, data: bytes) -> "DeadLetter":
        return cls(service=service, consumer=consumer, subject=subject, stream=stream, stream_seq=seq,
                   deliveries=deliveries, error=error[:2000], payload_b64=base64.b64encode(data).decode(),
                   failed_at=datetime.now(UTC))


class DeadLetters:
    def __init__(self, js: JetStreamContext, namespace: str) -> None:
        self.js = js
        self.namespace = namespace
        self.stream = stream_name(namespace, DLQ)

    async def add(self, letter: DeadLetter) -> None:
        # Idempotent per original message and consumer: a crash before the ack re-sends the same letter.
        await self.js.publish(
            dlq_subject(self.namespace, letter.service),
            letter.model_dump_json(exclude={"dlq_seq"}).encode(),
            stream=self.stream,
            headers={"Nats-Msg-Id": f"dlq:{letter.consumer}:{letter.stream}:{letter.stream_seq}"},
        )

    async def list(self, service: str | None = None) -> list[DeadLetter]:
        try:
            info = await self.js.stream_info(self.stream)
        except NotFoundError:
            return []
        out = []
        subject = dlq_subject(self.namespace, service) if service else None
        for seq in range(info.state.first_seq, info.state.last_seq + 1):
            if info.state.messages == 0:
                break
            try:
                raw = await self.js.get_msg(self.stream, seq)
            except NotFoundError:
                continue  # dropped
            if subject and raw.subject != subject:
                continue
            letter = DeadLetter.model_validate_json(raw.data or b"")
            letter.dlq_seq = seq
            out.append(letter)
        return out

    async def count(self) -> int:
        try:
            return (await self.js.stream_info(self.stream)).state.messages
        except NotFoundError:
            return 0

    async def get(self, dlq_seq: int) -> DeadLetter:
        raw = await self.js.get_msg(self.stream, dlq_seq)
        letter = DeadLetter.model_validate_json(raw.data or b"")
        letter.dlq_seq = dlq_seq
        return letter

    async def drop(self, dlq_seq: int) -> None:
        await self.js.delete_msg(self.stream, dlq_seq)
