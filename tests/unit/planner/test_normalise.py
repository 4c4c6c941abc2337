"""The normaliser on a corpus of real models' habits (tests/unit/planner/corpus/model_habits.yaml): every tuning
case exactly; the held-out part is measured and reported, and must clear a floor."""

from __future__ import annotations

import json
import random
from pathlib import Path

import pytest
import yaml

from libs.text import x_length
from services.planner.normalise import (
    clean_text,
    fit_to_limit,
    malformed_reason,
    read_answer,
    split_thread,
    strip_wrapping_quotes,
    without_title,
)
from libs.gates.refusal import check_refusal

CORPUS = yaml.safe_load((Path(__file__).parent / "corpus" / "model_habits.yaml").read_text(encoding="utf-8"))
# Held-out cases the normaliser must get right; the measured figure is printed (pytest -s) and in the report.
HELD_OUT_FLOOR = 0.85


def normalised(case: dict) -> list[str]:
    answer = read_answer(case["raw"], thread=case["kind"] == "thread", length=x_length, wanted=case.get("wanted"))
    return answer.parts


def expected(case: dict) -> list[str]:
    return [p.strip() for p in case["parts"]] if case["kind"] == "thread" else [case["clean"].strip()]


@pytest.mark.parametrize("case", CORPUS["tuning"], ids=[c["habit"] for c in CORPUS["tuning"]])
def test_tuning_corpus(case: dict) -> None:
    assert normalised(case) == expected(case)


@pytest.mark.parametrize("case", CORPUS["probed"], ids=[c["habit"][:50] for c in CORPUS["probed"]])
def test_probed_corpus(case: dict) -> None:
    """Chat around the text that blind probes found (tuned on, so exact, as the tuning part)."""
    assert normalised(case) == expected(case)


def test_held_out_corpus() -> None:
    cases = CORPUS["held_out"]
    misses = [(c["habit"], normalised(c)) for c in cases if normalised(c) != expected(c)]
    rate = 1 - len(misses) / len(cases)
    print(f"held-out: {len(cases) - len(misses)}/{len(cases)} cleaned exactly; misses: {misses}")
    assert rate >= HELD_OUT_FLOOR, misses


def test_every_corpus_answer_is_changed_except_the_clean_ones() -> None:
    # The corpus is made of defects: the untouched answer would fail the comparison (today's code path kept
    # the raw text, stripped of surrounding blanks).
    defective = [c for c in CORPUS["tuning"] + CORPUS["held_out"] + CORPUS["probed"]
                 if not c["family"].startswith("none")]
    raw_would_pass = [c["habit"] for c in defective if c["kind"] != "thread" and c["raw"].strip() == expected(c)[0]]
    assert raw_would_pass == []


def test_clean_text_is_idempotent() -> None:
    for case in CORPUS["tuning"] + CORPUS["held_out"] + CORPUS["probed"]:
        for part in normalised(case):
            assert clean_text(part) == part or case["kind"] == "thread"


def test_wrapping_quotes_only_when_they_wrap_everything() -> None:
    assert strip_wrapping_quotes('"Sleep is free."') == "Sleep is free."
    assert strip_wrapping_quotes('"Sleep" is free, says "Bob"') == '"Sleep" is free, says "Bob"'
    assert strip_wrapping_quotes("'Don't skip it.'") == "Don't skip it."


def test_thread_split_merges_paragraphs_beyond_the_parts_asked_for() -> None:
    text = "Myth: more water is always better.\n\nNot quite.\n\nThirst works for most adults.\n\nFood counts too."
    assert split_thread(text, wanted=3) == ["Myth: more water is always better.\n\nNot quite.",
                                            "Thirst works for most adults.", "Food counts too."]
    assert len(split_thread(text)) == 4  # within what a thread may have: kept


def test_a_list_inside_a_part_is_not_taken_for_numbered_parts() -> None:
    text = "Three habits:\n1) Walk.\n2) Sleep.\n3) Eat plants.\n---\nStart with one.\n---\nKeep it two weeks."
    assert split_thread(text)[0].startswith("Three habits:")
    assert len(split_thread(text)) == 3


def test_over_long_text_loses_whole_trailing_sentences_only() -> None:
    core = "Morning light sets your body clock. " * 5
    padded = core + "This matters because small changes compound. Remember that consistency is key."
    shortened = fit_to_limit(padded, 200)
    assert len(shortened) <= 200 and shortened.endswith(".") and padded.startswith(shortened)
    single = "word " * 80
    assert fit_to_limit(single, 200) == single  # no sentence to drop: the length gate decides


@pytest.mark.parametrize("text, reason", [
    ('{"text": "hi"}', "structured data"),
    ("Try [insert statistic] today.", "placeholder"),
    ("Drink {amount} of water.", "placeholder"),
    ("", "without text"),
    # passed until 2026-12-07
    ("Sleep debt costs XX% of productivity.", "placeholder"), ("Check this out: <URL>", "placeholder"),
    ("Morning light helps. (insert source)", "placeholder"), ("TODO: add stat", "placeholder"),
    ("Lorem ipsum dolor sit amet.", "placeholder"),
])
def test_what_no_cleaning_repairs_is_malformed(text: str, reason: str) -> None:
    assert reason in (malformed_reason(text) or "")


@pytest.mark.parametrize("text", ["My todo list: sleep first.", "XXL hoodie weather, sleep in a cool room though.",
                                  "Add (a pinch of) salt to water after long runs."])
def test_words_like_placeholders_are_not(text: str) -> None:
    assert malformed_reason(text) is None


@pytest.mark.parametrize("raw, clean", [
    ("As an AI, I don't have personal experiences, but here's what the research says: Sleep is a skill.",
     "Sleep is a skill."),
    ("As an AI language model, I can share that a walk after dinner helps.", "A walk after dinner helps."),
    ("I'm just an AI, but consistency beats intensity.", "Consistency beats intensity."),
    # A disclaimer that is all there is stays, for the refusal gate.
    ("As an AI language model, I don't have personal experiences with sleep.",
     "As an AI language model, I don't have personal experiences with sleep."),
    # What only a model says of itself, in front of the text (a blind probe of 2026-12-06).
    ("I'm not able to browse the internet, but here's a general tweet: Sleep matters.", "Sleep matters."),
    ("I can't verify specific statistics, but here's a general tweet: Most adults need more sleep.",
     "Most adults need more sleep."),
])
def test_an_ai_disclaimer_in_front_of_the_text_is_removed(raw: str, clean: str) -> None:
    assert clean_text(raw) == clean
    assert (check_refusal(clean_text(raw)) is None) == (raw != clean)


