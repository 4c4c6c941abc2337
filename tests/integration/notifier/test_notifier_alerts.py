"""The notifier's alert rules (deploy/prometheus/alerts.yml) under promtool: a channel failing again and again,
and a notice given up, each fire; a channel that failed once and then took its notices does not."""

from __future__ import annotations

import subprocess
from pathlib import Path

import yaml

from tests.integration.deploy.tools import DEPLOY, tool

RULES = DEPLOY / "prometheus" / "alerts.yml"


def expected(alert: str, **labels: str) -> dict[str, dict[str, str]]:
    """The alert as promtool reports it: its severity and labels, its annotations with the labels filled in."""
    rule = next(r for g in yaml.safe_load(RULES.read_text())["groups"] for r in g["rules"] if r.get("alert") == alert)
    annotations = dict(rule["annotations"])
    for name, value in labels.items():
        annotations = {k: v.replace(f"{{{{ $labels.{name} }}}}", value) for k, v in annotations.items()}
    return {"exp_labels": {**rule["labels"], **labels}, "exp_annotations": annotations}


def test_a_channel_failing_and_a_notice_given_up_are_alerts(tmp_path: Path) -> None:
    # Minutes from 0. The exporter starts both series at 0 (NotifierWorker.__init__): increase() counts the first
    # failure only because of that.
    tests = {"rule_files": [str(RULES)], "evaluation_interval": "1m", "tests": [{
        "interval": "1m",
        "input_series": [
            # 1-json fails at 1, 2, 4 minutes (retried with a growing rest); 2-mailto failed once.
            {"series": 'xbot_notifier_channel_failures_total{service="notifier", channel="1-json"}',
             "values": "0 1 2 2 3x20"},
            {"series": 'xbot_notifier_channel_failures_total{service="notifier", channel="2-mailto"}',
             "values": "0 1x24"},
            {"series": 'xbot_notifier_notices_total{service="notifier", kind="llm", outcome="failed"}',
             "values": "0x9 1x15"},
            {"series": 'xbot_notifier_notices_total{service="notifier", kind="digest", outcome="failed"}',
             "values": "0x24"},
        ],
        "alert_rule_test": [
            {"eval_time": "3m", "alertname": "XbotNotifyChannelFailing", "exp_alerts": []},
            {"eval_time": "6m", "alertname": "XbotNotifyChannelFailing", "exp_alerts": [
                expected("XbotNotifyChannelFailing", channel="1-json")]},
            {"eval_time": "8m", "alertname": "XbotNoticesFailed", "exp_alerts": []},
            {"eval_time": "12m", "alertname": "XbotNoticesFailed", "exp_alerts": [
                expected("XbotNoticesFailed", kind="llm")]},
        ],
    }]}
    file = tmp_path / "notifier_alerts_test.yml"
    file.write_text(yaml.safe_dump(tests))
    done = subprocess.run([tool("promtool"), "test", "rules", str(file)], capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stdout + done.stderr
