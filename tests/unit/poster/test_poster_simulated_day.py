"""A poster's day driven through next_due on a stepped clock: caps, spacing, quiet hours and priorities hold.

The loop is what the service does, minus I/O: ask next_due, post / expire / sleep until the answer's time.
"""

import random
from dataclasses import dataclass, field
from datetime import UTC, datetime, time, timedelta
from zoneinfo import ZoneInfo

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from libs.core.account import ActiveHours
from services.poster.pacing import Caps, PacingPolicy, WriteRecord, lane_of
from services.poster.risk import AccountRisk
from services.poster.scheduling import Expire, PostNow, QueuedItem, Wait, next_due, write_block
from services.poster.settings import PosterSettings

T0 = datetime(2025, 3, 3, 0, 0, tzinfo=UTC)
MIN = timedelta(minutes=1)
H = timedelta(hours=1)


@dataclass
class Day:
    posted: list[tuple[QueuedItem, WriteRecord]] = field(default_factory=list)
    expired: list[tuple[QueuedItem, datetime]] = field(default_factory=list)
    # (when, lane) of each write, and whether content was allowed at that moment (for the priority check)
    content_open_at_reply: list[bool] = field(default_factory=list)


def run(queue: list[QueuedItem], pacing: PacingPolicy, *, until: datetime, seed: int = 0,
        risk: AccountRisk | None = None, warnings: dict[datetime, str] | None = None) -> Day:
    rng = random.Random(seed)
    risk = risk or AccountRisk()
    pending_warnings = sorted((warnings or {}).items())
    queue = list(queue)
    history: list[WriteRecord] = []
    day = Day()
    now = T0
    for _ in range(100_000):
        while pending_warnings and pending_warnings[0][0] <= now:
            at, signal = pending_warnings.pop(0)
            risk.record_signal(signal, at)
        in_force = pacing.under(risk.level(now))
        block = write_block(now, operator_paused=False, risk=risk)
        decision = next_due(queue, history, now, pacing=in_force, block=block)
        if isinstance(decision, PostNow):
            item = decision.item
            if lane_of(item.kind) == "reply":
                content_ready = [i for i in queue if lane_of(i.kind) == "content" and i.ready_at <= now]
                day.content_open_at_reply.append(
                    bool(content_ready) and in_force.earliest("content", history, now) <= now)
            record = in_force.record(item.kind, now, rng)
            history.append(record)
            day.posted.append((item, record))
            queue.remove(item)
        elif isinstance(decision, Expire):
            day.expired.append((decision.item, now))
            queue.remove(decision.item)
        else:
            assert isinstance(decision, Wait)
            nxt = decision.until
            if pending_warnings and (nxt is None or pending_warnings[0][0] < nxt):
                nxt = pending_warnings[0][0]
            if nxt is None or nxt >= until:
                return day
            assert nxt > now, f"a wait must move time forward: {decision}"
            now = nxt
    raise AssertionError("the poster loop did not settle")


def assert_paced(day: Day, pacing: PacingPolicy) -> None:
    records = [r for _, r in day.posted]
    for lane in ("content", "reply"):
        caps = pacing.caps(lane)
        times = [r.at for r in records if r.lane == lane]
        for t in times:
            assert sum(1 for u in times if t - H < u <= t) <= caps.per_hour, f"{lane} hourly cap at {t}"
            assert sum(1 for u in times if t - 24 * H < u <= t) <= caps.per_day, f"{lane} daily cap at {t}"
    for before, after in zip(records, records[1:]):
        assert after.at - before.at >= pacing.min_spacing + before.jitter
    if pacing.active_hours is not None:
        assert all(pacing.active_hours.contains(r.at) for r in records)


def planner_day(n_posts: int, n_replies: int, *, seed: int) -> list[QueuedItem]:
    """Far more content than the caps allow, spread over the day, like an eager planner."""
    rng = random.Random(seed)
    items = []
    for i in range(n_posts):
        at = T0 + timedelta(minutes=rng.uniform(0, 24 * 60))
        items.append(QueuedItem(f"p{i}", rng.choice(["post", "thread"]), at, at + 4 * H))
    for i in range(n_replies):
        at = T0 + timedelta(minutes=rng.uniform(0, 24 * 60))
        items.append(QueuedItem(f"r{i}", "reply", at, at + 90 * MIN))
    return items


