"""The template composer: lengths, kinds, on-topic text, clean replies, and a sourced fact bank."""

from __future__ import annotations

import random
import re
from collections import Counter

import pytest

from sandbox.audience import DEFAULT_CONTENT_TYPES, DEFAULT_TOPICS, AudienceModel
from sandbox.habits import read_brief
from sandbox.llm import parse_request
from sandbox.textgen import GENERIC_OPENERS, CompositionRequest, TextComposer, load_facts, reply_concept

EMOJI = re.compile("[\U0001f000-\U0001faff\u2600-\u27bf]")
TWEETS = [
    "Melatonin gummies are everywhere now. Do they actually work for jet lag?",
    "My resting heart rate dropped 8 beats after three months of zone 2 cardio.",
    "Hot take: most people are chronically dehydrated and don't know it.",
    "Kimchi every day for a month and my digestion has never been better.",
    "Nobody talks about how lonely remote work gets.",
    "Just finished a brutal deadlift session, legs are gone.",
    "Quarterly earnings season is here and the market is nervous.",
]


def test_fact_bank_is_large_sourced_and_covers_every_topic():
    facts = load_facts()
    assert len(facts) >= 60
    assert len({f.id for f in facts}) == len(facts)
    for fact in facts:
        assert fact.source and fact.url.startswith("https://")
        assert set(fact.topics) <= set(DEFAULT_TOPICS)
        assert len(fact.fact) <= 200
    per_topic = Counter(t for f in facts for t in f.topics)
    assert all(per_topic[t] >= 5 for t in DEFAULT_TOPICS)


@pytest.mark.parametrize("max_chars", [280, 200, 120])
def test_posts_fit_the_requested_length(max_chars):
    composer, rng = TextComposer(), random.Random(0)
    for content_type in DEFAULT_CONTENT_TYPES:
        for topic in DEFAULT_TOPICS:
            text = composer.post(content_type=content_type, topic=topic, max_chars=max_chars, rng=rng)
            assert 20 <= len(text) <= max_chars


def test_posts_read_as_the_requested_type_and_topic():
    composer, model, rng = TextComposer(), AudienceModel(0), random.Random(1)
    type_hits = topic_hits = total = 0
    for content_type in DEFAULT_CONTENT_TYPES:
        for topic in DEFAULT_TOPICS:
            for _ in range(3):
                choice = model.infer_choice(composer.post(content_type=content_type, topic=topic, rng=rng),
                                            hour=9, format="single")
                type_hits += choice.content_type == content_type
                topic_hits += choice.topic == topic
                total += 1
    assert type_hits / total > 0.9
    assert topic_hits / total > 0.8


def test_posts_vary():
    composer, rng = TextComposer(), random.Random(2)
    texts = {composer.post(content_type="practical_tip", topic="sleep", rng=rng) for _ in range(20)}
    assert len(texts) >= 4


@pytest.mark.parametrize("parts", [1, 3, 4, 6, 9])
def test_threads_have_three_to_six_parts_within_limits(parts):
    composer, rng = TextComposer(), random.Random(parts)
    for content_type in DEFAULT_CONTENT_TYPES:
        thread = composer.thread(content_type=content_type, topic="gut_health", parts=parts, max_chars=260, rng=rng)
        assert len(thread) == max(3, min(6, parts))
        assert all(0 < len(part) <= 260 for part in thread)
        assert len(set(thread)) == len(thread)
        assert thread[0].endswith(f"1/{len(thread)}")


def test_replies_are_short_clean_and_take_up_the_tweet():
    composer, rng = TextComposer(), random.Random(3)
    for tweet in TWEETS:
        for _ in range(5):
            reply = composer.reply(tweet=tweet, rng=rng)
            assert 0 < len(reply) <= 220
            assert "http" not in reply and "www." not in reply and "#" not in reply
            assert not EMOJI.search(reply)
            assert not reply.lower().startswith(GENERIC_OPENERS)
            _, concept, _ = reply_concept(tweet)
            assert concept in reply.lower() and concept in tweet.lower()


def test_reply_concept_finds_the_health_keyword():
    assert reply_concept(TWEETS[0])[:2] == ("sleep", "melatonin")
    assert reply_concept(TWEETS[3])[0] == "gut_health"
    topic, concept, on_topic = reply_concept(TWEETS[6])
    assert not on_topic and concept in TWEETS[6].lower()


def test_compose_dispatches_on_kind():
    composer, rng = TextComposer(), random.Random(4)
    assert len(composer.compose(CompositionRequest(kind="thread", parts=5), rng)) == 5
    assert len(composer.compose(CompositionRequest(kind="post"), rng)) == 1
    reply = composer.compose(CompositionRequest(kind="reply", tweet=TWEETS[1], max_chars=280), rng)
    assert len(reply) == 1 and len(reply[0]) <= 220


def test_prompt_convention_is_parsed_with_defaults():
    request = parse_request([
        {"role": "system", "content": "kind: post\ntopic: sleep"},
        {"role": "user", "content": "kind: thread\ncontent_type: Myth_Busting\ntopic: stress\nparts: 9\n"
                                    "max_chars: 250"},
    ])
    assert request == CompositionRequest(kind="thread", content_type="myth_busting", topic="stress", parts=6,
                                         max_chars=250)
    reply = parse_request([{"role": "user", "content": [{"type": "text", "text": "<tweet>Sleep is key</tweet>"}]}])
    assert (reply.kind, reply.tweet, reply.max_chars) == ("reply", "Sleep is key", 220)
    assert parse_request([{"role": "user", "content": "write something"}]) == CompositionRequest()


def test_a_question_in_our_conversation_is_answered_on_our_tweets_subject():
    # "Any tips for sticking with it past the first week?" under our exercise post: a model reads it in the
    # conversation; the writer answered "Related to tips: …" until 2026-12-07.
    ours = "Exercise: 150 minutes of activity a week is the baseline. Start small."
    question = "Any tips for sticking with it past the first week?"
    request = parse_request([{"role": "user", "content": f"Your tweet:\n<our_tweet>{ours}</our_tweet>\n\nThe reply "
                                                        f"it got:\n<tweet>{question}</tweet>"}])
    assert (request.tweet, request.context) == (question, ours)
    messages = [{"role": "user", "content": f"Your tweet:\n<our_tweet>{ours}</our_tweet>\n\nThe reply it got:\n"
                                            f"<tweet>{question}</tweet>\n\nWrite one reply."}]
    assert (read_brief(messages).tweet, read_brief(messages).context) == (question, ours)  # the realistic writer
    replies = [TextComposer().compose(request, random.Random(seed))[0] for seed in range(5)]
    assert all("tips" not in r.lower() and "overlap more than it seems" not in r for r in replies), replies
    alone = TextComposer().reply(tweet=question, rng=random.Random(1))
    assert "overlap more than it seems" in alone or "Related to" in alone  # no context: still off topic
