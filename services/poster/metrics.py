"""The poster's Prometheus metrics (dashboards: deploy/grafana posting; alerts: deploy/prometheus)."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime

from prometheus_client import Counter, Gauge

from services.poster.pacing import DAY, HOUR, Lane, PacingPolicy, WriteRecord

outcomes = Counter("xbot_poster_outcomes_total", "Items finished, by kind and outcome (posted or the failure reason)",
                   ["kind", "outcome"])
risk_level = Gauge("xbot_poster_risk_level", "Account risk level: 0 normal, 1 elevated, 2 high, 3 severe")
writes_halted = Gauge("xbot_poster_writes_halted", "1 while writes are halted until an operator resumes (locked, "
                      "session expired)")
writes_paused = Gauge("xbot_poster_writes_paused", "1 while the kill switch (xbot pause) is on")
breaker_state = Gauge("xbot_poster_breaker_state", "The poster's write breaker: 0 closed, 1 half-open, 2 open")

# The pacing caps in force (after risk scaling) and the writes they count, by lane and rolling window. "post"
# is the content lane: posts and threads share its caps (services/poster/pacing.py); "reply" is the reply lane.
cap = Gauge("xbot_poster_cap", "Writes allowed per rolling window after risk scaling (0: the lane is off)",
            ["kind", "window"])
writes_in_window = Gauge("xbot_poster_writes_in_window",
                         "Writes the caps count in the rolling window now (those that reached X or may have)",
                         ["kind", "window"])
KINDS: dict[str, Lane] = {"post": "content", "reply": "reply"}
WINDOWS = {"hour": HOUR, "day": DAY}


def show_pacing(pacing: PacingPolicy, history: Iterable[WriteRecord], now: datetime) -> None:
    """Export ``pacing`` (the policy at the current risk level) against ``history`` at ``now``: the same counting
    as PacingPolicy.earliest (writes after ``now - window``)."""
    history = list(history)
    for kind, lane in KINDS.items():
        caps = pacing.caps(lane)
        for window, span in WINDOWS.items():
            cap.labels(kind, window).set(caps.per_hour if window == "hour" else caps.per_day)
            writes_in_window.labels(kind, window).set(
                sum(1 for r in history if r.lane == lane and r.at > now - span))
