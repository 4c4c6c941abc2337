"""A biography the model made up for the account (libs/gates/identity.py): the rule on four sets of drafts, three
written blind (tests/unit/gates/identity_corpus.yaml), the owner's own words, and what the model review reads."""

from pathlib import Path

import pytest
import yaml

from libs.gates.identity import invented_identity, owner_words, speaks_of_itself
from libs.niche import load_niche

CORPUS = yaml.safe_load((Path(__file__).with_name("identity_corpus.yaml")).read_text(encoding="utf-8"))
# (invented refused, ordinary passed) as the rule stands; the held-out set read 16 of 40 when first run, 14 after a
# reread narrowed forms that refused generic sentences ("Living with diabetes means …", "We have better
# treatments for depression now", "Getting a diagnosis can take years …").
FLOORS = {"tuned": (18, 16), "blind_a": (39, 40), "blind_b": (36, 40), "held_out": (14, 39),
          "held_out_final": (18, 40)}


@pytest.fixture(scope="module")
def owner() -> str:
    config = load_niche()
    return owner_words([config.account_voice, *config.voices.values(), *config.example_posts])


@pytest.mark.parametrize("name", sorted(FLOORS))
def test_invented_biographies_are_refused_and_ordinary_text_passes(name: str, owner: str) -> None:
    texts = CORPUS[name]
    invented = [t for t in texts if t["kind"] == "invented"]
    ordinary = [t for t in texts if t["kind"] == "ordinary"]
    refused = sum(invented_identity(t["text"], owner) is not None for t in invented)
    passed = sum(invented_identity(t["text"], owner) is None for t in ordinary)
    assert (refused, passed) >= FLOORS[name], (refused, len(invented), passed, len(ordinary))
    assert len(invented) + len(ordinary) == len(texts)


@pytest.mark.parametrize("text", [
    "We have a diabetes problem in this country.", "We have better treatments for depression now.",
    "Patients who started on metformin lost weight.", "Two weeks postpartum, most women feel exhausted.",
    "Getting a diagnosis can take years for women with endometriosis.",
    "Living with diabetes means checking your feet daily.", "Diagnosed with prediabetes? Here is what to do first.",
    "Beat insomnia with three boring habits.", "If you take metformin, take it with food.",
])
def test_generic_health_writing_claims_nothing_for_the_account(text: str, owner: str) -> None:
    assert invented_identity(text, owner) is None


@pytest.mark.parametrize(("text", "claim"), [
    ("As a registered dietitian, I get this question a lot.", "As a registered dietitian"),
    ("MD here. Please stop taking melatonin every night.", "MD here"),
    ("When I was diagnosed with prediabetes, this is what helped.", "I was diagnosed"),
    ("One of my clients asked me this last week.", "my clients"),
])
def test_the_reason_names_what_was_claimed(text: str, claim: str, owner: str) -> None:
    rejection = invented_identity(text, owner)
    assert rejection is not None and rejection.gate == "identity" and claim in rejection.reason


def test_what_the_owner_says_of_themselves_may_be_said() -> None:
    dietitian = owner_words(["Calm and plain. Written by a registered dietitian who works with clients."])
    assert invented_identity("As a dietitian, I get this question a lot.", dietitian) is None
    assert invented_identity("My clients always ask about breakfast.", dietitian) is None
    # another profession, or a health history, is still not theirs
    assert invented_identity("As a nurse, I see this every week.", dietitian) is not None
    assert invented_identity("When I was diagnosed with prediabetes, I changed my lunch.", dietitian) is not None
    survivor = owner_words(["I write about life after my heart attack in 2019."])
    assert invented_identity("My heart attack taught me to rest.", survivor) is None
    assert invented_identity("My diabetes taught me to rest.", survivor) is not None


# (refused or routed to the review, ordinary drafts routed at most). The routing cues were written after the first
# four sets had been read; held_out_final is held out for them.
ROUTING = {"tuned": (18, 2), "blind_a": (39, 5), "blind_b": (37, 12), "held_out": (35, 7), "held_out_final": (29, 2)}


@pytest.mark.parametrize("name", sorted(ROUTING))
def test_the_review_reads_what_the_rule_does_not_know(name: str, owner: str) -> None:
    """A post the rule passes that speaks in the first person of care or a health event goes to the model review
    (rubric invented_identity); most ordinary drafts do not."""
    texts = CORPUS[name]
    read = sum(invented_identity(t["text"], owner) is not None or speaks_of_itself(t["text"])
               for t in texts if t["kind"] == "invented")
    routed = sum(speaks_of_itself(t["text"]) for t in texts if t["kind"] == "ordinary")
    assert read >= ROUTING[name][0] and routed <= ROUTING[name][1], (read, routed)
