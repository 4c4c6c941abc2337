"""Prometheus metrics shared by every service (one registry: prometheus_client's default)."""

from __future__ import annotations

from prometheus_client import REGISTRY, Counter, Gauge, Histogram

registry = REGISTRY

events_applied = Counter(
    "xbot_projection_events_applied_total", "Events applied by a projection", ["service", "consumer"]
)
events_skipped = Counter(
    "xbot_projection_events_skipped_total", "Redelivered events skipped by the tracking position",
    ["service", "consumer"],
)
dead_letters = Counter("xbot_dlq_messages_total", "Messages sent to the dead-letter stream", ["service", "reason"])
transient_failures = Counter(
    "xbot_projection_transient_failures_total", "Batches rolled back and retried later", ["service", "consumer"]
)
consumer_lag = Gauge("xbot_consumer_lag", "Messages pending for a durable consumer", ["service", "consumer"])
consumer_last_progress = Gauge(
    "xbot_consumer_last_progress_timestamp", "Unix time of the last applied batch", ["service", "consumer"]
)
events_published = Counter("xbot_events_published_total", "Events published (PubAck received)", ["service", "type"])
job_duration = Histogram(
    "xbot_job_duration_seconds", "Duration of a periodic job run", ["service", "job"],
    buckets=(0.05, 0.1, 0.5, 1, 2, 5, 10, 30, 60, 120, 300),
)
job_last_success = Gauge("xbot_job_last_success_timestamp", "Unix time of a job's last success", ["service", "job"])
job_interval = Gauge("xbot_job_interval_seconds", "A job's interval in real seconds", ["service", "job"])
job_failures = Counter("xbot_job_failures_total", "Failed job runs", ["service", "job"])
service_ready = Gauge("xbot_service_ready", "1 when the service is ready", ["service"])
