"""The activity budget: everything the gateway does on X for the account, counted and shared by priority
(issue 18 items 1-2). Pure: the gateway (gateway.py) asks :meth:`ActivityBudget.admit` before an op, records
what the op was served (:class:`Usage`, filled in by the page objects as pages load) and persists the records.

What is counted, over a rolling 15 minutes and a rolling 24 hours:

* ``page_loads``: pages opened (an API read counts as one);
* ``posts_viewed``: articles rendered on those pages (X's reading limit counts these: a search renders up to
  40, a profile up to 40, the home timeline up to 30, a status page the post and every reply);
* ``searches`` and ``profile_views``: the reads X's rules watch for scraping.

The budget is half of X's published reading limit for the account's tier (unverified 1,000 posts a day → 500;
new 500 → 250; verified 10,000 → 5,000), a quarter of it per 15 minutes, and it shrinks with the account's risk
level (risk.py). It caps the account's **total**: what every class views together, writes included, never
passes it. It is shared by priority as ceilings on that total: a class may start an op while the total of every
class plus what the op is expected to cost (and what the ops already admitted and still running are expected to
cost: their reservations, so two reads in flight cannot both take the last share) stays under its ceiling:

=============  ===========  ==============================================================
class          ceiling      ops
=============  ===========  ==============================================================
writes         100 %        post_tweet, post_thread, reply, and any op at P0
metrics        80 %         tweet_metrics of own posts, own_timeline, login_check
followers      80 %         the own profile: the follower count the composite objective learns from
conversations  70 %         tweet_replies: the replies our own tweets got (issue 24, item 5)
harvesting     65 %         search at P1, tweet_metrics of others' posts (deletion checks)
background     40 %         anything at P2, profiles of others (discovery)
=============  ===========  ==============================================================

So the last fifth of the budget is the writes' alone: reads stop at 80 % of the total whoever took the rest, and a
busy reading day still leaves room for a day's posts (each post opens the home timeline: 30 posts viewed).
Below its floor (:data:`FLOORS`: 14 %, 6 %, 5 %, 20 %, 5 % of the budget, counted on the class's own use) a read
class may go on past its ceiling, as long as the total stays under the reads' most (80 %): the priority decides
who gives way first, not whether the scraper and the harvester get anything on a busy posting day. The floors of
the own metrics and of the follower count (:data:`KEPT_FROM_WRITES`, a fifth of the budget together) are more than
that: what they have not used of them is kept from the writes too, and within them they may take the total up to
the budget itself (the reads' most does not hold them). The learner's rewards come from those
reads: a week whose posts' home pages filled the reads' 80 % left the scraper 11 reads in 7 days (``xbot bench
safety``, run 5), so the posts went on and nothing was learned from them. The follower count has a floor of its
own because the checkpoint reads used to spend the whole of a shared one: a growth week through the browser
counted the followers 3 times in 7 days (the own profile refused 27 times past the ceiling), so the composite
objective learned from almost no follower credit. The writes give way by at most the two floors (a fifth of the
budget), which a day at the poster's defaults does not reach.

An op that would pass its ceiling is answered ``budget_exhausted`` (retryable) with when enough of the window
will have left it. Outside the active hours (``XBOT_ACTIVE_HOURS_START``–``_END`` in the account's time zone)
only writes run: the account sleeps like its owner.

By day the budget also has a pace (:class:`PagePace`): page loads at least ``XBOT_PAGE_GAP_MIN``–``_MAX`` (10–16
simulated seconds, drawn anew each time) apart, now and then a longer pause as a person reading, so never more
than 6 a minute and never a metronome; a burst of reads is spread out instead of reaching X's automation notice
(bursts and regular intervals are what it watches, docs/sandbox.md). A read that would wait for its first page
longer than ``XBOT_PAGE_WAIT_MAX`` (150 s; background ``XBOT_PAGE_WAIT_MAX_BACKGROUND``, 60 s) is answered
``budget_exhausted`` with when to retry instead; writes never wait for it (the pacer spaces them) but their pages
count in it.
"""

from __future__ import annotations

import contextvars
import math
import random
import uuid
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any, Literal, Protocol

from libs.core.account import ActiveHours
from libs.contracts.gateway import GatewayError, GatewayRequest

BudgetClass = Literal["writes", "metrics", "followers", "conversations", "harvesting", "background"]
CLASSES: tuple[BudgetClass, ...] = ("writes", "metrics", "followers", "conversations", "harvesting", "background")
Resource = Literal["page_loads", "posts_viewed", "searches", "profile_views"]
RESOURCES: tuple[Resource, ...] = ("page_loads", "posts_viewed", "searches", "profile_views")

