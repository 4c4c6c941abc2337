"""Prometheus metrics of the gateway (on the shared registry of libs.runtime.metrics)."""

from __future__ import annotations

from prometheus_client import Counter, Gauge, Histogram

from libs.runtime.metrics import registry

queue_depth = Gauge("xbot_gateway_queue_depth", "Operations waiting for a context", ["priority"], registry=registry)
queue_wait = Histogram(
    "xbot_gateway_queue_wait_seconds", "Real seconds an operation waited for a context", ["priority"],
    buckets=(0.001, 0.005, 0.01, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300), registry=registry,
)
op_duration = Histogram(
    "xbot_gateway_op_duration_seconds", "Real seconds an operation held a context", ["op"],
    buckets=(0.05, 0.1, 0.25, 0.5, 1, 2, 5, 10, 30, 60), registry=registry,
)
op_outcomes = Counter("xbot_gateway_ops_total", "Operations by outcome (ok or error code)", ["op", "outcome"],
                      registry=registry)
contexts_in_use = Gauge("xbot_gateway_contexts_in_use", "Browser contexts leased to an operation",
                        registry=registry)
contexts_open = Gauge("xbot_gateway_contexts_open", "Browser contexts open", registry=registry)
browser_restarts = Counter("xbot_gateway_browser_restarts_total", "Chromium relaunches after a crash",
                           registry=registry)
breaker_state = Gauge("xbot_gateway_breaker_state", "Breaker state per error family (0 closed, 1 half-open, 2 open)",
                      ["family"], registry=registry)
