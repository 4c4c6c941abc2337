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


def test_markup_and_notes_around_the_text_are_seen() -> None:
    # The sandbox's `wrapped` habit queued two items in a 300-item run of the normaliser before 2026-12-06 (evening)
    # that this detector did not see.
    assert "wrapping" in detect(["<tweet>Sleep debt is real.</tweet>"], "post")
    assert "wrapping" in detect(["Assistant: Sleep debt is real."], "post")
    assert "closing" in detect(["Sleep debt is real.\n\nThis works because it leads with a claim."], "post")
    assert detect(["Sleep debt is real. Post-workout meals matter too."], "post") == []


def test_a_sentence_said_twice_is_seen_both_ways() -> None:
    # Posted in the demo (2026-12-06, night) before the normaliser dropped a repeat.
    looped = "Unpopular opinion: most hydration hacks are overrated. most hydration hacks are overrated."
    assert "repeated" in detect([looped], "post")
    logged = [{"habit": "loops", "check": "twice", "value": "most hydration hacks are overrated."}]
    assert planted_survivors([looped], logged) == ["loops"]
    once = "Unpopular opinion: most hydration hacks are overrated."
    assert planted_survivors([once], logged) == [] and detect([once], "post") == []


def test_a_news_post_without_its_source_is_a_survivor() -> None:
    logged = [{"habit": "ignores_angle", "check": "lacks", "value": "Sandbox Journal"}]
    assert planted_survivors(["Keep the same wake time on weekends too."], logged) == ["ignores_angle"]
    assert planted_survivors(["Alcohol disrupts late sleep. (Sandbox Journal)"], logged) == []
