from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from libs.contracts.events import TweetPosted
from libs.contracts.gateway import TweetMetrics
from services.scraper.checkpoints import (
    batch_size,
    checkpoints,
    checkpoints_from,
    due_reads,
    metrics_events,
    plan_batches,
    reads_analytics,
    read_group,
    schedule_reads,
)
from services.scraper.settings import ScraperSettings

T0 = datetime(2024, 5, 1, 8, 0, tzinfo=UTC)
PLAN = checkpoints_from(ScraperSettings())


def posted(content_id="c1", tweet_ids=("100",), at=T0, kind="post"):
    return TweetPosted(content_id=content_id, kind=kind, tweet_ids=list(tweet_ids), url="u", posted_at=at)


def test_default_plan_is_fixed_ages_then_daily_to_seven_days():
    assert [(c.name, c.hours, c.interval_hours, c.historical) for c in PLAN] == [
        ("1h", 1, 1, False), ("2h", 2, 1, False), ("6h", 6, 4, False), ("12h", 12, 6, False),
        ("24h", 24, 12, False), ("48h", 48, 24, False),
        ("72h", 72, 24, True), ("96h", 96, 24, True), ("120h", 120, 24, True), ("144h", 144, 24, True),
        ("168h", 168, 24, True)]


def test_plan_is_configurable():
    plan = checkpoints([0.5, 3], daily_until=timedelta(days=2))
    assert [(c.name, c.interval_hours, c.historical) for c in plan] == [
        ("0.5h", 0.5, False), ("3h", 2.5, False), ("27h", 24, True)]
    with pytest.raises(ValueError):
        checkpoints([2, 1], daily_until=timedelta(0))


def test_a_read_is_missed_after_half_its_interval():
    reads = {r.checkpoint.name: r for r in schedule_reads(posted(), PLAN)}
    assert reads["1h"].late_at == T0 + timedelta(hours=1.5)
    assert reads["6h"].late_at == T0 + timedelta(hours=8)      # interval 4 h
    assert reads["24h"].late_at == T0 + timedelta(hours=30)    # interval 12 h
    assert reads["72h"].late_at == T0 + timedelta(hours=84)
    assert not reads["6h"].is_missed(T0 + timedelta(hours=8))
    assert reads["6h"].is_missed(T0 + timedelta(hours=8, seconds=1))


def test_thread_is_scheduled_by_its_head():
    reads = schedule_reads(posted(tweet_ids=("100", "101", "102"), kind="thread"), PLAN)
    assert {r.tweet_id for r in reads} == {"100"} and {r.kind for r in reads} == {"thread"}
    assert len({r.key for r in reads}) == len(PLAN)


def test_only_due_reads_in_order_missed_then_recent_then_historical():
    now = T0 + timedelta(days=4)
    old = schedule_reads(posted("old", ("1",), at=now - timedelta(hours=96, minutes=10)), PLAN)  # 96h due
    young = schedule_reads(posted("young", ("2",), at=now - timedelta(hours=1, minutes=20)), PLAN)  # 1h due
    late = schedule_reads(posted("late", ("3",), at=now - timedelta(hours=9)), PLAN)  # 6h due, missed
    pending = [r for r in old if r.checkpoint.name == "96h"] + young + [r for r in late if r.checkpoint.hours >= 6]
    ordered = due_reads(pending, now=now)
    assert [(r.content_id, r.checkpoint.name) for r in ordered] == [("late", "6h"), ("young", "1h"),
                                                                    ("old", "96h")]
    assert [read_group(r, now) for r in ordered] == ["missed", "recent", "historical"]


def test_a_short_budget_serves_the_newest_posts_first_and_thins_the_older_ones():
    now = T0 + timedelta(days=4)
    old = schedule_reads(posted("old", ("1",), at=now - timedelta(hours=96, minutes=10)), PLAN)  # 96h due
    young = schedule_reads(posted("young", ("2",), at=now - timedelta(hours=1, minutes=20)), PLAN)  # 1h due
    late = schedule_reads(posted("late", ("3",), at=now - timedelta(hours=9)), PLAN)  # 6h due, missed
    pending = [r for r in old if r.checkpoint.name == "96h"] + young + [r for r in late if r.checkpoint.hours >= 6]
    ordered = due_reads(pending, now=now, budget_short=True)
    assert [(r.content_id, r.checkpoint.name) for r in ordered] == [("young", "1h"), ("late", "6h"),
                                                                    ("old", "96h")]
    # Thinned: the old post's 96h read, refused today, is still pending when its 120h read comes due; then one
    # reading (one status page) serves both, the 96h one flagged missed.
    later = now + timedelta(days=1)
    [batch] = plan_batches(due_reads([r for r in old if r.checkpoint.name in ("96h", "120h")], now=later,
                                     budget_short=True), batch_size=5)
    assert batch.tweet_ids == ("1",)
    events = metrics_events(batch, [TweetMetrics(tweet_id="1", likes=1, retweets=0, replies=0, views=9)],
                            observed_at=later)
    assert [(e.checkpoint, e.missed) for e in events] == [("96h", True), ("120h", False)]


