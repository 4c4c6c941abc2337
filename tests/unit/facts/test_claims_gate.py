"""The claims gate on a corpus of drafts (claims_corpus.yaml), with a held-out third, against today's behaviour
(no claims gate: every draft that passes the other gates is queued, invented statistics included)."""

import zlib
from pathlib import Path

import numpy as np
import pytest
import yaml

from libs.facts import GATE, ClaimRejection, check_claims, drop_unsupported, find_claims, ungrounded_assertions
from libs.niche import FactsConfig

CORPUS = yaml.safe_load((Path(__file__).with_name("claims_corpus.yaml")).read_text(encoding="utf-8"))["drafts"]


def held_out(draft) -> bool:
    # Fixed by the id, so a draft never moves between the sets when the corpus grows.
    return zlib.crc32(draft["id"].encode()) % 3 == 0


def verdicts(drafts, book, embedder, gate=True) -> dict[str, ClaimRejection | None]:
    out = {}
    for d in drafts:
        facts = [book.get(i) for i in d["facts"]]
        out[d["id"]] = check_claims(d["parts"], facts, embedder) if gate else None
    return out


def score(drafts, results) -> dict[str, float]:
    invented = [d for d in drafts if d["kind"] == "invented"]
    legit = [d for d in drafts if d["kind"] != "invented"]
    return {
        "invented_rejected": sum(results[d["id"]] is not None for d in invented) / len(invented),
        "legit_passed": sum(results[d["id"]] is None for d in legit) / len(legit),
        "n_invented": len(invented),
        "n_legit": len(legit),
    }


def test_the_corpus_is_split_and_covers_every_kind():
    ids = [d["id"] for d in CORPUS]
    assert len(ids) == len(set(ids))
    for split in (True, False):
        kinds = {d["kind"] for d in CORPUS if held_out(d) == split}
        assert kinds == {"invented", "restated", "no_claims"}, (split, kinds)
    assert 0.25 < sum(map(held_out, CORPUS)) / len(CORPUS) < 0.42


def test_claims_gate_on_the_corpus(book, embedder, record_property):
    # Thresholds were chosen on the training two thirds (see FactsConfig); the held-out third checks them.
    floors = {"minilm_int8": (1.0, 0.9), "lexical": (0.85, 0.85)}[embedder.kind]
    figures = {}
    for name, split in (("train", False), ("held_out", True)):
        drafts = [d for d in CORPUS if held_out(d) == split]
        gated = score(drafts, verdicts(drafts, book, embedder))
        today = score(drafts, verdicts(drafts, book, embedder, gate=False))
        figures[name] = {"gate": gated, "today": today}
        # Today's planner queues every invented claim; that is what the gate is for.
        assert today["invented_rejected"] == 0.0
        if name == "held_out":
            assert gated["invented_rejected"] >= floors[0], gated
            assert gated["legit_passed"] >= floors[1], gated
    record_property(f"claims_gate_{embedder.kind}", figures)
    print(f"\n[{embedder.kind}] " + "; ".join(
        f"{name}: invented rejected {f['gate']['invented_rejected']:.0%} of {f['gate']['n_invented']} "
        f"(today {f['today']['invented_rejected']:.0%}), legit passed {f['gate']['legit_passed']:.0%} "
        f"of {f['gate']['n_legit']}" for name, f in figures.items()))


def test_the_issues_example_is_rejected_naming_the_invented_study(book, embedder):
    facts = [book.get("sleep-aasm-seven-hours"), book.get("sleep-caffeine-six-hours")]
    verdict = check_claims(["A 2023 Harvard study found that 73% of adults who nap sleep worse at night."],
                           facts, embedder)
    assert verdict is not None and verdict.gate == GATE
    assert "'A 2023 Harvard study'" in verdict.reason and "and 2 more" in verdict.reason


def test_the_repair_leaves_out_only_the_sentences_with_unsupported_claims(book, embedder):
    facts = [book.get("sleep-aasm-seven-hours")]
    invented = "A 2023 Harvard study found that 73% of adults who kept a fixed bedtime slept deeper."
    parts = [f"Sleep is maintenance. {invented}", f"{invented}\n\nAdults should sleep 7 or more hours a night.",
             "Keep one wake-up time."]
    fixed = drop_unsupported(parts, facts, embedder)
    assert fixed == ["Sleep is maintenance.", "Adults should sleep 7 or more hours a night.", "Keep one wake-up time."]
    assert check_claims(fixed, facts, embedder) is None
    # Nothing unsupported: nothing changes.
    assert drop_unsupported(fixed, facts, embedder) == fixed


def test_an_invented_number_is_named(book, embedder):
    verdict = check_claims(["Lifestyle change cut diabetes risk by 78% in the DPP."],
                           [book.get("metabolic-dpp-lifestyle-58")], embedder)
    assert verdict is not None and "unsupported number '78%'" in verdict.reason


