"""The audience's replies to our posts and what answering them brings (issue 24, item 5; sandbox/conversations.py)."""

import random

import pytest

from sandbox import conversations
from sandbox.audience import Engagement
from sandbox.conversations import (
    ANSWER_FOLLOW,
    CRISIS_REPLIES,
    CRISIS_SHARE,
    HEALTH_STORIES,
    HOSTILE_SHARE,
    MAX_VISIBLE_REPLIES,
    QUESTIONS,
    STORY_SHARE,
    COMMENTS,
    AudienceReply,
    Conversations,
    answer_engagement,
    takes_up,
)
from tests.unit.sandbox.test_sandbox_world_rules import advance, make_world

POST = "Morning light sets the body clock: ten minutes outside before 9am and most people fall asleep sooner."


def test_our_posts_draw_visible_replies_reproducibly_and_a_share_is_hostile():
    world = make_world(daily_posts=10_000, half_hour_posts=10_000, start_followers=20_000)  # replies aplenty
    kinds: dict[str, int] = {}
    for i in range(150):
        tweet = world.create_tweet(f"{POST} Day {i} of the experiment, note {i * 7}.")
        drawn = world.conversations.replies(tweet.id, tweet.created_at, tweet.final, tweet.created_at + 1e6)
        assert len(drawn) == min(MAX_VISIBLE_REPLIES, tweet.final.replies)
        for r in drawn:
            kinds[r.kind] = kinds.get(r.kind, 0) + 1
        advance(world, 0.1)
    total = sum(kinds.values())
    assert total > 100 and abs(kinds.get("hostile", 0) / total - HOSTILE_SHARE) < 0.08
    # The same seed draws the same replies.
    again = make_world(start_followers=20_000)
    first = again.create_tweet(f"{POST} Day 0 of the experiment, note 0.")
    assert [r.tweet.id for r in again.conversations.replies(first.id, first.created_at, first.final, 1e12)] \
        == [r.tweet.id for r in make_world(start_followers=20_000).conversations.replies(first.id, first.created_at,
                                                                    first.final, 1e12)]


def test_a_reply_shows_on_our_posts_page_and_our_answer_goes_to_the_replier():
    world = make_world()
    post = world.create_tweet(POST)
    ana = world.add_audience_reply(post.id, "ana_test", "How long before it works?", kind="question")
    shown = world.replies(post.id)
    assert ana.tweet.id in [v.id for v in shown] and world.tweet(ana.tweet.id).reply_to_handle == world.handle
    assert world.tweet(post.id).counts.replies >= 1
    answer = world.create_tweet("About a week: the light moves the clock a little each day.",
                                in_reply_to=ana.tweet.id)
    assert (answer.kind, answer.reply_to_handle) == ("reply", "ana_test")


def test_a_conversation_shows_the_accounts_own_replies_first_as_x_does():
    """A reply just sent stands at the top of the conversation however long it is (the gateway's read-back of a
    reply reads the page as it loads); the others follow, oldest first."""
    world = make_world()
    post = world.create_tweet(POST)
    others = [world.add_audience_reply(post.id, f"reader_{i}", f"Question {i}: and for shift workers?",
                                       kind="question").tweet.id for i in range(25)]
    advance(world, 0.1)
    answer = world.create_tweet("About a week: the light moves the clock a little each day.", in_reply_to=post.id)
    shown = [v.id for v in world.replies(post.id)]
    assert shown[0] == answer.id and shown[-len(others):] == others


def test_answering_pays_as_the_ground_truth_says():
    base = Engagement(likes=2, retweets=0, replies=0, views=100, profile_clicks=1, negative=0, follows=0)
    rng = random.Random(5)
    for kind in ("question", "comment", "hostile", "crisis"):
        follows = [answer_engagement(base, kind, root_views=1000, rng=rng).follows for _ in range(4000)]
        assert abs(sum(follows) / len(follows) - ANSWER_FOLLOW[kind]) < 0.03
    hostile = answer_engagement(base, "hostile", root_views=1000, rng=rng)
    assert hostile.negative == 1 and hostile.views == 200
    # a person in a crisis answered with a tip: the people around them report it
    assert answer_engagement(base, "crisis", root_views=1000, rng=rng).negative == 2