def test_a_short_budget_reads_every_posts_reward_checkpoints_before_the_newest_posts_early_ones():
    """The learner takes a post's reward from its 24 h reading and closes its follower credit at 48 h: while the
    budget is short those come first (earliest due first), so a day of young posts' early checkpoints cannot
    starve every post's reward; the rest newest post first, as before."""
    now = T0 + timedelta(days=4)
    young = [schedule_reads(posted(f"young{i}", (str(10 + i),), at=now - timedelta(hours=h)), PLAN)
             for i, h in enumerate((1.2, 2.1, 6.3))]
    day_old = schedule_reads(posted("day", ("2",), at=now - timedelta(hours=24, minutes=30)), PLAN)
    two_days = schedule_reads(posted("two", ("3",), at=now - timedelta(hours=49)), PLAN)
    pending = [r for reads in young for r in reads] + [r for r in day_old if r.checkpoint.hours >= 24] + \
        [r for r in two_days if r.checkpoint.hours >= 24]
    ordered = due_reads(pending, now=now, budget_short=True, reward_hours={24.0, 48.0})
    assert [(r.content_id, r.checkpoint.name) for r in ordered][:3] == [("two", "24h"), ("two", "48h"),
                                                                        ("day", "24h")]
    assert [r.content_id for r in ordered[3:]] == ["young0", "young1", "young1", "young2", "young2", "young2"]
    # Without reward checkpoints (the order before): the young posts' early reads first, the rewards last.
    before = due_reads(pending, now=now, budget_short=True)
    assert [r.content_id for r in before][-3:] == ["day", "two", "two"]


def test_while_the_budget_is_short_only_a_reward_reads_batch_loads_the_analytics_pages():
    now = T0 + timedelta(days=4)
    young = schedule_reads(posted("young", ("2",), at=now - timedelta(hours=1, minutes=20)), PLAN)
    day_old = schedule_reads(posted("day", ("3",), at=now - timedelta(hours=24, minutes=30)), PLAN)
    reads = [r for r in young if r.checkpoint.hours == 1] + [r for r in day_old if r.checkpoint.hours == 24]
    reward, early = plan_batches(due_reads(reads, now=now, budget_short=True, reward_hours={24.0, 48.0}),
                                 batch_size=1)
    assert (reward.tweet_ids, early.tweet_ids) == (("3",), ("2",))  # the reward read first
    assert reads_analytics(reward, budget_short=True, reward_hours={24.0, 48.0})
    assert not reads_analytics(early, budget_short=True, reward_hours={24.0, 48.0})
    assert reads_analytics(early, budget_short=False, reward_hours={24.0, 48.0})  # the budget is enough


def test_batches_hold_each_tweet_once_in_priority_order():
    now = T0 + timedelta(hours=7)
    outage = schedule_reads(posted("a", ("1",)), PLAN)  # 1h, 2h and 6h all due, 1h and 2h missed
    other = schedule_reads(posted("b", ("2",), at=now - timedelta(hours=1, minutes=10)), PLAN)  # late in 20 min
    third = schedule_reads(posted("c", ("3",), at=now - timedelta(hours=1)), PLAN)  # late in 30 min
    batches = plan_batches(due_reads(outage + other + third, now=now), batch_size=2)
    assert [b.tweet_ids for b in batches] == [("1", "2"), ("3",)]
    assert [(r.tweet_id, r.checkpoint.name) for r in batches[0].reads] == [
        ("1", "1h"), ("1", "2h"), ("1", "6h"), ("2", "1h")]


