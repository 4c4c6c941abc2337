"""The realistic text endpoint's writer: the brief read from prose alone, and real models' habits at the
documented rates, each planted defect reported."""

from __future__ import annotations

import random
import re
from collections import Counter

import pytest

from sandbox.habits import HabitRates, RealisticWriter, read_brief


def msgs(user: str, system: str = "You write posts for a health account.") -> list[dict]:
    return [{"role": "system", "content": system}, {"role": "user", "content": user}]


def test_the_brief_comes_from_the_prose_not_the_header_lines() -> None:
    # The header lines say sleep and post; the prose says a 5-part thread on gut health: the prose wins,
    # because a real model reads prose (the template mode reads the headers).
    brief = read_brief(msgs("kind: post\ntopic: sleep\nmax_chars: 100\n\nWrite a thread of exactly five parts, each "
                            "at most 250 characters.\nTopic: gut health. Correct a common myth."))
    assert (brief.kind, brief.topic, brief.parts, brief.max_chars, brief.content_type) == (
        "thread", "gut_health", 5, 250, "myth_busting")


def test_a_reply_brief_takes_the_tweet_and_a_rewrite_names_what_to_fix() -> None:
    brief = read_brief(msgs("<tweet>Cold showers fixed my stress.</tweet>\nWrite one reply of at most 200 "
                            "characters.\nYour previous draft was rejected: refusal: the model refused. Write a new "
                            "one.\nRejected draft:\nI'm sorry, but I can't."))
    assert (brief.kind, brief.topic, brief.max_chars, brief.fix) == ("reply", "stress", 200, "refusal")
    assert brief.tweet == "Cold showers fixed my stress."


def test_facts_listed_in_the_prompt_are_what_the_text_is_written_from() -> None:
    writer = RealisticWriter(rates=HabitRates(**{f: 0.0 for f in HabitRates().as_dict()}))
    answer = writer.answer(msgs("Write one post of at most 260 characters about sleep.\nFacts you may state:\n"
                                "- Teenagers need 8 to 10 hours of sleep a night.\n"), random.Random(1))
    assert "Teenagers need 8 to 10 hours of sleep a night." in answer.content and not answer.defects


FACTS_PROMPT = ("Write one post of at most 260 characters about sleep.\nFacts you may state (state only these):\n"
                "[1] Adults should sleep 7 or more hours a night. (American Academy of Sleep Medicine (AASM), "
                "consensus statement, 2015)\n")


def test_a_given_fact_keeps_its_source_apart_from_the_claim() -> None:
    writer = RealisticWriter(rates=HabitRates(**{f: 0.0 for f in HabitRates().as_dict()}))
    for seed in range(20):
        text = writer.answer(msgs(FACTS_PROMPT), random.Random(seed)).content
        assert "Adults should sleep 7 or more hours a night." in text
        # The source is cited as a source (or left out), never as an empty "The study: ." or a doubled bracket.
        assert "()" not in text and ": ." not in text and "2015))" not in text


def test_answering_from_its_own_knowledge_states_figures_the_prompt_did_not_give() -> None:
    rates = HabitRates(**{f: 0.0 for f in HabitRates().as_dict()})
    rates.update({"ignores_facts": 1.0})
    writer = RealisticWriter(rates=rates)
    for seed in range(20):
        answer = writer.answer(msgs(FACTS_PROMPT), random.Random(seed))
        assert [d.habit for d in answer.defects] == ["ignores_facts"]
        assert answer.defects[0].value in answer.content
        assert "Adults should sleep 7 or more hours" not in answer.content
        assert re.search(r"\d", answer.defects[0].value) and "7 or more" not in answer.defects[0].value
    # Told that its draft stated what the facts do not, it mostly keeps to them.
    fixed = [writer.answer(msgs(FACTS_PROMPT + "\nYour previous draft was rejected: It stated a number, study or "
                                "institution that is not among the facts given."), random.Random(s)).defects
             for s in range(40)]
    assert 0 < sum(1 for d in fixed if d) < 25


