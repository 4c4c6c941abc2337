"""libs.policy's planner-facing API (uniform before any model, configured arms, any RNG with random()) and the
model job's pure parts (version ids, when a candidate is due, what a rollback restores)."""

import math
import random
from collections import Counter
from datetime import UTC, datetime, timedelta

import numpy as np
import pytest

from libs.policy import choice_propensity, marginal_propensities, sample_choice
from services.learner.jobs import (
    NothingToRollBack,
    due,
    effective_versions,
    rollback_event,
    version_digest,
    version_number,
)
from services.learner.projections import PublishedModel

DIMS = {"content_type": ("a", "b", "c"), "topic": ("x", "y"), "format": ("single", "thread"), "hour": range(24)}


def _model(floor=0.1):
    posteriors = {
        "content_type": {"a": {"mean": 0.4, "var": 0.02}, "b": {"mean": 0.0, "var": 0.02},
                         "c": {"mean": -0.3, "var": 0.02}},
        "topic": {"x": {"mean": 0.1, "var": 0.05}, "y": {"mean": 0.0, "var": 0.05}},
        "format": {"single": {"mean": 0.0, "var": 0.01}, "thread": {"mean": 0.2, "var": 0.01}},
        "hour": {str(h): {"mean": 0.1 * math.cos(2 * math.pi * (h - 9) / 24), "var": 0.01} for h in range(24)},
    }
    return {"version": "v1-x", "floor": floor, "temperature": 0.5,
            "propensities": marginal_propensities(posteriors, temperature=0.5, floor=floor)}


def test_no_model_is_uniform_over_the_configured_arms():
    rng = random.Random(1)
    seen = Counter()
    for _ in range(2000):
        choice, p = sample_choice(None, rng, dimensions=DIMS)
        assert p == pytest.approx(1 / (3 * 2 * 2 * 24))
        assert isinstance(choice["hour"], int)
        seen[choice["content_type"]] += 1
    assert set(seen) == {"a", "b", "c"} and min(seen.values()) > 550


def test_propensity_matches_the_model_and_the_sampling_frequency_with_a_stdlib_rng():
    model = _model()
    rng = random.Random(3)
    draws, joint, reported = 8000, Counter(), {}
    for _ in range(draws):
        choice, p = sample_choice(model, rng, dimensions=DIMS)
        key = (choice["content_type"], choice["topic"], choice["format"], choice["hour"])
        joint[key] += 1
        reported[key] = p
        assert p == pytest.approx(choice_propensity(model, choice), rel=1e-9)
    for key, count in joint.most_common(3):
        p = reported[key]
        assert abs(count / draws - p) < 4.5 * math.sqrt(p * (1 - p) / draws) + 1e-3


def test_a_configured_arm_the_model_lacks_is_reached_by_the_floor_only():
    model = _model(floor=0.1)
    dims = {**DIMS, "content_type": ("a", "b", "c", "new")}
    choice = {"content_type": "new", "topic": "x", "format": "single", "hour": 9}
    rng = np.random.default_rng(0)
    probabilities = {}
    for _ in range(3000):
        picked, p = sample_choice(model, rng, dimensions=dims)
        probabilities[tuple(picked.values())] = p
    assert any(k[0] == "new" for k in probabilities)
    new = [p for k, p in probabilities.items() if k[0] == "new"]
    assert max(new) == pytest.approx(0.1 / (4 * 2 * 2 * 24))
    assert choice_propensity(model, choice) == 0.0  # not an arm of the model itself


def test_a_dimension_the_model_does_not_cover_is_uniform_outside_the_floor():
    model = _model()
    dims = {**DIMS, "voice": ("coach", "nerd")}
    choice, p = sample_choice(model, random.Random(5), dimensions=dims)
    assert p == pytest.approx(choice_propensity(model, choice) / 2)


def _published(seq, version, rollback_of=None, parent=None, size=10):
    return PublishedModel(seq, version, parent, rollback_of, size, datetime(2025, 1, 1, tzinfo=UTC),
                          {"version": version, "parent_version": parent, "propensities": {"hour": {str(seq): 1.0}},
                           "training_size": size, "created_at": "2025-01-01T00:00:00Z", "rollback_of": rollback_of})


def test_versions_and_rollback_chain():
    assert version_number("v12-0a1b2c3d") == 12 and version_digest("v12-0a1b2c3d") == "0a1b2c3d"
    assert version_number(None) == 0
    models = [_published(1, "v1-aaaa"), _published(2, "v2-bbbb"), _published(3, "v3-cccc")]
    now = datetime(2025, 2, 1, tzinfo=UTC)
    first = rollback_event(models, now)
    assert (first.version, first.parent_version, first.rollback_of) == ("v4-bbbb", "v2-bbbb", "v3-cccc")
    assert first.propensities == {"hour": {"2": 1.0}} and first.created_at == now
    models.append(_published(4, first.version, rollback_of="v3-cccc", parent="v2-bbbb"))
    assert [m.version for m in effective_versions(models)] == ["v1-aaaa", "v4-bbbb"]
    second = rollback_event(models, now)
    assert (second.version, second.parent_version, second.rollback_of) == ("v5-aaaa", "v1-aaaa", "v4-bbbb")
    models.append(_published(5, second.version, rollback_of="v4-bbbb", parent="v1-aaaa"))
    with pytest.raises(NothingToRollBack):
        rollback_event(models, now)
    with pytest.raises(NothingToRollBack):
        rollback_event([], now)


def test_a_candidate_is_due_on_new_matured_rewards_or_on_schedule():
    now = datetime(2025, 1, 1, 12, tzinfo=UTC)
    hour = timedelta(hours=1)
    kw = {"min_new": 5, "now": now, "interval": 2 * hour}
    assert due(matured=4, reference=0, last=None, **kw) is None
    assert due(matured=5, reference=0, last=None, **kw) == "5 new matured rewards"
    assert due(matured=12, reference=10, last=now - hour, **kw) is None
    assert due(matured=12, reference=10, last=now - 3 * hour, **kw) == "scheduled"
