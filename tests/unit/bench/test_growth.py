"""The growth benchmark's reconstruction of the planner's reply pool from the event streams (bench/growth.py)."""

from datetime import UTC, datetime, timedelta

from bench.growth import pool_check, reply_pools

T0 = datetime(2025, 3, 3, 12, tzinfo=UTC)


def at(minutes: float) -> datetime:
    return T0 + timedelta(minutes=minutes)


def found(minute: float, tweet_id: str, *, age_hours: float = 1.0, relevance: float = 0.8, is_reply: bool = False,
          source: str = "search") -> tuple[str, datetime, dict]:
    created = at(minute) - timedelta(hours=age_hours)
    return ("OpportunityFound", at(minute), {"tweet_id": tweet_id, "tweet_created_at": created.isoformat(),
                                             "relevance": relevance, "is_reply": is_reply, "source": source})


def queued(minute: float, content_id: str, target: str, draw: int | None = None) -> tuple[str, datetime, dict]:
    payload = {"content_id": content_id, "kind": "reply", "reply_to_tweet_id": target}
    if draw:
        payload["reply_context"] = {"candidates": [{}] * draw}
    return ("ContentQueued", at(minute), payload)


def posted(minute: float, content_id: str, tweet_id: str) -> tuple[str, datetime, dict]:
    return ("TweetPosted", at(minute), {"content_id": content_id, "tweet_ids": [tweet_id]})


RULES = {"max_age_hours": 24, "min_hours_left": 2, "min_relevance": 0.2}


def test_the_pool_at_a_queueing_holds_the_eligible_targets_found_before_it():
    events = [
        found(0, "a"), found(0, "b"), found(0, "stale", age_hours=21.9), found(0, "off", relevance=0.1),
        found(0, "thread_reply", is_reply=True), found(0, "answer", is_reply=True, source="conversation"),
        found(5, "gone"), ("OpportunityExpired", at(8), {"tweet_id": "gone", "reason": "too_old"}),
        found(30, "later"),
        queued(10, "c1", "a", draw=4), posted(12, "c1", "r1"),
        queued(40, "c2", "b"), posted(41, "c2", "r2"),
        queued(50, "c3", "later"),  # never posted: no tweet to value
    ]
    pools, sizes = reply_pools(events, **RULES)
    # At minute 10: "stale" is past 22 h of age by then, "off" below the relevance floor, a plain reply is not a
    # root tweet (an answer in our own conversation is), "gone" expired, "later" not found yet.
    assert pools["r1"] == ["a", "b", "answer"]
    # At minute 40: "a" was taken by the earlier reply; "later" has been found.
    assert pools["r2"] == ["b", "answer", "later"]
    assert set(pools) == {"r1", "r2"}
    assert sizes == [(3, 4)]
    assert pool_check(sizes) == {"replies_with_logged_draw": 1, "mean_pool_reconstructed": 3.0,
                                 "mean_planner_draw": 4.0}


def test_a_target_the_pool_never_announced_is_still_its_replys_choice():
    pools, _ = reply_pools([queued(1, "c", "x"), posted(2, "c", "r")], **RULES)
    assert pools == {"r": ["x"]}
