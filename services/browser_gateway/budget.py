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
level (risk.py). It is shared by priority as ceilings on the account's total: a class may start an op while the
total of every class (writes included) plus what the op is expected to cost stays under its ceiling. Own writes
(and the poster's P0 read-backs) go on past the budget (the hard caps and the poster's pacing bound them) but
what they view counts, so when they view more the reads give way, lowest class first:

=============  ===========  ==============================================================
class          ceiling      ops
=============  ===========  ==============================================================
writes         180 %        post_tweet, post_thread, reply, and any op at P0 (90 % of X's limit)
metrics        100 %        tweet_metrics of own posts, own_timeline, the own profile, login_check
harvesting     80 %         search at P1, tweet_metrics of others' posts (deletion checks)
background     50 %         anything at P2, profiles of others (discovery)
=============  ===========  ==============================================================

Below its floor (:data:`FLOORS`: 20 %, 20 %, 5 % of the budget, counted on the class's own use) a read class
may go on past its ceiling, as long as the total stays under the writes' ceiling: the priority decides who gives
way first, not whether the scraper and the harvester get anything on a busy posting day.

An op that would pass its ceiling is answered ``budget_exhausted`` (retryable) with when enough of the window
will have left it. Outside the active hours (``XBOT_ACTIVE_HOURS_START``–``_END`` in the account's time zone)
only writes run: the account sleeps like its owner.
"""

from __future__ import annotations

import contextvars
import math
import uuid
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any, Literal

from libs.core.account import ActiveHours
from libs.contracts.gateway import GatewayError, GatewayRequest

BudgetClass = Literal["writes", "metrics", "harvesting", "background"]
CLASSES: tuple[BudgetClass, ...] = ("writes", "metrics", "harvesting", "background")
Resource = Literal["page_loads", "posts_viewed", "searches", "profile_views"]
RESOURCES: tuple[Resource, ...] = ("page_loads", "posts_viewed", "searches", "profile_views")

# The share of the budget the account's total may reach while each class still starts ops. Writes go on past the
# budget (it is the reads that give way) up to 90 % of X's own reading limit (1.8 x its half): past X's limit the
# home page shows X's rate-limit notice and nothing can be posted anyway, so the last tenth is never spent.
CEILINGS: dict[BudgetClass, float] = {"writes": 1.8, "metrics": 1.0, "harvesting": 0.8, "background": 0.5}
# What each read class may always use of the budget, counted on its own use, even when the writes took the total
# past its ceiling (never past the writes' ceiling, X's own limit's 90 %): without it a busy posting day leaves
# the scraper and the harvester nothing at all.
FLOORS: dict[BudgetClass, float] = {"writes": 0.0, "metrics": 0.2, "harvesting": 0.2, "background": 0.05}
# X's published reading limit in posts viewed a day, per tier (July 2023).
X_POSTS_VIEWED_PER_DAY = {"new": 500, "unverified": 1000, "verified": 10_000}
WINDOWS: dict[str, timedelta] = {"15m": timedelta(minutes=15), "day": timedelta(days=1)}
# What an op is expected to cost before it has been seen (posts viewed per page): the page's most, as X renders.
POSTS_PER_PAGE = {"search": 40, "profile_snapshot": 40, "own_timeline": 40, "login_check": 30, "post_tweet": 30,
                  "post_thread": 30, "reply": 10, "tweet_metrics": 5, "delete_tweet": 10}


@dataclass
class Usage:
    """What one op was served; the page objects add to the op's own (a context variable)."""

    page_loads: int = 0
    posts_viewed: int = 0

    def page(self, posts: int) -> None:
        self.page_loads += 1
        self.posts_viewed += posts


_current: contextvars.ContextVar[Usage | None] = contextvars.ContextVar("xbot_gateway_usage", default=None)


def current_usage() -> Usage:
    """The running op's usage (a throwaway one outside an op, e.g. the login command)."""
    return _current.get() or Usage()


def start_usage() -> Usage:
    usage = Usage()
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
    if op == "tweet_metrics":
        return "metrics" if getattr(request, "author", "").lower() == own else "harvesting"
    if op == "profile_snapshot":
        return "metrics" if getattr(request, "handle", "").lower() == own else "background"
    return "harvesting"  # search


def expected_cost(request: GatewayRequest[Any], per_page: dict[str, float]) -> dict[Resource, int]:
    """What an op will probably cost: pages it opens, times the posts a page of that op was last seen to show."""
    op = request.OP
    pages = len(getattr(request, "ids", ())) if op == "tweet_metrics" else 1
    posts = math.ceil(pages * per_page.get(op, POSTS_PER_PAGE.get(op, 20)))
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

    # ------------------------------------------------------------ questions

    def used(self, now: datetime, window: str, cls: BudgetClass | None = None) -> dict[Resource, int]:
        since = now - WINDOWS[window]
        rows = [r for r in self.records if r.at > since and (cls is None or r.cls == cls)]
        return {res: sum(r.amount(res) for r in rows) for res in RESOURCES}

    def admit(self, request: GatewayRequest[Any], cls: BudgetClass, now: datetime, share: float) -> None:
        """Raise ``budget_exhausted`` (with when to retry) unless ``cls`` may start ``request`` now; ``share`` is
        what the risk level leaves of the budget."""
        if not self.enabled:
            return
        if share == 0 and request.OP == "login_check":
            return  # locked: the periodic login check that looks for the lock's end is all that runs
        if cls != "writes" and self.active_hours is not None and not self.active_hours.contains(now):
            opens = self.active_hours.next_open(now)
            raise GatewayError("budget_exhausted", f"{request.OP} ({cls}): outside the account's active hours "
                               f"(XBOT_ACTIVE_HOURS_START/_END); they open at {opens.isoformat()}",
                               retry_after_s=max(1.0, (opens - now).total_seconds()))
        if cls == "writes":
            # The writes' ceiling stands for X's own reading limit, which does not move with the account's risk;
            # the risk slows writes through the hard caps and the poster's pacing instead.
            share = 1.0
        cost = expected_cost(request, self.per_page)
        for window in WINDOWS:
            used = self.used(now, window)
            own = self.used(now, window, cls)
            for res in RESOURCES:
                if not cost[res]:
                    continue
                limit = self.limits.of(window)[res]
                ceiling = round(limit * share * CEILINGS[cls])
                floor = round(limit * share * FLOORS[cls])
                within_floor = own[res] + cost[res] <= floor and \
                    used[res] + cost[res] <= round(limit * CEILINGS["writes"])
                if used[res] + cost[res] > ceiling and not within_floor:
                    retry = self._retry_at(now, window, res, used[res] + cost[res] - ceiling)
                    raise GatewayError(
                        "budget_exhausted",
                        f"{request.OP} ({cls}): {res} {used[res]} in the last {window} + about {cost[res]} would pass "
                        f"this class's ceiling of {ceiling} ({CEILINGS[cls]:.0%} of {self.limits.of(window)[res]}"
                        f" x {share:g} for the risk level)",
                        retry_after_s=max(1.0, (retry - now).total_seconds()))

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

    def record(self, request: GatewayRequest[Any], cls: BudgetClass, usage: Usage, now: datetime) -> ActivityRecord:
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
            room = min(math.floor(self.limits.of(w)["posts_viewed"] * scale * CEILINGS[cls])
                       - self.used(now, w)["posts_viewed"] for w in WINDOWS)
            out[cls] = max(0, room)
        return out

    def to_dict(self) -> dict[str, Any]:
        return {"records": [r.as_list() for r in self.records], "per_page": self.per_page}

    def restore(self, data: dict[str, Any]) -> None:
        self.records = [ActivityRecord.from_list(r) for r in data.get("records", [])]
        self.per_page = {k: float(v) for k, v in data.get("per_page", {}).items()}

    def merge(self, data: dict[str, Any]) -> None:
        theirs = {ActivityRecord.from_list(r) for r in data.get("records", [])}
        self.records = sorted(set(self.records) | theirs, key=lambda r: r.at)