def test_default_rates_are_met_and_every_defect_is_reported() -> None:
    writer = RealisticWriter()
    rng = random.Random(7)
    n = 1500
    seen: Counter[str] = Counter()
    for i in range(n):
        user = ("Write a thread of exactly 4 parts, each at most 272 characters." if i % 3 == 0
                else "Write one post of at most 260 characters.") + "\nTopic: sleep. Give one specific, safe habit."
        answer = writer.answer(msgs(user), rng)
        seen.update({d.habit for d in answer.defects})
        for d in answer.defects:
            if d.check == "contains":
                assert d.value in answer.content, (d, answer.content)
    rates = {h: seen[h] / n for h in seen}
    # The floors: preambles and invented statistics in at least 10% of answers, refusals in 3%.
    assert rates["preamble"] >= 0.10 and rates["invented_stat"] >= 0.10 and rates["refusal"] >= 0.03
    defaults = HabitRates()
    for habit in ("preamble", "invented_stat", "refusal", "emoji", "hashtags", "reasoning", "quotes"):
        # Habits are drawn only when the answer is not a refusal.
        expected = getattr(defaults, habit) * (1 if habit == "refusal" else 1 - defaults.refusal)
        assert rates[habit] == pytest.approx(expected, abs=0.03), habit


def test_typographic_apostrophes_come_at_their_rate_and_leave_the_other_habits_alone() -> None:
    user = "Write one post of at most 260 characters.\nTopic: sleep. Give one specific, safe habit."
    apostrophe = re.compile(r"(?<=\w)['’](?=\w)")

    def answers(rate: float) -> list[str]:
        rates = HabitRates()
        rates.update({"typographic": rate, "refusal": 0.5, "preamble": 0.5})  # more words with apostrophes
        writer, rng = RealisticWriter(rates=rates), random.Random(11)
        return [writer.answer(msgs(user), rng).content or "" for _ in range(600)]

    default = [a for a in answers(HabitRates().typographic) if apostrophe.search(a)]
    curled = sum("’" in a for a in default) / len(default)
    assert len(default) > 200 and curled == pytest.approx(0.3, abs=0.06)
    assert not any("’" in a and re.search(r"(?<=\w)'(?=\w)", a) for a in default)  # one kind per answer
    straight, typed = answers(0.0), answers(1.0)
    assert typed != straight and [a.replace("’", "'") for a in typed] == straight


def test_rates_can_be_changed_and_are_checked() -> None:
    rates = HabitRates()
    rates.update({"preamble": 1.0})
    assert rates.preamble == 1.0
    with pytest.raises(ValueError, match="unknown habit"):
        rates.update({"typos": 0.1})
    with pytest.raises(ValueError, match="within 0..1"):
        rates.update({"emoji": 1.5})


def test_frames_vary_and_the_openings_listed_as_recent_are_mostly_avoided() -> None:
    """A model words a post's frame afresh, and a "do not reuse these openings" list is followed most of the time;
    the listed posts' words are not read as the brief (a listed post on sleep does not make this one about sleep)."""
    quiet = RealisticWriter(rates=HabitRates(**{f: 0.0 for f in HabitRates().as_dict()}))
    ask = ("Write one post of at most 260 characters.\nTopic: stress. Share one striking number from the facts "
           "given and what it implies.\nFacts you may state (state only these):\n[1] Physical activity for stress "
           "can be broken into 20 to 30 minutes a day. (CDC, Coping with Stress)\n")
    rng = random.Random(7)
    free = Counter(quiet.answer(msgs(ask), rng).content.split("\n")[0] for _ in range(200))
    assert len(free) >= 4  # several frames, not one per content type
    listed = msgs(ask + "Openings of the account's recent posts (do not reuse them):\n"
                  + "\n".join(f"<recent>{o} Sleep framework myth.</recent>" for o, _ in free.most_common(2)))
    assert read_brief(listed).topic == "stress" and read_brief(listed).content_type == "data_insight"
    avoided = [quiet.answer(listed, rng).content.split("\n")[0] for _ in range(200)]
    reused = sum(1 for o in avoided if o in dict(free.most_common(2)))
    assert reused / len(avoided) < 0.2, reused  # 85% follow the list (AVOID_RECENT), 2 of 4 frames remain
    # Their wording on another topic is avoided as well ("do not reuse them or their wording", 2026-12-07: a demo's
    # hooks repeated "How I stopped guessing about sleep:" as "… about stress:", which X shows to fewer people).
    on_sleep = [o.replace("stress", "sleep").replace("Stress", "Sleep") for o, _ in free.most_common(2)]
    listed = msgs(ask + "Openings of the account's recent posts (do not reuse them or their wording):\n"
                  + "\n".join(f"<recent>{o}</recent>" for o in on_sleep))
    avoided = [quiet.answer(listed, rng).content.split("\n")[0] for _ in range(200)]
    reused = sum(1 for o in avoided if o in dict(free.most_common(2)))
    assert reused / len(avoided) < 0.2, reused