def test_a_restated_fact_passes_in_any_part_of_a_thread(book, embedder):
    facts = [book.get("sleep-aasm-seven-hours"), book.get("sleep-cdc-regular-schedule")]
    parts = ["Sleep is maintenance, not a luxury.", "Adults should sleep seven or more hours a night, regularly.",
             "Keep one wake-up time, weekends included."]
    assert check_claims(parts, facts, embedder) is None


def test_claims_need_a_provided_fact(book, embedder):
    # The fact exists in the file, but it was not given to the model: the draft may not state it.
    assert check_claims(["Lifestyle change cut new diabetes cases by 58 percent."], [], embedder) is not None
    assert check_claims(["Lifestyle change cut new diabetes cases by 58 percent."],
                        [book.get("metabolic-dpp-lifestyle-58")], embedder) is None


def test_an_invented_study_beside_a_real_fact_does_not_borrow_its_closeness(book, embedder):
    # Queued by the planner benchmark until 2026-12-07: the sentence was close enough to its tweet, which held the
    # WHO fact, to be read in it, and its tweet was close to the fact.
    facts = [book.get("heart-who-three-in-ten-deaths"), book.get("heart-predimed-events")]
    who = "Around 3 in 10 deaths worldwide are caused by cardiovascular diseases. (World Health Organization)"
    invented = check_claims([f"{who} It's been proven that people who climbed stairs daily lowered their heart "
                             "disease risk."], facts, embedder)
    assert invented is not None and "It's been proven" in invented.reason
    assert check_claims([who], facts, embedder) is None


def test_no_claims_no_facts_passes(embedder):
    assert check_claims(["Dim the lights an hour before bed."], [], embedder) is None


def test_a_named_institution_must_be_the_facts(book, embedder):
    fact = book.get("heart-who-three-in-ten-deaths")
    assert check_claims(["Around 3 in 10 deaths worldwide come from heart and blood vessel disease, says WHO."],
                        [fact], embedder) is None
    verdict = check_claims(["Around 3 in 10 deaths worldwide come from heart and blood vessel disease, says the CDC."],
                           [fact], embedder)
    assert verdict is not None and "institution 'CDC'" in verdict.reason


def test_a_studys_year_must_be_the_facts(book, embedder):
    fact = book.get("nutrition-upf-500-kcal")
    ok = check_claims(["A 2019 study found people ate about 500 kcal a day more on ultra-processed food."],
                      [fact], embedder)
    wrong = check_claims(["A 2021 study found people ate about 500 kcal a day more on ultra-processed food."],
                         [fact], embedder)
    assert ok is None and wrong is not None and "A 2021 study" in wrong.reason


def test_finding_claims():
    kinds = [(c.kind, c.text)
             for c in find_claims("According to the WHO, 1 in 4 adults are inactive. Researchers found more.")]
    assert ("number", "1 in 4") in kinds and ("institution", "WHO") in kinds
    assert sum(k == "study" for k, _ in kinds) == 2
    assert find_claims("Who do you call when you're stressed? Trial and error works too.") == []


@pytest.mark.parametrize(("text", "claim"), [
    # A blind probe of 2026-12-06: 4 of 20 invented claims had no digit, study word or institution the gate knew.
    ("Experts agree that magnesium improves sleep quality.", ("study", "Experts agree")),
    ("Walking after meals cuts blood sugar spikes in half.", ("number", "in half")),
    ("It's been proven that blue light ruins sleep.", ("study", "It's been proven")),
    ("Your risk of burnout drops by a third with weekly exercise.", ("number", "by a third")),
    ("Dietitians recommend eating fish twice a week.", ("study", "Dietitians recommend")),
    # 2026-12-07: a multiplied effect, a share of all of something, the evidence said to be clear
    ("Magnesium boosts sleep quality threefold.", ("study", "threefold")),
    ("Half of all heart attacks happen on Mondays.", ("number", "Half of all heart")),
    ("The evidence is clear: breakfast is the most important meal.", ("study", "The evidence is clear")),
])
def test_claims_without_a_digit_are_found(text: str, claim: tuple[str, str]) -> None:
    assert claim in [(c.kind, c.text) for c in find_claims(text)]


FORMS = yaml.safe_load((Path(__file__).with_name("claims_forms.yaml")).read_text(encoding="utf-8"))
# (invented rejected, others passed), with either embedder; the blind set's first run is in the file's header.
FORMS_FLOORS = {"tuned": (30 / 30, 12 / 13), "blind": (37 / 45, 33 / 45)}


