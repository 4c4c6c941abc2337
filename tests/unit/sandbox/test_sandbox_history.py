"""The account's past (sandbox/history.py, World._make_history): made once in a fresh world at the owner's habits,
shown as our tweets, left out of what the run is measured by."""

import random
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from pydantic import ValidationError

from libs.core.clock import Clock
from sandbox.audience import AudienceModel, maturity
from sandbox.growth import growth
from sandbox.history import plan
from sandbox.settings import SandboxSettings
from sandbox.store import Store
from sandbox.world import DAY, HISTORY_MARK, HOUR, World, WriteRefused

EPOCH = datetime(2025, 3, 3, 14, tzinfo=UTC)


def make_world(store: Store | None = None, *, epoch: datetime = EPOCH, seed: int = 3, **overrides) -> World:
    return World(SandboxSettings(seed=seed, **overrides), Clock(scale=1e-9, epoch=epoch), store or Store(":memory:"))


def advance(world: World, hours: float) -> None:
    world.clock.epoch += timedelta(hours=hours)


def utc_hour(at: float) -> int:
    return datetime.fromtimestamp(at, UTC).hour


def test_no_past_by_default():
    world = make_world()
    assert world.history() == [] and world.own_tweets() == []
    assert HISTORY_MARK not in world.store.marks()


@pytest.mark.parametrize("seed", [3, 42])
def test_a_fresh_world_starts_with_past_posts_at_the_owners_habits(seed: int):
    world = make_world(seed=seed, history_posts=100, history_days=60)
    start, past, habits = world.now(), world.history(), world.history_habits
    assert len(past) == 100 and world.own_tweets() == past and world.run_tweets() == []
    assert all(t.kind == "post" and t.in_reply_to is None and t.choice.format == "single" for t in past)
    # Over the configured days, the newest matured (two days old at least), spread over most of the window.
    assert all(start - 60 * DAY <= t.created_at <= start - 2 * DAY for t in past)
    assert past[-1].created_at - past[0].created_at > 50 * DAY
    # Habits, not a uniform draw: two hours of the day, two or three content types, every topic in play.
    assert len(habits.hours) == 2 and all(7 <= h <= 22 for h in habits.hours)
    assert 2 <= len(habits.content_types) <= 3 and set(habits.content_types) <= set(world.audience.content_types)
    assert {utc_hour(t.created_at) for t in past} == set(habits.hours)
    assert all(t.choice.hour == utc_hour(t.created_at) for t in past)
    assert {t.choice.content_type for t in past} == set(habits.content_types)
    assert len({t.choice.topic for t in past}) >= 8 and {t.choice.topic for t in past} <= set(world.audience.topics)
    assert len({t.text for t in past}) == 100  # the owner never said the same thing twice


@pytest.mark.parametrize("seed", [1, 3, 7, 42])
def test_each_past_text_reads_back_as_the_choice_the_owner_meant(seed: int):
    """What the world judges a post by is infer_choice of its text: the plan picks texts that read back."""
    audience = AudienceModel(seed)
    start = EPOCH.timestamp()
    posts = plan(seed, audience, posts=100, start=start, days=60)
    assert all(audience.infer_choice(p.text, hour=p.intended.hour, format="single") == p.intended for p in posts)
    world = make_world(seed=seed, history_posts=100, history_days=60)
    assert [(t.text, t.created_at, t.choice) for t in world.history()] == \
        [(p.text, p.created_at, p.intended) for p in posts]


def test_past_counts_are_drawn_as_for_any_own_post_and_shown_matured():
    world = make_world(history_posts=40, history_days=30)
    now = world.now()
    for t in world.history():
        # The draw create_tweet makes for a single: its seed, the choice read from the text, the follower count.
        rng = random.Random(f"{world.settings.seed}:own:{t.id}")
        assert t.followers_at_post == world.settings.start_followers
        assert t.final == world.audience.sample_engagement(
            t.choice, text=t.text, followers=t.followers_at_post, rng=rng, reach_penalty=t.reach_penalty,
            format_lift=world.audience.own_format_lift(t.text))
        shown = world.tweet(t.id).counts
        assert maturity((now - t.created_at) / HOUR) >= 0.97
        assert shown.views == t.final.at_age((now - t.created_at) / HOUR).views > 0
        assert (shown.likes, shown.retweets) == (t.final.at_age((now - t.created_at) / HOUR).likes,
                                                 t.final.at_age((now - t.created_at) / HOUR).retweets)
    assert sum(world.tweet(t.id).counts.likes for t in world.history()) > 0
    assert [v.id for v in world.profile_timeline(world.handle, limit=10)] == \
        [t.id for t in reversed(world.history()[-10:])]


