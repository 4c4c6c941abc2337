"""The report's figures from sandbox records and events (no I/O)."""

from __future__ import annotations

import math
from datetime import UTC, datetime, timedelta

import pytest

from ops.demo.figures import (
    Decision, EventLog, choice_shares, decisions_from, items_from, reward, reward_by, share_of_best, summarise,
)

T0 = datetime(2026, 3, 1, 6, tzinfo=UTC)


def _iso(t: datetime) -> str:
    return t.isoformat().replace("+00:00", "Z")


def tweet(tid: str, *, kind: str = "post", at: datetime = T0, root: str | None = None, choice: dict | None = None,
          **counts: int) -> dict:
    return {"id": tid, "kind": kind, "thread_root": root, "created_at": _iso(at), "choice": choice,
            "counts": {"likes": 0, "retweets": 0, "replies": 0, "profile_clicks": 0, "negative": 0, **counts}}


def event(event_type: str, at: datetime, **payload) -> dict:
    return {"type": event_type, "occurred_at": _iso(at), "payload": payload}


def choice(ct: str = "story", topic: str = "sleep", hour: int = 6) -> dict:
    return {"content_type": ct, "topic": topic, "format": "single", "hour": hour}


def test_reward_is_log1p_of_the_heavy_ranker_sum_clipped_at_zero() -> None:
    assert reward({"likes": 10, "retweets": 2, "replies": 1, "profile_clicks": 1}) == \
        pytest.approx(math.log1p(5 + 2 + 13.5 + 12))
    assert reward({"likes": 10, "negative": 1}) == 0.0
    assert reward({}) == 0.0


def test_thread_parts_fold_into_their_first_part_and_replies_stay_apart() -> None:
    tweets = [tweet("1", choice=choice(), likes=4), tweet("2", root="1", likes=1), tweet("3", root="1"),
              tweet("4", kind="reply", at=T0 + timedelta(hours=1), replies=1)]
    items = items_from(tweets, EventLog())
    assert [(i.tweet_id, i.kind, i.thread_parts) for i in items] == [("1", "post", 3), ("4", "reply", 1)]
    assert items[0].choice_source == "sandbox"
    assert items[1].choice is None


def test_the_planners_choice_wins_over_the_sandboxs_inference() -> None:
    log = EventLog()
    log.add(event("ContentQueued", T0, content_id="c1", kind="post", choice=choice("framework", "stress", 9),
                  policy_version="v3"))
    log.add(event("TweetPosted", T0, content_id="c1", tweet_ids=["1"]))
    items = items_from([tweet("1", choice=choice("story", "sleep", 6))], log)
    assert items[0].choice["content_type"] == "framework" and items[0].choice_source == "planner"
    assert log.policy_version() == "v3"


def test_reward_by_groups_posts_only() -> None:
    tweets = [tweet("1", choice=choice("story"), likes=2), tweet("2", choice=choice("story"), likes=0),
              tweet("3", choice=choice("framework"), replies=1), tweet("4", kind="reply", replies=5)]
    by_type = reward_by(items_from(tweets, EventLog()), "content_type")
    assert by_type == {"framework": {"n": 1, "mean": round(math.log1p(13.5), 4)},
                       "story": {"n": 2, "mean": round(math.log1p(1) / 2, 4)}}


def test_choice_shares_per_window_leave_empty_windows_undefined() -> None:
    ds = [Decision(T0 + timedelta(minutes=10), choice("story")), Decision(T0 + timedelta(minutes=20),
                                                                         choice("framework")),
          Decision(T0 + timedelta(hours=2, minutes=30), choice("story"))]
    bounds, shares = choice_shares(ds, "content_type", T0, T0 + timedelta(hours=3), 3)
    assert bounds == [T0, T0 + timedelta(hours=1), T0 + timedelta(hours=2)]
    assert shares == {"framework": [0.5, None, 0.0], "story": [0.5, None, 1.0]}


def test_decisions_come_from_events_else_from_inferred_posts() -> None:
    tweets = [tweet("1", choice=choice("story")), tweet("2", kind="reply")]
    ds, source = decisions_from(items_from(tweets, EventLog()), EventLog())
    assert [d.choice["content_type"] for d in ds] == ["story"] and source.startswith("sandbox")
    log = EventLog()
    log.add(event("ContentQueued", T0, content_id="c1", kind="post", choice=choice("question")))
    log.add(event("ContentQueued", T0, content_id="c2", kind="reply", choice=choice("story")))
    ds, source = decisions_from(items_from(tweets, log), log)
    assert [d.choice["content_type"] for d in ds] == ["question"] and source == "ContentQueued events"
    assert share_of_best(ds, choice("question", "stress", 6)) == {"content_type": 1.0, "topic": 0.0, "hour": 1.0}


def test_summary_reports_absent_figures_as_none_not_zero() -> None:
    s = summarise(account={"followers": 1003, "now": _iso(T0)}, tweets=[tweet("1", choice=choice(), likes=2)],
                  log=EventLog(), best=None, followers_start=1000)
    assert s["posts"] == 1 and s["replies"] == 0 and s["followers_gained"] == 3
    assert s["llm_spend_usd"] is None and s["policy_version"] is None and s["share_of_best"] is None
    log = EventLog()
    log.add(event("LlmUsageRecorded", T0, cost_usd=0.25))
    log.add(event("LlmUsageRecorded", T0, cost_usd=0.5))
    assert log.llm_spend_usd() == 0.75
