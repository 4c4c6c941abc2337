"""Poison against the running services (CI form; `xbot bench chaos` runs 10,000)."""

from __future__ import annotations

import pytest

from tests.chaos import poison

pytestmark = [pytest.mark.timeout(300), pytest.mark.long(minutes=1.1)]


async def test_poison_is_dead_lettered_valid_events_flow_and_dlq_retry_reapplies(settings, js):
    report = await poison.run(settings, js, poison=300, valid=120, seed=10)
    assert not report.violations, "\n".join(report.violations)
    assert report.poison_published == 300 and report.letters >= 300
    assert set(report.poison_kinds) >= {"random_bytes", "bad_json", "envelope_broken", "unknown_version",
                                         "payload_missing_field", "payload_wrong_shape"}
    assert report.dlq_retry_reapplied