@pytest.mark.parametrize("name", sorted(FORMS_FLOORS))
def test_claims_in_the_forms_models_write_them(name, book, embedder):
    drafts = FORMS[name]
    figures = score(drafts, verdicts(drafts, book, embedder))
    # No claims gate queues every one of them; the gate before these forms rejected 22 of the blind set's 45.
    assert score(drafts, verdicts(drafts, book, embedder, gate=False))["invented_rejected"] == 0.0
    assert (figures["invented_rejected"], figures["legit_passed"]) >= FORMS_FLOORS[name], figures


@pytest.mark.parametrize(("text", "claim"), [
    ("The majority of heart attacks happen on Monday mornings.", ("study", "The majority of")),
    ("Doctors now agree that breakfast is optional.", ("study", "Doctors now agree")),
    ("An RCT found creatine sharpens memory.", ("study", "RCT")),
    ("A recent paper in Cell showed fasting helps.", ("study", "A recent paper in")),
    ("Observational data ties bacon to colon cancer.", ("study", "data ties")),
    ("Walking after meals drops blood sugar spikes by almost half.", ("number", "by almost half")),
    ("1/3 of the salt you eat comes from bread.", ("number", "1/3")),
    ("Sleep expert Matthew Walker says naps are overrated.", ("institution", "Matthew Walker")),
])
def test_claims_in_other_forms_are_found(text: str, claim: tuple[str, str]) -> None:
    assert claim in [(c.kind, c.text) for c in find_claims(text)]


@pytest.mark.parametrize("text", [
    "Findings from my own food diary: I eat more veg when I chop it on Sunday.",
    "A study session with a jug of water on the desk beats energy drinks.", "My cohort at work walks at lunch.",
    "The majority of my mornings start with water.", "Research your options before you buy.",
    "Most people skip the warm-up.",
])
def test_claim_words_used_innocently_are_no_claims(text: str) -> None:
    assert find_claims(text) == []


@pytest.mark.parametrize("text", [
    "I'll be back in half an hour.", "Cut your sugar intake in half this month.", "Splitting the walk in half works.",
    "Eat half the rice and double the vegetables.", "Cut it in half. All the best.", "Half of all the time it rains.",
])
def test_instructions_and_times_with_a_fraction_are_no_claims(text: str) -> None:
    assert find_claims(text) == []


class TinyEmbedder:
    """An embedder of a kind the thresholds do not know yet (say, a new light model)."""

    kind = "tiny"
    dim = 2

    def embed(self, texts):
        return np.ones((len(texts), 2), dtype=np.float32) / np.sqrt(2)


def test_an_embedder_kind_without_a_threshold_is_a_clear_error(book):
    with pytest.raises(ValueError, match="no claims support threshold for embedder kind 'tiny'"):
        check_claims(["Adults need 7 hours."], [book.get("sleep-aasm-seven-hours")], TinyEmbedder())
    # ... and works once the niche names one.
    assert check_claims(["Adults need 7 hours."], [book.get("sleep-aasm-seven-hours")], TinyEmbedder(),
                        min_similarity={**FactsConfig().support_min_similarity, "tiny": 0.5}) is None


def test_asserted_effects_no_provided_fact_says_are_named(book, model_embedder):
    """What decides whether a post needs the model review: a sentence asserting a health effect is grounded only
    when a provided fact says it; framing sentences assert nothing."""
    facts = [book.get("sleep-aasm-seven-hours"), book.get("metabolic-dpp-lifestyle-58")]
    grounded = ["Sleep is maintenance, not a luxury.", "Adults should sleep seven or more hours a night, regularly.",
                "Which of these will you try first?"]
    assert ungrounded_assertions(grounded, facts, model_embedder) == []
    assert ungrounded_assertions(["Cold showers boost your immune system.", grounded[1]], facts,
                                 model_embedder) == ["Cold showers boost your immune system."]
    # Beside a fact in the same tweet, an unfounded sentence is still named (it is read alone).
    assert ungrounded_assertions([f"{grounded[1]} Magnesium cures insomnia."], facts, model_embedder) == [
        "Magnesium cures insomnia."]
    # Without facts every assertion is ungrounded.
    assert ungrounded_assertions(grounded, [], model_embedder) == [grounded[1]]


def test_an_invented_sentence_beside_a_fact_does_not_borrow_its_closeness(book, model_embedder):
    """The planner benchmark queued this thread part: the 78 read off the fact's confidence interval (0.22), the
    sentence close to the fact only as part of its tweet. A citation split at its abbreviations still reads in its
    tweet."""
    fact = book.get("longevity-five-factors-mortality")
    part = (f"Here's the thing: {fact.claim} ({fact.source}, 2018).")
    assert check_claims([part], [fact], model_embedder) is None
    invented = check_claims([part + " Studies show that 78% of people with strong friendships lived longer."],
                            [fact], model_embedder)
    assert invented is not None and "Studies show that 78%" in invented.reason