@pytest.mark.parametrize("text", [
    "I'm sorry, but I can't help with that request.",
    "As an AI language model, I don't have personal experiences with sleep.",
    "I can't provide medical advice. Please consult a professional.",
    "Unfortunately, I cannot create content about that topic.",
    "I'm just an AI, but here is a tip: walk more.",
    "I must respectfully decline to write this.",
    "That would go against my guidelines.",
    # Typographic apostrophes, as most models write them, and "I'm unable to": each passed until 2026-12-06.
    "I’m sorry, but I can’t write that.", "I can’t assist with that request.", "I’m unable to help with that.",
    "I'm not able to provide medical advice.", "I don’t have personal experiences with sleep.",
    # A blind probe of 2026-12-06: 9 of 20 refusals written as models phrase them passed; these are the 9.
    "I'd rather not write about that topic.", "I won't be able to help with this one.",
    "That's not something I can help with.", "I'm not comfortable writing this tweet.",
    "As a responsible assistant, I need to avoid giving medical advice.",
    "Writing this could spread misinformation, so I'll pass.",
    "Before I write this, I want to note that I'm not a doctor.", "Lo siento, no puedo ayudar con eso.",
    "I'm not able to browse the internet, so this may be out of date.",
])
def test_refusals_and_ai_talk_are_rejected(text: str) -> None:
    assert (r := check_refusal(text)) is not None and r.gate == "refusal"


@pytest.mark.parametrize("text", [
    "Sorry, but you can't out-exercise a bad diet.",
    "I can't help but notice how much better I sleep after a walk.",
    "I'm not able to run anymore, so I walk every day.",
    "Ask your doctor before changing medication.",
    "AI can't replace a good night's sleep.",
    "I can't recommend morning light enough.", "I won't lie: sleep changed my life.",
    "I must admit, I was skeptical about walking after meals.", "I'd rather walk than run, and that's fine.",
    "I'm not a morning person, but light helped.", "I'll pass on the second coffee from now on.",
    "I'd rather not count calories; I count plants.", "Not something I can recommend: skipping sleep.",
    "Before I write my to-do list, I walk.", "I'm not comfortable with how much sugar hides in sauces.",
    "I can't check my heart rate, but I feel better.",
])
def test_ordinary_posts_are_not_refusals(text: str) -> None:
    assert check_refusal(text) is None


@pytest.mark.parametrize(("raw", "clean"), [
    # Each kept its preamble, closing remark or disclaimer until 2026-12-06: the rules were written with ' and
    # most models write ’ (the corpus above has none).
    ("Sure! Here’s a tweet about sleep:\n\nSleep debt is real.", "Sleep debt is real."),
    ("Here’s a punchy tweet for you:\n\n\"Sleep debt is real.\"", "Sleep debt is real."),
    ("Here’s a tweet: Sleep debt is real.", "Sleep debt is real."),
    ("As an AI, I don’t have personal experiences, but here’s what research says: Sleep debt is real.",
     "Sleep debt is real."),
    ("I’m just an AI, but sleep debt is real.", "Sleep debt is real."),
    ("Sleep debt is real.\n\nIf you’d like, I can make it shorter.", "Sleep debt is real."),
    # and announcements without a content noun
    ("Absolutely — here’s one:\n\nSleep debt is real.", "Sleep debt is real."),
    ("Here you go:\n\nSleep debt is real.", "Sleep debt is real."),
    # and what was cleaned already still is
    ("Here is a tweet that’s under 280 characters:\n\nSleep debt is real.", "Sleep debt is real."),
    # while a hook stays, in either spelling
    ("Here’s the thing:\n\nSleep debt is real.", "Here’s the thing:\n\nSleep debt is real."),
    ("It’s not the hours, it’s the timing.", "It’s not the hours, it’s the timing."),
])
def test_typed_apostrophes_read_as_apostrophes(raw: str, clean: str) -> None:
    assert clean_text(raw) == clean


@pytest.mark.parametrize(("raw", "clean"), [
    # Each was queued as it stands until 2026-12-06 (what the model wraps around the post, not in the corpus).
    ("Here are three tweet options:\n\n1. Sleep debt is real.\n2. Your bedroom should be cool.\n3. Light first.",
     "Sleep debt is real."),
    ("Option 1: Sleep debt is real.\n\nOption 2: Morning light sets your clock.", "Sleep debt is real."),
    ("Sure! Here are 2 versions:\n\n**Version 1:** Sleep debt is real.\n\n**Version 2:** Light first.",
     "Sleep debt is real."),
    ("Sleep debt is real.\n\nWhy it works: it opens with a claim.", "Sleep debt is real."),
    ("Sleep debt is real.\n\n**Explanation:** A strong claim hooks readers.\n- short\n- punchy", "Sleep debt is real."),
    ("Title: Sleep debt\n\nSleep debt is real.", "Sleep debt is real."),
    ("[Tweet]\nSleep debt is real.", "Sleep debt is real."),
    ("Sleep debt is real.\n\n---\n\n*Note: This tweet is 30 characters long.*", "Sleep debt is real."),
    ("\"Sleep debt is real.\" — 35 characters", "Sleep debt is real."),
    ("Sure thing!\n\nSleep debt is real.", "Sleep debt is real."),
    ("Great idea! Here is the tweet:\n> Sleep debt is real.", "Sleep debt is real."),
    # a tag around the answer with the explanation inside it (the sandbox's `wrapped` and `explains` together)
    ("<reply>Sleep debt is real.\n\nWhy this works: short sentences, one idea, and a clear next step.</reply>",
     "Sleep debt is real."),
    # while a post's own "Why it works:" or "What I changed:" section is the post (the sandbox's framework and
    # story posts: a first cut of the rule took them for a model's note)
    ("Quick win for your sleep: Keep alcohol away from the last 3 hours before bed.\n\nWhy it works: Alcohol can "
     "make you fall asleep faster, but it disrupts sleep in the second half of the night.",
     "Quick win for your sleep: Keep alcohol away from the last 3 hours before bed.\n\nWhy it works: Alcohol can "
     "make you fall asleep faster, but it disrupts sleep in the second half of the night."),
    ("Last year I learned this the hard way: light at night suppresses melatonin.\n\nWhat I changed: Dim the "
     "lights for the last hour before bed.",
     "Last year I learned this the hard way: light at night suppresses melatonin.\n\nWhat I changed: Dim the "
     "lights for the last hour before bed."),
    # and a list the model did not offer as drafts is the post
    ("3 habits that fix sleep:\n1. Cool room\n2. Dark room\n3. Same wake time",
     "3 habits that fix sleep:\n1. Cool room\n2. Dark room\n3. Same wake time"),
    ("Here's a tweet about sleep:\n\n3 habits that fix sleep:\n1. Cool room\n2. Dark room",
     "3 habits that fix sleep:\n1. Cool room\n2. Dark room"),
])
def test_drafts_offered_explanations_and_labels_around_the_post_are_removed(raw: str, clean: str) -> None:
    assert clean_text(raw) == clean


