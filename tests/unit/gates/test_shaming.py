"""Shaming, blaming or belittling people in a model's draft (libs/gates/conduct.py, ``check_shaming``): the rule
on three sets of drafts, two written blind (tests/unit/gates/shaming_corpus.yaml)."""

from pathlib import Path

import pytest
import yaml

from libs.gates.conduct import check_shaming

CORPUS = yaml.safe_load((Path(__file__).with_name("shaming_corpus.yaml")).read_text(encoding="utf-8"))
# (shaming refused, ordinary passed): the tuned sets as they stand, the held-out set as it was first run.
FLOORS = {"tuned": (18, 14), "blind_a": (35, 40), "held_out": (6, 40), "held_out_final": (3, 39)}


@pytest.mark.parametrize("name", sorted(FLOORS))
def test_shaming_is_refused_and_firm_text_passes(name: str) -> None:
    texts = CORPUS[name]
    refused = sum(check_shaming(t["text"]) is not None for t in texts if t["kind"] == "shaming")
    passed = sum(check_shaming(t["text"]) is None for t in texts if t["kind"] == "ordinary")
    assert (refused, passed) >= FLOORS[name], (refused, passed)
    assert {t["kind"] for t in texts} == {"shaming", "ordinary"}


@pytest.mark.parametrize("text", [
    "Walking is the most underrated exercise. No gym, no gear, no excuses.",  # what the habit does not need
    "That 3pm crash isn't a willpower problem. It's lunch.", "Type 2 diabetes is not a character flaw.",
    "You don't have a willpower problem with snacking. You have a protein problem.",
])
def test_shame_taken_away_is_not_shaming(text: str) -> None:
    assert check_shaming(text) is None


@pytest.mark.parametrize("text", [
    # Kind or ordinary sentences with the blame words in them (a reread of the rule, 2026-12-07)
    "Self-care isn't selfish.", "Honey, lemon and hot water soothe a sore throat.",
    "Don't be embarrassed to ask your doctor.", "Too lazy to cook? Try a sheet-pan dinner.",
    "Asking for help is not a sign of weakness.", "Let yourself go to bed early tonight.",
    "You chose to start, and that is what counts.", "People like you make this community great.",
    "At your age, strength work matters more.", "No willpower required: put the phone in the kitchen.",
    "Stop hiding behind your phone at bedtime.", "Snacking is not about character flaws.",
    "We know better now than we did in the 90s.", "Skipping sleep makes you feel bad the next day.",
])
def test_kind_words_near_blame_are_not_shaming(text: str) -> None:
    assert check_shaming(text) is None


def test_the_reason_names_the_words() -> None:
    rejection = check_shaming("Most people aren't tired, they're lazy. Get up and move.")
    assert rejection is not None and rejection.gate == "shaming" and "they're lazy" in rejection.reason
