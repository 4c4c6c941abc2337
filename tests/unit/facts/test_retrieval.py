"""Choosing the facts a prompt carries."""

import random

import numpy as np
import pytest

from libs.facts import FactIndex, prompt_lines
from libs.niche import FactsConfig


def test_topic_facts_are_verified_and_on_topic(book, lexical_embedder):
    index = FactIndex(book, lexical_embedder)
    facts = index.for_topic("sleep", k=50)
    assert facts and all(f.topic == "sleep" and f.verified for f in facts)
    assert len(index.for_topic("sleep")) == FactsConfig().per_prompt
    unverified_sleep = {f.id for f in book.facts if f.topic == "sleep" and not f.verified}
    assert unverified_sleep and not unverified_sleep & {f.id for f in facts}
    everything = FactIndex(book, lexical_embedder, FactsConfig(use_unverified=True)).for_topic("sleep", k=50)
    assert unverified_sleep <= {f.id for f in everything}


def test_topic_sampling_varies_with_the_rng(book, lexical_embedder):
    index = FactIndex(book, lexical_embedder)
    draws = {tuple(f.id for f in index.for_topic("heart_health", k=3, rng=random.Random(seed))) for seed in range(8)}
    assert len(draws) > 1


@pytest.fixture(scope="module")
def model_index(book, model_embedder) -> FactIndex:
    return FactIndex(book, model_embedder)


@pytest.mark.parametrize(
    ("tweet", "expected"),
    [
        ("I can't sleep if I have coffee after lunch. Anyone else?", "sleep-caffeine-six-hours"),
        ("How much water do you actually need per day? 8 glasses seems like a myth", "hydration-no-glass-rule"),
        ("My blood pressure is high, doctor says cut salt", "heart-who-salt-hypertension"),
        ("Started walking 10k steps a day and I feel amazing", "exercise-10000-steps-evidence"),
    ],
)
def test_reply_facts_are_the_ones_closest_to_the_tweet(model_index, tweet, expected):
    found = model_index.for_text(tweet, k=3)
    assert expected in [s.fact.id for s in found]
    assert [s.similarity for s in found] == sorted((s.similarity for s in found), reverse=True)


def test_an_off_niche_tweet_gets_no_facts(model_index):
    assert model_index.for_text("The new iPhone camera is incredible") == []


def test_lexical_fallback_finds_the_obvious_match(book, lexical_embedder):
    # Word overlap ranks every blood-pressure fact close together; what matters is that a reply prompt (it carries
    # per_prompt facts) gets the one about salt.
    found = FactIndex(book, lexical_embedder).for_text("My blood pressure is high, doctor says cut salt",
                                                       k=FactsConfig().per_prompt)
    assert "heart-who-salt-hypertension" in [s.fact.id for s in found]


def test_unknown_embedder_kind_is_a_clear_error(book):
    class Tiny:
        kind = "tiny"
        dim = 2

        def embed(self, texts):
            return np.ones((len(texts), 2), dtype=np.float32)

        def embed_one(self, text):
            return np.ones(2, dtype=np.float32)

        embed_stored = embed

    with pytest.raises(ValueError, match="no fact relevance threshold for embedder kind 'tiny'"):
        FactIndex(book, Tiny()).for_text("coffee and sleep")


def test_prompt_lines_carry_the_source(book):
    lines = prompt_lines([book.get("sleep-aasm-seven-hours"), book.get("sleep-nhlbi-cycles")])
    assert lines[0].startswith("[1] Adults should sleep 7 or more hours") and "2015" in lines[0]
    assert lines[1].startswith("[2] ") and "National Heart, Lung, and Blood Institute" in lines[1]


def test_facts_the_account_stated_lately_come_last(book, lexical_embedder):
    index = FactIndex(book, lexical_embedder)
    on_topic = index.for_topic("sleep", k=50)
    stated = on_topic[:3]
    # Recent posts that restate three of the topic's facts: a fresh draw offers the others first.
    recent = lexical_embedder.embed([f"{f.claim} {f.quote}" for f in stated])
    for seed in range(5):
        offered = index.for_topic("sleep", k=len(on_topic) - 3, rng=random.Random(seed), stated=recent)
        assert not {f.id for f in stated} & {f.id for f in offered}
    assert {f.id for f in index.for_topic("sleep", k=50, stated=recent)[-3:]} == {f.id for f in stated}


