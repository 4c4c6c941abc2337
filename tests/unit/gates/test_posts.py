import re
from datetime import UTC, datetime, timedelta

import numpy as np
import pytest
from pydantic import ValidationError

from libs.text import Embedder, content_hash
from libs.niche import NicheConfig, load_niche
from libs.gates import (
    OwnPost, RecentPosts, check_banned, check_exact_duplicate, check_length, check_medical_safety,
    check_near_duplicate, check_readability, check_repeated_tweets, check_topic_freshness, check_word_overlap,
    flesch_reading_ease, gate_post,
)

CONFIG = load_niche()
NOW = datetime(2025, 3, 1, 12, tzinfo=UTC)
GOOD = "Most adults need seven to nine hours of sleep. Keep the same wake time every day, even on weekends."


# ---------------------------------------------------------------- length

def test_length_passes() -> None:
    assert check_length([GOOD], "post", CONFIG) is None
    assert check_length(["a" * 280], "post", CONFIG) is None
    assert check_length(["part one", "part two", "part three"], "thread", CONFIG) is None
    assert check_length(["x" * 220], "reply", CONFIG) is None


@pytest.mark.parametrize(
    ("parts", "kind", "needle"),
    [
        (["a" * 281], "post", "281"),
        (["睡" * 141], "post", "282"),  # CJK counts double
        (["one", "two"], "thread", "2 parts"),
        (["p"] * 7, "thread", "7 parts"),
        (["ok", "ok", "b" * 281], "thread", "part 3"),
        (["x" * 221], "reply", "221"),
        ([""], "post", "empty"),
        (["one", "two"], "post", "one part"),
    ],
)
def test_length_fails(parts, kind, needle) -> None:
    r = check_length(parts, kind, CONFIG)
    assert r is not None and r.gate == "length" and needle in r.reason


def test_a_url_counts_23_towards_length() -> None:
    text = "a" * 250 + " https://example.com/" + "x" * 100
    assert check_length([text], "post", CONFIG) is None


# ---------------------------------------------------------------- banned and hashtags

def test_banned_passes() -> None:
    assert check_banned(GOOD + " #sleep", CONFIG) is None


@pytest.mark.parametrize(
    ("text", "gate"),
    [
        ("This one weird trick fixes your sleep", "banned"),
        ("Doctors HATE this: sleep more", "banned"),
        ("Thoughts on cryptocurrency and stress", "banned"),
        ("Sleep better #sleep #health", "hashtags"),
        ("Sleep better #fyp", "hashtags"),
        # passed until 2026-12-06 (a blind probe: politics by its people and bodies, vaccines by another name)
        ("RFK Jr. is right about seed oils.", "banned"), ("Trump's new health plan cuts sleep research.", "banned"),
        ("Thanks to Obamacare, more people can see a doctor.", "banned"),
        ("Parliament just voted on the soda tax.", "banned"),
        ("The FDA under this administration has gutted nutrition labelling.", "banned"),
        ("Covid jabs and sleep: what we know.", "banned"), ("I got my COVID-19 booster and slept 10 hours.", "banned"),
    ],
)
def test_banned_fails(text: str, gate: str) -> None:
    r = check_banned(text, CONFIG)
    assert r is not None and r.gate == gate


@pytest.mark.parametrize("text", ["Labour pain is real; breathing helps.", "A mood booster: ten minutes outside.",
                                  "The right amount of sleep varies.", "Labour's first stage can last hours."])
def test_words_that_only_sound_political_pass(text: str) -> None:
    assert check_banned(text, CONFIG) is None


def test_replies_allow_no_hashtag() -> None:
    assert check_banned("Sleep better #sleep", CONFIG, kind="reply").gate == "hashtags"


# ---------------------------------------------------------------- medical safety

@pytest.mark.parametrize(
    "text",
    [
        GOOD,
        "No supplement cures anxiety. Sleep, movement and people do more.",
        "A 2019 trial gave 3 g of omega-3 to 100 adults. Blood pressure fell a little.",
        "Drink water when you are thirsty; most people need no rule.",
        "Curious why you wake at 3 am? Blood sugar and stress hormones both play a part.",
        "People eating 25-29 g of fiber a day had lower mortality.",  # food guidance, not a dose
    ],
)
def test_medical_safety_passes(text: str) -> None:
    assert check_medical_safety(text) is None


@pytest.mark.parametrize(
    "text",
    [
        "Take 400 mg of magnesium before bed for deeper sleep.",
        "Melatonin: 10mg daily is the sweet spot.",
        "Stop taking your statins and eat more fat.",
        "This tea cures insomnia.",
        "Fasting reverses diabetes in 30 days.",
        "Guaranteed results in one week.",
        "Doctors don't want you to know about cold showers.",
        "Aim for 5000 IU of vitamin D a day.",
        "Take 5 g of creatine with breakfast.",
    ],
)
def test_medical_safety_fails(text: str) -> None:
    r = check_medical_safety(text)
    assert r is not None and r.gate == "medical_safety"


