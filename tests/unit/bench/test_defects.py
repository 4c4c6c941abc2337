"""The planner benchmark's own defect detector and its reading of the sandbox's log."""

from __future__ import annotations

from bench.defects import detect, planted_survivors

# Queued in a 1,000-item run that counted 0 defects: an over-long answer cut back to the limit by whole sentences.
PADDED = ("On stress: Coping with stress in healthy ways makes you and the people around you more resilient. This "
          "matters because small, consistent changes compound over months and years.")


def test_padding_is_a_defect_the_detector_sees() -> None:
    assert "padding" in detect([PADDED], "reply")
    assert detect(["On stress: Coping with stress in healthy ways makes you and the people around you more "
                   "resilient."], "reply") == []


def test_a_filler_the_sandbox_logged_is_a_survivor_while_it_is_in_the_text() -> None:
    filler = "This matters because small, consistent changes compound over months and years."
    logged = [{"habit": "over_long", "check": "longer_than", "value": "220"},
              {"habit": "over_long", "check": "contains", "value": filler}]
    assert planted_survivors([PADDED], logged) == ["over_long"]
    assert planted_survivors([PADDED.replace(" " + filler, "")], logged) == []


def test_a_refusal_typed_with_typographic_apostrophes_is_seen() -> None:
    # Queued as a post in a 300-item run (2026-12-06) by the normaliser and gates of before, which read only ':
    # the detector missed it too.
    refusal = "I can’t provide health advice. Please consult a qualified healthcare professional about sleep."
    assert detect([refusal], "post") == ["refusal_or_ai"]
    assert detect(["I’m just an AI, but being well connected to other people helps."], "reply") == ["refusal_or_ai"]
