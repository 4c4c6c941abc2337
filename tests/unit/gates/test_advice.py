"""The readers that leave questions about the writer's own care unanswered (libs/gates/advice.py: the rule, and the
model by meaning), on replies written blind (tests/unit/gates/advice_corpus.yaml). The floors are the figures
measured: the rule was written on `first` and tuned on `second` and `third` after a first run of each (28 of 40,
then 25 of 50 found), the model trained on all three; `held_out` was run once on the finished rule and model. What
they miss is the model review's to read in the reply (``personal_medical_advice``)."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from libs.gates.advice import BY_MEANING, BY_RULE, MODEL_PATH, personal_question, personal_question_reader
from libs.gates.medical import check_medical_safety
from libs.gates.meaning import load_model
from libs.text import Embedder
from sandbox.conversations import COMMENTS, HEALTH_STORIES, HOSTILE, PERSONAL_QUESTIONS, QUESTIONS

CORPUS = yaml.safe_load((Path(__file__).parent / "advice_corpus.yaml").read_text(encoding="utf-8"))
# part: (personal questions found at least, ordinary replies flagged at most), by the rule and with the model
# (held_out: 30 of 50 by the rule and 37 with the model when run once on the finished rule; 34 and 40 after a fourth
# round tuned on the crisis corpus's health talk, tests/unit/gates/corpus/crisis_tweets.yaml, round6_*)
FLOORS = {"first": (40, 0), "second": (40, 0), "third": (50, 0), "held_out": (34, 1)}
MODEL_FLOORS = {"first": (40, 0), "second": (40, 0), "third": (50, 0), "held_out": (40, 1)}


def _split(part: str) -> tuple[list[str], list[str]]:
    items = CORPUS[part]
    return [i["text"] for i in items if i["personal"]], [i["text"] for i in items if not i["personal"]]


@pytest.mark.parametrize("part", list(FLOORS))
def test_questions_about_ones_own_care_are_left_and_ordinary_replies_are_not(part: str) -> None:
    personal, ordinary = _split(part)
    found, flagged = sum(map(bool, BY_RULE(personal))), sum(map(bool, BY_RULE(ordinary)))
    print(f"{part}: found {found}/{len(personal)}, ordinary flagged {flagged}/{len(ordinary)}")
    at_least, at_most = FLOORS[part]
    assert found >= at_least and flagged <= at_most


@pytest.mark.parametrize("part", list(MODEL_FLOORS))
def test_the_model_reads_what_the_rules_words_miss(part: str, minilm: Embedder) -> None:
    personal, ordinary = _split(part)
    read = personal_question_reader(minilm)
    found, flagged = sum(map(bool, read(personal))), sum(map(bool, read(ordinary)))
    print(f"{part}: found {found}/{len(personal)}, ordinary flagged {flagged}/{len(ordinary)}")
    at_least, at_most = MODEL_FLOORS[part]
    assert found >= at_least and flagged <= at_most


def test_the_model_is_the_minilms_and_the_lexical_embedder_leaves_the_rule_alone(minilm: Embedder) -> None:
    model = load_model(MODEL_PATH)
    assert model.embedder_kind == minilm.kind and 0 < model.threshold < 1
    terse = "Zoloft 100mg + the 5-HTP you mentioned, too much?"
    assert personal_question(terse) is None and personal_question_reader(minilm)([terse]) == [BY_MEANING]
    assert personal_question_reader(Embedder("lexical"))([terse]) == BY_RULE([terse]) == [None]


@pytest.mark.parametrize("part", ["first", "second"])
def test_before_the_rule_most_answers_passed_the_reply_gates(part: str) -> None:
    """What stood before: the question was answered, and the medical gate refused the answers that named a dose or a
    change of medication, not "At 24 weeks, short cold showers are generally fine"."""
    drafts = [i["draft"] for i in CORPUS[part] if i["personal"]]
    refused = sum(check_medical_safety(d) is not None for d in drafts)
    print(f"{part}: the medical gate refused {refused}/{len(drafts)} answers")
    assert refused <= len(drafts) // 2


def test_the_sandbox_asks_such_questions_and_its_other_replies_are_answered() -> None:
    assert all(BY_RULE(list(PERSONAL_QUESTIONS)))
    assert not any(BY_RULE([*QUESTIONS, *COMMENTS, *HOSTILE, *HEALTH_STORIES]))


@pytest.mark.parametrize("text", [
    # the fourth round's forms (2026-12-07, the crisis corpus's round6_probed and round6_second): a plan with the
    # subject dropped, a relative opening the sentence, a newer medicine, a question after the case, other languages
    "does melatonin interact with sertraline? want to try 0.5mg for jet lag",
    "brother's got a new pacemaker, is he ok to use a smart scale with the bioimpedance thing?",
    "ozempic week 6, barely hungry. how much protein should i actually aim for so i don't lose all my muscle?",
    "new symbicort user, do i really have to rinse my mouth after every puff",
    "wife's ferritin is 9, doc said iron pills but they make her nauseous. gentler forms that actually work?",
    "mi papá tiene diabetes tipo 2 y no quiere dejar el pan dulce 🙄 qué le puedo cambiar sin que se enoje",
    "Bin auf Ibuprofen nach der Zahn-OP, darf ich trotzdem ins Fitnessstudio oder lieber warten?",
])
def test_the_fourth_rounds_forms_are_read(text: str) -> None:
    assert personal_question(text) is not None


@pytest.mark.parametrize("text", [
    "Honestly? I can't recommend magnesium glycinate enough.",
    "What dose were you taking? I started magnesium at 200mg and it helped my cramps.",
    "I switched to a walk after meals for blood sugar and here is what happened. Would you try it?",
    "Six months later, my numbers were back in the normal range.",
    "can people on blood thinners eat spinach? asking bc my biology class argued about it",
    "I'm on a statin and I walk after dinner too, feels great honestly",
    "Is there a study behind the 10-minute walk after meals thing?",
    "I switched to a walk after meals for blood sugar and here is what happened. Agree?",
    "should I focus on time under tension for my glutes?",
    "I won't lie, the first week without added sugar was brutal. Headaches, cravings. Week 3? No more 3pm crash.",
])
def test_ordinary_replies_in_the_same_words_are_answered(text: str) -> None:
    assert personal_question(text) is None
