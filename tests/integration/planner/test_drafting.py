"""Drafting through the gates against the sandbox's text endpoint."""

import random
from datetime import UTC, datetime, timedelta

import pytest

from libs.contracts.events import Choice
from libs.text import x_length
from services.planner.choices import Policy, sample_post_choice
from libs.niche import load_niche
from services.planner.llm import LlmPermanentError

from .helpers import drafter

CONFIG = load_niche()
NOW = datetime(2025, 3, 1, 9, tzinfo=UTC)


def post_choice(fmt: str = "single", topic: str = "sleep", content_type: str = "practical_tip") -> Choice:
    return Choice(content_type=content_type, topic=topic, format=fmt, hour=10, voice="coach",
                  hook_style="number")


async def test_post_is_queued_with_choice_propensity_and_usage(text_endpoint, embedder) -> None:
    d = drafter(text_endpoint, CONFIG, embedder)
    choice, p = sample_post_choice(Policy("m1", {"format": {"single": 1.0}}), CONFIG, random.Random(1))
    out = await d.write_post(choice, propensity=p, policy_version="m1", now=NOW,
                             scheduled_for=NOW + timedelta(hours=1))
    assert out.queued is not None, [r.reason for r in out.rejections]
    q = out.queued
    assert q.kind == "post" and q.choice == choice and q.propensity == p and q.policy_version == "m1"
    assert x_length(q.parts[0]) <= 280 and q.expires_at > q.scheduled_for
    assert out.usage and out.usage[0].cost_usd > 0 and out.usage[0].content_id == q.content_id
    assert d.ledger.spent_usd == pytest.approx(out.cost_usd)
    await d.model.close()


async def test_thread_has_3_to_6_parts_each_within_280(text_endpoint, embedder) -> None:
    d = drafter(text_endpoint, CONFIG, embedder, seed=4)
    # Each its own content type: the template writer words every thread of a type with one hook, which shares
    # most of its words with the last one's (the overlap gate refuses it: X shows such repeats to fewer people).
    for topic, content_type in (("stress", "practical_tip"), ("exercise", "framework"),
                                ("hydration", "research_breakdown")):
        out = await d.write_post(post_choice("thread", topic, content_type), propensity=0.1, policy_version="u",
                                 now=NOW, scheduled_for=NOW)
        assert out.queued is not None, [r.reason for r in out.rejections]
        assert 3 <= len(out.queued.parts) <= 6
        assert all(x_length(p) <= 280 for p in out.queued.parts)
    await d.model.close()


async def test_malformed_answer_is_rejected_counted_and_rewritten(text_endpoint, embedder) -> None:
    d = drafter(text_endpoint, CONFIG, embedder)
    await text_endpoint.fault("malformed", 1)
    out = await d.write_post(post_choice(topic="nutrition"), propensity=0.1, policy_version="u", now=NOW,
                             scheduled_for=NOW)
    assert out.malformed == 1
    assert out.rejections[0].gate == "malformed" and not out.rejections[0].final
    assert out.queued is not None
    # The malformed answer was paid for too (the review, when the post needs one, comes after).
    assert [u.purpose for u in out.usage if u.purpose != "review"] == ["post", "post"]
    await d.model.close()


async def test_rewrites_are_bounded_and_the_last_rejection_is_final(text_endpoint, embedder) -> None:
    d = drafter(text_endpoint, CONFIG, embedder)
    await text_endpoint.fault("malformed", 5)
    out = await d.write_post(post_choice(topic="longevity"), propensity=0.1, policy_version="u", now=NOW,
                             scheduled_for=NOW)
    assert out.queued is None
    assert len(out.rejections) == CONFIG.gates.max_rewrites + 1
    assert [r.final for r in out.rejections] == [False] * CONFIG.gates.max_rewrites + [True]
    await d.model.close()


async def test_duplicates_of_own_recent_posts_are_rejected(text_endpoint, embedder) -> None:
    # Without the review (not a sensitive niche) so that every post reaches the duplicate and freshness gates.
    d = drafter(text_endpoint, CONFIG.model_copy(update={"sensitive": False}), embedder, seed=2)
    gates: list[str] = []
    queued = 0
    for i in range(12):
        out = await d.write_post(post_choice(topic="hydration"), propensity=0.1, policy_version="u",
                                 now=NOW + timedelta(minutes=i), scheduled_for=NOW)
        gates += [r.gate for r in out.rejections]
        queued += out.queued is not None
    # The topic may not be posted more than 3 times in the last 10; repeats of a template are caught too.
    assert queued <= CONFIG.gates.topic_max_in_window
    assert "topic_freshness" in gates
    await d.model.close()


