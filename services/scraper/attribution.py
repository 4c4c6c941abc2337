"""Attribution of a follower change to our posts and replies active in the window.

Method (deterministic; the same inputs always give the same output, whatever their order):

1. **Engagement of an item** (one tweet of ours) is ``likes + retweets + replies``; views are left out because
   they count impressions, not actions, and would drown the other three.
2. **Cumulative engagement curve** ``E(t)`` of an item: the piecewise-linear interpolation through
   ``(posted_at, 0)`` and every observation ``(observed_at, engagement)``, sorted by time. Before posting
   ``E = 0``; after the last observation ``E`` stays at the last value: without a read there is no evidence of
   further engagement, and inventing a trend would hand followers to whichever post was extrapolated highest.
3. **Window engagement** of an item for the window ``[start, end]`` is ``max(0, E(end) - E(start))``; counts
   that fall (un-likes, removed replies) give no negative weight.
4. **Shares**: ``share_i = w_i / sum(w)``; items with ``w_i = 0`` are left out. When ``sum(w) > 0`` the shares
   sum to 1 and ``followers_i = delta * share_i`` sums to the delta.
5. **Negative deltas** are attributed with the same shares, so attributed followers are negative too: the net
   change is what the learner rewards, and an item that drew engagement in a window where we lost followers
   should not look like it gained some.
6. **No engagement** (no item gained engagement in the window, or no item at all): nothing is attributed and the
   whole delta is reported as ``unattributed``; splitting it evenly would invent a signal.

Because ``E`` only moves between observations, attribution is exact when every active item has a read at both
window ends (the service can read its recent items' counts at each follower snapshot) and approximate
otherwise; an item posted in the window and not read yet gets no share, so the service should either read
active items at snapshot time or attribute a window only once the next reads cover it.
"""

from __future__ import annotations

from bisect import bisect_right
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime

from libs.contracts.events import FollowerAttribution, FollowersSnapshotted, MetricsScraped


def engagement(likes: int, retweets: int, replies: int) -> int:
    return likes + retweets + replies


@dataclass(frozen=True)
class EngagementPoint:
    at: datetime
    engagement: int

    @classmethod
    def from_metrics(cls, m: MetricsScraped) -> EngagementPoint:
        return cls(m.observed_at, engagement(m.likes, m.retweets, m.replies))


@dataclass(frozen=True)
class ActiveItem:
    content_id: str
    tweet_id: str
    posted_at: datetime
    observations: tuple[EngagementPoint, ...] = ()

    def curve(self) -> list[tuple[float, float]]:
        """(timestamp, cumulative engagement) knots of E(t), from the posting time on."""
        t0 = self.posted_at.timestamp()
        knots = [(t0, 0.0)]
        # Reads stamped before the posting time (clock skew) are ignored; equal timestamps keep the larger count.
        for p in sorted(self.observations, key=lambda p: (p.at, p.engagement)):
            t = p.at.timestamp()
            if t < t0:
                continue
            if t == knots[-1][0]:
                knots[-1] = (t, float(p.engagement))
            else:
                knots.append((t, float(p.engagement)))
        return knots

    def engagement_at(self, at: datetime) -> float:
        knots = self.curve()
        t = at.timestamp()
        if t <= knots[0][0]:
            return 0.0
        i = bisect_right([k[0] for k in knots], t)
        if i == len(knots):
            return knots[-1][1]
        (ta, ea), (tb, eb) = knots[i - 1], knots[i]
        return ea + (eb - ea) * (t - ta) / (tb - ta)

    def window_engagement(self, start: datetime, end: datetime) -> float:
        return max(0.0, self.engagement_at(end) - self.engagement_at(start))


@dataclass(frozen=True)
class WindowAttribution:
    window_start: datetime
    window_end: datetime
    delta: int
    items: list[FollowerAttribution] = field(default_factory=list)
    # The part of the delta no item could be credited with (all of it when there was no engagement).
    unattributed: float = 0.0


def attribute_followers(
    items: Iterable[ActiveItem], *, window_start: datetime, window_end: datetime, delta: int
) -> WindowAttribution:
    if window_end < window_start:
        raise ValueError("window_end precedes window_start")
    # Sorting first makes the float sums, and so the shares, independent of the input order.
    ordered = sorted(items, key=lambda i: (i.content_id, i.tweet_id))
    weights = [(item, item.window_engagement(window_start, window_end)) for item in ordered]
    weights = [(item, w) for item, w in weights if w > 0]
    total = sum(w for _, w in weights)
    if total <= 0:
        return WindowAttribution(window_start, window_end, delta, [], float(delta))
    attributed = [
        FollowerAttribution(content_id=item.content_id, tweet_id=item.tweet_id, share=w / total,
                            followers=delta * w / total)
        for item, w in weights
    ]
    return WindowAttribution(window_start, window_end, delta, attributed, 0.0)


@dataclass(frozen=True)
class FollowerCount:
    followers: int
    observed_at: datetime


def followers_snapshot(
    *,
    handle: str,
    followers: int,
    following: int,
    observed_at: datetime,
    previous: FollowerCount | None,
    items: Iterable[ActiveItem] = (),
) -> FollowersSnapshotted:
    """The snapshot event, with the change since ``previous`` attributed over the window between the two.

    The first snapshot of a series has no window: delta 0 and no attribution.
    """
    if previous is None:
        return FollowersSnapshotted(handle=handle, followers=followers, following=following, observed_at=observed_at)
    delta = followers - previous.followers
    window = attribute_followers(items, window_start=previous.observed_at, window_end=observed_at, delta=delta)
    return FollowersSnapshotted(
        handle=handle,
        followers=followers,
        following=following,
        observed_at=observed_at,
        previous_followers=previous.followers,
        delta=delta,
        window_start=previous.observed_at,
        attribution=window.items,
    )
