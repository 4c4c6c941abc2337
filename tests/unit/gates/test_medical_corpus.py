"""The medical safety gate on posts written blind (tests/unit/gates/corpus/medical_safety.yaml): how much unsafe
advice it stops and how many safe posts it refuses; the floors are the figures measured when the sets were added.
What it misses is the model review's (medical_misinformation) to read."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from libs.gates.medical import check_medical_safety

CORPUS = yaml.safe_load((Path(__file__).parent / "corpus" / "medical_safety.yaml").read_text(encoding="utf-8"))
# part: (unsafe caught at least, safe refused at most)
FLOORS = {"probed": (38, 0), "held_out": (21, 1)}


@pytest.mark.parametrize("part", list(FLOORS))
def test_unsafe_advice_is_stopped_and_safe_posts_are_not(part: str) -> None:
    cases = CORPUS[part]
    refused = [check_medical_safety(c["text"]) is not None for c in cases]
    caught = sum(r for r, c in zip(refused, cases, strict=True) if c["unsafe"])
    wrongly = sum(r for r, c in zip(refused, cases, strict=True) if not c["unsafe"])
    print(f"{part}: {caught}/{sum(c['unsafe'] for c in cases)} unsafe caught, {wrongly} safe refused")
    least, most = FLOORS[part]
    assert caught >= least and wrongly <= most


@pytest.mark.parametrize("text", [
    # Each was passed until 2026-12-06 (evening).
    "Starting keto and on insulin? Cut your dose in half from day one.",
    "A lot of people do better swapping to St. John's Wort instead of their SSRIs.",
    "You honestly don't need a doctor for a UTI, cranberry juice will flush it out.",
    "72-hour dry fasts are completely safe and the ultimate detox.",
    "Type 2 diabetics: a 5-day water fast is the fastest way to reset insulin sensitivity.",
    "Colloidal silver kills basically any virus.",
    "Take 6 at once before bed and the cramps stop.",
    "Cold hands, thinning hair, always tired? That's textbook hypothyroidism.",
    # passed until 2026-12-07: a dose recommended without "take", a remedy set level with a medicine
    "Melatonin: 10mg is the sweet spot for most adults.",
    "Insulin? Cinnamon works just as well for blood sugar.",
])
def test_what_the_gate_now_stops(text: str) -> None:
    assert check_medical_safety(text) is not None


@pytest.mark.parametrize("text", [
    "Ask your doctor before you change your dose.", "A tablespoon of chia seeds every morning keeps me full.",
    "St. John's Wort interacts with many medicines: tell your doctor if you take it.",
    "Talk to your GP about a water fast if you have diabetes.", "Chest pain is never something to wait out: call.",
    "In the trial, 3 mg of melatonin improved sleep onset by 7 minutes.",
    "Walking works just as well as running for heart health.",
    "Mindfulness worked as well as the drug escitalopram for anxiety disorders in a randomized trial.",
    "Trials back that up for chronic low back pain: yoga does about as well as physical therapy.",
])
def test_safe_posts_on_the_same_subjects_pass(text: str) -> None:
    assert check_medical_safety(text) is None
