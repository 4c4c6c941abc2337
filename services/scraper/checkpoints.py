"""When to read each of our tweets' metrics, in which order, and in which gateway batches.

Checkpoints are fixed ages after posting: the configured ones (default 1, 2, 6, 12, 24, 48 h), then one a day
after the last of them up to ``scrape_daily_until`` (default 7 days: 72, 96, 120, 144, 168 h). Every post's
metrics are thus compared at the same ages, which is what makes them comparable for the learner.

**Interval and "missed".** The interval of a checkpoint is the gap to the previous checkpoint (to the posting
time for the first one): 1 h for 1 h, 1 h for 2 h, 4 h for 6 h, 6 h for 12 h, 12 h for 24 h, 24 h for 48 h and
every daily one. A read counts as missed when it happens later than ``due + missed_fraction * interval``
(default 50%): the 1 h read is missed after 1.5 h, the 24 h read after 30 h. Why the previous gap: a read
that late is closer to the midpoint between two checkpoints than to its own, so its numbers no longer
describe "the post at that age". A missed read is still taken and published (flag ``missed``, true
``age_hours``) so the learner sees every checkpoint once and can discount the late ones.

**Order.** Due reads are served missed first (they drift further from their age every minute; oldest due first),
then recent (the fixed checkpoints: young posts, where the learner's early signal comes from), then historical
(the daily refreshes). Within a group, earliest ``late_at`` first, so the read closest to being missed goes
first. Ties break on tweet id and checkpoint: the order is deterministic.

**A short read budget** (the gateway answered ``budget_exhausted``, issue 18): the reward checkpoints go first
(``scrape_reward_checkpoints``: 24 h, the reading the learner takes a post's reward from, and 48 h, where its
follower credit closes; earliest due first), then the newest posts' other reads (newest post first, then its reads
in the usual order), and older posts' other checkpoints are thinned: they wait, and when they come due again
(their next checkpoint, or budget left over) one reading serves every checkpoint of the tweet that is due by then
(below), the older ones flagged missed. So the budget goes where the learner's signal is: every post's reward
first (before 2026-12-05 the newest posts' early checkpoints came first, and in a browser week at the default
budget, about 150 page loads a day for the metrics, two per read with the analytics page, the 24 h reads of most
posts never came: the learner matured 1 post in its first 3 days), then the early checkpoints it calibrates on;
an old post costs one read per shortage instead of one per checkpoint; none of its checkpoints is lost, only
late.

**Batches.** One gateway call reads a batch of tweet ids. A tweet with several due checkpoints (after an outage)
is read once and that one reading serves all of them; the tweet takes the position of its most urgent read.

A thread is scheduled by its first tweet: the head carries the thread's reach, and reading every part would
multiply the gateway load for little signal.
"""

from __future__ import annotations

from collections.abc import Collection, Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Literal

from libs.contracts.events import ContentKind, MetricsScraped, TweetPosted
from libs.contracts.gateway import TweetMetrics
from services.scraper.settings import ScraperSettings

ReadGroup = Literal["missed", "recent", "historical"]
_GROUP_RANK: dict[ReadGroup, int] = {"missed": 0, "recent": 1, "historical": 2}


@dataclass(frozen=True)
class Checkpoint:
    name: str
    hours: float
    interval_hours: float
    # A daily refresh after the fixed checkpoints.
    historical: bool


def checkpoint_name(hours: float) -> str:
    return f"{hours:g}h"


def checkpoints(fixed_hours: Sequence[float], *, daily_until: timedelta) -> tuple[Checkpoint, ...]:
    if not fixed_hours:
        raise ValueError("at least one checkpoint is needed")
    ages = [(float(h), False) for h in fixed_hours]
    until_hours = daily_until.total_seconds() / 3600
    day = ages[-1][0] + 24
    while day <= until_hours + 1e-9:
        ages.append((day, True))
        day += 24
    out, previous = [], 0.0
    for hours, historical in ages:
        if hours <= previous:
            raise ValueError("checkpoint ages must be positive and strictly increasing")
        out.append(Checkpoint(checkpoint_name(hours), hours, hours - previous, historical))
        previous = hours
    return tuple(out)


def checkpoints_from(settings: ScraperSettings) -> tuple[Checkpoint, ...]:
    return checkpoints(settings.scrape_checkpoint_hours, daily_until=settings.scrape_daily_until)


@dataclass(frozen=True)
class ScheduledRead:
    """One (tweet, checkpoint) read; its key is the key of the MetricsScraped it produces."""

    tweet_id: str
    content_id: str
    kind: ContentKind
    posted_at: datetime
    checkpoint: Checkpoint
    due_at: datetime
    late_at: datetime

    @property
    def key(self) -> tuple[str, str]:
        return (self.tweet_id, self.checkpoint.name)

    def is_missed(self, at: datetime) -> bool:
        return at > self.late_at