async def test_budget_exhausted_stops_calls(text_endpoint, embedder) -> None:
    d = drafter(text_endpoint, CONFIG, embedder, budget=0.0002)
    out = await d.write_post(post_choice(), propensity=0.1, policy_version="u", now=NOW, scheduled_for=NOW)
    assert out.queued is None and not out.usage
    assert out.stopped in ("budget", "tier")
    assert out.budget_exhausted is not None and out.budget_exhausted.budget_usd == 0.0002
    await d.model.close()


async def test_replies_only_tier_writes_no_posts(text_endpoint, embedder) -> None:
    d = drafter(text_endpoint, CONFIG, embedder)
    d.ledger.spent_usd = 4.5
    out = await d.write_post(post_choice(), propensity=0.1, policy_version="u", now=NOW, scheduled_for=NOW)
    assert out.queued is None and out.stopped == "tier" and not out.usage
    await d.model.close()


async def test_bad_key_stops_planning(text_endpoint, embedder) -> None:
    d = drafter(text_endpoint, CONFIG, embedder, key="invalid")
    with pytest.raises(LlmPermanentError):
        await d.write_post(post_choice(), propensity=0.1, policy_version="u", now=NOW, scheduled_for=NOW)
    assert d.ledger.reserved_usd == 0 and d.ledger.spent_usd == 0
    await d.model.close()


async def test_a_repeated_middle_or_closing_part_is_left_out_not_rewritten(text_endpoint, embedder) -> None:
    from libs.text import content_hash

    d = drafter(text_endpoint, CONFIG, embedder)
    d.recent.tweet_hashes.add(content_hash("Old fact."))
    assert d._without_repeated_parts(["Hook.", "Old fact.", "New fact.", "Another.", "Close."], NOW) == [
        "Hook.", "New fact.", "Another.", "Close."]
    # Never below the thread's minimum, and never the hook.
    assert d._without_repeated_parts(["Hook.", "Old fact.", "Close."], NOW) == ["Hook.", "Old fact.", "Close."]
    assert d._without_repeated_parts(["Old fact.", "A.", "B.", "C."], NOW) == ["Old fact.", "A.", "B.", "C."]
    # A closing takeaway we posted before goes while the thread keeps its minimum: the last fact ends it.
    d.recent.tweet_hashes.add(content_hash("Pick one habit."))
    assert d._without_repeated_parts(["Hook.", "A.", "B.", "Pick one habit."], NOW) == ["Hook.", "A.", "B."]
    assert d._without_repeated_parts(["Hook.", "A.", "Pick one habit."], NOW) == ["Hook.", "A.", "Pick one habit."]
    # So does one sharing most of its words with a tweet of ours of the week (a template closer with another
    # topic: X shows it to fewer people), not with one older than the overlap window.
    d.recent.add_tweets(["Takeaway: pick one gut health habit and keep it up."], at=NOW - timedelta(days=2))
    d.recent.add_tweets(["Dim the lights two hours before bed, every night."], at=NOW - timedelta(days=9))
    closer, old = "Takeaway: pick one sleep habit and keep it up.", "Dim the lights two hours before bed each night."
    assert d._without_repeated_parts(["Hook.", "A.", "B.", closer], NOW) == ["Hook.", "A.", "B."]
    assert d._without_repeated_parts(["Hook.", "A.", "B.", old], NOW) == ["Hook.", "A.", "B.", old]
    await d.model.close()


async def test_a_draft_that_copies_an_example_post_is_rejected(text_endpoint, embedder) -> None:
    d = drafter(text_endpoint, CONFIG, embedder)
    example = CONFIG.example_posts[0]
    padded = "Sleep, what to know.\n\n" + example + " Try it tonight."
    assert d._copies_an_example(padded, embedder.embed_one(padded)).gate == "duplicate"
    fresh = "Morning light helps set your body clock for the day."
    assert d._copies_an_example(fresh, embedder.embed_one(fresh)) is None
    await d.model.close()