@pytest.mark.parametrize("raw", [
    # Each stayed one part, its markers in the text, until 2026-12-06 (a probe of thread numberings).
    "(1) Sleep debt is real.\n(2) Light sets your clock.\n(3) Keep the room cool.",
    "1️⃣ Sleep debt is real.\n2️⃣ Light sets your clock.\n3️⃣ Keep the room cool.",
    "[1/3] Sleep debt is real.\n[2/3] Light sets your clock.\n[3/3] Keep the room cool.",
    "First tweet: Sleep debt is real.\nSecond tweet: Light sets your clock.\nThird tweet: Keep the room cool.",
    "#1 Sleep debt is real.\n#2 Light sets your clock.\n#3 Keep the room cool.",
])
def test_thread_numberings_of_every_kind_split_the_parts(raw: str) -> None:
    parts = read_answer(raw, thread=True, length=x_length, wanted=3).parts
    assert parts == ["Sleep debt is real.", "Light sets your clock.", "Keep the room cool."]


def test_a_hook_that_is_a_rank_keeps_it() -> None:
    raw = "#1 mistake: sleeping in on weekends.\n\nIt shifts your clock.\n\nKeep the wake time fixed."
    assert read_answer(raw, thread=True, length=x_length, wanted=3).parts[0] == "#1 mistake: sleeping in on weekends."


@pytest.mark.parametrize("raw", [
    # Each kept "of 3:", "[End of thread]" or "Hook:" in its parts until 2026-12-06.
    "Here's a 3-part thread on sleep:\n\nTweet 1 of 3: Sleep debt is real.\n\nTweet 2 of 3: Light sets your clock."
    "\n\nTweet 3 of 3: Keep the room cool.",
    "1/3 Sleep debt is real.\n2/3 Light sets your clock.\n3/3 Keep the room cool.\n\n[End of thread]",
    "Hook: Sleep debt is real.\n\nBody: Light sets your clock.\n\nCTA: Keep the room cool.",
])
def test_thread_labels_of_every_kind_are_removed(raw: str) -> None:
    parts = read_answer(raw, thread=True, length=x_length, wanted=3).parts
    assert parts == ["Sleep debt is real.", "Light sets your clock.", "Keep the room cool."]


@pytest.mark.parametrize("habit", ["several_drafts", "explains", "chatty", "wrapped"])
def test_the_sandbox_models_drafts_and_explanations_never_survive(habit: str) -> None:
    from sandbox.habits import HabitRates, RealisticWriter

    rates = HabitRates()
    rates.update({habit: 1.0})
    writer, rng = RealisticWriter(rates=rates), random.Random(5)
    fired = 0
    for i in range(120):
        user = ("Write one post of at most 260 characters.\nTopic: sleep. Give one specific, safe habit." if i % 2 else
                "Write a reply of at most 200 characters to this tweet.\n<tweet>Is magnesium worth it?</tweet>")
        answer = writer.answer([{"role": "user", "content": user}], rng)
        planted = [d.value for d in answer.defects if d.habit == habit]
        fired += bool(planted)
        text = " ".join(read_answer(answer.content or "", thread=False, length=x_length).parts)
        assert text and not any(value in text for value in planted), answer.content
    assert fired > 50


def test_habits_nested_three_deep_are_all_removed() -> None:
    """Quotes hide the numbering, which hides a bullet or a heading (the planner benchmark queued two such parts
    when the steps ran a fixed two rounds)."""
    answer = ('{"parts": ["“(1/3) How well do you know hydration?”", "“(2/3) - Thirst works for most adults.”", '
              '"“(3/3) # Hydration: what to know\\n\\nFood counts too.”"]}')
    parts = read_answer(answer, thread=True, length=x_length, wanted=3).parts
    # The title over the last part goes too: a thread's section titled in a title's form (posted in a demo
    # as a thread's last part, "Metabolic Health: what to know\n\nTakeaway: …", 2026-12-07).
    assert parts == ["How well do you know hydration?", "Thirst works for most adults.", "Food counts too."]


@pytest.mark.parametrize("raw", [
    "Last year I got it wrong.\n---\nType 2 is 90%.\n---\n### Metabolic Health: what to know\n\nTakeaway: Pick one "
    "habit and keep it up.",
    # in paragraphs, the heading alone on its own was a part of its own
    "Last year I got it wrong.\n\nType 2 is 90%.\n\n### Metabolic Health: what to know\n\nTakeaway: Pick one "
    "habit and keep it up.",
    '{"parts": ["Last year I got it wrong.", "Type 2 is 90%.", "**Metabolic Health: what to know**\\n\\nTakeaway: '
    'Pick one habit and keep it up."]}',
])
def test_a_title_over_a_threads_part_goes(raw: str) -> None:
    # Posted in a demo (2026-12-07) as a thread's last part: "Metabolic Health: what to know\n\nTakeaway: …".
    assert read_answer(raw, thread=True, wanted=3).parts == [
        "Last year I got it wrong.", "Type 2 is 90%.", "Takeaway: Pick one habit and keep it up."]


def test_a_heading_in_a_thread_is_not_a_part_of_its_own() -> None:
    raw = "**Why it matters**\n\nSleep is when you recover.\n\nGet 7 hours.\n\nStart tonight."
    assert read_answer(raw, thread=True, wanted=3).parts == [
        "Why it matters\n\nSleep is when you recover.", "Get 7 hours.", "Start tonight."]


def test_an_over_long_answer_loses_its_padding_not_only_what_passes_the_limit() -> None:
    # The sandbox's over-long habit: filler sentences past the limit; cut to the limit alone, the first stayed and a
    # padded post was queued.
    point = "Here's the thing: Know it, do it, look back at it. That is the whole framework."
    padded = (point + " It is always a good idea to listen to your body and to talk to a professional before big"
              " changes. Over time these habits add up to real, measurable differences in how you feel every single"
              " day. Remember that everyone's body is different, so what works for one person may not work for"
              " another.")
    assert fit_to_limit(padded, 280) == point
    # Within the limit too: an "As an AI, …" lead-in and an emoji made this answer over-long, and the normaliser
    # removed them first (a padded reply was queued so).
    reply = "The National Academies panel gave no rule of thumb for how many glasses of water to drink a day."
    assert fit_to_limit(reply + " This matters because small, consistent changes compound over months and years.",
                        220) == reply
    # Half of it is padding: cut to the limit, what is kept is the point (at least half of it), none of the padding.
    long_point = "Sleep sets the tone for the day, and light sets sleep. " * 4
    cut = fit_to_limit(long_point + "Remember that everyone's body is different. " * 4, 200)
    assert len(cut) <= 200 and long_point.startswith(cut) and len(cut) >= len(long_point) / 2