def test_a_simulated_day_with_the_default_settings_keeps_caps_spacing_and_quiet_hours():
    pacing = PosterSettings(active_hours_start=7, active_hours_end=23).pacing()  # the defaults (tests unset them)
    queue = planner_day(40, 150, seed=3)
    day = run(queue, pacing, until=T0 + 24 * H, seed=3)
    assert_paced(day, pacing)
    lanes = [r.lane for _, r in day.posted]
    # the caps bind: an over-eager planner gets exactly the daily allowance, the rest expires
    assert lanes.count("content") == 12
    assert lanes.count("reply") == 40
    assert len(day.posted) + len(day.expired) <= len(queue)
    for item, at in day.expired:
        assert at >= item.expires_at
    for item, record in day.posted:
        assert item.scheduled_for <= record.at < item.expires_at
    # content before replies: no reply went out while a ready content item could have gone instead
    assert not any(day.content_open_at_reply)


def test_a_rate_limit_warning_slows_the_rest_of_the_cooling_period():
    pacing = PosterSettings(spacing_jitter=timedelta(0)).pacing()
    queue = [QueuedItem(f"r{i}", "reply", T0, T0 + 24 * H) for i in range(200)]
    warn_at = T0 + 4 * H
    day = run(queue, pacing, until=T0 + 24 * H, warnings={warn_at: "rate_limited"})
    times = [r.at for _, r in day.posted]
    assert_paced(day, pacing)
    # nothing during the 15 min hold
    assert not any(warn_at <= t < warn_at + 15 * MIN for t in times)
    # during cooling (ELEVATED, 6 h): spacing doubled and at most 2 replies an hour
    cooling = [t for t in times if warn_at <= t < warn_at + 6 * H]
    assert all(b - a >= 2 * pacing.min_spacing for a, b in zip(cooling, cooling[1:]))
    assert all(sum(1 for u in cooling if t - H < u <= t) <= 2 for t in cooling)
    before = [t for t in times if t < warn_at]
    assert max(sum(1 for u in before if t - H < u <= t) for t in before) == 4  # back-to-normal comparison


def test_a_halt_stops_every_write_for_the_rest_of_the_day():
    pacing = PosterSettings().pacing()
    queue = planner_day(10, 60, seed=5)
    day = run(queue, pacing, until=T0 + 24 * H, warnings={T0 + 8 * H: "locked"})
    assert day.posted and all(r.at < T0 + 8 * H for _, r in day.posted)


# ---------------------------------------------------------------- property: caps hold for any queue

kinds = st.sampled_from(["post", "thread", "reply"])
items_strategy = st.lists(
    st.tuples(kinds, st.integers(0, 36 * 60), st.integers(1, 12 * 60)),  # kind, minute scheduled, minutes to live
    min_size=1,
    max_size=80,
)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    raw=items_strategy,
    caps=st.tuples(st.integers(1, 3), st.integers(1, 10), st.integers(1, 6), st.integers(1, 30)),
    spacing_min=st.integers(0, 30),
    jitter_min=st.integers(0, 10),
    quiet=st.one_of(st.none(), st.tuples(st.integers(0, 23), st.integers(1, 6))),
    seed=st.integers(0, 2**16),
)
def test_for_any_queue_posts_per_rolling_hour_and_day_never_exceed_the_caps(
    raw, caps, spacing_min, jitter_min, quiet, seed
):
    # quiet = (start, length): the active hours are the rest of the day
    hours = None if quiet is None else ActiveHours(time((quiet[0] + quiet[1]) % 24), time(quiet[0]), ZoneInfo("UTC"))
    pacing = PacingPolicy(
        content=Caps(caps[0], max(caps[0], caps[1])),
        replies=Caps(caps[2], max(caps[2], caps[3])),
        min_spacing=spacing_min * MIN,
        max_jitter=jitter_min * MIN,
        active_hours=hours,
    )
    queue = [
        QueuedItem(f"c{i}", kind, T0 + minute * MIN, T0 + (minute + ttl) * MIN)
        for i, (kind, minute, ttl) in enumerate(raw)
    ]
    day = run(queue, pacing, until=T0 + 60 * H, seed=seed)
    assert_paced(day, pacing)
    # every item is settled exactly once, never early
    settled = [i.content_id for i, _ in day.posted] + [i.content_id for i, _ in day.expired]
    assert sorted(settled) == sorted(i.content_id for i in queue)
    for item, record in day.posted:
        assert item.scheduled_for <= record.at < item.expires_at
    assert not any(day.content_open_at_reply)
