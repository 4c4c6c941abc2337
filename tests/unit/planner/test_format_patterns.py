"""Peers' format insights in the post prompt: the strongest sure patterns, paraphrased, never a peer's text."""

from __future__ import annotations

from libs.contracts.events import Choice
from libs.formats import describe_patterns
from libs.niche import load_niche
from services.planner.prompts import post_messages

CONFIG = load_niche()
CHOICE = Choice(content_type="story", topic="sleep", format="single", hour=8, voice="owner", hook_style="question")
LIFTS = [("thread", -0.4, -0.6, -0.2), ("hook=question", 0.3, 0.1, 0.5), ("list", 0.9, -0.1, 1.9),
         ("hours=18-22", 0.2, 0.05, 0.35), ("numbers", 0.05, 0.01, 0.09)]


def test_the_strongest_sure_patterns_first_and_unsure_ones_left_out():
    patterns = describe_patterns(LIFTS, limit=3)
    assert patterns == ["Threads: about 33% less engagement",
                        "Posts opening with a question: about 35% more engagement",
                        "Posting between 18:00 and 22:00 UTC: about 22% more engagement"]


def test_the_post_prompt_describes_them():
    body = post_messages(CHOICE, CONFIG, insights={"formats": describe_patterns(LIFTS)})[1]["content"]
    assert "Formats that do well in the niche (peers' posts): Threads: about 33% less engagement;" in body
    assert "Formats that do well" not in post_messages(CHOICE, CONFIG, insights={"formats": []})[1]["content"]


def test_the_writer_is_told_only_the_best_arms_its_post_takes():
    # "format=thread" beside "Write one post" asked for both: a demo's writer answered a numbered thread; a best
    # topic or type other than the post's asks a real model to mix them.
    best = ["content_type=story (+0.02)", "topic=sleep (+0.41)", "format=single (+0.02)", "hour=8 (+0.03)",
            "hook_style=number (+0.05)"]
    body = post_messages(CHOICE, CONFIG, insights={"best": best})[1]["content"]
    assert "Choices that worked best so far: content_type=story (+0.02); topic=sleep (+0.41)." in body
    assert "format=" not in body and "hour=" not in body and "hook_style=" not in body
    other = Choice(content_type="myth_busting", topic="hydration", format="single", hour=8, hook_style="question")
    body = post_messages(other, CONFIG, insights={"best": best, "topics": ["sleep", "hydration"]})[1]["content"]
    assert "Choices that worked best" not in body and "sleep" not in body
    assert "Topics that worked best: hydration." in body