def schedule_reads(
    posted: TweetPosted, plan: Sequence[Checkpoint], *, missed_fraction: float = 0.5
) -> list[ScheduledRead]:
    """Every read of one posted item, earliest first (the thread head only, see module doc)."""
    reads = []
    for cp in plan:
        due = posted.posted_at + timedelta(hours=cp.hours)
        reads.append(
            ScheduledRead(
                tweet_id=posted.tweet_ids[0],
                content_id=posted.content_id,
                kind=posted.kind,
                posted_at=posted.posted_at,
                checkpoint=cp,
                due_at=due,
                late_at=due + timedelta(hours=cp.interval_hours * missed_fraction),
            )
        )
    return reads


def read_group(read: ScheduledRead, now: datetime) -> ReadGroup:
    if read.is_missed(now):
        return "missed"
    return "historical" if read.checkpoint.historical else "recent"


def due_reads(pending: Iterable[ScheduledRead], *, now: datetime, budget_short: bool = False,
              reward_hours: Collection[float] = ()) -> list[ScheduledRead]:
    """Pending reads whose time has come, in serving order (missed, recent, historical); with ``budget_short``,
    the reward checkpoints (``reward_hours``) first, earliest due first, then the others newest post first (see the
    module doc: older posts' other checkpoints are thinned)."""
    due = [r for r in pending if r.due_at <= now]

    def usual(r: ScheduledRead) -> tuple[int, datetime, str, float]:
        return (_GROUP_RANK[read_group(r, now)], r.late_at, r.tweet_id, r.checkpoint.hours)

    def short(r: ScheduledRead) -> tuple[int, float, int, datetime, str, float]:
        if r.checkpoint.hours in reward_hours:
            return (0, r.due_at.timestamp(), *usual(r))
        return (1, -r.posted_at.timestamp(), *usual(r))

    return sorted(due, key=short if budget_short else usual)


@dataclass(frozen=True)
class ReadBatch:
    tweet_ids: tuple[str, ...]
    # All due reads the batch's readings serve, in serving order.
    reads: tuple[ScheduledRead, ...]


# Tweet ids per metrics call while the read budget is short (see batch_size).
SHORT_BUDGET_BATCH = 5


def batch_size(configured: int, *, budget_short: bool) -> int:
    """Tweet ids per gateway call: fewer while the read budget is short, because the gateway refuses a batch
    whose expected cost does not fit whole, and a few status pages (about 3 posts viewed each; their analytics
    pages none) fit the own metrics' floor (14 % of the budget per 15 minutes: 16 at the defaults) when 20 do
    not."""
    return min(configured, SHORT_BUDGET_BATCH) if budget_short else configured


def plan_batches(ordered: Sequence[ScheduledRead], *, batch_size: int) -> list[ReadBatch]:
    """Chunk ``ordered`` (from :func:`due_reads`) into gateway calls of at most ``batch_size`` tweet ids."""
    if batch_size < 1:
        raise ValueError("batch_size must be at least 1")
    by_tweet: dict[str, list[ScheduledRead]] = {}
    for r in ordered:  # dicts keep insertion order: a tweet sits where its most urgent read is
        by_tweet.setdefault(r.tweet_id, []).append(r)
    ids = list(by_tweet)
    return [
        ReadBatch(
            tweet_ids=tuple(ids[i : i + batch_size]),
            reads=tuple(r for tid in ids[i : i + batch_size] for r in by_tweet[tid]),
        )
        for i in range(0, len(ids), batch_size)
    ]


def reads_analytics(batch: ReadBatch, *, budget_short: bool, reward_hours: Collection[float]) -> bool:
    """Whether the batch's reading loads each post's analytics page (profile visits, new followers), one more page
    load a post: always while the budget is enough; while it is short only for a batch holding a reward
    checkpoint's read. An early reading's visits only sharpen a provisional reward that the 24 h reading
    replaces, and a post's follower credit is its latest reading's."""
    return not budget_short or any(r.checkpoint.hours in reward_hours for r in batch.reads)


def metrics_events(
    batch: ReadBatch, readings: Iterable[TweetMetrics], *, observed_at: datetime
) -> list[MetricsScraped]:
    """One MetricsScraped per read of the batch whose tweet was read; reads of unread tweets stay pending.

    The service marks exactly these reads done in the same transaction as it records the events; together with
    ``MetricsScraped.dedup_key`` (``metrics:<tweet>:<checkpoint>``) that is "one event per tweet and checkpoint"
    across restarts.
    """
    by_id = {r.tweet_id: r for r in readings}
    out = []
    for read in batch.reads:
        reading = by_id.get(read.tweet_id)
        if reading is None:
            continue
        # A reading is as old as its own page (a batch's first post was read pages before the answer came).
        at = reading.read_at or observed_at
        out.append(
            MetricsScraped(
                tweet_id=read.tweet_id,
                content_id=read.content_id,
                kind=read.kind,
                checkpoint=read.checkpoint.name,
                checkpoint_hours=read.checkpoint.hours,
                age_hours=max((at - read.posted_at).total_seconds() / 3600, 0.0),
                likes=reading.likes,
                retweets=reading.retweets,
                replies=reading.replies,
                views=reading.views,
                profile_clicks=reading.profile_clicks,
                follows=reading.follows,
                observed_at=at,
                missed=read.is_missed(at),
            )
        )
    return out
