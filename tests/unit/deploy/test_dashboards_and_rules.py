"""The dashboards and alert rules name only metrics the code exports, and the committed dashboards are current.

"Exports" is read from prometheus_client's registry after importing every module of libs/ and services/ (the
metrics are module-level objects), plus FastStream's middleware metrics and the process collector, so a
renamed or removed metric fails here instead of leaving an empty panel or an alert that can never fire.
"""

from __future__ import annotations

import importlib
import json
import pkgutil
import re
import runpy
from pathlib import Path

import pytest
import yaml
from prometheus_client import REGISTRY, CollectorRegistry

ROOT = Path(__file__).resolve().parents[3]
DEPLOY = ROOT / "deploy"
DASHBOARDS = DEPLOY / "grafana" / "dashboards"
ALERTS = DEPLOY / "prometheus" / "alerts.yml"
# Series Prometheus makes itself for every target.
PROMETHEUS_SYNTHETIC = {"up", "scrape_duration_seconds", "scrape_samples_scraped"}

_KEYWORDS = {"by", "without", "on", "ignoring", "group_left", "group_right", "and", "or", "unless", "bool",
             "offset", "inf", "nan", "atan2"}


def metric_names(expr: str) -> set[str]:
    """Metric names a PromQL expression selects (label matchers, ranges, grouping and functions stripped)."""
    text = re.sub(r'"(?:[^"\\]|\\.)*"', "", expr)
    text = re.sub(r"\{[^}]*\}", "", text)
    text = re.sub(r"\[[^\]]*\]", "", text)
    text = re.sub(r"\b(by|without|on|ignoring|group_left|group_right)\s*\([^)]*\)", "", text)
    names = set()
    for m in re.finditer(r"(?<![\w.])([a-zA-Z_:][a-zA-Z0-9_:]*)(\s*\()?", text):
        if m.group(2) is None and m.group(1) not in _KEYWORDS:
            names.add(m.group(1))
    return names


def test_metric_names_parser() -> None:
    expr = ('histogram_quantile(0.95, sum by (le, op) (rate(a_bucket{op=~"x|y", b="c"}[5m]))) / on (service) '
            'group_left () max(b_total offset 5m) > 1.5 * time() and c unless ignoring (x) d')
    assert metric_names(expr) == {"a_bucket", "b_total", "c", "d"}


def exported_metric_names() -> set[str]:
    for package in ("libs", "services"):
        module = importlib.import_module(package)
        for info in pkgutil.walk_packages(module.__path__, f"{package}."):
            if not info.name.endswith("__main__"):
                importlib.import_module(info.name)
    from faststream.nats.prometheus import NatsPrometheusMiddleware

    faststream = CollectorRegistry()
    NatsPrometheusMiddleware(registry=faststream, app_name="probe")
    return set(REGISTRY._names_to_collectors) | set(faststream._names_to_collectors) | PROMETHEUS_SYNTHETIC


def dashboard_queries() -> dict[str, list[str]]:
    return {
        path.name: [t["expr"] for panel in json.loads(path.read_text())["panels"] for t in panel["targets"]]
        for path in sorted(DASHBOARDS.glob("*.json"))
    }


def alert_queries() -> dict[str, str]:
    groups = yaml.safe_load(ALERTS.read_text())["groups"]
    return {rule["alert"]: rule["expr"] for g in groups for rule in g["rules"]}


def test_the_five_dashboards_exist_with_panels() -> None:
    queries = dashboard_queries()
    assert set(queries) == {"pipeline.json", "browser.json", "posting.json", "growth.json", "cost.json"}
    uids = [json.loads((DASHBOARDS / name).read_text())["uid"] for name in queries]
    assert len(set(uids)) == len(uids)
    for name, exprs in queries.items():
        assert exprs, f"{name} has no queries"


def test_committed_dashboards_are_current() -> None:
    build = runpy.run_path(str(DEPLOY / "grafana" / "build_dashboards.py"))
    for name, text in build["rendered"]().items():
        assert (DASHBOARDS / name).read_text() == text, \
            f"{name} is stale: run python deploy/grafana/build_dashboards.py"


@pytest.fixture(scope="module")
def exported() -> set[str]:
    return exported_metric_names()


def test_dashboard_queries_name_exported_metrics(exported: set[str]) -> None:
    unknown = {f"{name}: {metric}" for name, exprs in dashboard_queries().items()
               for expr in exprs for metric in metric_names(expr) - exported}
    assert not unknown, f"dashboards query metrics nothing exports: {sorted(unknown)}"


def test_alert_rules_name_exported_metrics(exported: set[str]) -> None:
    unknown = {f"{alert}: {metric}" for alert, expr in alert_queries().items()
               for metric in metric_names(expr) - exported}
    assert not unknown, f"alert rules query metrics nothing exports: {sorted(unknown)}"


def test_required_alerts_are_defined() -> None:
    # One per condition of issue 9 (risk level high waits for the poster's metric; see docs/operations.md).
    assert {"XbotJobLate", "XbotJobNeverSucceeded", "XbotConsumerLagHigh", "XbotConsumerStalled",
            "XbotDeadLettersGrowing", "XbotBreakerOpen", "XbotSessionExpired", "XbotAccountLocked",
            "XbotBudgetExhausted", "XbotMetricCheckpointsMissed"} <= set(alert_queries())


def test_growth_and_posting_show_what_the_operations_issue_asks_for() -> None:
    # growth: followers, engagement, reward by choice; posting: caps (cap vs used) and risk level.
    named = {name: set().union(*(metric_names(e) for e in exprs)) for name, exprs in dashboard_queries().items()}
    assert {"xbot_scraper_followers", "xbot_scraper_engagement", "xbot_scraper_tweets_read",
            "xbot_learner_reward"} <= named["growth.json"]
    assert {"xbot_poster_cap", "xbot_poster_writes_in_window", "xbot_poster_risk_level"} <= named["posting.json"]
