"""Settings of the scraper (``XBOT_*`` environment variables).

Names carry a ``scrape_``/``followers_``/``attribution_`` prefix because every service reads the same
``XBOT_`` namespace. Durations are ``timedelta`` (``XBOT_FOLLOWERS_INTERVAL=PT30M`` or seconds).
"""

from __future__ import annotations

from datetime import timedelta

from typing import ClassVar

from pydantic import Field, field_validator, model_validator

from libs.core.account import AccountSettings
from libs.core.settings import Duration, Unit


class ScraperSettings(AccountSettings):
    RENAMED: ClassVar[dict[str, tuple[str, Unit | None]]] = {
        "scrape_checkpoints": ("XBOT_SCRAPE_CHECKPOINT_HOURS", "hours"),
    }

    # How often the job looks for due metric reads; small next to the shortest checkpoint interval so a read is
    # never late just because the job slept through its due time.
    scrape_interval: Duration = Field(default=timedelta(minutes=5), gt=timedelta(0))
    # Fixed checkpoint ages, strictly increasing (XBOT_SCRAPE_CHECKPOINTS='["PT1H","PT2H","PT6H"]', or in hours
    # under the old name XBOT_SCRAPE_CHECKPOINT_HOURS='[1,2,6]').
    scrape_checkpoints: tuple[Duration, ...] = Field(
        default=tuple(timedelta(hours=h) for h in (1, 2, 6, 12, 24, 48)), min_length=1)
    # The checkpoints read first while the read budget is short: the one the learner takes a post's reward at
    # (XBOT_LEARNER_MATURED, 24 h) and the close of its follower credit (48 h). Set, each must be one of
    # scrape_checkpoints; by default those of the two that are.
    scrape_reward_checkpoints: tuple[Duration, ...] = Field(
        default=(timedelta(hours=24), timedelta(hours=48)))
    # After the last fixed checkpoint, one read a day until this age.
    scrape_daily_until: Duration = Field(default=timedelta(days=7), ge=timedelta(0))
    # A read later than this fraction of the checkpoint's interval after its due time counts as missed.
    scrape_missed_fraction: float = Field(default=0.5, gt=0)
    # Tweet ids per gateway ``tweet_metrics`` call (TweetMetricsRequest takes at most 50).
    scrape_batch_size: int = Field(default=20, ge=1, le=50)

    # How many of the account's newest profile posts are read once, at the first start, for the posts it wrote
    # before xbot (PastPostsRead: the learner starts from them); 0 reads none. One own_timeline read (at most 100).
    scrape_past_posts: int = Field(default=100, ge=0, le=100)

    # How often the account's followers (AccountSettings.x_handle) are counted.
    followers_interval: Duration = Field(default=timedelta(minutes=30), gt=timedelta(0))
    # Our most recent items whose counts are read at each snapshot for attribution (one status page each).
    followers_read_items_max: int = Field(default=100, ge=0)
    # Own items older than this are not loaded for attribution (their reads have stopped anyway).
    attribution_lookback: Duration = Field(default=timedelta(days=7), gt=timedelta(0))

    @field_validator("scrape_checkpoints")
    @classmethod
    def _increasing(cls, ages: tuple[timedelta, ...]) -> tuple[timedelta, ...]:
        if any(a <= timedelta(0) for a in ages):
            raise ValueError("checkpoint ages must be positive")
        if any(b <= a for a, b in zip(ages, ages[1:])):
            raise ValueError("checkpoint ages must be strictly increasing")
        return ages

    @property
    def scrape_checkpoint_hours(self) -> tuple[float, ...]:
        """The checkpoint ages in hours: what names a checkpoint (``MetricsScraped.checkpoint_hours``)."""
        return tuple(a / timedelta(hours=1) for a in self.scrape_checkpoints)

    @property
    def scrape_reward_checkpoint_hours(self) -> frozenset[float]:
        return frozenset(a / timedelta(hours=1) for a in self.scrape_reward_checkpoints) & set(
            self.scrape_checkpoint_hours)

    @model_validator(mode="after")
    def _scrape_faster_than_checkpoints(self) -> ScraperSettings:
        if self.scrape_interval > self.scrape_checkpoints[0]:
            raise ValueError("scrape_interval must not exceed the first checkpoint age")
        if "scrape_reward_checkpoints" in self.model_fields_set and not set(self.scrape_reward_checkpoints) <= set(
                self.scrape_checkpoints):
            raise ValueError("XBOT_SCRAPE_REWARD_CHECKPOINTS must be among XBOT_SCRAPE_CHECKPOINTS")
        return self
