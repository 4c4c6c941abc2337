"""What the sandbox served to our logged-in account, and what X does about it.

Every page, GraphQL read, write and login of the account is recorded (sandbox/store.py, table ``activity``) with
the posts it showed. From that ledger the sandbox enforces X's reading limit (posts viewed per rolling 24 h and per
rolling 15 min; past it, X's rate-limit page and 429s) and keeps the automation-suspicion score
(sandbox/suspicion.py): from the notice threshold on, writes get X's automation notice; from the lock threshold,
the account is locked for ``lock_duration``. The end of a lock, or an admin reset, starts the score afresh.
Ledger, locks and resets are stored, so a restarted sandbox keeps its counts, its score and its lock.
"""

from __future__ import annotations

from collections import deque
from datetime import datetime
from zoneinfo import ZoneInfo

from sandbox import xformat
from sandbox.settings import SandboxSettings
from sandbox.store import Lock, Served, Store
from sandbox.suspicion import Action, Model, Night, Suspicion, score

DAY = 24 * 3600.0
QUARTER = 15 * 60.0
COUNTS = ("page_loads", "api_reads", "posts_viewed", "home_views", "searches", "status_views", "profile_views",
          "analytics_views", "settings_views", "writes", "writes_created", "rate_limited", "notices", "logins")
VIEW_COUNT = {"home": "home_views", "search": "searches", "status": "status_views", "profile": "profile_views",
              "analytics": "analytics_views", "settings": "settings_views"}


def tally(rows: list[Served]) -> dict[str, int]:
    """The counts of a stretch of the ledger, by what was served."""
    counts = dict.fromkeys(COUNTS, 0)
    for s in rows:
        counts["posts_viewed"] += s.posts
        if s.channel in ("page", "api"):
            counts["page_loads" if s.channel == "page" else "api_reads"] += 1
            counts[VIEW_COUNT[s.kind]] += 1
        elif s.channel == "scroll":
            pass  # a timeline's next batch: posts viewed, not a page load
        elif s.channel == "write":
            counts["writes"] += 1
            counts["writes_created"] += s.outcome == "created"
        else:
            counts["logins"] += 1
        counts["rate_limited"] += s.outcome == "rate_limited"
        counts["notices"] += s.outcome == "automation"
    return counts