def test_an_answer_that_misses_the_reply_wins_nobody_over(monkeypatch: pytest.MonkeyPatch) -> None:
    """2026-12-07, seventh session: the ground truth had paid any answer alike, so a figure beside the question
    ("How long did it take before you noticed a difference?" answered with a kidney-stone trial, as a demo did)
    drew the replier's follow as often as an answer to it. Now the replier neither follows nor likes it; every
    draw is made as before (the other counts stay paired)."""
    how_long, source, story = QUESTIONS[0], QUESTIONS[2], HEALTH_STORIES[2]
    assert not takes_up(how_long, "The sleep point holds up. In a 5-year trial of kidney stone patients, stones "
                                  "came back in 12 of 99.")
    assert takes_up(how_long, "Most people notice steadier sleep within one to two weeks of a fixed wake time.")
    assert not takes_up(source, "Sleep matters. CDC: more than a third of US adults sleep less than 7 hours.")
    assert takes_up(source, "Yes: Chang et al., PNAS 2015, compared reading on a light-emitting device with a book.")
    assert not takes_up(story, "Worth adding on sleep: teenagers aged 13 to 18 should sleep 8 to 10 hours.")
    assert takes_up(story, "Five years clear is wonderful news, and fixing sleep first was a good call.")
    assert takes_up(COMMENTS[2], "Glad it helps: light before 9am matters most.")  # a comment: any answer
    base = Engagement(likes=2, retweets=0, replies=0, views=100, profile_clicks=1, negative=0, follows=0)
    on = [answer_engagement(base, "question", root_views=1000, rng=random.Random(i)) for i in range(2000)]
    off = [answer_engagement(base, "question", root_views=1000, rng=random.Random(i), on_point=False)
           for i in range(2000)]
    assert sum(e.follows for e in off) == 0
    assert abs(sum(e.follows for e in on) / 2000 - ANSWER_FOLLOW["question"]) < 0.04
    assert all(a.likes - b.likes in (0, 1) and a.views == b.views for a, b in zip(on, off, strict=True))
    assert sum(a.likes - b.likes for a, b in zip(on, off, strict=True)) > 1400  # the like the answer lost
    # The world judges each answer by the reply it answers.
    judged: list[bool] = []
    real = conversations.answer_engagement

    def spy(*args, on_point: bool = True, **kwargs):
        judged.append(on_point)
        return real(*args, on_point=on_point, **kwargs)
    monkeypatch.setattr("sandbox.world.answer_engagement", spy)
    world = make_world()
    post = world.create_tweet(POST)
    asked = world.add_audience_reply(post.id, "reader_1", how_long, kind="question").tweet.id
    advance(world, 0.1)
    world.create_tweet("In a 5-year trial of kidney stone patients, stones came back in 12 of 99.", in_reply_to=asked)
    world.create_tweet("Most people notice it within a week or two of going out before 9am.", in_reply_to=asked)
    assert judged == [False, True]


def test_a_share_of_the_comments_tell_of_a_crisis_and_more_are_health_stories_on_streams_of_their_own(
        monkeypatch: pytest.MonkeyPatch) -> None:
    accounts = make_world().population.accounts
    final = Engagement(likes=9, retweets=1, replies=MAX_VISIBLE_REPLIES, views=900, profile_clicks=2, negative=0,
                       follows=0)

    def drawn() -> list[AudienceReply]:
        conversations = Conversations(7, accounts)
        return [r for i in range(1000) for r in conversations.replies(str(10**15 + i * 4096), 0.0, final, 1e12)]

    replies = drawn()
    comments = [r for r in replies if r.kind in ("comment", "crisis")]
    crises = [r for r in comments if r.kind == "crisis"]
    stories = [r for r in comments if r.tweet.text in HEALTH_STORIES]
    assert len(comments) > 1000 and {r.tweet.text for r in crises} <= set(CRISIS_REPLIES)
    assert abs(len(crises) / len(comments) - CRISIS_SHARE) < 0.015
    assert abs(len(stories) / len(comments) - STORY_SHARE) < 0.035
    # Without them, every other reply is drawn as it was: who, when, which kind and words.
    monkeypatch.setattr(conversations, "CRISIS_SHARE", 0.0)
    monkeypatch.setattr(conversations, "STORY_SHARE", 0.0)
    plain = drawn()
    assert [(r.tweet.id, r.tweet.author.handle, r.tweet.final) for r in plain] \
        == [(r.tweet.id, r.tweet.author.handle, r.tweet.final) for r in replies]
    assert [(r.kind, r.tweet.text) for r in plain if r.kind in ("question", "hostile")] \
        == [(r.kind, r.tweet.text) for r in replies if r.kind in ("question", "hostile")]
    assert not any(r.kind == "crisis" or r.tweet.text in HEALTH_STORIES for r in plain)


def test_a_page_never_shows_more_audience_replies_than_its_reply_count():
    world = make_world(daily_posts=10_000, half_hour_posts=10_000, start_followers=20_000)
    posts = [world.create_tweet(f"{POST} Note {i}, day {i * 3}.") for i in range(20)]
    for step in (0.5, 1, 2, 6, 24, 200):
        advance(world, step)
        for p in posts:
            view = world.tweet(p.id)
            shown = [r for r in world.replies(p.id) if not r.own]
            # The count is the sandbox's one maturity for every field; the replies shown are within it.
            assert view.counts.replies == p.final.at_age((world.now() - p.created_at) / 3600).replies
            assert len(shown) <= view.counts.replies
    assert any(world.replies(p.id) for p in posts)


def test_replies_of_the_same_second_keep_the_order_they_were_made_in():
    """X orders by time, then by id (ids grow with time): the newest-first search and the oldest-first page agree
    on two replies that arrived within one second (the frozen clock makes them equal in time)."""
    world = make_world()
    post = world.create_tweet(POST)
    ana = world.add_audience_reply(post.id, "ana_test", "Does this still work for shift workers?", kind="question")
    ben = world.add_audience_reply(post.id, "ben_test", "Good reminder, saving this.")
    assert ana.tweet.created_at == ben.tweet.created_at
    found = [v.id for v in world.search(f"conversation_id:{post.id}", latest=True)]
    assert found.index(ben.tweet.id) < found.index(ana.tweet.id)
    shown = [v.id for v in world.replies(post.id)]
    assert shown.index(ana.tweet.id) < shown.index(ben.tweet.id)
