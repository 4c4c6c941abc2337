from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from libs.contracts.events import MetricsScraped
from services.scraper.attribution import (
    ActiveItem,
    EngagementPoint,
    FollowerCount,
    attribute_followers,
    followers_snapshot,
)

T0 = datetime(2024, 5, 1, 8, 0, tzinfo=UTC)


def h(hours: float) -> datetime:
    return T0 + timedelta(hours=hours)


def item(cid, posted_h, *points, tid=None):
    return ActiveItem(cid, tid or f"t-{cid}", h(posted_h), tuple(EngagementPoint(h(t), e) for t, e in points))


def test_engagement_curve_interpolates_and_holds_after_the_last_read():
    it = item("a", 0, (1, 100), (2, 300))
    assert it.engagement_at(h(-1)) == 0
    assert it.engagement_at(h(0.5)) == pytest.approx(50)
    assert it.engagement_at(h(1.5)) == pytest.approx(200)
    assert it.engagement_at(h(5)) == 300
    assert it.window_engagement(h(0.5), h(1.5)) == pytest.approx(150)


def test_shares_are_proportional_to_window_engagement():
    a = item("a", 0, (1, 100), (2, 400))       # +300 in [1, 2]
    b = item("b", 0.5, (1, 50), (2, 150))      # +100 in [1, 2]
    c = item("c", -10, (-9, 1000))             # no read after -9 h: no evidence of engagement in the window
    w = attribute_followers([c, b, a], window_start=h(1), window_end=h(2), delta=40)
    assert [(x.content_id, x.tweet_id) for x in w.items] == [("a", "t-a"), ("b", "t-b")]
    assert [x.share for x in w.items] == pytest.approx([0.75, 0.25])
    assert [x.followers for x in w.items] == pytest.approx([30, 10])
    assert w.unattributed == 0


def test_negative_delta_uses_the_same_shares():
    a, b = item("a", 0, (1, 0), (2, 300)), item("b", 0, (1, 0), (2, 100))
    w = attribute_followers([a, b], window_start=h(1), window_end=h(2), delta=-8)
    assert [x.share for x in w.items] == pytest.approx([0.75, 0.25])
    assert [x.followers for x in w.items] == pytest.approx([-6, -2])


def test_no_engagement_leaves_the_delta_unattributed():
    flat = item("a", 0, (1, 100), (2, 100))
    w = attribute_followers([flat], window_start=h(1), window_end=h(2), delta=12)
    assert w.items == [] and w.unattributed == 12
    assert attribute_followers([], window_start=h(1), window_end=h(2), delta=-3).unattributed == -3


def test_falling_counts_give_no_negative_weight():
    falling = item("a", 0, (1, 100), (2, 60))
    rising = item("b", 0, (1, 10), (2, 20))
    w = attribute_followers([falling, rising], window_start=h(1), window_end=h(2), delta=5)
    assert [(x.content_id, x.share, x.followers) for x in w.items] == [("b", 1.0, 5.0)]


def test_item_posted_inside_the_window_counts_from_its_posting_time():
    fresh = item("new", 1.5, (2, 90))         # posted at 1.5 h, read at 2 h: all 90 fall in [1, 2]
    older = item("old", 0, (1, 0), (2, 30))
    w = attribute_followers([older, fresh], window_start=h(1), window_end=h(2), delta=4)
    assert {x.content_id: x.share for x in w.items} == pytest.approx({"new": 0.75, "old": 0.25})


def test_points_from_metrics_events():
    m = MetricsScraped(tweet_id="1", content_id="c", checkpoint="1h", checkpoint_hours=1, age_hours=1, likes=7,
                       retweets=2, replies=1, views=9999, observed_at=h(1))
    assert EngagementPoint.from_metrics(m) == EngagementPoint(h(1), 10)


def test_followers_snapshot_event():
    first = followers_snapshot(handle="us", followers=1000, following=50, observed_at=h(0), previous=None,
                               items=[item("a", 0, (1, 10))])
    assert (first.delta, first.previous_followers, first.window_start, first.attribution) == (0, None, None, [])
    nxt = followers_snapshot(handle="us", followers=1010, following=50, observed_at=h(1),
                             previous=FollowerCount(1000, h(0)), items=[item("a", 0, (1, 10))])
    assert (nxt.delta, nxt.previous_followers, nxt.window_start) == (10, 1000, h(0))
    assert [(x.content_id, x.share, x.followers) for x in nxt.attribution] == [("a", 1.0, 10.0)]


items_strategy = st.lists(
    st.tuples(st.integers(-48, 4), st.lists(st.tuples(st.integers(-48, 8), st.integers(0, 10_000)), max_size=4)),
    max_size=6,
)


@given(items_strategy, st.integers(-500, 500), st.randoms(use_true_random=False))
def test_attribution_invariants(specs, delta, rnd):
    items = [ActiveItem(f"c{i}", f"t{i}", h(p), tuple(EngagementPoint(h(t), e) for t, e in pts))
             for i, (p, pts) in enumerate(specs)]
    w = attribute_followers(items, window_start=h(0), window_end=h(2), delta=delta)
    shuffled = list(items)
    rnd.shuffle(shuffled)
    assert attribute_followers(shuffled, window_start=h(0), window_end=h(2), delta=delta) == w  # deterministic
    if w.items:
        assert sum(x.share for x in w.items) == pytest.approx(1.0)
        assert sum(x.followers for x in w.items) == pytest.approx(delta, abs=1e-6)
        assert all(x.share > 0 for x in w.items) and w.unattributed == 0
    else:
        assert w.unattributed == delta