def test_padding_after_a_lead_in_or_a_citation_goes_too() -> None:
    hook = "A framework for stress you can actually keep, step by step:"
    filler = " Consistency beats intensity, and the best plan is the one you can actually keep."
    assert fit_to_limit(hook + filler + filler.replace("Consistency", "Honestly, consistency") * 3, 280) == hook
    cited = "Staying healthy helps your mood. (CDC, Coping with Stress)"
    assert fit_to_limit(cited + " It is always a good idea to listen to your body." * 5, 280) == cited


@pytest.mark.parametrize(("raw", "kept"), [
    # Content that opens as the chat around it does: the rules of 2026-12-06 leave it.
    ("Here's one thing nobody tells you:\n\nSleep is trainable.", "Here's one thing nobody tells you:"),
    ("Here's one habit that changed my mornings:\nA glass of water before coffee.", "Here's one habit"),
    ("Here's the thing: nobody sleeps enough.", "Here's the thing:"),
    ("Three things that fixed my sleep:\n1. Light\n2. Dark\n3. Cool", "Three things that fixed my sleep:"),
    ("Mind: calm.\nBody: strong.\nSoul: rested.", "Body: strong."),
    ("Try this: dim the lights an hour before bed.", "Try this:"),
    ("I'd suggest two things: morning light and a fixed wake time.", "I'd suggest two things:"),
    ("Here's how to fix it:\n\nStop scrolling in bed.", "Here's how to fix it:"),
    ("I post this every year:\n\nSleep is not optional.", "I post this every year:"),
    ("I recommend this to every client:\nWalk after dinner.", "I recommend this to every client:"),
    ("Try this:\n\nDim the lights an hour before bed.", "Try this:"),
])
def test_content_that_opens_like_chat_is_kept(raw: str, kept: str) -> None:
    assert kept in clean_text(raw)


@pytest.mark.parametrize(("raw", "thread", "parts"), [
    # A model answering in JSON of its own choosing (no schema asked, or one it ignored): until 2026-12-06 the raw
    # JSON was the text, refused as malformed and written again.
    ('{"tweet": "Morning light sets your body clock."}', False, ["Morning light sets your body clock."]),
    ('{"response": "Morning light sets your body clock."}', False, ["Morning light sets your body clock."]),
    ('{"parts": "1/3 Sleep debt is real.\\n2/3 Light sets your clock.\\n3/3 Keep the room cool."}', True,
     ["Sleep debt is real.", "Light sets your clock.", "Keep the room cool."]),
    # Each part, or the answer, in an object of its own (until 2026-12-06 malformed: "structured data").
    ('{"thread": [{"text": "Sleep debt is real."}, {"text": "Light sets your clock."}, {"text": "Keep it cool."}]}',
     True, ["Sleep debt is real.", "Light sets your clock.", "Keep it cool."]),
    ('{"tweets": [{"id": 1, "content": "Sleep debt is real."}, {"id": 2, "content": "Light sets your clock."}]}',
     True, ["Sleep debt is real.", "Light sets your clock."]),
    ('{"response": {"text": "Morning light sets your body clock."}}', False, ["Morning light sets your body clock."]),
])
def test_json_under_another_key_is_read(raw: str, thread: bool, parts: list[str]) -> None:
    answer = read_answer(raw, thread=thread, length=x_length, wanted=3)
    assert answer.parts == parts and answer.structured
    assert all(malformed_reason(p) is None for p in answer.parts)


@pytest.mark.parametrize(("raw", "clean"), [
    # A label's dash is a dash with space before it: "Post-" and "Body-" were cut as labels until 2026-12-06.
    ("Post-workout meals matter more than the pre-workout ones.",
     "Post-workout meals matter more than the pre-workout ones."),
    ("Body-weight squats are underrated.", "Body-weight squats are underrated."),
    ("Option 2 - Sleep more.", "Sleep more."),
    # A one-line answer that opens as a closing remark or a note is the text (both were emptied, then rewritten).
    ("Let me know how it goes! Magnesium helped me too.", "Let me know how it goes! Magnesium helped me too."),
    ("Note: hydration isn't only about water.", "Note: hydration isn't only about water."),
    # Paragraphs that open as chat does and name the writing's things, but are the content's own.
    ("This thread gives you five tools for sleep.\n\nTool one: light.",
     "This thread gives you five tools for sleep.\n\nTool one: light."),
    ("Do you want better sleep?\n\nStart with light.", "Do you want better sleep?\n\nStart with light."),
    ("Your hook matters more than your hashtags.\n\nWrite for the reader.",
     "Your hook matters more than your hashtags.\n\nWrite for the reader."),
    ("Sleep one night short? Fine.\n\n(Yes, even on weekends.)",
     "Sleep one night short? Fine.\n\n(Yes, even on weekends.)"),
    ("Walk after dinner.\n\nSave this post for later.", "Walk after dinner.\n\nSave this post for later."),
    ("Ten minutes of morning light.\n\nWhy it works: light resets your body clock.",
     "Ten minutes of morning light.\n\nWhy it works: light resets your body clock."),
])
def test_what_only_looks_like_chat_stays(raw: str, clean: str) -> None:
    assert clean_text(raw) == clean


@pytest.mark.parametrize("raw", [
    # Talk about the writing at either end, in wordings no rule names (2026-12-06, evening): what they share is
    # that they speak of the request, the requester or the writing, not of sleep.
    "Here's a version that speaks to busy parents and keeps the tone warm\n\nSleep debt is real.",
    "Sleep debt is real.\n\nThis post balances a clear claim with an easy action, which tends to do well.",
    "Okay so the user wants something on sleep debt, short and practical.\n\nSleep debt is real.",
    "Sleep debt is real.\n\nWould you like me to make it more playful?",
    "<answer>Sleep debt is real.</answer><|im_end|>",
    "Sleep debt is real. (42 characters)",
    "Sleep debt is real.\n\n(Warm, direct, practical)",
    "Sleep debt is real.\n\n---\n\nWhy this works: it adds value without being salesy.",
    "Sleep debt is real.\n\n*Character counts: 19*",
    "Sleep debt is real.\nWord counts: 4",
])
def test_talk_about_the_writing_at_the_edges_goes(raw: str) -> None:
    assert clean_text(raw) == "Sleep debt is real."


