"""Settings of the scraper (``XBOT_*`` environment variables).

Names carry a ``scrape_``/``followers_``/``attribution_`` prefix because every service reads the same
``XBOT_`` namespace. Durations are ``timedelta`` (``XBOT_FOLLOWERS_INTERVAL=PT30M`` or seconds).
"""

from __future__ import annotations

from datetime import timedelta

from pydantic import Field, field_validator, model_validator

from libs.runtime.settings import CommonSettings


class ScraperSettings(CommonSettings):
    # How often the job looks for due metric reads; small next to the shortest checkpoint interval so a read is
    # never late just because the job slept through its due time.
    scrape_interval: timedelta = Field(default=timedelta(minutes=5), gt=timedelta(0))
    # Fixed checkpoint ages in hours, strictly increasing (XBOT_SCRAPE_CHECKPOINT_HOURS='[1,2,6,12,24,48]').
    scrape_checkpoint_hours: tuple[float, ...] = Field(default=(1, 2, 6, 12, 24, 48), min_length=1)
    # After the last fixed checkpoint, one read a day until this age.
    scrape_daily_until: timedelta = Field(default=timedelta(days=7), ge=timedelta(0))
    # A read later than this fraction of the checkpoint's interval after its due time counts as missed.
    scrape_missed_fraction: float = Field(default=0.5, gt=0)
    # Tweet ids per gateway ``tweet_metrics`` call (TweetMetricsRequest takes at most 50).
    scrape_batch_size: int = Field(default=20, ge=1, le=50)

    # Our own handle (the same XBOT_X_HANDLE the gateway reads): whose followers are counted.
    x_handle: str = Field(default="xbot_demo", pattern=r"^[A-Za-z0-9_]{1,30}$")
    followers_interval: timedelta = Field(default=timedelta(minutes=30), gt=timedelta(0))
    # Our most recent items whose counts are read at each snapshot for attribution (one status page each).
    followers_read_items_max: int = Field(default=100, ge=0)
    # Own items older than this are not loaded for attribution (their reads have stopped anyway).
    attribution_lookback: timedelta = Field(default=timedelta(days=7), gt=timedelta(0))

    @field_validator("scrape_checkpoint_hours")
    @classmethod
    def _increasing(cls, hours: tuple[float, ...]) -> tuple[float, ...]:
        if any(h <= 0 for h in hours):
            raise ValueError("checkpoint ages must be positive")
        if any(b <= a for a, b in zip(hours, hours[1:])):
            raise ValueError("checkpoint ages must be strictly increasing")
        return hours

    @model_validator(mode="after")
    def _scrape_faster_than_checkpoints(self) -> ScraperSettings:
        if self.scrape_interval > timedelta(hours=self.scrape_checkpoint_hours[0]):
            raise ValueError("scrape_interval must not exceed the first checkpoint age")
        return self
