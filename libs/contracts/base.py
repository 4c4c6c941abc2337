"""The event envelope and the base of every event contract.

An event class names its type, version and producer; its subject follows from them
(``<namespace>.<producer>.<event_snake>.v<N>``). Consumers ignore fields they do not know, so a producer
may add optional fields without breaking anyone; removing or retyping a field needs a new version (a new
class with ``VERSION = N + 1``), which tests/unit/foundation/test_contracts.py enforces against the committed
JSON Schemas.
"""

from __future__ import annotations

import os
import re
import time
import uuid
from datetime import UTC, datetime
from typing import Any, ClassVar, Self

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field


def uuid7() -> str:
    """A time-ordered UUIDv7 (RFC 9562) as text; Python 3.11 has no uuid.uuid7."""
    ms = time.time_ns() // 1_000_000
    rand = int.from_bytes(os.urandom(10), "big")
    value = (ms & ((1 << 48) - 1)) << 80
    value |= 0x7 << 76
    value |= ((rand >> 62) & 0xFFF) << 64
    value |= 0b10 << 62
    value |= rand & ((1 << 62) - 1)
    return str(uuid.UUID(int=value))


def snake(name: str) -> str:
    return re.sub(r"(?<!^)(?=[A-Z])", "_", name).lower()


class Contract(BaseModel):
    """Base of every message model: tolerant reader (unknown fields ignored)."""

    model_config = ConfigDict(extra="ignore", frozen=True)


class Event(Contract):
    TYPE: ClassVar[str]
    VERSION: ClassVar[int] = 1
    PRODUCER: ClassVar[str]

    @classmethod
    def subject(cls, namespace: str = "xbot") -> str:
        return f"{namespace}.{cls.PRODUCER}.{snake(cls.TYPE)}.v{cls.VERSION}"

    def dedup_key(self) -> str | None:
        """A natural key that makes a re-emission of the same fact a duplicate (``Nats-Msg-Id``).

        ``None`` means the envelope's ``event_id`` is used: every emission is a new fact.
        """
        return None


class Envelope(BaseModel):
    """What travels on the wire for every event."""

    model_config = ConfigDict(extra="ignore")

    event_id: str = Field(default_factory=uuid7)
    type: str
    schema_version: int = Field(ge=1)
    occurred_at: AwareDatetime
    producer: str
    correlation_id: str | None = None
    causation_id: str | None = None
    payload: dict[str, Any]

    @classmethod
    def wrap(
        cls,
        event: Event,
        *,
        occurred_at: datetime | None = None,
        correlation_id: str | None = None,
        causation_id: str | None = None,
    ) -> Self:
        event_id = uuid7()
        return cls(
            event_id=event_id,
            type=event.TYPE,
            schema_version=event.VERSION,
            occurred_at=occurred_at or datetime.now(UTC),
            producer=event.PRODUCER,
            correlation_id=correlation_id or event_id,
            causation_id=causation_id,
            payload=event.model_dump(mode="json"),
        )

    def msg_id(self, event: Event) -> str:
        key = event.dedup_key()
        return f"{self.type}:{key}" if key else self.event_id
