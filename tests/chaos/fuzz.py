"""Hypothesis strategies for the poison suite: contract-valid events (derived from each event's JSON Schema, so a
new event or field is covered without touching this file) and messages that must never be applied.

A poison message is built to be poison by construction (bad bytes, bad JSON, a broken envelope, an unknown
type or version, a payload missing a required field or holding a value of the wrong shape); the suite then
checks that the decoder agrees, so a decoder that accepts something it should not is caught too.
"""

from __future__ import annotations

import json
import string
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from hypothesis import HealthCheck, Phase, given
from hypothesis import settings as hsettings
from hypothesis import strategies as st

from libs.contracts.base import Event
from libs.contracts.registry import REGISTRY, TYPE_HEADER, VERSION_HEADER, PoisonEvent, decode

# What producers put in text fields: printable text in several scripts. NUL and other control characters are
# probed on their own (tests/chaos/test_poison.py) because Postgres refuses them in text and jsonb.
TEXT = st.text(alphabet=st.sampled_from(string.ascii_letters + string.digits + " .,!?#@_-'\"é漢🙂"), max_size=40)
# Counters and sizes as X shows them; a value beyond int32 is probed on its own.
INT = 10**6
MOMENT = st.datetimes(min_value=datetime(2024, 1, 1), max_value=datetime(2030, 1, 1), timezones=st.just(UTC))


def _schema_strategy(schema: dict, defs: dict) -> st.SearchStrategy[Any]:
    if "$ref" in schema:
        return _schema_strategy(defs[schema["$ref"].rsplit("/", 1)[-1]], defs)
    if "anyOf" in schema:
        return st.one_of([_schema_strategy(s, defs) for s in schema["anyOf"]])
    if "enum" in schema:
        return st.sampled_from(schema["enum"])
    if "const" in schema:
        return st.just(schema["const"])
    kind = schema.get("type")
    if kind == "null":
        return st.none()
    if kind == "boolean":
        return st.booleans()
    if kind == "integer":
        return st.integers(schema.get("minimum", -INT), schema.get("maximum", INT))
    if kind == "number":
        low = schema.get("minimum", schema.get("exclusiveMinimum", -INT))
        high = schema.get("maximum", schema.get("exclusiveMaximum", INT))
        return st.floats(low, high, allow_nan=False, allow_infinity=False,
                         exclude_min="exclusiveMinimum" in schema, exclude_max="exclusiveMaximum" in schema)
    if kind == "string":
        if schema.get("format") == "date-time":
            return MOMENT.map(lambda d: d.isoformat())
        if "pattern" in schema:
            return st.from_regex(schema["pattern"], fullmatch=True)
        return TEXT if "minLength" not in schema else TEXT.filter(lambda s: len(s) >= schema["minLength"])
    if kind == "array":
        items = _schema_strategy(schema.get("items", {"type": "string"}), defs)
        return st.lists(items, min_size=schema.get("minItems", 0), max_size=min(schema.get("maxItems", 4), 4))
    if kind == "object":
        props = schema.get("properties")
        if props:
            required = set(schema.get("required", ()))
            fixed = {k: _schema_strategy(v, defs) for k, v in props.items() if k in required}
            optional = {k: _schema_strategy(v, defs) for k, v in props.items() if k not in required}
            return st.fixed_dictionaries(fixed, optional=optional)
        extra = schema.get("additionalProperties", True)
        values = _schema_strategy(extra, defs) if isinstance(extra, dict) else st.integers(0, 9)
        return st.dictionaries(TEXT, values, max_size=3)
    raise NotImplementedError(f"the poison suite cannot generate JSON Schema {schema}; extend fuzz.py")


def payloads(cls: type[Event]) -> st.SearchStrategy[dict]:
    """Payloads valid under ``cls``'s contract (generated from its JSON Schema)."""
    schema = cls.model_json_schema()
    return _schema_strategy(schema, schema.get("$defs", {}))


def events(cls: type[Event]) -> st.SearchStrategy[Event]:
    return payloads(cls).map(cls.model_validate)


def _envelope(cls: type[Event], payload: Any) -> dict:
    return {"event_id": "0190d9a6-0000-7000-8000-000000000000", "type": cls.TYPE, "schema_version": cls.VERSION,
            "occurred_at": "2026-01-01T00:00:00+00:00", "producer": cls.PRODUCER, "payload": payload}


