"""Sandbox settings from ``XBOT_SANDBOX_*`` environment variables.

The clock is not configured here: the sandbox reads the shared ``XBOT_TIME_SCALE``/``XBOT_SIM_EPOCH``/
``XBOT_SIM_ANCHOR`` through :class:`libs.core.settings.CommonSettings`, so it agrees with xbot on "now".
"""

from __future__ import annotations

from datetime import time, timedelta
from pathlib import Path
from typing import Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import Field, SecretStr, ValidationInfo, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

# X's reading limit in posts viewed a day, by account tier (Elon Musk's announcements of 1 July 2023, final
# figures; docs/sandbox.md gives the sources).
TIER_POSTS_VIEWED_PER_DAY = {"new": 500, "unverified": 1_000, "verified": 10_000}
# The account's newest past post is this old when the world starts: its counts have matured (97 % at 48 h).
HISTORY_MIN_AGE_DAYS = 2.0


class SandboxSettings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="XBOT_SANDBOX_", extra="ignore", validate_default=True)

    host: str = "127.0.0.1"
    # 0 picks a free port; the chosen URL is printed as the first line on stdout.
    port: int = Field(default=0, ge=0, le=65535)
    db_path: Path = Path("var/sandbox.sqlite3")
    seed: int = 42
    handle: str = Field(default="xbot_demo", pattern=r"^[A-Za-z0-9_]{1,15}$")
    display_name: str = "xbot demo"
    bio: str = "Evidence-based health and wellness, one habit at a time."
    password: SecretStr = SecretStr("sandbox-password")
    # X's checks at sign-in (sandbox/app.py, login_submit): "identifier" asks again for the phone, e-mail or
    # username after the username ("unusual login activity"); "code" asks for the code of the account's
    # authenticator app (two-factor) after the password. As JSON: XBOT_SANDBOX_LOGIN_CHECKS='["code"]'.
    login_checks: set[Literal["identifier", "code"]] = set()
    email: str = "xbot_demo@example.com"
    # The account's two-factor key (base32), which X shows once when two-factor authentication is set up; 16
    # characters (80 bits) as services issue them, shorter than the 112 bits pyotp asks of keys it makes.
    totp_secret: SecretStr = SecretStr("KRSXG5CTMVRXEZLU")
    admin_token: SecretStr = SecretStr("sandbox-admin-token")
    # Token of the /sim/... ground-truth API; unset means the admin token.
    sim_token: SecretStr | None = None
    start_followers: int = Field(default=1000, ge=0)
    start_following: int = Field(default=180, ge=0)
    # X's limits as the world enforces them (X publishes 2,400/day; xbot's account runs on tighter ones).
    daily_posts: int = Field(default=50, ge=1)
    daily_replies: int = Field(default=200, ge=1)
    half_hour_posts: int = Field(default=10, ge=1)
    half_hour_replies: int = Field(default=30, ge=1)
    # Size of the simulated population and how many tweets it writes per simulated hour.
    population: int = Field(default=240, ge=10)
    tweets_per_hour: int = Field(default=36, ge=4)
    # The text endpoint: "realistic" answers like a real chat model (habits and API failures at documented rates,
    # sandbox/habits.py); "template" is the template composer. Rates override the defaults as JSON objects,
    # e.g. XBOT_SANDBOX_LLM_HABITS='{"preamble": 0.3}', XBOT_SANDBOX_LLM_API='{"rate_limited": 0}'.
    llm_mode: Literal["realistic", "template"] = "realistic"
    llm_habits: dict[str, float] = Field(default_factory=dict)
    llm_api: dict[str, float] = Field(default_factory=dict)
    # Every completion answers 429 insufficient_quota (an account without credit) until cleared by the admin API.
    llm_quota_exhausted: bool = False

    # X's reading limit on posts viewed (articles rendered), rolling 24 h and rolling 15 min. Unset figures
    # follow the tier: its published daily figure, and a quarter of it per 15 minutes.
    enforce_reading_limit: bool = True
    account_tier: Literal["new", "unverified", "verified"] = "unverified"
    posts_viewed_per_day: int | None = Field(default=None, ge=1)
    posts_viewed_per_15m: int | None = Field(default=None, ge=1)
    # X's promoted posts among a timeline's posts (sandbox/ads.py): one ad in each batch of home, search, replies.
    ads: bool = True
    # X's "Discover more" under a conversation's last reply: posts from across X, no replies to it.
    discover_more: bool = True
    # The share of logged-in page loads over which X shows an interstitial sheet (sandbox/sheets.py).
    sheet_rate: float = Field(default=0.01, ge=0, le=1)
    # The automation-suspicion model (sandbox/suspicion.py): off, the score is still kept but never acted on.
    suspicion: bool = True
    # Score (0-100) from which writes get X's automation notice (error 226), and from which the account is locked.
    suspicion_notice: float = Field(default=50.0, gt=0, le=100)
    suspicion_lock: float = Field(default=70.0, gt=0, le=100)
    lock_duration: timedelta = Field(default=timedelta(hours=12), gt=timedelta(0))
    # The account's night, [start, end) in its time zone (an IANA name); it may wrap midnight.
    timezone: str = "UTC"
    night_start: time = time(0, 0)
    night_end: time = time(6, 0)
    # The account's own past posts when the world starts (sandbox/history.py): a real account comes to xbot with
    # a history. Spread over history_days before the start, the newest at least HISTORY_MIN_AGE_DAYS old.
    # At most 500: the templates' distinct texts for two content types run out at about 700.
    history_posts: int = Field(default=0, ge=0, le=500)
    history_days: float = Field(default=60.0, ge=0)

    @field_validator("timezone")
    @classmethod
    def _known_zone(cls, value: str) -> str:
        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError):
            raise ValueError("must be an IANA time zone such as UTC or Europe/Madrid") from None
        return value

    @field_validator("suspicion_lock")
    @classmethod
    def _lock_above_notice(cls, value: float, info: ValidationInfo) -> float:
        notice = info.data.get("suspicion_notice")
        if notice is not None and value <= notice:
            raise ValueError(f"must be above XBOT_SANDBOX_SUSPICION_NOTICE ({notice}): the notice comes first")
        return value

    @field_validator("night_end")
    @classmethod
    def _night_not_empty(cls, value: time, info: ValidationInfo) -> time:
        if value == info.data.get("night_start"):
            raise ValueError("must differ from XBOT_SANDBOX_NIGHT_START")
        return value

    @field_validator("history_days")
    @classmethod
    def _history_has_room(cls, value: float, info: ValidationInfo) -> float:
        # The newest past post is HISTORY_MIN_AGE_DAYS old (mature); a day more holds each habitual hour once.
        least = HISTORY_MIN_AGE_DAYS + 1
        if info.data.get("history_posts") and value < least:
            raise ValueError(f"XBOT_SANDBOX_HISTORY_DAYS must be at least {least:g} when XBOT_SANDBOX_HISTORY_POSTS "
                             f"is set: the newest past post is {HISTORY_MIN_AGE_DAYS:g} days old, and the posts need a "
                             "day of habitual hours before that")
        return value

    @property
    def reading_limits(self) -> tuple[int, int]:
        """(posts viewed per rolling 24 h, per rolling 15 min)."""
        daily = self.posts_viewed_per_day or TIER_POSTS_VIEWED_PER_DAY[self.account_tier]
        return daily, self.posts_viewed_per_15m or max(1, daily // 4)

    @property
    def ground_truth_token(self) -> str:
        return (self.sim_token or self.admin_token).get_secret_value()
