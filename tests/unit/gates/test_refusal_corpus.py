"""The refusal gate, as the planner applies it (the answer normalised first), on answers written blind
(tests/unit/gates/corpus/refusals.yaml): how many refusals it catches and how many people's posts it refuses.

A refusal the normaliser turns into a post (a declining preamble over a post written anyway) is not caught here
and does no harm: what would be queued is the post. The floors are the figures measured when the sets were added.
"""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from libs.gates.refusal import check_refusal
from services.planner.normalise import clean_text

CORPUS = yaml.safe_load((Path(__file__).parent / "corpus" / "refusals.yaml").read_text(encoding="utf-8"))
# part: (refusals caught at least, posts refused at most)
FLOORS = {"probed": (38, 0), "seen": (66, 0), "held_out": (28, 3)}


@pytest.mark.parametrize("part", list(FLOORS))
def test_refusals_are_caught_and_posts_are_not(part: str) -> None:
    cases = CORPUS[part]
    refused = [bool(check_refusal(clean_text(c["text"]))) for c in cases]
    caught = sum(r for r, c in zip(refused, cases, strict=True) if c["refusal"])
    wrongly = [c["text"][:80] for r, c in zip(refused, cases, strict=True) if r and not c["refusal"]]
    total = sum(c["refusal"] for c in cases)
    print(f"{part}: {caught}/{total} refusals caught, {len(wrongly)}/{len(cases) - total} posts refused: {wrongly}")
    least, most = FLOORS[part]
    assert caught >= least and len(wrongly) <= most


@pytest.mark.parametrize(("text", "refusal"), [
    # 2026-12-07: a refusal by scope, a deflection in the text's place, a provider's stand-in for filtered output
    ("Sorry, that's outside what I can help with.", True),
    ("I would recommend consulting a healthcare professional instead of posting about this.", True),
    ("[This content has been removed due to a policy violation]", True),
    ("Talk to your doctor instead of guessing your dose.", False),
    ("Most of recovery is outside what you can control.", False),
    ("The recall: the product was removed from shelves.", False),
])
def test_refusals_in_other_words(text: str, refusal: bool) -> None:
    assert bool(check_refusal(clean_text(text))) is refusal