# A value no scalar, list, model or dict-of-dict field of a contract accepts.
WRONG_SHAPE = st.one_of(st.just({"\u2603": [[]]}), st.just([{"x": {}}]), st.just([[None]]))
JSON_VALUE = st.recursive(st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | TEXT,
                          lambda inner: st.lists(inner, max_size=3) | st.dictionaries(TEXT, inner, max_size=3),
                          max_leaves=8)


@dataclass(frozen=True)
class Poison:
    kind: str
    subject: str
    data: bytes
    headers: dict[str, str] | None = field(default=None)


def poison(cls: type[Event], namespace: str) -> st.SearchStrategy[Poison]:
    """Messages on ``cls``'s subject (or its producer's) that no consumer may apply."""
    subject = cls.subject(namespace)
    required = cls.model_json_schema().get("required", [])
    valid = payloads(cls)

    def encoded(kind: str, body: Any, headers: dict | None = None) -> Poison:
        return Poison(kind, subject, json.dumps(body).encode(), headers)

    def missing_field(p: dict, drop: str) -> Poison:
        return encoded("payload_missing_field", _envelope(cls, {k: v for k, v in p.items() if k != drop}))

    def wrong_shape(p: dict, key: str, value: Any) -> Poison:
        return encoded("payload_wrong_shape", _envelope(cls, {**p, key: value}))

    def envelope_broken(p: dict, key: str, value: Any, drop: bool) -> Poison:
        env = _envelope(cls, p)
        if drop:
            env.pop(key)
        else:
            env[key] = value
        return encoded("envelope_broken", env)

    def unknown_version(p: dict, version: int) -> Poison:
        return encoded("unknown_version", {**_envelope(cls, p), "schema_version": version},
                       {TYPE_HEADER: cls.TYPE, VERSION_HEADER: str(version)})

    def unknown_type(p: dict, name: str) -> Poison:
        return encoded("unknown_type", {**_envelope(cls, p), "type": name})

    def lying_headers(p: dict, version: str) -> Poison:
        # Headers claim the right type with a malformed version; the body's payload is broken.
        return encoded("bad_headers", _envelope(cls, {**p, required[0]: {"\u2603": [[]]}}),
                       {TYPE_HEADER: cls.TYPE, VERSION_HEADER: version})

    strategies = [
        st.binary(max_size=200).map(lambda b: Poison("random_bytes", subject, b)),
        st.text(max_size=80).filter(lambda s: not _is_json(s)).map(
            lambda s: Poison("bad_json", subject, s.encode())),
        st.tuples(valid, st.integers(1, 60)).map(
            lambda t: Poison("truncated_json", subject, json.dumps(_envelope(cls, t[0])).encode()[:-t[1]])),
        JSON_VALUE.filter(lambda v: not isinstance(v, dict)).map(lambda v: encoded("json_not_object", v)),
        st.builds(envelope_broken, valid,
                  st.sampled_from(["type", "schema_version", "occurred_at", "producer", "payload"]),
                  st.sampled_from([None, [], {"a": 1}, "not-a-date", -1, 0]), st.booleans()
                  ).filter(lambda p: not _decodes(p)),
        st.builds(unknown_version, valid, st.integers(cls.VERSION + 1, 10**6) | st.integers(-5, 0)),
        st.builds(unknown_type, valid, TEXT.filter(lambda s: s not in _TYPES)),
        st.builds(lying_headers, valid, st.text(min_size=1, max_size=5).filter(
            lambda s: not (s.isascii() and s.isdigit())) | st.just("")),
    ]
    if required:
        strategies.append(st.builds(missing_field, valid, st.sampled_from(required)))
        strategies.append(st.builds(wrong_shape, valid, st.sampled_from(required), WRONG_SHAPE))
    return st.one_of(strategies)


def _is_json(s: str) -> bool:
    try:
        json.loads(s)
    except ValueError:
        return False
    return True


def _decodes(p: Poison) -> bool:
    try:
        decode(p.data, p.headers)
    except PoisonEvent:
        return False
    return True


_TYPES = {t for t, _ in REGISTRY}


def draw(strategy: st.SearchStrategy, n: int) -> list:
    """``n`` examples of ``strategy``, generated by Hypothesis's engine (no shrinking, no example database)."""
    out: list = []

    @hsettings(max_examples=n, database=None, deadline=None, phases=[Phase.generate],
               suppress_health_check=list(HealthCheck))
    @given(strategy)
    def collect(value) -> None:
        out.append(value)

    collect()
    return out[:n]
