"""The ground truth's growth figures (sandbox/growth.py): the choices of a slot, the share, the per-day sums."""

import math
import random
from datetime import UTC, datetime, timedelta

import numpy as np
import pytest

from libs.core.clock import Clock
from sandbox.audience import QUALITY_SLOPE
from sandbox.growth import Slot, by_day, growth, post_slot, reply_slot, reply_value, share
from sandbox.settings import SandboxSettings
from sandbox.store import Store
from sandbox.world import DAY, THREAD_PART_SHARE, World

HOURS = tuple(range(7, 23))


def make_world() -> World:
    clock = Clock(scale=1e-9, epoch=datetime(2025, 3, 3, 14, tzinfo=UTC))
    return World(SandboxSettings(seed=5), clock, Store(":memory:"))


def advance(world: World, hours: float) -> None:
    world.clock.epoch += timedelta(hours=hours)


def root_targets(world: World, n: int) -> list[str]:
    now = world.now()
    return [t.id for t in world.population.tweets_between(now - 3 * 3600, now) if t.in_reply_to is None][:n]


def test_share_is_the_policys_part_of_the_oracles_advantage():
    assert share(policy=7.0, uniform=4.0, oracle=10.0) == pytest.approx(0.5)
    assert share(policy=10.0, uniform=4.0, oracle=10.0) == pytest.approx(1.0)
    assert share(policy=3.0, uniform=4.0, oracle=10.0) < 0  # worse than uniform
    assert share(policy=4.0, uniform=4.0, oracle=4.0) is None  # no advantage to share


def test_a_posts_slot_is_every_type_topic_and_format_at_the_planners_hours():
    world = make_world()
    tweet = world.create_tweet("Myth: you need 8 glasses of water a day. Thirst is a fine guide for most.")
    slot = post_slot(world, tweet, HOURS)
    audience = world.audience
    table = audience.mean_follows_table(followers=tweet.followers_at_post, quality=audience.text_quality(tweet.text))
    lift = audience.own_format_lift(tweet.text)  # the world lifts our post's reach by its format, as the peers'
    assert lift != 0.0
    table = table * (1 - tweet.reach_penalty) * math.exp(lift)
    assert slot.choices == len(audience.content_types) * len(audience.topics) * 2 * len(HOURS)
    assert slot.policy == pytest.approx(math.exp(lift) * audience.expected_follows(
        tweet.choice, followers=tweet.followers_at_post, quality=audience.text_quality(tweet.text)))
    assert slot.uniform == pytest.approx(table[..., list(HOURS)].mean())
    assert slot.oracle == pytest.approx(table[..., list(HOURS)].max())
    assert slot.uniform < slot.oracle and slot.policy <= slot.oracle
    # The hour it went out is always one of its choices, even outside the hours given.
    assert post_slot(world, tweet, (3, 4)).choices == len(audience.content_types) * len(audience.topics) * 2 * 3


def test_a_threads_later_part_is_valued_as_the_world_keeps_its_share_of_the_roots_follows():
    world = make_world()
    root = world.create_tweet("How I fixed my sleep in 3 steps:")
    part = world.create_tweet("1. Same wake time every day, weekends too.", in_reply_to=root.id)
    slot = post_slot(world, part, HOURS)
    assert part.choice.format == "thread"
    audience, quality = world.audience, world.audience.text_quality(part.text)
    table = audience.floored_follows_table(followers=part.followers_at_post, quality=quality,
                                           reach_penalty=part.reach_penalty, share=THREAD_PART_SHARE,
                                           format_lift=audience.own_format_lift(part.text))
    assert slot.policy == pytest.approx(table[audience.index_of(part.choice)])
    assert slot.oracle == pytest.approx(table[..., list(HOURS)].max())
    # The floor takes most of a part's follows: far below the share of the mean.
    mean = audience.expected_follows(part.choice, followers=part.followers_at_post, quality=quality)
    assert slot.policy < 0.5 * THREAD_PART_SHARE * mean


def test_the_floored_table_is_the_mean_of_the_worlds_draws():
    audience = make_world().audience
    text = "How I fixed my sleep in 3 steps: same wake time, no screens in bed, a cool dark room."
    choice = audience.choice_at((2, 3, 1, 18))
    quality = audience.text_quality(text)
    # Share 1: no floor, the plain expectation.
    whole = audience.floored_follows_table(followers=20_000, quality=quality, reach_penalty=0.0, share=1.0)
    assert whole[audience.index_of(choice)] == pytest.approx(
        audience.expected_follows(choice, followers=20_000, quality=quality), rel=1e-3)
    # Share 0.3: the mean of floor(0.3 × follows) over the world's own draws.
    part = audience.floored_follows_table(followers=20_000, quality=quality, reach_penalty=0.0, share=0.3)
    rng = random.Random(1)
    draws = [math.floor(0.3 * audience.sample_engagement(choice, text=text, followers=20_000, rng=rng).follows)
             for _ in range(4_000)]
    assert part[audience.index_of(choice)] == pytest.approx(np.mean(draws), rel=0.1)