def test_an_over_long_answer_logs_each_filler_it_added() -> None:
    rates = HabitRates()
    rates.update({name: 0.0 for name in rates.as_dict()} | {"over_long": 1.0})
    answer = RealisticWriter(rates=rates).answer(msgs("Write one post of at most 260 characters.\nTopic: sleep."),
                                                 random.Random(3))
    fillers = [d.value for d in answer.defects if d.habit == "over_long" and d.check == "contains"]
    assert len(fillers) >= 2 and all(f in answer.content for f in fillers)


def test_the_planners_prompt_is_read_as_its_topic_and_content_type_not_its_context() -> None:
    """The planner's own post prompt names the topic and the content type, then gives context: the choices that
    worked best so far (another topic and type) and a fact that mentions sleep. A model writes what it was asked
    for. The brief reader before 2026-12-05 took the first of the topics' list found anywhere (sleep) and the first
    of the types' list (myth_busting, from "content_type=myth_busting"): in a browser week 61 % of the posts the
    world judged were on another topic than the planner chose, and so were the learner's rewards."""
    from libs.contracts.events import Choice
    from libs.facts.model import Fact
    from libs.niche import load_niche
    from services.planner.prompts import post_messages

    fact = Fact(id="sleep-restriction-insulin", topic="metabolic_health", source="A journal", date="2010",
                claim="Restricting sleep to 5 hours a night for 1 week reduced insulin sensitivity in healthy men.",
                quote="Restricting sleep to 5 hours a night for 1 week reduced insulin sensitivity in healthy men.",
                url="https://example.org/a", verified=True, check="source_page", checked_against="https://example.org/a")
    insights = {"best": ["content_type=myth_busting (+0.10)", "topic=sleep (+0.12)", "hour=9 (+0.05)"]}
    for content_type in ("question", "story", "data_insight", "framework"):
        choice = Choice(content_type=content_type, topic="metabolic_health", format="single", hour=9)
        brief = read_brief(post_messages(choice, load_niche(), insights=insights, facts=[fact]))
        assert (brief.topic, brief.content_type) == ("metabolic_health", content_type)
    # A thread named after the instruction is context too (a demo's post prompt listed "format=thread" among the
    # choices that worked best, and the writer answered a numbered thread).
    prompt = msgs("Write one post of at most 260 characters.\nTopic: exercise.\nChoices that worked best so far: "
                  "topic=sleep (+0.41); format=thread (+0.02).")
    assert read_brief(prompt).kind == "post"
    assert read_brief(msgs("Write a thread of exactly 4 parts.\nTopic: exercise.")).kind == "thread"


def test_a_decoding_loop_says_the_last_sentence_again_and_is_logged() -> None:
    rates = HabitRates()
    rates.update({"loops": 1.0})
    writer, rng = RealisticWriter(rates=rates), random.Random(3)
    user = "Write one post of at most 260 characters.\nTopic: sleep. Give one specific, safe habit."
    looped = 0
    for _ in range(40):
        answer = writer.answer(msgs(user), rng)
        for d in answer.defects:
            if d.habit == "loops":
                looped += 1
                assert d.check == "twice" and answer.content.lower().count(d.value.lower()) >= 2, answer.content
    assert looped >= 20  # every answer that has a sentence of four words and no preamble around it


