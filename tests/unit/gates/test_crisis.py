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
from libs.gates.crisis import BY_MEANING, BY_RULE, MODEL_PATH, crisis, crisis_reader
from libs.gates.meaning import load_model
from libs.gates.review import CRISIS_TWEET, review_messages
from libs.text import Embedder
from sandbox.conversations import CRISIS_REPLIES, HEALTH_STORIES
from sandbox.population import CRISIS_POSTS

CORPUS = yaml.safe_load((Path(__file__).parent / "corpus" / "crisis_tweets.yaml").read_text(encoding="utf-8"))
# part: (crises found at least, ordinary tweets flagged at most), by the rule
# (the sixth round, on health talk, raised the earlier sets' figures to these: held_out 14 -> 17 found, 4 -> 3 flagged,
# round3_held_out 11 -> 13, model_v1_held_out 8 -> 10, model_v1_second 14 -> 15, model_held_out 7 -> 9 found and 4 ->
# 3 flagged, round5_held_out 4 -> 5)
FLOORS = {"probed": (40, 0), "seen": (28, 0), "held_out": (17, 3), "round3_probed": (29, 0),
          "round3_held_out": (13, 2), "model_v1_held_out": (10, 1), "model_v1_second": (15, 2),
          "model_held_out": (9, 3), "round4_probed": (6, 0), "round4_held_out": (7, 0), "round5_probed": (7, 1),
          "round5_held_out": (5, 0), "round6_probed": (40, 0), "round6_second": (37, 0), "round6_held_out": (13, 2)}
# the same by the rule and the crisis model (MiniLM), trained on the sets from probed to model_v1_second; the sets
# from model_held_out on were never its training data
MODEL_FLOORS = {"probed": (40, 4), "seen": (30, 5), "held_out": (27, 6), "round3_probed": (30, 0),
                "round3_held_out": (25, 7), "model_v1_held_out": (25, 11), "model_v1_second": (33, 8),
                "model_held_out": (24, 9), "round4_probed": (6, 0), "round4_held_out": (8, 0),
                "round5_probed": (10, 4), "round5_held_out": (7, 0), "round6_probed": (40, 22),
                "round6_second": (38, 15), "round6_held_out": (19, 11)}
NOW = datetime(2025, 3, 1, 12, tzinfo=UTC)


@pytest.mark.parametrize("part", list(FLOORS))
def test_crises_are_found_and_ordinary_tweets_are_not(part: str) -> None:
    seen = Counter((c["crisis"], crisis(c["text"]) is not None) for c in CORPUS[part])
    print(f"{part}: {dict(seen)}")
    found, flagged = FLOORS[part]
    assert seen[(True, True)] >= found and seen[(False, True)] <= flagged


@pytest.mark.parametrize("part", list(MODEL_FLOORS))
def test_the_crisis_model_reads_what_the_rules_words_miss(part: str, minilm: Embedder) -> None:
    cases = CORPUS[part]
    read = crisis_reader(minilm)([c["text"] for c in cases])
    seen = Counter((c["crisis"], kind is not None) for c, kind in zip(cases, read, strict=True))
    print(f"{part}: {dict(seen)}")
    found, flagged = MODEL_FLOORS[part]
    assert seen[(True, True)] >= found and seen[(False, True)] <= flagged
    # the rule's finding stands as the rule named it; the model only adds
    assert all(kind == crisis(c["text"]) for c, kind in zip(cases, read, strict=True) if crisis(c["text"]))


def test_the_crisis_model_is_the_minilms_and_the_lexical_embedder_leaves_the_rule_alone(minilm: Embedder) -> None:
    model = load_model(MODEL_PATH)
    assert model.embedder_kind == minilm.kind and 0 < model.threshold < 1
    assert model.probabilities(minilm.embed(["best sleep aid = not waking up. soon"])).shape == (1,)
    veiled = "Packed up my things and gave the cat to my sister. I won't need much where I'm headed."
    assert crisis(veiled) is None and crisis_reader(minilm)([veiled]) == [BY_MEANING]
    assert crisis_reader(Embedder("lexical"))([veiled]) == BY_RULE([veiled]) == [None]
    # The sandbox population's crisis posts: the rule reads 6 of its 10 forms, with the model 8.
    assert sum(map(bool, BY_RULE(list(CRISIS_POSTS)))) == 6
    assert sum(map(bool, crisis_reader(minilm)(list(CRISIS_POSTS)))) == 8
    # The crises told in the comments under our posts: the rule 4 of 8, with the model 7; the eighth ("Three weeks on
    # 500 calories a day … Will this help me drop more?") is left as a question about one's own care, without an
    # alert. The health stories beside them: none read as a crisis.
    assert sum(map(bool, BY_RULE(list(CRISIS_REPLIES)))) == 4
    assert sum(map(bool, crisis_reader(minilm)(list(CRISIS_REPLIES)))) == 7
    assert not any(crisis_reader(minilm)(list(HEALTH_STORIES)))


@pytest.mark.parametrize("text", [
    "this workout killed me", "100 burpees challenge and i want to die 😂", "suicide sprints at practice today",
    "overdosed on coffee again lol", "dead tired after leg day", "I could kill for a nap right now",
    "If you or someone you know is struggling with thoughts of suicide, call or text 988.",
    "purging my closet this weekend, fresh start", "can't breathe 😭 this meme is too accurate",
    # the sixth round's forms in a fitness account's everyday words
    "glute bridges and jump squats today", "my coach pushed me to one more rep", "my dad hit me up about a run",
    "my mom kicked me out of the kitchen", "doing cpr training at work today", "my arm went numb sleeping on it",
    "how many of these workouts would it take to see abs?", "i want to end it on a high note",
    "eating 500 calories a day below maintenance is a good deficit", "thinking about jumping into a marathon",
    "lost my brother to an overdose in 2016. every sept i run a 10k in his name", "6 weeks left until my marathon",
    "my wife beats me in every race", "my wife said something that hit me hard", "el entreno de hoy me pegó duro",
    "eat sugar 30 minutes before a run", "my toddlers safe foods are just pasta and nuggets",
    "went into hospice nursing after 10 years in the ER", "my inhaler isnt working as well as it used to, see my gp?",
])
def test_hyperbole_and_information_are_not_a_crisis(text: str) -> None:
    assert crisis(text) is None


def test_a_loss_of_years_ago_is_remembered_but_a_crisis_told_now_beside_it_is_read() -> None:
    assert crisis("our stillborn daughter would've been 6 today. we planted a tree for her this morning") is None
    assert crisis("had a heart attack in 2019 and now the same pain in my chest and left arm") == "medical emergency"
    assert crisis("10 years since dad died. tonight i want to end it all") == "suicide or self-harm"
    assert crisis("lost my brother to suicide in 2019, and i dont want to be here anymore") == "suicide or self-harm"
    assert crisis("in 2019 i started cutting myself and i still do it") == "suicide or self-harm"
    assert crisis("my husband hit me hard last night") == "abuse or violence"


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