def test_an_over_long_post_is_never_cut_inside_a_citation() -> None:
    # The demo queued "… low- and middle-income countries. (Yusuf et al." when this answer was shortened at the
    # first "." followed by a space, "et al.". Whole sentences go, the citation stays whole or goes with its own.
    head = "Unpopular opinion on heart health: most heart health hacks are overrated. The boring basics win."
    fact = "More than 80% of the global burden of cardiovascular disease falls on low- and middle-income countries."
    cited = f"{head}\n\n{fact} (Yusuf et al. (INTERHEART), The Lancet 2004)"
    over = cited + ". Dr. Yusuf and colleagues, e.g. in the U.S. and Canada, found the same in 52 countries."
    naive = over[: over.index("et al.") + len("et al.")]
    assert len(naive) <= 280 < len(over)  # what a cut at any "." followed by a space could give
    assert fit_to_limit(over, 280) == cited + "."
    assert fit_to_limit(over, len(cited)) == head + "\n\n" + fact  # shorter still: the citation goes whole


@pytest.mark.parametrize("raw, clean", [
    # A small model's decoding loop, and the same after a label (the sandbox's writer wrote this one in the demo).
    ("Walking after meals blunts the glucose spike. Walking after meals blunts the glucose spike.",
     "Walking after meals blunts the glucose spike."),
    ("Unpopular opinion: most hydration hacks are overrated. most hydration hacks are overrated.\n\nThirst is a "
     "fine guide for most healthy adults.",
     "Unpopular opinion: most hydration hacks are overrated.\n\nThirst is a fine guide for most healthy adults."),
    ("Sleep is a skill. Light in the morning sets your clock.\nLight in the morning sets your clock.",
     "Sleep is a skill. Light in the morning sets your clock."),
])
def test_a_sentence_said_twice_is_said_once(raw: str, clean: str) -> None:
    assert clean_text(raw) == clean


@pytest.mark.parametrize("text", [
    "Sleep. Sleep. Sleep. Then the rest.",  # a cadence of short sentences is the writer's
    "Walk after meals. It lowers the spike. Walk after meals, and it lowers the spike for hours.",
])
def test_a_repeat_that_says_more_or_is_short_stays(text: str) -> None:
    assert clean_text(text) == text


def test_a_thread_label_in_emphasis_goes_and_a_plain_one_stays() -> None:
    # "**thread:** …" over a thread's first part (the sandbox's preamble habit) was queued as "thread: …" in a
    # 300-item planner benchmark run.
    for raw in ("**thread:** Last year I had stress all wrong.\n---\nPart two here.\n---\nPart three.",
                "__Thread__: Last year I had stress all wrong.\n---\nPart two here.\n---\nPart three."):
        assert read_answer(raw, thread=True).parts[0] == "Last year I had stress all wrong."
    plain = "Thread: how I fixed my sleep.\n---\nPart two here.\n---\nPart three."
    assert read_answer(plain, thread=True).parts[0] == "Thread: how I fixed my sleep."


@pytest.mark.parametrize("text", [
    # Queued as a post in a demo (2026-12-06, night): a thread written where one post was asked, cut to the limit.
    "The exercise framework I keep coming back to:\n\n(2/4) This surprised me: activity matters.\n\n(3/4) One "
    "finding stands out.",
    "The exercise framework: 1/4\n\nWHO advises less sitting. 2/4\n\nActivity lowers risk. 3/4\n\nThat is it.",
])
def test_a_thread_where_one_text_was_asked_is_malformed(text: str) -> None:
    assert "is a thread" in (malformed_reason(text) or "")


@pytest.mark.parametrize("text", [
    "Mix 1/2 cup oats with 1/4 cup nuts.",
    "1/3 of adults sleep too little.\n2/3 of them nap.",
    "Thread: how I fixed my sleep (1/4 of it was light).",
])
def test_fractions_are_not_part_numbers(text: str) -> None:
    assert malformed_reason(text) is None


@pytest.mark.parametrize("raw, clean", [
    # Posted in a demo (2026-12-06, night) as "Heart Health: what to know\n\nWorkers and health overlap …".
    ("# Heart Health: what to know\n\nJob strain was linked to a higher risk of heart disease.",
     "Job strain was linked to a higher risk of heart disease."),
    ("**Sleep, briefly**\nSeven hours is the floor for most adults.", "Seven hours is the floor for most adults."),
    ("# Seven hours is the floor for most adults.", "# Seven hours is the floor for most adults."),  # nothing else
    ("Seven hours is the floor.\n**Most** adults need it.", "Seven hours is the floor.\n**Most** adults need it."),
])
def test_a_reply_has_no_title(raw: str, clean: str) -> None:
    assert without_title(raw) == clean



@pytest.mark.parametrize("raw", [
    # Posted in a demo (2026-12-06, late) as "Stress: what to know\n\nThe stress point holds up. …": the title
    # came after the model's reasoning or a preamble, and was looked for on the answer's first line.
    "<think>\nThe user wants a reply.\n</think>\n\n## Stress: what to know\n\nThe stress point holds up.",
    "Here's a reply:\n\n**Stress, briefly**\nThe stress point holds up.",
    '{"text": "## Stress: what to know\\n\\nThe stress point holds up."}',
    # 2026-12-07, posted in a demo: quotes around the whole answer, an emoji before the title
    "“### Stress: what to know\n\nThe stress point holds up.”",
    "🧠 # Stress: what to know\n\nThe stress point holds up.",
])
def test_a_replys_title_goes_after_its_reasoning_or_preamble(raw: str) -> None:
    assert read_answer(raw, thread=False, titled=False).parts == ["The stress point holds up."]
    assert read_answer(raw, thread=False).parts[0] != "The stress point holds up."  # a post keeps it


def test_a_numbered_list_under_a_hook_makes_the_parts_and_stays_a_list_where_it_cannot() -> None:
    # Until 2026-12-06 the hook made the list paragraphs, and the list one part whose "1." was taken for the part's
    # number ("2." stood alone).
    raw = "🧵 Sleep debt is real. Here is why 👇\n\n1. Insulin sensitivity falls.\n2. Hunger rises.\n3. Nap before 3pm."
    assert split_thread(raw, wanted=4) == ["Sleep debt is real. Here is why", "Insulin sensitivity falls.",
                                           "Hunger rises.", "Nap before 3pm."]
    assert split_thread("Sleep debt is real. A thread 🧵\n\n1/ Light sets your clock.\n\n2/ Caffeine lasts.\n\n"
                        "3/ Keep it simple.", wanted=4) == ["Sleep debt is real. A thread", "Light sets your clock.",
                                                          "Caffeine lasts.", "Keep it simple."]
    # A paragraph after the list closes the thread; a list under a lead-in of its own stays one part, keeping "1."
    assert split_thread("Sleep debt is real.\n\n1. Keep wake times.\n2. Nap early.\n\nStart tonight.", wanted=4) == [
        "Sleep debt is real.", "Keep wake times.", "Nap early.", "Start tonight."]
    raw = "Sleep debt is real.\n\nTwo fixes:\n1. Keep wake times.\n2. Nap early.\n\nStart tonight."
    assert split_thread(raw, wanted=3) == ["Sleep debt is real.", "Two fixes:\n1. Keep wake times.\n2. Nap early.",
                                           "Start tonight."]
    assert split_thread("[Tweet 1] Sleep debt is real.\n[Tweet 2] Light sets your clock.\n[Tweet 3] Keep it.",
                        wanted=3) == ["Sleep debt is real.", "Light sets your clock.", "Keep it."]
    assert split_thread("**Hook:** Sleep debt is real.\n\n**Point 1:** Light sets your clock.\n\n**Point 2:** Keep it.",
                        wanted=3) == ["Sleep debt is real.", "Light sets your clock.", "Keep it."]


