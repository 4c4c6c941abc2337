"""The notifier's Prometheus metrics."""

from __future__ import annotations

from prometheus_client import Counter

from libs.core.metrics import registry

notices = Counter("xbot_notifier_notices_total",
                  "Notices handled by the notify job, by kind and outcome (sent, repeat, off, stale, unrouted, "
                  "failed, retry)", ["kind", "outcome"], registry=registry)
channel_failures = Counter("xbot_notifier_channel_failures_total", "Sends a channel refused or did not answer",
                           ["channel"], registry=registry)
alerts_received = Counter("xbot_notifier_alerts_received_total", "Alertmanager notifications received, by kind",
                          ["kind"], registry=registry)
