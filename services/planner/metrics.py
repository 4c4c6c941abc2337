"""The planner's own Prometheus metrics (the runtime exports job, projection and publish metrics already)."""

from __future__ import annotations

from prometheus_client import Counter, Gauge

llm_spend = Counter("xbot_planner_llm_spend_usd_total", "USD charged for LLM answers (LlmUsageRecorded)", ["model"])
llm_budget = Gauge("xbot_planner_llm_budget_usd", "Today's LLM budget in USD")
budget_remaining = Gauge("xbot_planner_budget_remaining_ratio", "Share of today's LLM budget not yet spent")
gate_rejections = Counter("xbot_planner_gate_rejections_total", "Drafts rejected, by gate", ["gate"])
items_queued = Counter("xbot_planner_items_queued_total", "Items queued for the poster", ["kind"])
llm_errors = Counter("xbot_planner_llm_errors_total",
                     "LLM failures: permanent (bad key), unavailable (retries outlasted), malformed", ["kind"])
llm_retries = Counter("xbot_planner_llm_retries_total", "Transient LLM failures retried")
# 1 while a permanent LLM error (bad key, refused request) keeps the planner from calling: an operator must act.
llm_halted = Gauge("xbot_planner_llm_halted", "1 when the planner stopped calling the LLM after a permanent error")
queue_depth = Gauge("xbot_planner_queue_depth", "Items queued and not yet posted, failed or expired", ["kind"])