def test_a_note_under_a_numbered_thread_is_no_part_of_it() -> None:
    raw = ("### Thread: Sleep\n\n1. Most people get sleep wrong.\n\n2. Light sets your clock.\n\n3. Caffeine lasts."
           "\n\n4. Keep it simple.\n\n---\n*Character counts: 29, 23, 17, 16*")
    assert split_thread(raw, wanted=4) == ["Most people get sleep wrong.", "Light sets your clock.", "Caffeine lasts.",
                                           "Keep it simple."]


@pytest.mark.parametrize("raw", [
    # The prompt lists its facts "[1] …": a model cites the numbers, which a reader has no list for (2026-12-06).
    "Walking after meals helps blood sugar. (Source: provided fact [2])",
    "Walking after meals helps blood sugar, per fact 1.",
    "Walking after meals helps blood sugar [1].",
    # Sources listed under the text (often invented): a tweet carries none.
    "Walking after meals helps blood sugar.\n\nSources:\n1. Smith et al., 2020\n2. WHO fact sheet",
    "Walking after meals helps blood sugar.\n\n[1] Buffey et al., Sports Med 2022",
])
def test_the_prompts_fact_numbers_and_a_list_of_sources_go(raw: str) -> None:
    assert clean_text(raw) == "Walking after meals helps blood sugar."


def test_a_post_that_only_announces_what_follows_is_malformed_and_a_threads_hook_is_not() -> None:
    for text in ("Magnesium before bed? Here's what the research actually says", "Easy stress habits for this week:",
                 "Sleep debt is real. A thread", "Three things fixed my sleep. Let me break it down."):
        assert "announces what follows" in (malformed_reason(text, whole=True) or ""), text
        assert malformed_reason(text) is None  # a thread's first part
    for text in ("Walk after meals. Here's why it works: glucose drops.", "Sources: WHO, NHS",
                 "Why? Here's why: light resets your clock.", "The data is clear below the surface."):
        assert malformed_reason(text, whole=True) is None, text


def test_words_said_twice_back_to_back_at_the_end_are_said_once() -> None:
    # A loop after a citation line, where no sentence end parts the two (a benchmark run queued it, 2026-12-06).
    raw = ("Around 1 in 7 adolescents have a mental disorder.\n\nData: World Health Organization, Mental health, "
           "2022 data: World Health Organization, Mental health, 2022")
    assert clean_text(raw) == ("Around 1 in 7 adolescents have a mental disorder.\n\nData: World Health Organization,"
                               " Mental health, 2022")
    assert clean_text("Walk more, worry less, walk more, worry less.") == "Walk more, worry less."
    assert clean_text("Sleep. Sleep. Sleep.") == "Sleep. Sleep. Sleep."  # a cadence of short words stays


@pytest.mark.parametrize("raw", [
    # Reply answers shaped as other models shape them (2026-12-06, late): a role header let through, a heading over
    # the response, a bracketed or versioned label, the count against the limit asked.
    "assistant\n\nMorning light is free and it works.",
    "### Response:\nMorning light is free and it works.",
    "[REPLY]: Morning light is free and it works.",
    "Draft reply v2: Morning light is free and it works.",
    "Morning light is free and it works. (36/220)",
])
def test_role_headers_labels_and_counts_over_a_reply_go(raw: str) -> None:
    assert read_answer(raw, thread=False, titled=False).parts == ["Morning light is free and it works."]


def test_a_reply_does_not_say_the_quoted_tweet_as_its_own() -> None:
    raw = "> Morning light sets your clock\n\nExactly, and it's free."
    assert read_answer(raw, thread=False, titled=False).parts == ["Exactly, and it's free."]
    assert read_answer("> Morning light sets your clock", thread=False, titled=False).parts == [
        "Morning light sets your clock"]  # nothing else to post: left for the gates


@pytest.mark.parametrize("raw", [
    # Answers as models that check their own work write them (2026-12-07): drafts each under a label of its own
    # line, a draft and its revision, a rule under the preamble, a note on the text after a rule.
    "**Version A**\nMorning light sets your clock.\n\n**Version B**\nLight in the morning, dark at night.",
    "Option A\nMorning light sets your clock.\n\nOption B\nLight in the morning, dark at night.",
    "Draft: Morning light is good.\n\nCritique: too vague.\n\nFinal version: Morning light sets your clock.",
    "**Initial draft:** Light is good.\n\n**Revised:** Morning light sets your clock.",
    "Here is a tweet about sleep:\n---\nMorning light sets your clock.\n---",
    "Morning light sets your clock.\n\n---\n\nThis post invites engagement by tying a habit to a benefit.",
    "Morning light sets your clock.\n\n---\n\n**Notes:**\n- Kept it short\n- No medical claims",
    '"Morning light sets your clock." — that\'s my suggestion!',
])
def test_one_draft_of_several_and_its_last_revision_are_the_answer(raw: str) -> None:
    assert read_answer(raw, thread=False).parts == ["Morning light sets your clock."]
    if "Version B" not in raw and "Option B" not in raw:  # a thread's drafts are not told from its parts
        assert read_answer(raw, thread=True).parts == ["Morning light sets your clock."]


@pytest.mark.parametrize("text", [
    "Take: 10 minutes of sun.\nBetter: 20 minutes outside.",  # a post's own pair of labels, no draft announced
    "Good: coffee at 8.\nFinal: no coffee after 2pm.",
])
def test_a_posts_own_labels_are_no_revision(text: str) -> None:
    assert read_answer(text, thread=False).parts == [text]


@pytest.mark.parametrize("raw, thread, parts", [
    ('{"text": "Morning light sets your clock.",}', False, ["Morning light sets your clock."]),
    ("{'text': 'Morning light sets your clock.'}", False, ["Morning light sets your clock."]),
    ('{"parts": ["Light sets your clock.", "Go outside, early.",],}', True,
     ["Light sets your clock.", "Go outside, early."]),
    ("{'parts': ['It\\'s light.', \"Go out, early.\"]}", True, ["It's light.", "Go out, early."]),
])
def test_json_with_a_trailing_comma_or_python_quotes_is_read(raw: str, thread: bool, parts: list[str]) -> None:
    assert read_answer(raw, thread=thread).parts == parts