def test_one_event_per_read_of_a_read_tweet():
    now = T0 + timedelta(hours=2, minutes=40)
    reads = [r for r in schedule_reads(posted(), PLAN) if r.checkpoint.hours <= 2]
    reads += schedule_reads(posted("c2", ("200",), at=now - timedelta(hours=1)), PLAN)[:1]
    [batch] = plan_batches(due_reads(reads, now=now), batch_size=10)
    events = metrics_events(batch, [TweetMetrics(tweet_id="100", likes=5, retweets=1, replies=2, views=300,
                                                 profile_clicks=4, follows=1)], observed_at=now)
    assert [(e.tweet_id, e.content_id, e.checkpoint, e.missed) for e in events] == [
        ("100", "c1", "1h", True), ("100", "c1", "2h", True)]   # 200 was not read: stays pending
    assert {(e.likes, e.retweets, e.replies, e.views, e.profile_clicks, e.follows) for e in events} == {
        (5, 1, 2, 300, 4, 1)}
    assert events[1].age_hours == pytest.approx(2 + 40 / 60) and events[1].checkpoint_hours == 2
    assert len({e.dedup_key() for e in events}) == 2



def test_a_reading_is_dated_by_its_own_page_not_by_the_batch_answer():
    # Two posts of one batch: the first one's page was read 7 minutes before the answer came (paced pages), the
    # second's in the same moment; a gateway that does not date its readings leaves them dated by the answer.
    answer = T0 + timedelta(hours=1, minutes=32)
    reads = schedule_reads(posted(), PLAN)[:1] + schedule_reads(posted("c2", ("200",)), PLAN)[:1]
    [batch] = plan_batches(due_reads(reads, now=answer), batch_size=10)
    early = answer - timedelta(minutes=7)
    events = metrics_events(batch, [TweetMetrics(tweet_id="100", likes=1, retweets=0, replies=0, views=9,
                                                 read_at=early),
                                    TweetMetrics(tweet_id="200", likes=1, retweets=0, replies=0, views=9)],
                            observed_at=answer)
    by_id = {e.tweet_id: e for e in events}
    assert by_id["100"].observed_at == early and by_id["100"].age_hours == pytest.approx(1 + 25 / 60)
    assert by_id["200"].observed_at == answer and by_id["200"].age_hours == pytest.approx(1 + 32 / 60)
    # "Missed" is judged at the reading too: 1h25 is within the 1h read's half interval, 1h32 past it.
    assert (by_id["100"].missed, by_id["200"].missed) == (False, True)

@given(st.lists(st.tuples(st.integers(0, 7 * 24 * 60), st.integers(0, 5)), min_size=1, max_size=12),
       st.integers(0, 8 * 24 * 60), st.integers(1, 5), st.booleans())
def test_every_due_read_lands_in_exactly_one_batch(posts, now_minutes, batch_size, short):
    now = T0 + timedelta(minutes=now_minutes)
    pending = [r for i, (minute, _) in enumerate(posts)
               for r in schedule_reads(posted(f"c{i}", (str(i),), at=T0 + timedelta(minutes=minute)), PLAN)]
    ordered = due_reads(pending, now=now, budget_short=short, reward_hours={24.0, 48.0})
    assert all(r.due_at <= now for r in ordered)
    assert len(ordered) == sum(r.due_at <= now for r in pending)
    if short:  # the reward checkpoints first, earliest due first; then newest post first
        rewards = [r for r in ordered if r.checkpoint.hours in (24.0, 48.0)]
        assert ordered[:len(rewards)] == rewards and [r.due_at for r in rewards] == sorted(r.due_at for r in rewards)
        posted_at = [r.posted_at for r in ordered[len(rewards):]]
        assert posted_at == sorted(posted_at, reverse=True)
    else:
        groups = [read_group(r, now) for r in ordered]
        assert groups == sorted(groups, key=["missed", "recent", "historical"].index)
    batches = plan_batches(ordered, batch_size=batch_size)
    assert sorted(r.key for b in batches for r in b.reads) == sorted(r.key for r in ordered)
    ids = [t for b in batches for t in b.tweet_ids]
    assert len(ids) == len(set(ids)) and all(1 <= len(b.tweet_ids) <= batch_size for b in batches)


def test_batches_shrink_while_the_read_budget_is_short() -> None:
    # A refused batch reads nothing: while short, batches small enough for the own metrics' floor.
    assert batch_size(20, budget_short=False) == 20
    assert batch_size(20, budget_short=True) == 5
    assert batch_size(3, budget_short=True) == 3