# The share of the budget the account's total (every class's use, writes included) may reach while each class
# still starts ops. The budget is half of X's limit and the total never passes it, writes included: a day of
# posts, each opening the home timeline, must not take the account past the budget it promises.
# Our own conversations rank above strangers' tweets: an answered reply to our tweet is what X's ranker weighs most
# (issue 24, item 5), and one status page reads a whole conversation.
CEILINGS: dict[BudgetClass, float] = {"writes": 1.0, "metrics": 0.8, "followers": 0.8, "conversations": 0.7,
                                      "harvesting": 0.65, "background": 0.4}
# The most reads take of the total, floors included: the last fifth is kept for the writes.
READS_MOST = CEILINGS["metrics"]
# What each read class may always use of the budget, counted on its own use, even when the writes took the total
# past its ceiling (never past the reads' most): without it a busy posting day leaves the scraper and the
# harvester nothing at all.
# The own profile's 6 % is two or three follower counts a day (a profile page renders up to 40 posts, the sandbox's
# about 15); the checkpoint reads keep 14 % (some 30 status pages).
FLOORS: dict[BudgetClass, float] = {"writes": 0.0, "metrics": 0.14, "followers": 0.06, "conversations": 0.05,
                                    "harvesting": 0.2, "background": 0.05}
# The classes the learner's rewards come from: what they have not used of their floors is kept from the writes,
# and within their floors they may take the total up to the budget itself.
KEPT_FROM_WRITES: tuple[BudgetClass, ...] = ("metrics", "followers")
# The resources those floors are kept in: the ones their reads spend.
KEPT_RESOURCES: tuple[Resource, ...] = ("page_loads", "posts_viewed")
# X's published reading limit in posts viewed a day, per tier (July 2023).
X_POSTS_VIEWED_PER_DAY = {"new": 500, "unverified": 1000, "verified": 10_000}
WINDOWS: dict[str, timedelta] = {"15m": timedelta(minutes=15), "day": timedelta(days=1)}
# What an op is expected to cost before it has been seen (posts viewed per page): the page's most, as X renders.
# A profile snapshot leaves the profile's posts unasked (pages.profile_snapshot), and the login check opens a page
# without posts: none, unless X serves them anyway (the op's cost is then learned from what it saw).
POSTS_PER_PAGE = {"search": 40, "profile_snapshot": 0, "own_timeline": 40, "login_check": 0, "post_tweet": 30,
                  "post_thread": 30, "reply": 10, "tweet_metrics": 5, "delete_tweet": 10, "tweet_replies": 20}


@dataclass
class Usage:
    """What one op was served; the page objects add to the op's own (a context variable). ``turn`` is the op's
    place in the budget's pace (None: unpaced, the budget off or outside an op)."""

    page_loads: int = 0
    posts_viewed: int = 0
    turn: PageTurn | None = None
    # The posts the op may view (ActivityBudget.reserved_posts: its class's room, at least its expected cost);
    # None: unbounded (the budget off, outside an op).
    allowance: int | None = None

    # The posts counted with the page last opened: what its timeline shows once loaded adds the rest (rendered).
    on_page: int = 0

    def page(self, posts: int) -> None:
        self.page_loads += 1
        self.posts_viewed += posts
        self.on_page = posts

    def rendered(self, posts: int) -> None:
        """The posts the page shows once its timeline is there: those beyond what was counted with the page. X's
        web client asks for a page's posts after the page (a profile's, a search's results, a conversation):
        counted only on the page's arrival they would be none, and a budget that learns an op's cost from what it
        counted would let reads past X's limit."""
        self.posts_viewed += max(0, posts - self.on_page)
        self.on_page = max(self.on_page, posts)

    def scrolled(self, posts: int) -> None:
        """A timeline's next batch, loaded by scrolling: posts viewed on the page already loaded."""
        self.posts_viewed += posts

    def may_view(self, posts: int) -> bool:
        """Whether ``posts`` more stay within the op's allowance. A read that scrolls decides how much it views:
        it stops where its class's room ends, so that the budget's ceilings hold for what was served, not only for
        what was expected (the past posts' read of 100 viewed 100 against its class's 47 in 15 minutes before
        this check)."""
        return self.allowance is None or self.posts_viewed + posts <= self.allowance

    async def before_page(self) -> None:
        """Wait for this page's slot in the pace (a page object calls it before every navigation)."""
        if self.turn is not None:
            await self.turn.before_page()