def test_a_replys_slot_is_the_pools_targets_valued_at_our_replys_moment():
    world = make_world()
    advance(world, 3)
    targets = root_targets(world, 12)
    tweet = world.create_tweet("Good point: a regular wake time helps more than most people think.",
                               in_reply_to=targets[3])
    values = [reply_value(world, tweet, t) for t in targets]
    slot = reply_slot(world, tweet, [*targets, targets[0], "123"])  # a duplicate and an unknown id are not choices
    assert slot.choices == len(targets)
    assert slot.policy == pytest.approx(values[3])
    assert slot.uniform == pytest.approx(np.mean(values)) and slot.oracle == pytest.approx(max(values))
    assert len(set(values)) > 1  # the targets differ: the choice matters
    # No pool: a slot of one choice, the same in all three figures.
    alone = reply_slot(world, tweet, None)
    assert alone.choices == 1 and alone.policy == alone.uniform == alone.oracle == slot.policy


def test_a_target_written_after_our_reply_is_not_a_choice():
    world = make_world()
    advance(world, 3)
    target = root_targets(world, 1)[0]
    tweet = world.create_tweet("Sleep regularity matters more than sleep length for many people.", in_reply_to=target)
    later = world.population.tweets_between(world.now() + 60, world.now() + 3600)[0]
    assert reply_value(world, tweet, later.id) is None


def slot(at: float, kind: str, policy: float, uniform: float, oracle: float) -> Slot:
    return Slot(tweet_id=str(at), kind=kind, at=at, policy=policy, uniform=uniform, oracle=oracle, choices=2,
                follows_drawn=1)


def test_days_are_24_hour_periods_from_the_start_and_sum_their_slots():
    since = 1_000_000.0
    slots = [slot(since + 3600, "post", 2, 1, 3), slot(since + 2 * 3600, "reply", 5, 4, 9),
             slot(since + DAY + 60, "post", 1, 1, 2), slot(since + 2 * DAY + 600, "reply", 9, 4, 9)]
    days, total = by_day(slots, since=since, until=since + 2 * DAY)
    assert len(days) == 2  # the last slot came after the end (while the services stopped): the last day's
    assert (days[0].policy, days[0].uniform, days[0].oracle) == (7, 5, 12)
    assert (days[1].posts, days[1].replies, days[1].policy, days[1].oracle) == (1, 1, 10, 11)
    assert (total.policy, total.uniform, total.oracle, total.follows_drawn) == (17, 10, 23, 4)
    assert total.as_dict()["share"] == pytest.approx((17 - 10) / (23 - 10), abs=1e-4)
    assert total.by_kind["reply"].as_dict()["share"] == pytest.approx((14 - 8) / (18 - 8), abs=1e-4)


def test_growth_counts_every_tweet_once_and_the_followers_the_day_brought():
    world = make_world()
    since = world.now()
    world.create_tweet("Myth: you need 8 glasses of water a day. Thirst is a fine guide for most.")
    advance(world, 3)
    targets = root_targets(world, 5)
    reply = world.create_tweet("Good point: a regular wake time helps more than most people think.",
                               in_reply_to=targets[0])
    advance(world, 30)
    answer = growth(world, since=since, until=world.now(), hours=HOURS, reply_pools={reply.id: targets})
    assert [d["day"] for d in answer["days"]] == [1, 2]
    assert (answer["total"]["posts"], answer["total"]["replies"]) == (1, 1)
    assert answer["days"][0]["followers_gained"] + answer["days"][1]["followers_gained"] == \
        answer["total"]["followers_gained"] == world.followers() - world.settings.start_followers
    assert answer["total"]["follows_drawn"] == sum(t.final.follows for t in world.own_tweets())
    assert answer["replies_with_pool"] == 1 and answer["replies_unvalued"] == []


def test_the_world_lifts_our_posts_by_their_format_as_it_lifts_the_peers():
    """How a post is written moves its reach (the hidden format effects, /sim/format_effects): two texts of one
    choice and the same quality, one asking a question with a number, differ in the world's draws by their lifts."""
    audience = make_world().audience
    choice = audience.choice_at((1, 2, 0, 9))
    plain, shaped = "Sleep matters more than you think.", "Why does sleep matter more than 8 hours?"
    lifts = audience.own_format_lift(plain), audience.own_format_lift(shaped)
    assert abs(lifts[1] - lifts[0]) > 0.05
    world = make_world()

    def mean_log_views(text: str) -> float:
        return float(np.mean([math.log(world._sample_post(choice, text, 5_000, random.Random(i), 0.0).views)
                              for i in range(3_000)]))

    quality_gap = audience.text_quality(shaped) - audience.text_quality(plain)
    expected = lifts[1] - lifts[0] + QUALITY_SLOPE * quality_gap
    assert mean_log_views(shaped) - mean_log_views(plain) == pytest.approx(expected, abs=0.05)
