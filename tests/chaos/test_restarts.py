"""NATS, then PostgreSQL, restarted under a running service (servers of the suite's own)."""

from __future__ import annotations

import pytest

from tests.chaos import restarts

pytestmark = pytest.mark.timeout(300)


async def test_service_reconnects_after_nats_then_postgres_restart_nothing_lost_or_doubled():
    report = await restarts.run(rounds=1, per_round=15)
    assert not report.violations, "\n".join(report.violations)
    assert report.restarts == {"nats": 1, "postgres": 1}
    assert report.not_ready_seen == {"nats": True, "postgres": True}
    assert report.queued_rows == report.published == 45