def test_a_post_frame_is_worded_afresh_whole() -> None:
    # Cut at its colon, "Unpopular opinion: most sleep hacks are overrated." came back as the new frame followed by
    # the old one's words ("… overrated. most sleep hacks are overrated.").
    rates = HabitRates()
    rates.update({name: 0.0 for name in rates.as_dict()})
    writer, rng = RealisticWriter(rates=rates), random.Random(5)
    user = ("Write one post of at most 260 characters.\nTopic: sleep. Push back on popular advice with evidence, "
            "without sneering.")
    for _ in range(60):
        text = writer.answer(msgs(user), rng).content
        said = [s.strip().lower() for s in re.split(r"(?<=[.!?:])\s+", text) if len(s.split()) >= 4]
        assert len(said) == len(set(said)), text


def test_a_news_angle_is_written_about_naming_its_source_unless_ignored() -> None:
    """Asked to write about a news item and name its source, the writer does (the sandbox's writer ignored the
    <news> block in every news post of a demo before 2026-12-06), except at the ignores_angle rate, logged as the
    source's name lacking."""
    user = ("Write one post of at most 260 characters.\nTopic: sleep. Give one specific, safe habit.\n"
            "Facts you may state (state only these):\n[1] Teenagers need 8 to 10 hours of sleep a night. (CDC, 2020)\n"
            "Angle: recent news from Sandbox Journal (2026-12-05). Write the post about this news and name Sandbox "
            "Journal as the source.\nNews fact (state it only as the source says it): <news>Alcohol disrupts sleep "
            "in the second half of the night. (Sandbox Journal, 2026)</news>")
    quiet = {f: 0.0 for f in HabitRates().as_dict()}
    followed = RealisticWriter(rates=HabitRates(**quiet)).answer(msgs(user), random.Random(1))
    assert "Alcohol disrupts sleep in the second half of the night. (Sandbox Journal)" in followed.content
    ignored = RealisticWriter(rates=HabitRates(**{**quiet, "ignores_angle": 1.0})).answer(msgs(user), random.Random(1))
    assert "Sandbox Journal" not in ignored.content and "Teenagers" in ignored.content
    assert [(d.habit, d.check, d.value) for d in ignored.defects] == [("ignores_angle", "lacks", "Sandbox Journal")]


@pytest.mark.parametrize(("habit", "low", "high"), [("endorses", 18, 42), ("advises", 15, 45)])
def test_a_reply_to_a_false_claim_or_a_personal_question_goes_along_with_it_at_its_rate(habit, low, high) -> None:
    """2026-12-07: answering the population's misinformation posts, the writer agrees first in half its replies
    (habit ``endorses``); answering a question about the asker's own care, it advises in 60 % (``advises``); each
    logged; answering an ordinary post it does neither."""
    from sandbox.conversations import PERSONAL_QUESTIONS
    from sandbox.habits import ADVICE, ENDORSEMENTS
    from sandbox.population import MISINFORMATION_POSTS

    tweet, planted = {"endorses": (MISINFORMATION_POSTS[8], ENDORSEMENTS),
                      "advises": (PERSONAL_QUESTIONS[2], ADVICE)}[habit]
    writer, rng = RealisticWriter(), random.Random(11)

    def went_along(tweet: str) -> int:
        n = 0
        for _ in range(60):
            answer = writer.answer(msgs(f"<tweet>{tweet}</tweet>\nWrite one reply of at most 220 characters."), rng)
            logged = [d for d in answer.defects if d.habit == habit]
            assert all(d.value in answer.content for d in logged)
            n += bool(logged)
            typed = answer.content.replace("’", "'")  # the typographic habit's apostrophes
            assert bool(logged) == any(e in typed for e in planted), answer.content
        return n

    assert low <= went_along(tweet) <= high
    assert went_along("A ten minute walk after dinner does more for blood sugar than most supplements.") == 0
