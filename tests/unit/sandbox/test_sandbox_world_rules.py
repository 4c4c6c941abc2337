"""The world's rules on a stopped clock, with the store in memory."""

from datetime import UTC, datetime, timedelta

import pytest

from libs.core.clock import Clock
from sandbox.settings import SandboxSettings
from sandbox.store import Store
from sandbox.world import World, WriteRefused


def make_world(seed: int = 3, **overrides) -> World:
    clock = Clock(scale=1e-9, epoch=datetime(2025, 3, 3, 14, tzinfo=UTC))
    return World(SandboxSettings(seed=seed, **overrides), clock, Store(":memory:"))


def advance(world: World, hours: float) -> None:
    world.clock.epoch += timedelta(hours=hours)


def big_fresh_target(world: World) -> str:
    now = world.now()
    return max((t for t in world.population.tweets_between(now - 3 * 3600, now) if t.in_reply_to is None),
               key=lambda t: t.final.likes).id


def test_metrics_differ_by_age_and_are_reproducible():
    series = []
    for _ in range(2):
        world = make_world()
        tweet = world.create_tweet("Myth: you need 8 glasses of water a day. Thirst is a fine guide for most.")
        views = []
        for step in (1, 1, 10, 12):
            advance(world, step)
            views.append(world.tweet(tweet.id).counts.views)
        series.append((tweet.id, views))
    assert series[0] == series[1]
    views = series[0][1]
    assert views == sorted(views) and len(set(views)) == 4  # 1h, 2h, 12h, 24h all differ


def test_choice_is_inferred_from_text_and_posting_hour():
    world = make_world()
    tweet = world.create_tweet("New study: strength training twice a week cuts mortality risk.")
    assert tweet.choice.hour == 14 and tweet.choice.format == "single"
    assert tweet.choice.topic in world.audience.topics and tweet.choice.content_type in world.audience.content_types


def test_self_replies_make_a_thread():
    world = make_world()
    root = world.create_tweet("How I fixed my sleep in 3 steps:")
    second = world.create_tweet("1. Same wake time every day.", in_reply_to=root.id)
    third = world.create_tweet("2. No screens in bed.", in_reply_to=second.id)
    root = world.own_tweets()[0]
    assert root.choice.format == "thread" and second.thread_root == third.thread_root == root.id
    assert second.kind == third.kind == "post"
    assert world.tweet(root.id).counts.replies >= 1  # the second part counts as a reply under the first


def test_duplicates_and_unknown_targets_are_refused():
    world = make_world()
    world.create_tweet("Walk after dinner.")
    with pytest.raises(WriteRefused) as refused:
        world.create_tweet("  walk AFTER dinner. ")
    assert refused.value.message == "Whoops! You already said that."
    with pytest.raises(WriteRefused):
        world.create_tweet("Nice one", in_reply_to="123456789")
    with pytest.raises(WriteRefused):
        world.create_tweet("x" * 281)


def test_daily_post_limit_from_settings():
    world = make_world(daily_posts=2, half_hour_posts=5)
    world.create_tweet("one sleep tip")
    world.create_tweet("two sleep tips")
    with pytest.raises(WriteRefused) as refused:
        world.create_tweet("three sleep tips")
    assert refused.value.mode == "daily_limit"
    target = big_fresh_target(world)
    assert world.create_tweet("Replies have their own budget.", in_reply_to=target).kind == "reply"


def test_replies_to_big_fresh_tweets_bring_follows_that_accrue_over_time():
    world = make_world(daily_replies=500, half_hour_replies=500)
    start = world.followers()
    target = big_fresh_target(world)
    for i in range(30):
        world.create_tweet(f"Reply number {i}: consistency beats intensity every time.", in_reply_to=target)
    at = [world.followers()]
    for hours in (1, 5, 24):
        advance(world, hours)
        at.append(world.followers())
    assert at[0] == start and at == sorted(at) and at[-1] > start + 30
    assert world.followers_series(hours=30, step_minutes=60)[-1][1] == at[-1]


def test_near_duplicate_gets_a_reach_penalty():
    world = make_world()
    text = "Morning sunlight within an hour of waking sets your body clock for better sleep tonight."
    world.create_tweet(text)
    near = world.create_tweet(text.replace("tonight", "today"))
    assert near.reach_penalty >= 0.5


def test_x_raters_note_a_post_carrying_a_claim_the_text_endpoint_invented():
    """A post of ours that carries a statistic the sandbox's model invented gets a Community Note some hours after
    it went out (however the planner typed its apostrophes); one without gets none, and a note a test adds shows
    at once."""
    world = make_world()
    claim = "A 2019 Harvard study found that 73% of adults who napped daily were less focused."
    world.invented_claims = lambda: [claim]
    noted = world.create_tweet("Naps, reconsidered. a 2019 Harvard study found that 73% of adults who napped "
                               "daily were less focused. Keep yours short.")
    clean = world.create_tweet("Naps under 20 minutes leave most people refreshed, not groggy.")
    added = world.create_tweet("Morning light sets the body clock for the night’s sleep.")
    world.own_notes[added.id] = "Readers added context: morning light helps only some sleep problems."
    advance(world, 1)
    assert world.tweet(noted.id).community_note is None  # raters take hours
    assert world.tweet(added.id).community_note is not None
    advance(world, 6)
    assert world.tweet(noted.id).community_note is not None
    assert world.tweet(clean.id).community_note is None
    world.invented_claims = tuple  # nothing invented: judged once, the note stays where it was put
    assert world.tweet(noted.id).community_note is not None
