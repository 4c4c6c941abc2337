"""The report's files from figures with data in every chart (the e2e demo may post nothing while the planner
is not wired)."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

from PIL import Image

from ops.demo.figures import EventLog, decisions_from, items_from, summarise
from ops.demo.report import summary_rows, write_report

T0 = datetime(2026, 3, 1, 6, tzinfo=UTC)


def test_report_with_posts_has_decodable_charts_an_html_page_and_the_summary(tmp_path) -> None:
    arms = [("story", "sleep", 6), ("framework", "stress", 12), ("question", "sleep", 18)]
    tweets = [{"id": str(i), "kind": "post", "thread_root": None,
               "created_at": (T0 + timedelta(hours=i)).isoformat().replace("+00:00", "Z"),
               "choice": {"content_type": ct, "topic": tp, "format": "single", "hour": h},
               "counts": {"likes": 3 * i, "retweets": i, "replies": i % 2, "profile_clicks": 0, "negative": 0}}
              for i, (ct, tp, h) in enumerate(arms * 4)]
    best = {"choice": {"content_type": "story", "topic": "sleep", "format": "single", "hour": 6},
            "expected_reward": 3.2}
    log = EventLog()
    figures = summarise(account={"followers": 1010, "now": "2026-03-01T18:00:00.000Z"}, tweets=tweets, log=log,
                        best=best, followers_start=1000)
    summary = {"run": "demotest", "outcome": "complete", "planned_hours": 12.0, "simulated_hours": 12.0,
               "time_scale": 500.0, "real_seconds": 90.0, **figures}
    series = [{"at": (T0 + timedelta(hours=h)).isoformat(), "followers": 1000 + h} for h in range(13)]
    decisions, _ = decisions_from(items_from(tweets, log), log)
    written = write_report(tmp_path, summary, series=series, decisions=decisions, start=T0,
                           end=T0 + timedelta(hours=12))
    html = (tmp_path / "report.html").read_text()
    for chart in written["charts"].values():
        with Image.open(tmp_path / chart) as img:
            img.load()
            assert img.format == "PNG"
        assert f'src="{chart}"' in html
    on_disk = json.loads((tmp_path / "summary.json").read_text())
    assert on_disk["posts"] == 12 and on_disk["decisions"] == 12 and on_disk["choice_source"].startswith("sandbox")
    assert on_disk["share_of_best"]["content_type"] == 0.3333
    assert dict(summary_rows(on_disk))["followers"] == "1000 -> 1010 (+10)"


def test_the_x_api_spend_row_shows_xs_bill_beside_the_gateways_ledger() -> None:
    base = {"run": "demotest", "outcome": "complete", "planned_hours": 12.0, "simulated_hours": 12.0,
            "time_scale": 500.0, "real_seconds": 90.0}
    figures = summarise(account={"followers": 1000, "now": "2026-03-01T18:00:00.000Z"}, tweets=[], log=EventLog(),
                        best={}, followers_start=1000)
    bill = {"billed_usd": 1.85, "gateway_charged_usd": 1.85,
            "days": [{"day": "2026-03-01", "posts_read_unique": 144, "users_read_unique": 97, "posts_created": 0,
                      "posts_created_url": 0, "billed_usd": 1.69}]}
    rows = dict(summary_rows({**base, **figures, "driver": "api", "x_api": bill}))
    assert rows["X driver"] == "api"
    assert rows["X API spend"].startswith("$1.850 billed by X (sandbox), $1.850 in the gateway's ledger; "
                                          "2026-03-01: 144 posts read, 97 users read, 0 created, $1.690")
    browser = dict(summary_rows({**base, **figures}))  # a browser run (or a summary from before the driver)
    assert browser["X driver"] == "browser" and browser["X API spend"] == "none (web client)"
