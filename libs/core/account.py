"""The account every service works for: its handle, its niche file and its posting caps, declared once.

Each service's settings subclass :class:`AccountSettings`, so ``XBOT_X_HANDLE``, ``XBOT_NICHE_PATH`` and the
caps (``XBOT_POSTS_PER_HOUR`` ...) are one variable each, read the same way (and checked the same way) by every
service that needs them: the planner never queues more than the poster may post because both read the same caps.
The account's day is declared here too: its active hours (``XBOT_ACTIVE_HOURS_START``-``_END`` in
``XBOT_ACCOUNT_TIMEZONE``) are when the gateway reads, the planner's hour arms and the poster's writing hours; the
rest of the day is the quiet hours of all three.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from pathlib import Path
from typing import Any, ClassVar
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import Field, field_validator, model_validator

from libs.core.settings import CommonSettings, Unit

# The poster's own quiet hours before they became the account's: a deployment still setting them would get
# different hours than it asked for, so they stop start-up with the replacement named.
REMOVED_VARIABLES = ("XBOT_QUIET_HOURS_START", "XBOT_QUIET_HOURS_END", "XBOT_UTC_OFFSET_MINUTES")


def handle_key(handle: str) -> str:
    """An X handle as X compares them: without its "@" and case-insensitive ("@Alice" and "alice" are one account)."""
    return handle.lstrip("@").lower()


@dataclass(frozen=True)
class ActiveHours:
    """The account's waking day, [start, end) local time in ``zone``; wraps midnight when start > end."""

    start: time
    end: time
    zone: ZoneInfo

    def contains(self, now: datetime) -> bool:
        local = now.astimezone(self.zone).time()
        if self.start <= self.end:
            return self.start <= local < self.end
        return local >= self.start or local < self.end

    def next_open(self, now: datetime) -> datetime:
        """The next opening of the window after ``now`` (tomorrow's when it opened already today)."""
        return self._next(now, self.start)

    def next_close(self, now: datetime) -> datetime:
        """The next end of the window after ``now``: while it is open, when it closes."""
        return self._next(now, self.end)

    def _next(self, now: datetime, at: time) -> datetime:
        local = now.astimezone(self.zone)
        then = local.replace(hour=at.hour, minute=at.minute, second=0, microsecond=0)
        return then + timedelta(days=1) if then <= local else then

    def open_at(self, now: datetime) -> datetime:
        """``now`` when the window is open, else its next opening: the earliest instant activity may happen."""
        return now if self.contains(now) else self.next_open(now)

    def utc_hours(self, day: date) -> tuple[int, ...]:
        """The UTC hours of ``day`` that lie wholly in the window (the planner schedules posts in UTC hours; an
        hour half in the quiet hours, as with a half-hour zone offset, is left out)."""
        out = []
        for hour in range(24):
            start = datetime(day.year, day.month, day.day, hour, tzinfo=UTC)
            if self.contains(start) and self.contains(start + timedelta(minutes=59, seconds=59)):
                out.append(hour)
        return tuple(out)

HANDLE_FIELD = Field(default="xbot_demo", pattern=r"^[A-Za-z0-9_]{1,30}$")


class AccountSettings(CommonSettings):
    RENAMED: ClassVar[dict[str, tuple[str, Unit | None]]] = {
        "niche_path": ("XBOT_PLANNER_NICHE_PATH", None),
    }

    # The account's handle on X: what the gateway logs in as, whose timeline the poster reads back, whose
    # followers the scraper counts, whom the planner and the harvester never answer.
    x_handle: str = HANDLE_FIELD
    # The niche file (libs/niche): voice, gates, budget and the arms the planner chooses among and the learner
    # learns. Unset: the packaged health niche.
    niche_path: Path | None = None
    # Caps on writes (rolling hour and rolling 24 h): the poster enforces them, the planner queues no more.
    posts_per_hour: int = Field(default=1, ge=0)
    replies_per_hour: int = Field(default=4, ge=0)
    posts_per_day: int = Field(default=12, ge=0)
    replies_per_day: int = Field(default=40, ge=0)
    # The account's active hours [start, end) o'clock in its time zone (default 07-23, a human day): the gateway
    # reads only then, the planner draws posting hours among them, the poster writes only then. Equal start and
    # end: no quiet hours.
    active_hours_start: int = Field(default=7, ge=0, le=23)
    active_hours_end: int = Field(default=23, ge=0, le=24)
    account_timezone: str = "UTC"

    @field_validator("account_timezone")
    @classmethod
    def _known_zone(cls, value: str) -> str:
        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError):
            raise ValueError("must be an IANA time zone name, e.g. Europe/Berlin") from None
        return value

    @model_validator(mode="before")
    @classmethod
    def _no_removed_variables(cls, data: Any) -> Any:
        for var in REMOVED_VARIABLES:
            if os.environ.get(var):
                raise ValueError(f"{var} is no longer read: the quiet hours are the account's, outside "
                                 "XBOT_ACTIVE_HOURS_START/_END in XBOT_ACCOUNT_TIMEZONE (shared by the gateway, the "
                                 f"planner and the poster); set those and unset {var}")
        return data

    def active_hours(self) -> ActiveHours | None:
        """The active hours; None when start and end are equal (activity all day)."""
        if self.active_hours_start == self.active_hours_end % 24:
            return None
        return ActiveHours(time(self.active_hours_start), time(self.active_hours_end % 24),
                           ZoneInfo(self.account_timezone))
