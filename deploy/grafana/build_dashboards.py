"""Writes the Grafana dashboards in deploy/grafana/dashboards/ from the compact definitions below.

Run ``python deploy/grafana/build_dashboards.py`` after editing; tests/unit/deploy checks the committed JSON is
current and that every metric a query names is one the services export.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path

OUT = Path(__file__).parent / "dashboards"
DATASOURCE = {"type": "prometheus", "uid": "prometheus"}


@dataclass(frozen=True)
class Panel:
    title: str
    queries: tuple[tuple[str, str], ...]  # (PromQL, legend)
    unit: str = "short"
    kind: str = "timeseries"  # or "stat"
    description: str = ""
    width: int = 12


@dataclass(frozen=True)
class Dashboard:
    uid: str
    title: str
    description: str
    panels: tuple[Panel, ...] = field(default=())


def q(expr: str, legend: str = "") -> tuple[str, str]:
    return (expr, legend)


GATEWAY_WRITES = 'op=~"post_tweet|post_thread|reply"'
# Divides an engagement total by the tweets it sums over; no value (rather than a division by 0) before any read.
PER_TWEET = " / on () group_left () (max(xbot_scraper_tweets_read) > 0)"
CAPS = "The caps in force after risk scaling (XBOT_RISK_CAP_FACTOR per level); post = posts and threads (one lane)"

DASHBOARDS = (
    Dashboard("xbot-pipeline", "xbot / pipeline", "Events per stream, projections, consumer lag, dead letters, jobs", (
        Panel("Services ready", (q("max by (service) (xbot_service_ready)", "{{service}}"),), kind="stat",
              description="1 = broker connected, database reachable, consumers not stalled", width=24),
        Panel("Events published per stream (per second)",
              (q("sum by (service, type) (rate(xbot_events_published_total[5m]))", "{{service}} {{type}}"),),
              unit="ops", description="One stream per producer: the service label is the stream"),
        Panel("Events applied per consumer (per second)",
              (q("sum by (service, consumer) (rate(xbot_projection_events_applied_total[5m]))",
                 "{{service}} {{consumer}}"),), unit="ops"),
        Panel("Consumer lag (messages pending)",
              (q("max by (service, consumer) (xbot_consumer_lag)", "{{service}} {{consumer}}"),)),
        Panel("Seconds since a consumer last applied a batch",
              (q("time() - max by (service, consumer) (xbot_consumer_last_progress_timestamp)",
                 "{{service}} {{consumer}}"),), unit="s"),
        Panel("Dead letters (last hour)",
              (q("sum by (service, reason) (increase(xbot_dlq_messages_total[1h]))", "{{service}} {{reason}}"),),
              description="xbot dlq list | retry | drop"),
        Panel("Retries and redeliveries (per second)", (
            q("sum by (service, consumer) (rate(xbot_projection_transient_failures_total[5m]))",
              "rolled back {{service}} {{consumer}}"),
            q("sum by (service, consumer) (rate(xbot_projection_events_skipped_total[5m]))",
              "redelivery skipped {{service}} {{consumer}}"),
        ), unit="ops"),
        Panel("Handler outcomes (FastStream, per second)",
              (q("sum by (handler, status) (rate(faststream_received_processed_messages_total[5m]))",
                 "{{handler}} {{status}}"),), unit="ops"),
        Panel("Job age against its interval",
              (q("(time() - max by (service, job) (xbot_job_last_success_timestamp))"
                 " / max by (service, job) (xbot_job_interval_seconds)", "{{service}} {{job}}"),),
              unit="x", description="Above 1.5 the XbotJobLate alert fires"),
        Panel("Job failures (last hour) and p95 duration", (
            q("sum by (service, job) (increase(xbot_job_failures_total[1h]))", "failures {{service}} {{job}}"),
            q("histogram_quantile(0.95, sum by (le, service, job) (rate(xbot_job_duration_seconds_bucket[15m])))",
              "p95 s {{service}} {{job}}"),
        )),
    )),
    Dashboard("xbot-browser", "xbot / browser", "The gateway's queue, contexts, Chromium restarts and breakers", (
        Panel("Queue depth by priority", (q("max by (priority) (xbot_gateway_queue_depth)", "{{priority}}"),)),
        Panel("Queue wait by priority (p50, p95)", (
            q("histogram_quantile(0.5, sum by (le, priority) (rate(xbot_gateway_queue_wait_seconds_bucket[10m])))",
              "p50 {{priority}}"),
            q("histogram_quantile(0.95, sum by (le, priority) (rate(xbot_gateway_queue_wait_seconds_bucket[10m])))",
              "p95 {{priority}}"),
        ), unit="s"),
        Panel("Operation duration p95 by op",
              (q("histogram_quantile(0.95, sum by (le, op) (rate(xbot_gateway_op_duration_seconds_bucket[10m])))",
                 "{{op}}"),), unit="s"),
        Panel("Operations by outcome (per minute)",
              (q("sum by (op, outcome) (rate(xbot_gateway_ops_total[5m])) * 60", "{{op}} {{outcome}}"),),
              unit="opm"),
        Panel("Browser contexts", (
            q("max(xbot_gateway_contexts_open)", "open"),
            q("max(xbot_gateway_contexts_in_use)", "in use"),
        )),
        Panel("Chromium restarts (last hour)",
              (q("sum(increase(xbot_gateway_browser_restarts_total[1h]))", "restarts"),), kind="stat"),
        Panel("Breaker state by family", (q("max by (family) (xbot_gateway_breaker_state)", "{{family}}"),),
              description="0 closed, 1 half-open, 2 open", width=24),
    )),
    Dashboard("xbot-posting", "xbot / posting", "Posts and replies per hour, failures by type, caps, risk level", (
        Panel("Account risk level and write stops", (
            q("max(xbot_poster_risk_level)", "risk level (0 normal .. 3 severe)"),
            q("max(xbot_poster_writes_halted)", "halted until resume"),
            q("max(xbot_poster_writes_paused)", "kill switch"),
            q("max(xbot_poster_breaker_state)", "poster breaker (2 open)"),
        ), width=24),
        Panel("Caps per rolling hour: cap in force and writes counted", (
            q('max by (kind) (xbot_poster_cap{window="hour"})', "cap {{kind}}"),
            q('max by (kind) (xbot_poster_writes_in_window{window="hour"})', "used {{kind}}"),
        ), description=CAPS),
        Panel("Caps per rolling day: cap in force and writes counted", (
            q('max by (kind) (xbot_poster_cap{window="day"})', "cap {{kind}}"),
            q('max by (kind) (xbot_poster_writes_in_window{window="day"})', "used {{kind}}"),
        ), description=CAPS),
        Panel("Items finished by outcome (per hour)", (
            q("sum by (kind, outcome) (increase(xbot_poster_outcomes_total[1h]))", "{{kind}} {{outcome}}"),
        )),
        Panel("Posts and replies per hour", (
            q('sum(increase(xbot_gateway_ops_total{op=~"post_tweet|post_thread", outcome="ok"}[1h]))', "posts"),
            q('sum(increase(xbot_gateway_ops_total{op="reply", outcome="ok"}[1h]))', "replies"),
        )),
        Panel("Poster events per hour", (
            q('sum by (type) (increase(xbot_events_published_total{service="poster"}[1h]))', "{{type}}"),
        ), description="TweetPosted and PostFailed"),
        Panel("Write failures by type (last hour)",
              (q(f'sum by (outcome) (increase(xbot_gateway_ops_total{{{GATEWAY_WRITES}, outcome!="ok"}}[1h]))',
                 "{{outcome}}"),)),
        Panel("Account warning signals (last 24 h)", (
            q('sum by (outcome) (increase(xbot_gateway_ops_total{outcome=~"rate_limited|daily_limit|'
              'automation_block|locked|session_expired"}[24h]))', "{{outcome}}"),
        ), kind="stat", description="Each raises the poster's risk level"),
        Panel("Write breakers", (
            q('max by (family) (xbot_gateway_breaker_state{family=~"write_limits|account|session"})', "{{family}}"),
        ), description="0 closed, 1 half-open, 2 open"),
        Panel("Content queued and rejected per hour", (
            q('sum by (type) (increase(xbot_events_published_total{service="planner", '
              'type=~"ContentQueued|ContentRejected"}[1h]))', "{{type}}"),
        )),
    )),
    Dashboard("xbot-growth", "xbot / growth", "Followers, engagement, reward by choice, reads and opportunities", (
        Panel("Followers", (q("max(xbot_scraper_followers)", "followers"),),
              description="At the scraper's last profile snapshot"),
        Panel("Followers gained (per hour, net)", (q("sum(delta(xbot_scraper_followers[1h]))", "gained"),)),
        Panel("Engagement received (per hour)", (
            q('sum by (kind) (delta(xbot_scraper_engagement{kind!="views"}[1h]))', "{{kind}}"),
        ), description="Change of the totals over our tweets, each at its latest read (checkpoints and follower "
                       "snapshots)"),
        Panel("Engagement per tweet (average of the latest reads)", (
            q(f'max by (kind) (xbot_scraper_engagement{{kind!="views"}}){PER_TWEET}', "{{kind}}"),
        )),
        Panel("Views", (
            q('sum(delta(xbot_scraper_engagement{kind="views"}[1h]))', "received per hour"),
            q(f'max(xbot_scraper_engagement{{kind="views"}}){PER_TWEET}', "per tweet"),
        )),
        Panel("Reward by choice (policy in force)", (
            q("max by (dimension, choice) (xbot_learner_reward)", "{{dimension}}: {{choice}}"),
        ), description="Posterior mean reward effect of each arm; a step is a newly published policy"),
        Panel("Metric reads by checkpoint (per hour)", (
            q("sum by (checkpoint) (increase(xbot_scraper_reads_total[1h]))", "{{checkpoint}}"),
        )),
        Panel("Missed checkpoint reads and due backlog", (
            q("sum by (checkpoint) (increase(xbot_scraper_missed_reads_total[1h]))", "missed {{checkpoint}}"),
            q("max(xbot_scraper_due_reads)", "due now"),
        )),
        Panel("Follower snapshots and model updates per hour", (
            q('sum by (type) (increase(xbot_events_published_total{type=~"FollowersSnapshotted|MetricsScraped|'
              'ModelUpdated"}[1h]))', "{{type}}"),
        )),
        Panel("Opportunity pool", (q("max(xbot_harvester_pool_size)", "pool size"),)),
        Panel("Opportunities and accounts (per hour)", (
            q("sum by (source) (increase(xbot_harvester_opportunities_found_total[1h]))", "found {{source}}"),
            q("sum by (reason) (increase(xbot_harvester_opportunities_expired_total[1h]))", "expired {{reason}}"),
            q("sum(increase(xbot_harvester_accounts_discovered_total[1h]))", "accounts discovered"),
        )),
        Panel("Search results rejected by reason (per hour)", (
            q("sum by (reason) (increase(xbot_harvester_rejected_total[1h]))", "{{reason}}"),
        )),
        Panel("Gateway failures seen by harvester and scraper (per hour)", (
            q("sum by (op, code) (increase(xbot_harvester_gateway_failures_total[1h]))", "harvester {{op}} {{code}}"),
            q("sum by (op, code) (increase(xbot_scraper_gateway_failures_total[1h]))", "scraper {{op}} {{code}}"),
        ), width=24),
    )),
    Dashboard("xbot-cost", "xbot / cost", "LLM usage and budget", (
        Panel("LLM spend against today's budget", (
            q("sum(increase(xbot_planner_llm_spend_usd_total[24h]))", "spent, last 24 h (USD)"),
            q("max(xbot_planner_llm_budget_usd)", "daily budget (USD)"),
        ), unit="currencyUSD"),
        Panel("Budget left and LLM halts", (
            q("min(xbot_planner_budget_remaining_ratio)", "share of budget left"),
            q("max(xbot_planner_llm_halted)", "halted (bad key)"),
        )),
        Panel("Drafts rejected by gate (per hour)", (
            q("sum by (gate) (increase(xbot_planner_gate_rejections_total[1h]))", "{{gate}}"),
        )),
        Panel("Policy in force", (
            q("max(xbot_learner_policy_version)", "version"),
            q("max(xbot_learner_training_size)", "training size"),
        ), kind="stat"),
        Panel("LLM usage records per hour",
              (q('sum(increase(xbot_events_published_total{type="LlmUsageRecorded"}[1h]))', "LLM calls"),)),
        Panel("Budget exhausted (last 24 h)",
              (q('sum(increase(xbot_events_published_total{type="BudgetExhausted"}[24h]))', "times"),),
              kind="stat"),
    )),
)


def panel_json(panel: Panel, panel_id: int, x: int, y: int) -> dict:
    return {
        "id": panel_id,
        "type": panel.kind,
        "title": panel.title,
        "description": panel.description,
        "datasource": DATASOURCE,
        "gridPos": {"h": 8, "w": panel.width, "x": x, "y": y},
        "fieldConfig": {"defaults": {"unit": panel.unit}, "overrides": []},
        "options": {"legend": {"displayMode": "list", "placement": "bottom", "showLegend": True}}
        if panel.kind == "timeseries" else {"reduceOptions": {"calcs": ["lastNotNull"]}},
        "targets": [
            {"refId": chr(ord("A") + i), "datasource": DATASOURCE, "expr": expr, "legendFormat": legend}
            for i, (expr, legend) in enumerate(panel.queries)
        ],
    }


def dashboard_json(d: Dashboard) -> dict:
    panels, x, y = [], 0, 0
    for i, panel in enumerate(d.panels, start=1):
        if x + panel.width > 24:
            x, y = 0, y + 8
        panels.append(panel_json(panel, i, x, y))
        x += panel.width
    return {
        "uid": d.uid,
        "title": d.title,
        "description": d.description,
        "tags": ["xbot"],
        "timezone": "utc",
        "schemaVersion": 39,
        "version": 1,
        "editable": False,
        "refresh": "30s",
        "time": {"from": "now-24h", "to": "now"},
        "panels": panels,
    }


def rendered() -> dict[str, str]:
    """File name → JSON text of every dashboard."""
    return {f"{d.uid.removeprefix('xbot-')}.json": json.dumps(dashboard_json(d), indent=2) + "\n"
            for d in DASHBOARDS}


def main() -> None:
    OUT.mkdir(exist_ok=True)
    for name, text in rendered().items():
        (OUT / name).write_text(text)
        print(f"wrote {OUT / name}")


if __name__ == "__main__":
    main()