_current: contextvars.ContextVar[Usage | None] = contextvars.ContextVar("xbot_gateway_usage", default=None)


def current_usage() -> Usage:
    """The running op's usage (a throwaway one outside an op, e.g. the login command)."""
    return _current.get() or Usage()


def start_usage(turn: PageTurn | None = None, allowance: int | None = None) -> Usage:
    usage = Usage(turn=turn, allowance=allowance)
    _current.set(usage)
    return usage


@dataclass(frozen=True)
class Limits:
    """The budget at NORMAL risk, per window."""

    day: dict[Resource, int]
    quarter: dict[Resource, int]

    def of(self, window: str) -> dict[Resource, int]:
        return self.day if window == "day" else self.quarter


def new_uid() -> str:
    return uuid.uuid4().hex[:16]


def uid_of(row: list[Any], index: int) -> str:
    """A stored record's uid; a record saved before records had one is named by its content (as it was merged
    then), the same on every replica that reads it."""
    return str(row[index]) if len(row) > index else "|".join(str(v) for v in row)


@dataclass(frozen=True)
class ActivityRecord:
    at: datetime
    cls: BudgetClass
    op: str
    page_loads: int
    posts_viewed: int
    # Which op this is: replicas merge their records as sets, and two ops alike at one instant are still two.
    uid: str = field(default_factory=new_uid)

    def amount(self, resource: Resource) -> int:
        if resource == "searches":
            return 1 if self.op == "search" and self.page_loads else 0
        if resource == "profile_views":
            return 1 if self.op == "profile_snapshot" and self.page_loads else 0
        return self.page_loads if resource == "page_loads" else self.posts_viewed

    def as_list(self) -> list[Any]:
        return [self.at.isoformat(), self.cls, self.op, self.page_loads, self.posts_viewed, self.uid]

    @classmethod
    def from_list(cls, row: list[Any]) -> ActivityRecord:
        return cls(datetime.fromisoformat(row[0]), row[1], row[2], int(row[3]), int(row[4]), uid_of(row, 5))



def class_of(request: GatewayRequest[Any], own_handle: str) -> BudgetClass:
    """Which class an op belongs to: own writes, own metrics, reply-target harvesting, background."""
    priority = request.effective_priority()
    if request.WRITES or priority == 0:
        return "writes"
    if priority == 2:
        return "background"
    op = request.OP
    own = own_handle.lower()
    if op in ("own_timeline", "login_check"):
        return "metrics"
    if op == "tweet_replies":
        return "conversations"
    if op == "tweet_metrics":
        return "metrics" if getattr(request, "author", "").lower() == own else "harvesting"
    if op == "profile_snapshot":
        return "followers" if getattr(request, "handle", "").lower() == own else "background"
    return "harvesting"  # search


def pages_of(request: GatewayRequest[Any]) -> int:
    """Pages an op opens: a status page per tweet for metrics (and its analytics page when the profile visits are
    asked for), one otherwise."""
    if request.OP == "tweet_metrics":
        return len(getattr(request, "ids", ())) * (2 if getattr(request, "with_profile_visits", False) else 1)
    return 1


def expected_cost(request: GatewayRequest[Any], per_page: dict[str, float], *, cautious: bool = False,
                  most_today: float | None = None) -> dict[Resource, int]:
    """What an op will probably cost: pages it opens, times the posts a page of that op was last seen to show
    (``cautious``, for the writes, whose ceiling is the budget itself: at least the most such a page renders, or
    ``most_today``, the most one rendered today, when that is less: a post composed in the dialog over a page that
    renders none costs none, and one composed from the home timeline after a fallback costs the home page again).
    """
    op = request.OP
    pages = pages_of(request)
    seen = per_page.get(op, POSTS_PER_PAGE.get(op, 20))
    if cautious:
        most = POSTS_PER_PAGE.get(op, 20)
        seen = max(seen, most if most_today is None else min(most, most_today))
    posts = math.ceil(pages * seen)
    return {"page_loads": pages, "posts_viewed": posts, "searches": 1 if op == "search" else 0,
            "profile_views": 1 if op == "profile_snapshot" else 0}


