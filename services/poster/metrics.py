"""The poster's Prometheus metrics (dashboards: deploy/grafana posting; alerts: deploy/prometheus)."""

from prometheus_client import Counter, Gauge

outcomes = Counter("xbot_poster_outcomes_total", "Items finished, by kind and outcome (posted or the failure reason)",
                   ["kind", "outcome"])
risk_level = Gauge("xbot_poster_risk_level", "Account risk level: 0 normal, 1 elevated, 2 high, 3 severe")
writes_halted = Gauge("xbot_poster_writes_halted", "1 while writes are halted until an operator resumes (locked, "
                      "session expired)")
writes_paused = Gauge("xbot_poster_writes_paused", "1 while the kill switch (xbot pause) is on")
breaker_state = Gauge("xbot_poster_breaker_state", "The poster's write breaker: 0 closed, 1 half-open, 2 open")