def test_fresh_only_leaves_out_facts_a_recent_post_states(book, model_embedder):
    index = FactIndex(book, model_embedder)
    on_topic = index.for_topic("sleep", k=50)
    # One fact stated in a post (a lead-in and the source around it): not offered again within the window.
    post = model_embedder.embed([f"Worth knowing: {on_topic[0].claim} ({on_topic[0].source})"])
    fresh = index.for_topic("sleep", k=50, stated=post, fresh_only=True)
    assert {f.id for f in fresh} == {f.id for f in on_topic[1:]}
    # Without fresh_only it is still offered, last.
    assert index.for_topic("sleep", k=50, stated=post)[-1].id == on_topic[0].id


def test_facts_recent_threads_carry_word_for_word_come_last(book, lexical_embedder):
    index = FactIndex(book, lexical_embedder)
    on_topic = index.for_topic("sleep", k=50)
    thread = f"Sleep, in three parts.\nEvidence first: {on_topic[1].claim}\nPick one habit."
    for seed in range(3):
        for fresh_only in (False, True):
            offered = index.for_topic("sleep", k=50, rng=random.Random(seed), stated_texts=[thread],
                                      fresh_only=fresh_only)
            assert len(offered) == len(on_topic) and offered[-1].id == on_topic[1].id


def test_a_prompt_gets_the_facts_our_tweets_stated_least(book):
    from libs.facts import least_stated

    a, b, c, d = [f for f in book.facts if f.topic == "sleep" and f.verified][:4]
    tweets = [f"On sleep: {a.claim}", f"Worth adding: {a.claim}", f"Sleep matters. {b.claim}", f"On it: {c.claim}",
              f"{c.claim} ({c.source})"]
    # Unstated facts first, and only those while there are some.
    assert least_stated([a, b, c, d], tweets, 3) == [d]
    # Every one stated: the fewest times first, the given (closest first) order among equals.
    assert least_stated([a, b, c], tweets, 2) == [b, a]
    assert least_stated([c, b, a], tweets, 3) == [b, c, a]


def test_the_facts_a_noted_post_rested_on_are_never_offered_again(book, model_embedder):
    """A post X shows a Community Note under stated one fact in other words and another word for word: stated_by
    names those two (and no other fact of the topic), and neither is offered for a post or a reply again."""
    index = FactIndex(book, model_embedder)
    on_topic = index.for_topic("sleep", k=50)
    first, second = on_topic[0], on_topic[1]
    post = (f"Worth knowing: {first.claim.rstrip('.')}, according to {first.source}.\n"
            f"And one more thing, word for word: {second.claim}")
    disputed = index.stated_by([post])
    assert disputed == {first.id, second.id}, disputed
    assert index.stated_by([]) == frozenset()
    offered = index.for_topic("sleep", k=50, exclude=disputed)
    assert {f.id for f in offered} == {f.id for f in on_topic[2:]}
    assert not disputed & {s.fact.id for s in index.for_text(first.claim, k=50, exclude=disputed)}
    assert first.id in {s.fact.id for s in index.for_text(first.claim, k=50)}  # without exclude: the closest


def test_a_prompt_line_names_the_year_once(book):
    # A source that names its year already ("Lancet Public Health 2022") got ", 2022" after it, and the model
    # copied "(…, Lancet Public Health 2022, 2022)" into posts of the demo.
    named = [f for f in book.facts if f.year is not None and str(f.year) in f.source]
    unnamed = [f for f in book.facts if f.year is not None and str(f.year) not in f.source]
    assert named and unnamed
    for fact in named + unnamed:
        line = fact.citation()
        year = str(fact.year)
        assert line.count(year) == max(1, fact.source.count(year)) + fact.claim.count(year), line