# ---------------------------------------------------------------- duplicates

def test_exact_duplicate() -> None:
    hashes = {content_hash(GOOD)}
    assert check_exact_duplicate(GOOD.upper() + "!!", hashes).gate == "duplicate"
    assert check_exact_duplicate("Something else entirely about gut health.", hashes) is None


@pytest.fixture(scope="module")
def embedder() -> Embedder:
    return Embedder(prefer="minilm_int8")


def test_near_duplicate_with_the_model(embedder: Embedder) -> None:
    old = "Morning sunlight sets your body clock and helps you fall asleep at night."
    para = "Getting sunlight in the morning sets your body clock, so you fall asleep more easily at night."
    other = "Fibre feeds the bacteria in your gut; beans and oats are cheap sources."
    recent = embedder.embed([old])
    threshold = CONFIG.gates.near_duplicate_threshold["minilm_int8"]
    assert check_near_duplicate(embedder.embed_one(para), recent, 0.8).gate == "near_duplicate"
    assert check_near_duplicate(embedder.embed_one(other), recent, threshold) is None
    assert check_near_duplicate(embedder.embed_one(old), recent, threshold).gate == "near_duplicate"


def test_near_duplicate_with_the_lexical_fallback() -> None:
    lex = Embedder(prefer="lexical")
    old = "Morning sunlight sets your body clock and helps you fall asleep at night."
    recent = lex.embed([old])
    t = CONFIG.gates.near_duplicate_threshold["lexical"]
    assert check_near_duplicate(lex.embed_one(old + " Really."), recent, t).gate == "near_duplicate"
    assert check_near_duplicate(lex.embed_one("Fibre feeds your gut bacteria."), recent, t) is None


def test_near_duplicate_ignores_an_empty_history() -> None:
    assert check_near_duplicate(np.ones(4) / 2, np.zeros((0, 1)), 0.9) is None


# ---------------------------------------------------------------- topic freshness

def test_topic_freshness() -> None:
    history = ["sleep", "stress", "sleep", "nutrition", "sleep"]
    assert check_topic_freshness("sleep", history, window=10, max_in_window=3).gate == "topic_freshness"
    assert check_topic_freshness("stress", history, window=10, max_in_window=3) is None
    # Old posts fall out of the window of the last M posts.
    assert check_topic_freshness("sleep", history + ["a"] * 8, window=10, max_in_window=3) is None


# ---------------------------------------------------------------- readability

def test_flesch_orders_easy_above_hard() -> None:
    easy = "Sleep is a habit. Go to bed at the same time. Wake at the same time."
    hard = ("Interindividual heterogeneity in circadian phenotypes necessitates personalised chronotherapeutic "
            "interventions considering polymorphisms affecting melatonin biosynthesis.")
    assert flesch_reading_ease(easy) > 80 > flesch_reading_ease(hard)


def test_readability_passes() -> None:
    assert check_readability(GOOD, CONFIG) is None


@pytest.mark.parametrize(
    "text",
    [
        "Interindividual heterogeneity in circadian phenotypes necessitates personalised chronotherapeutic "
        "interventions considering polymorphisms affecting melatonin biosynthesis.",
        " ".join(["sleep"] * 45) + ".",
        "!!! ???",
    ],
)
def test_readability_fails(text: str) -> None:
    r = check_readability(text, CONFIG)
    assert r is not None and r.gate == "readability"


# ---------------------------------------------------------------- all gates together

def test_gate_post_uses_only_the_last_30_days(embedder: Embedder) -> None:
    recent = RecentPosts()
    recent.add(OwnPost(GOOD, content_hash(GOOD), "stress", NOW - timedelta(days=31), embedder.embed_one(GOOD)))
    kwargs = dict(kind="post", topic="sleep", config=CONFIG, recent=recent, vector=embedder.embed_one(GOOD),
                  embedder_kind="minilm_int8", now=NOW)
    assert gate_post([GOOD], **kwargs) is None
    recent.add(OwnPost(GOOD, content_hash(GOOD), "stress", NOW - timedelta(days=2), embedder.embed_one(GOOD)))
    assert gate_post([GOOD], **kwargs).gate == "duplicate"


def test_every_part_of_a_thread_must_be_a_new_tweet() -> None:
    """X refuses a tweet that repeats one of ours; refused at part 3, a thread would stay half-posted."""
    recent = RecentPosts()
    recent.add_tweets(["Sleep is a skill.", "Caffeine has a half-life of about five hours."])
    fresh = ["Light at night delays melatonin.", "Dim the lights two hours before bed.", "Keep the room cool."]
    assert check_repeated_tweets(fresh, recent.tweet_hashes) is None
    # A part that repeats an earlier tweet of ours, up to case, spacing and punctuation.
    r = check_repeated_tweets(fresh[:2] + ["caffeine has a half-life of about  five hours"], recent.tweet_hashes)
    assert r is not None and r.gate == "duplicate" and "part 3" in r.reason
    # Two equal parts in one thread.
    r = check_repeated_tweets([fresh[0], fresh[1], fresh[0] + "!"], recent.tweet_hashes)
    assert r is not None and "part 3 repeats part 1" in r.reason