@dataclass
class ActivityBudget:
    limits: Limits
    active_hours: ActiveHours | None = None
    enabled: bool = True
    records: list[ActivityRecord] = field(default_factory=list)
    # Posts viewed per page, by op, as last seen (an exponential average): the next op's expected cost.
    per_page: dict[str, float] = field(default_factory=dict)
    # Ops admitted and still running, as their expected cost (uid -> record): counted as used until the op's
    # own record replaces them. This process's only: another replica's ops count once they are recorded.
    in_flight: dict[str, ActivityRecord] = field(default_factory=dict)
    # Per admitted op: the posts it may view (reserved_posts).
    allowances: dict[str, int] = field(default_factory=dict)

    # ------------------------------------------------------------ questions

    def used(self, now: datetime, window: str, cls: BudgetClass | None = None, *,
             reserved: bool = False) -> dict[Resource, int]:
        """What was used in the window (``reserved``: and what the ops in flight are expected to use)."""
        since = now - WINDOWS[window]
        rows = [r for r in self.records if r.at > since and (cls is None or r.cls == cls)]
        if reserved:
            rows += [r for r in self.in_flight.values() if cls is None or r.cls == cls]
        return {res: sum(r.amount(res) for r in rows) for res in RESOURCES}

    def most_per_page(self, op: str, now: datetime) -> float | None:
        """The most posts a page of ``op`` rendered in the last day (None before one was seen)."""
        since = now - WINDOWS["day"]
        seen = [r.posts_viewed / r.page_loads for r in self.records if r.op == op and r.at > since and r.page_loads]
        return max(seen, default=None)

    def admit(self, request: GatewayRequest[Any], cls: BudgetClass, now: datetime, share: float) -> str | None:
        """Raise ``budget_exhausted`` (with when to retry) unless ``cls`` may start ``request`` now; ``share`` is
        what the risk level leaves of the budget. Admitted, the op's expected cost is reserved until
        :meth:`record` (or :meth:`release`) with the uid returned."""
        if not self.enabled:
            return None
        if share == 0 and request.OP == "login_check":
            return None  # locked: the periodic login check that looks for the lock's end is all that runs
        if cls != "writes" and self.active_hours is not None and not self.active_hours.contains(now):
            opens = self.active_hours.next_open(now)
            raise GatewayError("budget_exhausted", f"{request.OP} ({cls}): outside the account's active hours "
                               f"(XBOT_ACTIVE_HOURS_START/_END); they open at {opens.isoformat()}",
                               retry_after_s=max(1.0, (opens - now).total_seconds()))
        risk_share = share
        if cls == "writes":
            # The risk slows writes through the hard caps and the poster's pacing; what their pages show counts
            # against the whole budget, which the reads' shrinking shares leave them.
            share = 1.0
        cost = expected_cost(request, self.per_page, cautious=cls == "writes",
                             most_today=self.most_per_page(request.OP, now) if cls == "writes" else None)
        room = math.inf  # posts the op may view without passing its class's ceiling (or its floor) in any window
        for window in WINDOWS:
            used = self.used(now, window, reserved=True)
            own = self.used(now, window, cls, reserved=True)
            rewards_used = {c: self.used(now, window, c, reserved=True) for c in KEPT_FROM_WRITES}
            for res in RESOURCES:
                if not cost[res]:
                    continue
                limit = self.limits.of(window)[res]
                ceiling = round(limit * share * CEILINGS[cls])
                floor = round(limit * share * FLOORS[cls])
                reads_most = round(limit * share * READS_MOST)
                kept = 0
                if cls in KEPT_FROM_WRITES:
                    reads_most = round(limit * share)  # within their floor, up to the budget itself
                elif cls == "writes" and res in KEPT_RESOURCES:
                    kept = self._kept_from_writes(limit * risk_share, {c: u[res] for c, u in rewards_used.items()})
                    ceiling -= kept
                within_floor = own[res] + cost[res] <= floor and used[res] + cost[res] <= reads_most
                if res == "posts_viewed":
                    room = min(room, max(ceiling - used[res], min(floor - own[res], reads_most - used[res])))
                if used[res] + cost[res] > ceiling and not within_floor:
                    retry = self._retry_at(now, window, res, used[res] + cost[res] - ceiling)
                    raise GatewayError(
                        "budget_exhausted",
                        f"{request.OP} ({cls}): {res} {used[res]} in the last {window} + about {cost[res]} would pass "
                        f"this class's ceiling of {ceiling} ({CEILINGS[cls]:.0%} of {self.limits.of(window)[res]}"
                        f" x {share:g} for the risk level" + (f", less {kept} kept for own metrics and followers)"
                                                            if kept else ")"),
                        retry_after_s=max(1.0, (retry - now).total_seconds()))
        reservation = ActivityRecord(now, cls, request.OP, cost["page_loads"], cost["posts_viewed"])
        self.in_flight[reservation.uid] = reservation
        if math.isfinite(room):  # an op expected to view no posts was not measured against the ceilings
            self.allowances[reservation.uid] = int(max(cost["posts_viewed"], room))
        return reservation.uid

    def reserved_posts(self, reservation: str | None) -> int | None:
        """The posts an admitted op may view: what it is expected to, or more while its class's room allows (a read
        that scrolls decides how much it views); None: not admitted by the budget."""
        return self.allowances.get(reservation) if reservation is not None else None

    def release(self, reservation: str | None) -> None:
        """The op is over (recorded, or refused before it reached X): its reservation no longer counts."""
        if reservation is not None:
            self.in_flight.pop(reservation, None)
            self.allowances.pop(reservation, None)

    @staticmethod
    def _kept_from_writes(budget: float, used: dict[BudgetClass, int]) -> int:
        """What the own metrics and the follower count have not used of their floors: the writes may not take it."""
        return sum(max(0, round(budget * FLOORS[c]) - used[c]) for c in KEPT_FROM_WRITES)

    def _retry_at(self, now: datetime, window: str, res: Resource, excess: int) -> datetime:
        """When enough of the window's records have left it to free ``excess`` of ``res``."""
        span = WINDOWS[window]
        freed = 0
        for r in sorted((r for r in self.records if r.at > now - span), key=lambda r: r.at):
            freed += r.amount(res)
            if freed >= excess:
                return r.at + span
        return now + span

    # ------------------------------------------------------------ what happened

    def record(self, request: GatewayRequest[Any], cls: BudgetClass, usage: Usage, now: datetime,
               reservation: str | None = None) -> ActivityRecord:
        self.release(reservation)
        record = ActivityRecord(now, cls, request.OP, usage.page_loads, usage.posts_viewed)
        self.records = [r for r in self.records if r.at > now - WINDOWS["day"]] + [record]
        if usage.page_loads:
            seen = usage.posts_viewed / usage.page_loads
            before = self.per_page.get(request.OP)
            self.per_page[request.OP] = seen if before is None else 0.7 * before + 0.3 * seen
        return record

    # ------------------------------------------------------------ status and persistence

    def status(self, now: datetime, share: float) -> dict[str, Any]:
        out: dict[str, Any] = {"enabled": self.enabled}
        for window in WINDOWS:
            used = self.used(now, window)
            out[window] = {res: f"{used[res]}/{math.floor(self.limits.of(window)[res] * share)}" for res in RESOURCES}
            out[f"{window}_by_class"] = {cls: self.used(now, window, cls)["posts_viewed"] for cls in CLASSES}
        out["left_by_class"] = self.left(now, share)
        if self.active_hours is not None:
            out["active_now"] = self.active_hours.contains(now)
        return out

    def left(self, now: datetime, share: float) -> dict[str, int]:
        """Posts each class may still view (the tighter of both windows)."""
        out: dict[str, int] = {}
        for cls in CLASSES:
            scale = 1.0 if cls == "writes" else share
            rooms = []
            for w in WINDOWS:
                limit = self.limits.of(w)["posts_viewed"]
                kept = 0 if cls != "writes" else self._kept_from_writes(limit * share, {
                    c: self.used(now, w, c, reserved=True)["posts_viewed"] for c in KEPT_FROM_WRITES})
                rooms.append(math.floor(limit * scale * CEILINGS[cls]) - kept
                             - self.used(now, w, reserved=True)["posts_viewed"])
            out[cls] = max(0, min(rooms))
        return out

    def to_dict(self) -> dict[str, Any]:
        return {"records": [r.as_list() for r in self.records], "per_page": self.per_page}

    def restore(self, data: dict[str, Any]) -> None:
        self.records = [ActivityRecord.from_list(r) for r in data.get("records", [])]
        self.per_page = {k: float(v) for k, v in data.get("per_page", {}).items()}

    def merge(self, data: dict[str, Any]) -> None:
        theirs = {ActivityRecord.from_list(r) for r in data.get("records", [])}
        self.records = sorted(set(self.records) | theirs, key=lambda r: r.at)


