"""Event contracts: the registry, the envelope, and compatibility with the committed JSON Schemas."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

import pytest

from libs.contracts.base import Envelope, uuid7
from libs.contracts.events import ALL_EVENTS, Choice, ContentQueued
from libs.contracts.registry import REGISTRY, SCHEMA_DIR, PoisonEvent, decode, json_schema, schema_filename

REQUIRED_TYPES = {"ContentQueued", "ContentRejected", "TweetPosted", "PostFailed", "OpportunityFound",
                  "OpportunityExpired", "AccountDiscovered", "MetricsScraped", "FollowersSnapshotted",
                  "ModelUpdated", "LlmUsageRecorded", "BudgetExhausted", "SessionExpired", "WritesHalted", "LlmHalted",
                  "AccountRiskChanged", "ApprovalRequested", "PersonalDataPurged"}


def test_every_required_event_is_registered_with_a_versioned_subject():
    assert REQUIRED_TYPES <= {t for t, _ in REGISTRY}
    assert ContentQueued.subject() == "xbot.planner.content_queued.v1"
    for cls in ALL_EVENTS:
        assert cls.subject().startswith(f"xbot.{cls.PRODUCER}.") and cls.subject().endswith(f".v{cls.VERSION}")


def test_uuid7_is_time_ordered():
    ids = [uuid7() for _ in range(50)]
    assert all(i[14] == "7" for i in ids)
    assert [i[:13] for i in ids] == sorted(i[:13] for i in ids)


def test_envelope_round_trip_and_poison_reasons():
    now = datetime.now(UTC)
    evt = ContentQueued(content_id="c", kind="post", parts=["hi"], policy_version="v", propensity=0.5,
                        choice=Choice(content_type="story", topic="sleep", hour=3),
                        scheduled_for=now, expires_at=now + timedelta(hours=1))
    env = Envelope.wrap(evt, causation_id="cause")
    env2, evt2 = decode(env.model_dump_json().encode())
    assert evt2 == evt and env2.causation_id == "cause" and env2.correlation_id == env.event_id
    assert env.msg_id(evt) == "ContentQueued:c"
    with pytest.raises(PoisonEvent, match="invalid envelope"):
        decode(b"[]")
    with pytest.raises(PoisonEvent, match="unknown event type"):
        decode(env.model_copy(update={"schema_version": 7}).model_dump_json().encode())
    # Tolerant reader: a field added by a newer producer is ignored.
    newer = env.model_copy(update={"payload": {**env.payload, "added_later": 1}})
    assert decode(newer.model_dump_json().encode())[1] == evt


def _prop_shape(schema: dict, prop: dict) -> str:
    """A comparable description of a property's type (refs resolved)."""
    defs = schema.get("$defs", {})

    def resolve(node):
        if isinstance(node, dict):
            if "$ref" in node:
                return resolve(defs[node["$ref"].split("/")[-1]])
            return {k: resolve(v) for k, v in node.items()
                    if k not in ("title", "description", "default", "examples")}
        if isinstance(node, list):
            return [resolve(v) for v in node]
        return node

    return json.dumps(resolve(prop), sort_keys=True)


def incompatibilities(old: dict, new: dict) -> list[str]:
    """What in ``new`` breaks a consumer written against ``old`` (or a producer written for it)."""
    problems = []
    for name, prop in old.get("properties", {}).items():
        if name not in new.get("properties", {}):
            problems.append(f"field {name} removed")
        elif _prop_shape(old, prop) != _prop_shape(new, new["properties"][name]):
            problems.append(f"field {name} retyped")
    for name in set(new.get("required", [])) - set(old.get("required", [])):
        problems.append(f"field {name} newly required")
    return problems


@pytest.mark.parametrize("cls", ALL_EVENTS, ids=lambda c: f"{c.TYPE}.v{c.VERSION}")
def test_contract_is_compatible_with_its_committed_schema(cls):
    path = SCHEMA_DIR / schema_filename(cls)
    assert path.exists(), f"{path.name} is not committed: run `python -m libs.contracts.export`"
    committed = json.loads(path.read_text())
    assert incompatibilities(committed, json_schema(cls)) == [], (
        f"{cls.TYPE} v{cls.VERSION} changed incompatibly: add a new version instead")


def test_every_committed_schema_still_has_its_model():
    for path in SCHEMA_DIR.glob("*.v*.json"):
        type_, version = path.name.removesuffix(".json").split(".v")
        assert (type_, int(version)) in REGISTRY, f"{path.name} has no model any more"


def test_the_compatibility_check_catches_removal_retyping_and_new_required_fields():
    old = json_schema(ContentQueued)
    removed = json.loads(json.dumps(old))
    del removed["properties"]["propensity"]
    retyped = json.loads(json.dumps(old))
    retyped["properties"]["propensity"] = {"type": "string"}
    required = json.loads(json.dumps(old))
    required["properties"]["new"] = {"type": "string"}
    required["required"].append("new")
    assert incompatibilities(old, removed) == ["field propensity removed"]
    assert incompatibilities(old, retyped) == ["field propensity retyped"]
    assert incompatibilities(old, required) == ["field new newly required"]
    optional = json.loads(json.dumps(old))
    optional["properties"]["new"] = {"type": "string"}
    assert incompatibilities(old, optional) == []


def test_reply_request_author_is_a_handle() -> None:
    import pydantic
    import pytest

    from libs.contracts.gateway import ReplyRequest, status_handle

    assert ReplyRequest(tweet_id="1", author="ava_sleep", text="hi").author == "ava_sleep"
    for bad in ("@ava", "Ava Sleep", "ava/status/1", "a" * 16, "", "ava@x.com", "＠ava"):
        with pytest.raises(pydantic.ValidationError):
            ReplyRequest(tweet_id="1", author=bad, text="hi")
    assert status_handle("https://x.com/ava_sleep/status/123/photo/1") == "ava_sleep"
    assert status_handle("/Ava | DM @spam/status/1") is None and status_handle(None) is None