def test_a_tweet_sharing_most_of_its_words_with_one_of_ours_of_the_week_is_refused() -> None:
    """X shows near-duplicates of an account's recent tweets to fewer people: a demo lost reach on 27 of its 97
    posts' tweets to template closers ("Pick one sleep habit and keep it up." after "Pick one gut health habit and
    keep it up."), one hook frame four times a day and facts restated under another hook. Each part, against our
    tweets of the overlap window (7 days) and the parts before it; the reason names our tweet it repeats."""
    recent = RecentPosts()
    recent.add_tweets(["A sleep myth that will not die: Sleep is all about willpower. Here is what holds up:"],
                      at=NOW - timedelta(days=1))
    recent.add_tweets(["Takeaway: Pick one gut health habit and keep it up."], at=NOW - timedelta(days=3))
    old = "Magnesium before bed did no better than a placebo in the trial."
    recent.add_tweets([old], at=NOW - timedelta(days=9))  # out of the window
    window = recent.tweets_since(NOW - timedelta(days=CONFIG.gates.overlap_window_days))
    limit = CONFIG.gates.word_overlap_max
    r = check_word_overlap(["A stress myth that will not die: Stress is all about willpower. Here is what holds "
                            "up:"], window, limit)
    assert r is not None and r.gate == "overlap" and "'A sleep myth that will not die" in r.reason
    r = check_word_overlap(["Dim the lights two hours before bed.", "Takeaway: Pick one sleep habit and keep it "
                            "up."], window, limit)
    assert r is not None and r.reason.startswith("part 2 shares")
    # Reworded, or on the week-old tweet only: a new tweet.
    assert check_word_overlap(["Willpower is not what keeps a sleep schedule: a fixed wake time does."], window,
                              limit) is None
    assert check_word_overlap([old], window, limit) is None
    # Within the item: a thread whose closer repeats its own middle part.
    r = check_word_overlap(["Stress and sleep.", "Walk outside for ten minutes each morning.",
                            "Walk outside ten minutes each morning!"], window, limit)
    assert r is not None and r.reason.startswith("part 3") and "'Walk outside for ten" in r.reason
    # The gates run it, after the exact repeats.
    kwargs = dict(kind="post", topic="sleep", config=CONFIG, recent=recent, vector=None, embedder_kind="lexical",
                  now=NOW)
    assert gate_post(["A stress myth that will not die: Stress is all about willpower. Here is what holds up:"],
                     **kwargs).gate == "overlap"
    # The first tweet only: a later part that repeats ours is the planner's to leave out (where the thread keeps its
    # length), not a reason to rewrite the thread; it loses a part's reach.
    kwargs["kind"] = "thread"
    assert gate_post(["Three small things that steady a stress-heavy week.", "Walk ten minutes after lunch.",
                      "Takeaway: Pick one stress habit and keep it up."], **kwargs) is None


@pytest.mark.parametrize(
    ("section", "value", "named"),
    [
        ("gates", {"near_duplicate_threshold": {"lexical": 0.8}}, "missing ['minilm_int8']"),
        ("gates", {"near_duplicate_threshold": {"minilm": 0.9, "minilm_int8": 0.84, "lexical": 0.8}},
         "unknown ['minilm']"),
        ("replies", {"grounding_min_similarity": {"minilm_int8": 0.28}}, "missing ['lexical']"),
    ],
)
def test_similarity_thresholds_cover_exactly_the_embedder_kinds(section: str, value: dict, named: str) -> None:
    # A niche file written for the PyTorch model ("minilm") must stop the service, not fall back to a default.
    with pytest.raises(ValidationError, match=re.escape(named)):
        NicheConfig.model_validate({section: value})


def test_timed_tweets_are_forgotten_when_they_leave_the_window():
    recent = RecentPosts()
    t0 = datetime(2025, 1, 1, tzinfo=UTC)
    recent.add_tweets(["Sleep is a skill."], at=t0)
    recent.add_tweets(["Walk after dinner."], at=t0 + timedelta(days=20))
    recent.add_tweets(["Loaded from the windowed query."])  # no time: kept
    recent.forget_before(t0 + timedelta(days=10))
    assert check_repeated_tweets(["Sleep is a skill."], recent.tweet_hashes) is None
    assert check_repeated_tweets(["Walk after dinner."], recent.tweet_hashes) is not None
    assert check_repeated_tweets(["Loaded from the windowed query."], recent.tweet_hashes) is not None