class Sleeper(Protocol):
    def now(self) -> datetime: ...

    async def sleep(self, seconds: float) -> None: ...


@dataclass
class PagePace:
    """The budget's pace by day: page loads ``min_gap_s``-``max_gap_s`` simulated seconds apart (drawn anew each
    time) and, with ``pause_chance``, a longer pause as a person reading a page (``pause_s`` more), so a burst of
    reads becomes a few pages a minute with irregular gaps. Each page takes the next free slot in call order
    (:meth:`before_page`); a write's page takes its slot at once and pushes the reads' next one back. Per process:
    replicas of the account each keep their own pace (the budget's counts are the shared part)."""

    clock: Sleeper
    min_gap_s: float = 10.0
    max_gap_s: float = 16.0
    pause_chance: float = 0.25
    pause_s: tuple[float, float] = (10.0, 40.0)
    rng: random.Random = field(default_factory=random.Random)
    next_at: datetime | None = None
    # Pages of admitted ops that have not loaded yet: they take their slots before a newer op's first page.
    pending: int = 0

    def gap(self) -> float:
        gap = self.rng.uniform(self.min_gap_s, self.max_gap_s)
        if self.rng.random() < self.pause_chance:
            gap += self.rng.uniform(*self.pause_s)
        return gap

    @property
    def longest_gap(self) -> float:
        return self.max_gap_s + (self.pause_s[1] if self.pause_chance > 0 else 0.0)

    @property
    def mean_gap(self) -> float:
        return (self.min_gap_s + self.max_gap_s) / 2 + self.pause_chance * sum(self.pause_s) / 2

    def expected_wait(self, now: datetime) -> float:
        """Simulated seconds a new op would wait for its first page."""
        free = max(0.0, (self.next_at - now).total_seconds()) if self.next_at is not None else 0.0
        return free + self.pending * self.mean_gap

    def admit(self, pages: int) -> None:
        self.pending += pages

    def done(self, pages_left: int) -> None:
        """The op ended with ``pages_left`` of its admitted pages never loaded (an error, a short cut)."""
        self.pending = max(0, self.pending - pages_left)

    def turn(self, request: GatewayRequest[Any], cls: BudgetClass, now: datetime, max_wait_s: float) -> PageTurn:
        """The op's place in the pace; a read that would wait longer than ``max_wait_s`` for its first page is
        answered ``budget_exhausted`` with when its turn would have come."""
        pages = pages_of(request)
        if cls == "writes":
            return PageTurn(self, pages, wait=False)
        wait = self.expected_wait(now)
        if wait > max_wait_s:
            raise GatewayError("budget_exhausted", f"{request.OP} ({cls}): the budget's pace (a page every "
                               f"{self.min_gap_s:g}-{self.max_gap_s:g} s) would make it wait {wait:.0f} s for its "
                               f"first page, more than {max_wait_s:g} s (XBOT_PAGE_WAIT_MAX"
                               f"{'_BACKGROUND' if cls == 'background' else ''})",
                               retry_after_s=max(1.0, wait - max_wait_s))  # when the queue ahead is short enough
        self.admit(pages)
        return PageTurn(self, pages, wait=True)

    def take_slot(self, now: datetime, *, wait: bool) -> float:
        """Take the next page slot: the seconds to wait for it (0 for a page that does not ``wait``)."""
        slot = now if not wait or self.next_at is None else max(now, self.next_at)
        self.next_at = slot + timedelta(seconds=self.gap())
        return (slot - now).total_seconds()