class Activity:
    def __init__(self, settings: SandboxSettings, store: Store, now: float) -> None:
        self.settings = settings
        self.store = store
        self.zone = ZoneInfo(settings.timezone)
        self.model = Model(night=Night(self.zone, settings.night_start, settings.night_end))
        self.per_day, self.per_15m = settings.reading_limits
        marks = store.marks()
        self._suspicion_since = marks.get("suspicion_since")
        self._reading_since = marks.get("reading_since")
        self.max_score = marks.get("max_score", 0.0)
        self.max_score_at = marks.get("max_score_at")
        self._locks = store.load_locks()
        # The last 24 h of the ledger, oldest first: every window the rules look at lies within it.
        self._recent: deque[Served] = deque(store.load_served(since=now - DAY))

    def _trim(self, now: float) -> None:
        while self._recent and self._recent[0].at <= now - DAY:
            self._recent.popleft()

    # ------------------------------------------------------------------ the reading limit

    def _reading_rows(self, now: float, span: float) -> list[Served]:
        since = self._reading_since
        return [s for s in self._recent if s.posts and s.at > now - span and (since is None or s.at >= since)]

    def viewed(self, now: float, span: float) -> int:
        self._trim(now)
        return sum(s.posts for s in self._reading_rows(now, span))

    def reading_limited(self, now: float) -> bool:
        """True once the account has viewed its limit of posts in either window: pages then show X's rate-limit
        notice instead of posts. The page that reaches the limit is still served whole, as X's counter is checked
        before a request, never half-way through one."""
        return self.settings.enforce_reading_limit and (
            self.viewed(now, DAY) >= self.per_day or self.viewed(now, QUARTER) >= self.per_15m)

    def reading_retry_at(self, now: float) -> float:
        """When both windows will have room again if nothing more is read."""
        def room_at(span: float, limit: int) -> float:
            rows = self._reading_rows(now, span)
            total, at = sum(s.posts for s in rows), now
            for s in rows:
                if total < limit:
                    break
                total -= s.posts
                at = s.at + span
            return at

        self._trim(now)
        return max(room_at(DAY, self.per_day), room_at(QUARTER, self.per_15m))

    # ------------------------------------------------------------------ suspicion, notice and lock

    def lock_until(self, now: float) -> float | None:
        return max((lock.until for lock in self._locks if lock.started_at <= now < lock.until), default=None)

    def _since(self, now: float) -> float | None:
        """Where the score starts: the last admin reset or the end of the last lock, whichever is later."""
        starts = [lock.until for lock in self._locks if lock.until <= now]
        if self._suspicion_since is not None:
            starts.append(self._suspicion_since)
        return max(starts, default=None)

    def suspicion(self, now: float, attempt: Action | None = None) -> Suspicion:
        self._trim(now)
        # A timeline's next batches are part of reading its page, not actions of their own.
        actions = [Action(s.at, s.kind, s.key) for s in self._recent if s.channel != "scroll"]
        if attempt is not None:
            actions.append(attempt)
        return score(actions, now, self.model, since=self._since(now))

    def write_refusal(self, now: float, kind: str, key: str) -> str | None:
        """"automation" (X's notice) when the score, counting this attempt, has reached the notice threshold."""
        if not self.settings.suspicion:
            return None
        attempt = self.suspicion(now, Action(now, kind, key))
        return "automation" if attempt.score >= self.settings.suspicion_notice else None

    def record(self, served: Served) -> None:
        self.store.add_served(served)
        self._recent.append(served)
        now = served.at
        current = self.suspicion(now)
        if current.score > self.max_score:
            self.max_score, self.max_score_at = current.score, now
            self.store.set_mark("max_score", current.score)
            self.store.set_mark("max_score_at", now)
        if self.settings.suspicion and current.score >= self.settings.suspicion_lock \
                and self.lock_until(now) is None:
            lock = Lock(started_at=now, until=now + self.settings.lock_duration.total_seconds(),
                        score=current.score)
            self.store.add_lock(lock)
            self._locks.append(lock)

    # ------------------------------------------------------------------ admin resets

    def reset_suspicion(self, now: float) -> None:
        """Start the score afresh, forget its highest value and lift a running lock."""
        self._suspicion_since, self.max_score, self.max_score_at = now, 0.0, now
        self.store.set_mark("suspicion_since", now)
        self.store.set_mark("max_score", 0.0)
        self.store.set_mark("max_score_at", now)
        self.store.end_locks(now)
        self._locks = self.store.load_locks()

    def reset_reading(self, now: float) -> None:
        self._reading_since = now
        self.store.set_mark("reading_since", now)

    # ------------------------------------------------------------------ the ground truth

    def _date(self, at: float) -> str:
        return datetime.fromtimestamp(at, self.zone).date().isoformat()

    def describe_activity(self, now: float) -> dict:
        self._trim(now)
        days: dict[str, list[Served]] = {}
        for s in self.store.load_served():
            if s.at <= now:
                days.setdefault(self._date(s.at), []).append(s)
        limited = self.reading_limited(now)
        return {
            "handle": self.settings.handle, "now": xformat.iso_time(now), "timezone": self.settings.timezone,
            "reading_limit": {
                "enforced": self.settings.enforce_reading_limit, "tier": self.settings.account_tier,
                "posts_viewed_per_day": self.per_day, "posts_viewed_per_15m": self.per_15m,
                "viewed_24h": self.viewed(now, DAY), "viewed_15m": self.viewed(now, QUARTER), "limited": limited,
                "retry_at": xformat.iso_time(self.reading_retry_at(now)) if limited else None,
                "since": xformat.iso_time(self._reading_since) if self._reading_since is not None else None,
            },
            "last_15m": tally([s for s in self._recent if s.at > now - QUARTER]),
            "last_24h": tally(list(self._recent)),
            "days": [{"date": date, **tally(rows)} for date, rows in sorted(days.items())],
        }

    def describe_suspicion(self, now: float) -> dict:
        current = self.suspicion(now)
        locked_until = self.lock_until(now)
        notice, lock = self.settings.suspicion_notice, self.settings.suspicion_lock
        state = "locked" if locked_until is not None else \
            "notice" if self.settings.suspicion and current.score >= notice else "ok"
        since = self._since(now)
        return {
            "handle": self.settings.handle, "now": xformat.iso_time(now), "enforced": self.settings.suspicion,
            "state": state, **current.as_json(), "thresholds": {"notice": notice, "lock": lock},
            "since": xformat.iso_time(since) if since is not None else None,
            "locked_until": xformat.iso_time(locked_until) if locked_until is not None else None,
            "max_score": round(self.max_score, 2),
            "max_score_at": xformat.iso_time(self.max_score_at) if self.max_score_at is not None else None,
            "notices": sum(1 for s in self.store.load_served() if s.outcome == "automation"),
            "locks": [{"started_at": xformat.iso_time(x.started_at), "until": xformat.iso_time(x.until),
                       "score": round(x.score, 2)} for x in self._locks],
            "lock_duration_s": self.settings.lock_duration.total_seconds(),
            "night": {"timezone": self.settings.timezone, "start": self.settings.night_start.isoformat("minutes"),
                      "end": self.settings.night_end.isoformat("minutes")},
        }