def test_the_past_moves_no_follower_and_no_draw_of_the_run():
    with_past, without = make_world(history_posts=60), make_world()
    assert with_past.followers() == without.followers() == with_past.settings.start_followers
    text = "Myth: you need 8 glasses of water a day. Thirst is a fine guide for most."
    mine, theirs = with_past.create_tweet(text), without.create_tweet(text)
    for world in (with_past, without):
        advance(world, 24 * 9)  # every past post and the run's one fully matured
    assert (mine.id, mine.final, mine.reach_penalty) == (theirs.id, theirs.final, theirs.reach_penalty)
    assert with_past.followers() == without.followers() == with_past.settings.start_followers + mine.final.follows
    start = EPOCH.timestamp()
    assert with_past.followers_at(start - 30 * DAY) == with_past.settings.start_followers


def test_the_account_said_its_past_posts_as_it_says_the_runs():
    """X refuses a duplicate of any of the account's posts, and a near-duplicate of a recent one loses reach, the
    account's past ones as much as the run's."""
    world = make_world(history_posts=30, history_days=10)
    newest = world.history()[-1]
    with pytest.raises(WriteRefused) as refused:
        world.create_tweet(newest.text)
    assert refused.value.mode == "duplicate"
    again = world.create_tweet(newest.text + " Worth repeating.")
    assert again.reach_penalty > 0.0 and not world.is_history(again.id)


def test_a_part_added_to_a_past_post_leaves_the_past_as_it_was():
    world = make_world(history_posts=10, history_days=10)
    root = world.history()[-1]
    part = world.create_tweet("And one more thing on this: consistency beats intensity.", in_reply_to=root.id)
    assert world.history()[-1] == root  # not drawn again as a thread
    assert part.thread_root == root.id and part.choice == root.choice and world.run_tweets() == [part]


def test_the_past_is_not_in_the_runs_accounting():
    world = make_world(history_posts=50)
    start = world.now()
    posted = world.create_tweet("Quick win for your sleep: keep the same wake time every day, weekends too.")
    advance(world, 24)
    answer = growth(world, since=start, until=start + DAY, hours=range(7, 23))
    assert answer["total"]["posts"] == 1 and answer["total"]["replies"] == 0
    assert answer["total"]["follows_drawn"] == posted.final.follows
    assert world.run_tweets() == [posted] and posted not in world.history()


def test_the_past_takes_nothing_from_the_runs_posting_limits():
    # Fifty past posts in the three days before the start (the newest two days old), a cap of three a day.
    world = make_world(history_posts=50, history_days=3, daily_posts=3)
    assert world.usage() == {"posts_24h": 0, "posts_30m": 0, "replies_24h": 0, "replies_30m": 0}
    for i in range(3):
        world.create_tweet(f"Sleep note {i}: a dark, cool room helps most people fall asleep faster.")
        advance(world, 1)
    assert world.usage()["posts_24h"] == 3


def test_a_restarted_world_keeps_its_past_and_makes_no_more(tmp_path: Path):
    path = tmp_path / "sandbox.sqlite3"
    first = make_world(Store(path), history_posts=20)
    posted = first.create_tweet("Hydration myth: coffee dehydrates you. In usual amounts it counts as fluid.")
    first.delete_tweet(first.history()[0].id)  # a past post the owner deleted stays out of the run too
    first.store.close()
    again = make_world(Store(path), epoch=EPOCH + timedelta(days=3), history_posts=20)
    assert [t.id for t in again.history()] == [t.id for t in first.history()] and len(again.history()) == 19
    assert again.run_tweets() == [posted] and again.usage()["posts_24h"] == 0
    assert again.followers() == again.settings.start_followers + posted.final.follows


def test_a_store_with_the_runs_tweets_gets_no_past(tmp_path: Path):
    path = tmp_path / "sandbox.sqlite3"
    make_world(Store(path)).create_tweet("Stress tip: a two-minute walk between meetings resets attention.")
    restarted = make_world(Store(path), history_posts=20)
    assert restarted.history() == [] and len(restarted.run_tweets()) == 1


def test_history_settings_are_checked_and_read_from_the_environment(monkeypatch: pytest.MonkeyPatch):
    with pytest.raises(ValidationError, match="XBOT_SANDBOX_HISTORY_DAYS must be at least 3"):
        SandboxSettings(history_posts=10, history_days=2.5)
    with pytest.raises(ValidationError, match="history_posts"):
        SandboxSettings(history_posts=-1)
    assert SandboxSettings(history_days=1).history_posts == 0  # no past: its days do not matter
    monkeypatch.setenv("XBOT_SANDBOX_HISTORY_POSTS", "12")
    monkeypatch.setenv("XBOT_SANDBOX_HISTORY_DAYS", "20")
    settings = SandboxSettings()
    assert (settings.history_posts, settings.history_days) == (12, 20.0)