@pytest.mark.parametrize("raw", [
    # Refused as structured data in a demo (2026-12-07): a label over the object.
    '**reply:**\n\n{"text": "Water has no calories."}', 'Tweet:\n{"text": "Water has no calories."}',
    '**Final answer:** {"text": "Water has no calories."}',
])
def test_json_under_a_label_is_read(raw: str) -> None:
    assert read_answer(raw, thread=False).parts == ["Water has no calories."]


def test_json_after_words_of_the_text_is_not_read_as_the_answer() -> None:
    assert read_answer('Sleep tip: {"text": "x"}', thread=False).parts == ['Sleep tip: {"text": "x"}']


@pytest.mark.parametrize("raw", [
    # Reply answers (2026-12-07): the old reply convention, a lead that says the answer might do, a label with a
    # word before "reply", an alternative or the reasoning under the answer.
    "Replying to @sleepdoc: Totally agree, morning light is underrated.",
    "@sleepdoc Totally agree, morning light is underrated.",
    "Something like this could work:\n\nTotally agree, morning light is underrated.",
    "A good reply would be: Totally agree, morning light is underrated.",
    "My reply: Totally agree, morning light is underrated.",
    "**Supportive reply:** Totally agree, morning light is underrated.",
    "Totally agree, morning light is underrated.\n\nAlternatively:\nLight first, coffee second.",
    "Totally agree, morning light is underrated.\n\nOr, shorter: Light first, coffee second.",
    "Totally agree, morning light is underrated.\n\n---\nReasoning: the author is a sleep doctor; agreeing helps.",
])
def test_leads_labels_and_alternatives_around_a_reply_go(raw: str) -> None:
    assert read_answer(raw, thread=False, titled=False).parts == ["Totally agree, morning light is underrated."]


@pytest.mark.parametrize("text", [
    "@scamcoin is great",  # a mention inside the sentence: the gates refuse it
    "Walk after meals.\n\nOr, even better: walk before them.",
    "Skip the nap.\n\nAlternatively: nap before 3pm.",
    "Eat slowly.\n\nStrategy: protein first.",
])
def test_a_texts_own_mentions_and_labels_stay(text: str) -> None:
    assert read_answer(text, thread=False, titled=False).parts == [text]


@pytest.mark.parametrize("raw", [
    "Light sets your body clock.\n\n•••\n\nTen minutes outside is enough.\n\n•••\n\nDo it before screens.",
    "Light sets your body clock.\n\n* * *\n\nTen minutes outside is enough.\n\n* * *\n\nDo it before screens.",
    "Tweet one: Light sets your body clock.\nTweet two: Ten minutes outside is enough.\nTweet three: Do it before "
    "screens.",
])
def test_parts_between_dot_rules_or_numbered_in_words_are_the_threads(raw: str) -> None:
    assert read_answer(raw, thread=True, wanted=3).parts == [
        "Light sets your body clock.", "Ten minutes outside is enough.", "Do it before screens."]


@pytest.mark.parametrize(("raw", "clean"), [
    # 2026-12-07: what an answer carries of the way it travelled (X would show each as typed)
    ("Sleep &amp; light go together. Don&#39;t skip mornings.", "Sleep & light go together. Don't skip mornings."),
    ("Morning light\u200b sets your\u200b clock.", "Morning light sets your clock."),
    ("\ufeffMorning\u00a0light sets your clock.", "Morning light sets your clock."),
    ("Morning light sets your clock.<br>Try it tomorrow.", "Morning light sets your clock.\nTry it tomorrow."),
    ("Morning light sets your clock.\\n\\nTry it tomorrow.", "Morning light sets your clock.\n\nTry it tomorrow."),
    ('{"text": "Morning light sets your clock.\\\\nTry it tomorrow."}',
     "Morning light sets your clock.\nTry it tomorrow."),
])
def test_entities_escapes_and_invisible_characters_are_decoded(raw: str, clean: str) -> None:
    assert read_answer(raw, thread=False).parts == [clean]


def test_a_thread_split_by_escaped_line_breaks_is_split() -> None:
    raw = "Light sets your clock.\\n\\nTen minutes outside is enough.\\n\\nDo it before screens."
    assert read_answer(raw, thread=True, wanted=3).parts == [
        "Light sets your clock.", "Ten minutes outside is enough.", "Do it before screens."]


@pytest.mark.parametrize(("raw", "clean"), [
    # Posted in a demo (2026-12-07) as a double opening: a title in Markdown over a post that opens on its own.
    ("# Longevity: what to know\n\nThe research on longevity, in plain words: fitness was one of the strongest "
     "predictors of long-term survival.", "The research on longevity, in plain words: fitness was one of the "
                                          "strongest predictors of long-term survival."),
    ("🧠 ### Sleep: what to know\n\nA consistent bedtime and wake time, and a quiet, dark, cool bedroom, are core "
     "sleep habits.", "A consistent bedtime and wake time, and a quiet, dark, cool bedroom, are core sleep habits."),
    # a headline that says something is the hook; a heading ending in a colon introduces what follows
    ("**Gut health starts on your plate**\n\nAim for 30 different plants a week. Fruit, veg, nuts and seeds count.",
     "Gut health starts on your plate\n\nAim for 30 different plants a week. Fruit, veg, nuts and seeds count."),
    ("**Sleep myth:**\nYou need only 5 hours. Actually, adults need 7 or more hours of sleep a night.",
     "Sleep myth:\nYou need only 5 hours. Actually, adults need 7 or more hours of sleep a night."),
])
def test_a_title_over_a_post_goes_and_a_headline_stays(raw: str, clean: str) -> None:
    assert read_answer(raw, thread=False).parts == [clean]


@pytest.mark.parametrize("raw", [
    # 2026-12-07: a thread's hook under a key of its own was dropped (the thread posted from its second part); a
    # wrapper, numbered keys and parts as objects in a bare list were written again as structured data.
    '{"hook": "Light sets your body clock.", "tweets": ["Ten minutes outside is enough.", "Do it before screens."]}',
    '{"thread": {"tweets": ["Light sets your body clock.", "Ten minutes outside is enough.", "Do it before '
    'screens."]}}',
    '{"tweet_1": "Light sets your body clock.", "tweet_2": "Ten minutes outside is enough.", "tweet_3": "Do it '
    'before screens."}',
    '[{"text": "Light sets your body clock."}, {"text": "Ten minutes outside is enough."}, {"text": "Do it before '
    'screens."}]',
    '{"tweets": ["Light sets your body clock.", "Ten minutes outside is enough."], "cta": "Do it before screens."}',
])
def test_a_threads_pieces_under_keys_of_their_own_are_its_parts(raw: str) -> None:
    assert read_answer(raw, thread=True, wanted=3).parts == [
        "Light sets your body clock.", "Ten minutes outside is enough.", "Do it before screens."]


