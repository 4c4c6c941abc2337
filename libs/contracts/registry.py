"""From ``(type, schema_version)`` to the model, and back to subjects and streams."""

from __future__ import annotations

import json
from pathlib import Path

from functools import cache
from typing import Any

from pydantic import BaseModel, ValidationError, create_model

from libs.contracts.base import Envelope, Event
from libs.contracts.events import ALL_EVENTS

REGISTRY: dict[tuple[str, int], type[Event]] = {(e.TYPE, e.VERSION): e for e in ALL_EVENTS}
PRODUCERS: tuple[str, ...] = tuple(sorted({e.PRODUCER for e in ALL_EVENTS}))
SCHEMA_DIR = Path(__file__).parent / "schemas"


class PoisonEvent(ValueError):
    """A message that can never be applied: bad JSON, bad envelope, unknown type/version, bad payload."""


def event_class(type_: str, version: int) -> type[Event]:
    try:
        return REGISTRY[(type_, version)]
    except KeyError:
        raise PoisonEvent(f"unknown event type {type_!r} version {version}") from None


TYPE_HEADER = "Xbot-Type"
VERSION_HEADER = "Xbot-Schema-Version"


@cache
def _typed_envelope(cls: type[Event]) -> type[BaseModel]:
    """An envelope whose payload is the event model itself, so one JSON parse validates both."""
    return create_model(f"{cls.TYPE}V{cls.VERSION}Envelope", __base__=Envelope, payload=(cls, ...))


def decode(data: bytes, headers: dict[str, str] | None = None) -> tuple[Envelope, Event]:
    """Parse a wire message into its envelope and typed event, or raise :class:`PoisonEvent`.

    With the type headers the publisher sets, the message is parsed and validated in one pass; without them
    (older producers, hand-made messages) the envelope is read first to find the model.
    """
    if headers and TYPE_HEADER in headers:
        # Malformed headers are the publisher's bug: fall through to the envelope. (nats-py hands a non-ASCII
        # value over as an email.header.Header, which int() and dict lookups reject with a crash.)
        type_, version = str(headers[TYPE_HEADER]), str(headers.get(VERSION_HEADER) or "")
        cls = REGISTRY.get((type_, int(version))) if version.isascii() and version.isdigit() else None
        if cls is not None:
            try:
                env = _typed_envelope(cls).model_validate_json(data)
            except ValidationError:
                pass  # fall through to the two-step path for a precise reason
            else:
                if isinstance(env, Envelope) and env.type == cls.TYPE and env.schema_version == cls.VERSION:
                    payload = env.payload
                    assert isinstance(payload, cls)  # the typed envelope parsed it as the event model
                    return env, payload
    try:
        env = Envelope.model_validate_json(data)
    except ValidationError as err:
        raise PoisonEvent(f"invalid envelope: {_first_error(err)}") from None
    cls = event_class(env.type, env.schema_version)
    try:
        return env, cls.model_validate(env.payload)
    except ValidationError as err:
        raise PoisonEvent(f"invalid {env.type} v{env.schema_version} payload: {_first_error(err)}") from None


def _first_error(err: ValidationError) -> str:
    e = err.errors()[0]
    loc = ".".join(str(p) for p in e["loc"]) or "<root>"
    more = f" (+{err.error_count() - 1} more)" if err.error_count() > 1 else ""
    return f"{loc}: {e['msg']}{more}"


def schema_filename(cls: type[Event]) -> str:
    return f"{cls.TYPE}.v{cls.VERSION}.json"


def json_schema(cls: type[Event]) -> dict[str, Any]:
    schema = cls.model_json_schema(mode="serialization")
    schema["x-subject"] = cls.subject()
    schema["x-producer"] = cls.PRODUCER
    return schema


def export_schemas(directory: Path = SCHEMA_DIR) -> list[Path]:
    """Write the JSON Schema of every contract (and the envelope); returns the files written."""
    directory.mkdir(parents=True, exist_ok=True)
    written = []
    for cls in ALL_EVENTS:
        path = directory / schema_filename(cls)
        path.write_text(json.dumps(json_schema(cls), indent=2, sort_keys=True) + "\n")
        written.append(path)
    env = directory / "Envelope.json"
    env.write_text(json.dumps(Envelope.model_json_schema(), indent=2, sort_keys=True) + "\n")
    written.append(env)
    return written
