"""The readers that leave tweets spreading false health claims unanswered (libs/gates/misinformation.py: the rule,
and the model by meaning), on tweets written blind (tests/unit/gates/misinformation_corpus.yaml). The floors are the
figures measured: the rule was written on `tuned` and tuned on `second` after a first run (23 of 50 found), the
model trained on both; `held_out` was run once on the finished rule and model. What they miss is the model review's
to read in the reply (``endorses_misinformation``)."""

from __future__ import annotations

from collections import Counter
from pathlib import Path

import pytest
import yaml

from libs.gates.medical import check_medical_safety
from libs.gates.meaning import load_model
from libs.gates.misinformation import BY_MEANING, BY_RULE, MODEL_PATH, misinformation, misinformation_reader
from libs.niche import load_niche
from libs.text import Embedder
from sandbox.population import MISINFORMATION_POSTS
from libs.gates.hostility import hostility
from libs.gates.posts import subject_banned

CORPUS = yaml.safe_load((Path(__file__).parent / "misinformation_corpus.yaml").read_text(encoding="utf-8"))
# part: (false claims found at least, ordinary tweets flagged at most), by the rule and by the rule with the model
FLOORS = {"tuned": (50, 4), "second": (48, 5), "held_out": (21, 7)}
MODEL_FLOORS = {"tuned": (50, 13), "second": (48, 11), "held_out": (33, 15)}
CONFIG = load_niche()


@pytest.mark.parametrize("part", list(FLOORS))
def test_false_claims_are_left_unanswered_and_ordinary_tweets_are_not(part: str) -> None:
    false = [e["tweet"] for e in CORPUS[part]["misinformation"]]
    ordinary = [e["tweet"] for e in CORPUS[part]["ordinary"]]
    found = sum(misinformation(t) is not None for t in false)
    flagged = sum(misinformation(t) is not None for t in ordinary)
    print(f"{part}: found {found}/{len(false)}, ordinary flagged {flagged}/{len(ordinary)}")
    at_least, at_most = FLOORS[part]
    assert found >= at_least and flagged <= at_most


@pytest.mark.parametrize("part", list(MODEL_FLOORS))
def test_the_model_reads_what_the_rules_words_miss(part: str, minilm: Embedder) -> None:
    false = [e["tweet"] for e in CORPUS[part]["misinformation"]]
    ordinary = [e["tweet"] for e in CORPUS[part]["ordinary"]]
    read = misinformation_reader(minilm)
    found, flagged = sum(k is not None for k in read(false)), sum(k is not None for k in read(ordinary))
    print(f"{part}: found {found}/{len(false)}, ordinary flagged {flagged}/{len(ordinary)}")
    at_least, at_most = MODEL_FLOORS[part]
    assert found >= at_least and flagged <= at_most
    # the rule's finding stands as the rule named it; the model only adds
    assert all(k == misinformation(t) for t, k in zip(false, read(false), strict=True) if misinformation(t))


def test_the_model_is_the_minilms_and_the_lexical_embedder_leaves_the_rule_alone(minilm: Embedder) -> None:
    model = load_model(MODEL_PATH)
    assert model.embedder_kind == minilm.kind and 0 < model.threshold < 1
    hedged = "Your body is designed to heal itself. Every pill you take tells it not to bother."
    assert misinformation(hedged) is None and misinformation_reader(minilm)([hedged]) == [BY_MEANING]
    assert misinformation_reader(Embedder("lexical"))([hedged]) == BY_RULE([hedged]) == [None]
    # The sandbox population's posts (written apart, never trained on): the rule reads 6 of 12, with the model 8.
    assert sum(map(bool, BY_RULE(list(MISINFORMATION_POSTS)))) == 6
    assert sum(map(bool, misinformation_reader(minilm)(list(MISINFORMATION_POSTS)))) == 8


@pytest.mark.parametrize("part", ["tuned", "second"])
def test_before_the_rule_such_tweets_were_answered_and_the_reply_gates_did_not_stop_the_agreement(part: str) -> None:
    """What stood before: the planner left a tweet alone for a banned subject or hostility only, and the reply that
    goes along with the claim holds no dose, cure or medication change for the medical gate to refuse."""
    entries = CORPUS[part]["misinformation"]
    left_alone = sum(bool(subject_banned(e["tweet"], CONFIG) or hostility(e["tweet"])) for e in entries)
    refused = sum(check_medical_safety(e["endorsing"]) is not None for e in entries)
    print(f"{part}: left alone before {left_alone}/{len(entries)}, agreement refused by the medical gate {refused}")
    assert left_alone <= 2 and refused == 0


@pytest.mark.parametrize("tweet", [
    "Sunscreen is POISON. Our ancestors never used it.",
    "LDL cholesterol doesn't cause heart disease. It's a myth pushed by the sugar industry.",
    "Mammograms CAUSE breast cancer. Do your research before your next screening.",
    "Declined chemo, did the protocol, clear scans. They laughed at me.",
    "Your kid has a fever? Don't you dare give Tylenol. Let it run.",
    "a pinch of borax in your water daily fixed my joint pain",
    "Oncologists won't tell you this because fasting can't be patented.",
    "Go ketogenic and you won't need psych meds.",
    "Threw out my metformin and ate only meat. Cured.",
])
def test_false_claims_in_their_plain_forms(tweet: str) -> None:
    assert misinformation(tweet) is not None


@pytest.mark.parametrize("tweet", [
    "No, seed oils are not poison. The biggest trials show they lower LDL.",
    "Sunscreen does NOT cause cancer. Here's what the data shows.",
    "Alcohol is literally a toxin your liver has to process.",
    "High LDL doesn't hurt until the day it does. Get a lipid panel.",
    "Day 365 without a cigarette. Quit cold turkey after 14 years.",
    "My doctor and I tapered my sertraline over 4 months. Make a plan with your prescriber.",
    "Chemo was the hardest thing I've ever done and it saved my life.",
    "Sleep is not a luxury. One night of 4 hours worsens insulin sensitivity.",
    "",
])
def test_ordinary_tweets_in_the_same_words_are_answered(tweet: str) -> None:
    assert misinformation(tweet) is None


def test_what_each_set_finds_is_counted_by_kind() -> None:
    """Every kind of reading finds something in the tuned set: none is dead code."""
    kinds = Counter((misinformation(e["tweet"]) or "none").split(":")[0].split(" (")[0]
                    for e in CORPUS["tuned"]["misinformation"])
    print(dict(kinds))
    assert {"medical advice", "a safe thing called poison", "care said to harm", "an established risk denied",
            "care refused or kept from someone", "a harmful practice", "the conspiracy framing"} <= set(kinds)
