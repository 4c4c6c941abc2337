"""Tweets in which a person tells of a crisis are never answered (libs/gates/crisis.py): the rule on tweets written
blind (tests/unit/gates/corpus/crisis_tweets.yaml; floors at the figures measured when they were added), and where
it stands: the harvester leaves such tweets and replies out, the planner never answers one that got through, the
model review is asked about the rest."""

from __future__ import annotations

from collections import Counter
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
import yaml

from libs.contracts.gateway import TweetCard
from libs.gates.crisis import crisis
from libs.gates.review import CRISIS_TWEET, review_messages

CORPUS = yaml.safe_load((Path(__file__).parent / "corpus" / "crisis_tweets.yaml").read_text(encoding="utf-8"))
# part: (crises found at least, ordinary tweets flagged at most)
FLOORS = {"probed": (39, 0), "seen": (28, 0), "held_out": (13, 4)}
NOW = datetime(2025, 3, 1, 12, tzinfo=UTC)


@pytest.mark.parametrize("part", list(FLOORS))
def test_crises_are_found_and_ordinary_tweets_are_not(part: str) -> None:
    seen = Counter((c["crisis"], crisis(c["text"]) is not None) for c in CORPUS[part])
    print(f"{part}: {dict(seen)}")
    found, flagged = FLOORS[part]
    assert seen[(True, True)] >= found and seen[(False, True)] <= flagged


@pytest.mark.parametrize("text", [
    "this workout killed me", "100 burpees challenge and i want to die 😂", "suicide sprints at practice today",
    "overdosed on coffee again lol", "dead tired after leg day", "I could kill for a nap right now",
    "If you or someone you know is struggling with thoughts of suicide, call or text 988.",
    "purging my closet this weekend, fresh start", "can't breathe 😭 this meme is too accurate",
])
def test_hyperbole_and_information_are_not_a_crisis(text: str) -> None:
    assert crisis(text) is None


def test_the_harvester_and_the_planner_never_answer_a_crisis() -> None:
    from libs.niche import load_niche
    from services.harvester.conversations import conversation_opportunities
    from services.planner.replies import Opportunity, ReplyHistory, ineligibility

    told = "been thinking a lot about just not waking up. sleep tips won't fix this"
    at = (NOW - timedelta(hours=1)).strftime("%Y-%m-%dT%H:%M:%S.000Z")
    out = conversation_opportunities(
        [TweetCard(tweet_id="1", author="ana", text=told, created_at=at, url="https://x.com/ana/status/1")],
        root_id="900", own_handle="xbot_demo", known_ids=set(), open_authors=(), now=NOW,
        max_age=timedelta(hours=24))
    assert out.found == [] and out.rejected == {"crisis": 1}
    opp = Opportunity(tweet_id="2", author="ben", author_followers=10_000, likes=100, retweets=1, replies=1,
                      created_at=NOW - timedelta(hours=1), relevance=0.9, text=told)
    assert ineligibility(opp, ReplyHistory([]), now=NOW, config=load_niche(), own_handle="xbot") == \
        "tells of a crisis (suicide or self-harm)"


def test_the_review_is_asked_about_the_tweet_a_reply_answers() -> None:
    system = review_messages("Try a wind-down routine.", kind="reply", tweet="i can't do this anymore",
                             niche="health")[0]["content"]
    assert f"- {CRISIS_TWEET}: the tweet the draft answers is a person telling of a crisis" in system
