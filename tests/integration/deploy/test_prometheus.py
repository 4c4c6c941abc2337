"""Prometheus files pass promtool: config, rules, the rules' unit tests, and the dashboards' PromQL."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import yaml

from tests.integration.deploy.tools import DEPLOY, tool

PROMETHEUS = DEPLOY / "prometheus"


def promtool(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([tool("promtool"), *args], capture_output=True, text=True, timeout=60)


def test_config_and_rules_check() -> None:
    done = promtool("check", "config", str(PROMETHEUS / "prometheus.yml"))
    assert done.returncode == 0, done.stdout + done.stderr
    done = promtool("check", "rules", str(PROMETHEUS / "alerts.yml"))
    assert done.returncode == 0, done.stdout + done.stderr


def test_alerts_fire_on_their_conditions_only() -> None:
    done = promtool("test", "rules", str(PROMETHEUS / "tests" / "alerts_test.yml"))
    assert done.returncode == 0, done.stdout + done.stderr


def test_a_wrong_expectation_fails(tmp_path: Path) -> None:
    # The rule tests can fail: the same file with one alert expected too early does.
    text = (PROMETHEUS / "tests" / "alerts_test.yml").read_text().replace("eval_time: 7m", "eval_time: 9m", 1)
    (tmp_path / "alerts.yml").write_text((PROMETHEUS / "alerts.yml").read_text())
    (tmp_path / "tests").mkdir()
    (tmp_path / "tests" / "alerts_test.yml").write_text(text)
    done = promtool("test", "rules", str(tmp_path / "tests" / "alerts_test.yml"))
    assert done.returncode != 0 and "XbotJobLate" in done.stdout + done.stderr


def test_dashboard_queries_are_valid_promql(tmp_path: Path) -> None:
    # promtool parses a rule's expression, so each panel query becomes a recording rule for the check.
    rules = [{"record": f"dashboard:{path.stem}:{i}:{j}", "expr": target["expr"]}
             for path in sorted((DEPLOY / "grafana" / "dashboards").glob("*.json"))
             for i, panel in enumerate(json.loads(path.read_text())["panels"])
             for j, target in enumerate(panel["targets"])]
    file = tmp_path / "dashboards.rules.yml"
    file.write_text(yaml.safe_dump({"groups": [{"name": "dashboards", "rules": rules}]}))
    done = promtool("check", "rules", str(file))
    assert done.returncode == 0, done.stdout + done.stderr
    assert f"{len(rules)} rules found" in done.stdout