@dataclass
class PageTurn:
    """One op's pages under the pace: the page objects call :meth:`before_page` before each navigation."""

    pace: PagePace
    pages: int  # pages admitted for the op
    wait: bool  # reads wait for their slot; writes take theirs at once
    loaded: int = 0

    ahead: bool = False  # the next page's slot was taken already (:meth:`take_first`)

    async def before_page(self) -> None:
        if self.ahead:
            self.ahead = False
            return
        if self.loaded < self.pages:
            self.pace.pending = max(0, self.pace.pending - 1)
        self.loaded += 1
        delay = self.pace.take_slot(self.pace.clock.now(), wait=self.wait)
        if delay > 0:
            await self.pace.clock.sleep(delay)

    async def take_first(self) -> None:
        """Wait for the first page's slot before the op takes a browser context (the browser driver calls it), so
        a read waiting for its turn holds no context another op could use meanwhile."""
        if self.loaded == 0 and not self.ahead:
            await self.before_page()
            self.ahead = True

    def longest_wait_s(self, first_page_s: float) -> float:
        """The most the op can wait for its pages (simulated seconds): its op timeout is that much longer."""
        return first_page_s + self.pages * self.pace.longest_gap if self.wait else 0.0

    def finish(self) -> None:
        self.pace.done(max(0, self.pages - self.loaded))
        self.loaded = self.pages