@pytest.mark.parametrize("raw", [
    '{"data": {"tweet": "Light sets your body clock."}}', '{"result": "Light sets your body clock."}',
    '{"Tweet": "Light sets your body clock."}',
])
def test_a_post_under_a_wrapper_or_another_key_is_read(raw: str) -> None:
    assert read_answer(raw, thread=False).parts == ["Light sets your body clock."]


def test_a_post_in_a_formulas_pieces_is_joined() -> None:
    raw = '{"hook": "Sleep debt is real.", "body": "An hour lost a night for a week is a night lost.", "cta": "Start ' \
          'tonight."}'
    assert read_answer(raw, thread=False).parts == [
        "Sleep debt is real.\n\nAn hour lost a night for a week is a night lost.\n\nStart tonight."]


# ---------------------------------------------------------------- the audit with a stand-in model (2026-12-08)
# One unknown lead shielded everything behind it; the edge rules now run together until nothing changes, and a
# short first paragraph that hands the text over is a lead whatever its words.

POST = "Metabolic health is a habit problem. A walk after dinner helps blood sugar settle."


@pytest.mark.parametrize("lead", [
    "Okay! I've drafted something punchy:", "Below you'll find the tweet you asked for.", "Alright, here goes:",
    "Certainly. Draft follows.", "This one should land well:", "Your post →",
    "I think this captures it:\n\nCaption:",  # a lead over a label over quotes
    "As an AI, I can't give medical advice, but:\n\nHappy to help with that! Here is the reply:",
])
def test_a_lead_the_rules_do_not_name_is_dropped_with_what_it_shielded(lead: str) -> None:
    assert clean_text(f"{lead}\n\n“{POST}”") == POST


@pytest.mark.parametrize("closing", [
    "This is not medical advice.", "*This is not medical advice.*", "Want a few more variations? Just say the word.",
    "Feel free to tweak it to fit your voice.", "Characters: 212/280",
    "Note: consult your doctor before making changes.\n\n#HealthTips #SelfCare",
])
def test_chat_under_the_text_is_dropped(closing: str) -> None:
    assert clean_text(f"{POST}\n\n{closing}") == POST
    assert clean_text(f"Certainly. Draft follows.\n\n«{POST}\n\n{closing}»") == POST  # inside the quotes too


def test_one_paragraph_in_quotes_between_chat_is_the_text() -> None:
    post = f"{POST} Ten minutes is enough, and it works better than any supplement people sell you."
    assert clean_text(f"Hmm, okay, trying a calmer angle\n\n“{post}”\n\nHow's that") == post


def test_a_thread_loses_chat_parts_at_its_ends_and_its_header() -> None:
    parts = ["Sleep debt is real.", "Light in the morning sets your clock.", "Start with one change."]
    raw = json.dumps({"parts": ["Below you'll find the tweet you asked for.", *parts,
                                "This tweet works because it opens with a hook and ends with an action."]})
    assert read_answer(raw, thread=True).parts == parts
    raw = json.dumps({"parts": ["As an AI, I can't give medical advice, but:", *parts, "Characters: 212/280"]})
    assert read_answer(raw, thread=True).parts == parts
    assert split_thread("Here you are — a longevity thread in the owner's voice:\n\n" + "\n\n".join(parts)) == parts
    assert split_thread("🧵 Thread:\n\n1/ " + "\n\n2/ ".join(parts[:2])) == parts[:2]
    assert split_thread("A thread\n1/ Sleep debt is real.\n2/ Light in the morning sets your clock.") == parts[:2]


def test_versions_under_one_label_are_alternatives_and_the_first_is_kept() -> None:
    raw = f"Version A — {POST}\n\nVersion B — Sleep is a skill. Practice it.\n\nI'd go with A."
    assert clean_text(raw) == POST
    # a post's own choices, in lower case, stay (blind set 13's control in the corpus)
    own = "Option A: coffee the second you wake up.\n\nOption B: water first.\n\nTry B for a week."
    assert clean_text(own) == own


def test_math_bold_letters_read_as_letters() -> None:
    assert clean_text("𝗖𝗹𝗼𝘀𝗲𝘀𝘁 to a habit: a walk after dinner.") == "Closest to a habit: a walk after dinner."


@pytest.mark.parametrize("bait", ["Save this for later.", "RT if you agree.", "Drop a 👇 below with your take!",
                                  "Follow for more tips!"])
def test_a_trailing_engagement_bait_sentence_is_dropped(bait: str) -> None:
    assert clean_text(f"{POST} {bait}") == POST
    padded = f"{POST} {bait} Small, consistent steps add up. Remember, everyone is different."
    assert fit_to_limit(clean_text(padded), 280) == POST  # bait under padding goes with it


def test_an_emoji_that_stands_for_a_word_stays() -> None:
    assert clean_text("Grab a 🍎 before the gym. Simple fuel works.") == "Grab a 🍎 before the gym. Simple fuel works."


def test_smaller_habits_of_the_audit() -> None:
    assert "<add source here>" in (malformed_reason("Sleep debt is real <add source here>.") or "")
    assert clean_text(f"Tweet → {POST}") == POST


@pytest.mark.parametrize("text", [
    "Here's the thing:\n\nMost people don't need a new plan. They need a bedtime.",
    "Here's why:\nDaylight in the morning sets your body clock.",
    "5 things I learned about sleep:\n\nWake at the same time. Get morning light.",
    "I post this every year:\n\nSleep is not optional.",
    "What's your go-to way to switch off after a stressful day?",
    "Sleep debt is real. Follow it for a month: same wake time, morning light.",
    "Share a meal with friends this week. It counts as stress relief.",
    "My coach said:\n\n“Sleep first, train second.”\n\nShe was right, and it took me ten years to listen.",
])
def test_clean_texts_that_look_like_chat_come_through_unchanged(text: str) -> None:
    assert clean_text(text) == text


def test_a_threads_hook_ending_in_a_colon_with_its_content_is_kept() -> None:
    parts = ["Most sleep advice misses one thing. Here's why:\nYour body clock runs on light, not willpower.",
             "Get daylight within an hour of waking.", "Keep the same wake time on weekends."]
    assert split_thread("\n\n".join(parts)) == parts
    assert read_answer(json.dumps({"parts": parts}), thread=True).parts == parts
