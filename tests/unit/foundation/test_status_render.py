from ops.status import render_status


def test_status_shows_each_services_blocks_and_failing_checks():
    report = {
        "namespace": "xbot",
        "services": {
            "poster": {"state": "running", "checks": {"broker": "ok", "database": "FAIL: OSError"},
                       "posting": {"queue": {"queued": 2}, "risk_level": "HIGH", "last_post_at": "2026-11-23T10:00"}},
            "planner": {"state": "ready", "planning": {"policy_version": "v3", "spend_today_usd": 0.42}},
            "learner": {"state": "never started"},
        },
        "streams": {"XBOT_POSTER": 7}, "consumers": {"xbot_poster_queue_planner": {"pending": 3, "ack_pending": 1}},
        "dlq": 3, "dlq_by_service": {"poster": 2, "planner": 0, "learner": 0, "ledger": 1},
        "writes": {"paused": True, "reason": "operator"},
    }
    text = render_status(report)
    assert "database FAIL: OSError" in text and "broker ok" not in text
    assert "risk_level HIGH" in text and "last_post_at 2026-11-23T10:00" in text and "queue queued 2" in text
    assert "policy_version v3" in text and "spend_today_usd 0.42" in text
    assert "learner            never started" in text
    # Each service's line carries its dead letters; the total line splits them, other consumers included.
    rows = {line.split()[0]: line.split() for line in text.splitlines() if line.split()}
    assert rows["poster"][:3] == ["poster", "running", "2"] and rows["planner"][:3] == ["planner", "ready", "0"]
    assert rows["learner"][:4] == ["learner", "never", "started", "0"]
    assert "dead letters: 3 (poster 2, ledger 1)" in text and "writes: paused True, reason operator" in text


def _gateway_report(chromium: dict) -> dict:
    return {"namespace": "xbot", "services": {"browser_gateway": {"state": "ready", "chromium": chromium}},
            "streams": {}, "consumers": {}, "dlq": 0, "dlq_by_service": {}, "writes": {"paused": False}}


def test_status_warns_when_chromium_runs_without_its_sandbox():
    text = render_status(_gateway_report({"sandbox": False, "user": "root", "mode": "auto",
                                          "reason": "No usable sandbox!", "verified": False}))
    assert "WARNING: browser_gateway's Chromium runs with --no-sandbox (No usable sandbox!)" in text
    text = render_status(_gateway_report({"sandbox": True, "user": "nobody", "mode": "auto", "reason": "",
                                          "verified": True}))
    assert "WARNING" not in text and "sandbox True, user nobody" in text
