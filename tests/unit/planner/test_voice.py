"""The owner's voice in the prompt: one voice, the example posts and the best-rewarded own posts as few-shot
examples, banned subjects stated up front."""

from __future__ import annotations

from datetime import UTC, datetime

from libs.contracts.events import BestPost, Choice, ModelUpdated
from libs.niche import load_niche
from services.planner.choices import Policy
from services.planner.prompts import post_messages, reply_messages

CONFIG = load_niche()
CHOICE = Choice(content_type="story", topic="sleep", format="single", hour=8, voice="owner", hook_style="question")


def test_system_prompt_carries_banned_subjects_and_the_owners_examples() -> None:
    system = post_messages(CHOICE, CONFIG)[0]["content"]
    assert "Never write about: weight-loss drugs, vaccines, politics, cryptocurrency, eating disorders." in system
    for example in CONFIG.example_posts[:3]:
        assert f"<example>{example.strip()}</example>" in system
    assert "best-received" not in system  # no best posts yet


def test_best_posts_join_the_examples_when_the_learner_names_them() -> None:
    model = ModelUpdated(version="v2", created_at=datetime(2025, 1, 1, tzinfo=UTC), propensities={},
                         best_posts=[BestPost(content_id="c1", text="Walk after dinner. Ten minutes.", reward=2.1)])
    policy = Policy.from_model(model)
    assert policy.best_posts == ("Walk after dinner. Ten minutes.",)
    for messages in (post_messages(CHOICE, CONFIG, best_posts=policy.best_posts),
                     reply_messages("Sleep is overrated", "a", CHOICE, CONFIG, best_posts=policy.best_posts)):
        assert "<example>Walk after dinner. Ten minutes.</example>" in messages[0]["content"]


def test_model_updated_without_best_posts_still_reads() -> None:
    # Additive field: an older learner's event has none.
    payload = {"version": "v1", "created_at": "2025-01-01T00:00:00Z", "propensities": {}}
    assert ModelUpdated.model_validate(payload).best_posts == []


def test_one_voice_per_account() -> None:
    assert list(CONFIG.voices) == ["owner"]


def test_the_owners_rejection_reasons_reach_the_prompt_as_things_to_avoid() -> None:
    body = post_messages(CHOICE, CONFIG, insights={"avoid": ["overclaims", "not in my voice"]})[1]["content"]
    assert "Avoid what the owner rejected recent drafts for: overclaims; not in my voice." in body
    assert "Avoid" not in post_messages(CHOICE, CONFIG, insights={"avoid": []})[1]["content"]
