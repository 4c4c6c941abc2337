"""Gateway settings (XBOT_ prefix). Durations are ``timedelta`` (``XBOT_OP_TIMEOUT_REAL=PT2M`` or seconds), in
simulated time on the Clock unless named ``*_real``. The names they had as numbers (``XBOT_OP_TIMEOUT_S_REAL``,
``XBOT_CALL_TIMEOUT_MS_REAL`` ...) are still read (``RENAMED``)."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path
from typing import ClassVar, Literal
from urllib.parse import urlsplit

import base64
import binascii
import json

from pydantic import Field, SecretStr, field_validator, model_validator


from libs.core.live_guard import WriteTargetSettings
from libs.core.settings import Duration, Unit
from services.browser_gateway.budget import X_POSTS_VIEWED_PER_DAY, Limits, Resource

AccountTier = Literal["new", "unverified", "verified"]
# X's published write limits per account tier (X's limits page, as reported in May 2026): 50 posts and 200 replies
# a day for unverified accounts (new ones included), in half-hourly shares; 2,400 a day (posts and replies
# together) otherwise. No hard cap may be set above them.
X_POSTS_PER_DAY: dict[str, int] = {"new": 50, "unverified": 50, "verified": 2400}
X_REPLIES_PER_DAY: dict[str, int] = {"new": 200, "unverified": 200, "verified": 2400}
X_WRITES_PER_DAY = 2400
# Posts a login views (it lands on the home timeline, 30 posts) without passing through the gateway's budget.
LOGIN_POSTS_VIEWED = 30
ZERO = timedelta(0)


class GatewaySettings(WriteTargetSettings):
    RENAMED: ClassVar[dict[str, tuple[str, Unit | None]]] = {
        "context_idle": ("XBOT_CONTEXT_IDLE_S", "s"),
        "queue_timeout_p0": ("XBOT_QUEUE_TIMEOUT_P0_S", "s"),
        "queue_timeout_p1": ("XBOT_QUEUE_TIMEOUT_P1_S", "s"),
        "queue_timeout_p2": ("XBOT_QUEUE_TIMEOUT_P2_S", "s"),
        "call_timeout_real": ("XBOT_CALL_TIMEOUT_MS_REAL", "ms"),
        "op_timeout_real": ("XBOT_OP_TIMEOUT_S_REAL", "s"),
        "write_min_spacing": ("XBOT_WRITE_MIN_SPACING_S", "s"),
        "write_jitter": ("XBOT_WRITE_JITTER_S", "s"),
        "typing_delay_min": ("XBOT_TYPING_DELAY_MIN_MS", "ms"),
        "typing_delay_max": ("XBOT_TYPING_DELAY_MAX_MS", "ms"),
        "breaker_reset": ("XBOT_BREAKER_RESET_S", "s"),
        "breaker_max_reset": ("XBOT_BREAKER_MAX_RESET_S", "s"),
        "x_api_refresh_margin": ("XBOT_X_API_REFRESH_MARGIN_S", "s"),
    }

    # Where X lives (XBOT_X_BASE_URL): the sandbox by default; x.com only when set explicitly, and writes there
    # only with XBOT_LIVE=true (the live guard, shared with the poster: libs/core/live_guard.py).
    # The account's tier decides X's limits, which no setting below may exceed.
    x_account_tier: AccountTier = "unverified"
    # Hard daily caps (rolling 24 h) the gateway enforces on every write whoever asks; a thread part counts as a
    # post, as X counts it. Far above the poster's pacing (12 items, 40 replies a day), far below X's limits.
    hard_posts_per_day: int = Field(default=40, ge=0)
    hard_replies_per_day: int = Field(default=100, ge=0)
    # Deletions (the owner's, from the console) are writes too: a burst of them is what cleaning up after a ban
    # looks like, so they have a cap of their own, far below anything a person does in a day.
    hard_deletes_per_day: int = Field(default=20, ge=0)
    # The activity budget (budget.py): every page load, post viewed, search and profile view, per 15 minutes and
    # per day, shared by priority. Unset figures follow the tier: half of X's reading limit in posts viewed a day
    # less a login's home timeline (unverified 1,000 -> 500 - 30 = 470), page loads 2/5 of it, searches and
    # profile views 1/12, a quarter of each per 15 minutes. Off (XBOT_ACTIVITY_BUDGET=false) only for the
    # reference runs of the benchmark and tests of X's own limits: it counts but never refuses nor paces.
    activity_budget: bool = True
    posts_viewed_per_day: int | None = Field(default=None, ge=1)
    posts_viewed_per_15m: int | None = Field(default=None, ge=1)
    page_loads_per_day: int | None = Field(default=None, ge=1)
    searches_per_day: int | None = Field(default=None, ge=0)
    profile_views_per_day: int | None = Field(default=None, ge=0)
    # The budget's pace by day (budget.PagePace): page loads page_gap_min-page_gap_max apart (drawn anew each
    # time, now and then a longer pause as a person reading), so never more than 6 a minute; a read that would
    # wait longer than page_wait_max for its first page (background: page_wait_max_background) is answered
    # budget_exhausted with when to retry. Off with the budget.
    page_gap_min: Duration = Field(default=timedelta(seconds=10), ge=ZERO)
    page_gap_max: Duration = Field(default=timedelta(seconds=16), ge=ZERO)
    page_wait_max: Duration = Field(default=timedelta(seconds=150), ge=ZERO)
    page_wait_max_background: Duration = Field(default=timedelta(seconds=60), ge=ZERO)
    # A human day: reads only within the account's active hours (libs.core.account, XBOT_ACTIVE_HOURS_START/_END
    # in XBOT_ACCOUNT_TIMEZONE; the poster writes only then too, so writes need no gate of their own here).

    # The account's risk level (risk.py) falls one step per cooling period without warnings from X; while locked,
    # a login check runs every lock_check_interval to see whether X lets the account in again.
    risk_cooling: Duration = Field(default=timedelta(hours=6), gt=timedelta(0))
    lock_check_interval: Duration = Field(default=timedelta(hours=1), gt=timedelta(0))
    # Session lifecycle: a login check this often (inside the budget, as own metrics); on expiry writes are held
    # and SessionExpired published; a new session (`xbot login`: the session file or the API token file changes)
    # is picked up without a restart; writes then resume on the owner's `xbot resume`, or by themselves with
    # XBOT_SESSION_AUTO_RESUME=true.
    login_check_interval: Duration = Field(default=timedelta(hours=2), gt=timedelta(0))
    session_auto_resume: bool = False
    # How often the gateway looks whether the level cooled (and publishes AccountRiskChanged when it did).
    risk_watch_interval: Duration = Field(default=timedelta(minutes=1), gt=timedelta(0))
    # Playwright storage_state: a file, or the same JSON base64-encoded (for containers; wins over the file).
    session_file: Path = Path("var/x_session.json")
    x_session: SecretStr | None = None

    @field_validator("x_session")
    @classmethod
    def _session_is_base64_json(cls, value: SecretStr | None) -> SecretStr | None:
        # Checked at start-up so a bad value stops the gateway with the variable named (never its content).
        # Empty is unset: compose mounts the secret file xbot_x_session empty when .env leaves it out.
        if value is not None and not value.get_secret_value().strip():
            return None
        if value is not None:
            try:
                json.loads(base64.b64decode(value.get_secret_value(), validate=True))
            except (binascii.Error, ValueError):
                raise ValueError("must be a base64-encoded Playwright storage_state (JSON)") from None
        return value
    chromium_path: Path | None = None
    headless: bool = True
    # Chromium's sandbox (services/browser_gateway/sandbox.py): auto = on, --no-sandbox only when the kernel or
    # the container refuses it (reported by `xbot status`); required = on or no browser; off = --no-sandbox.
    chromium_sandbox: Literal["auto", "required", "off"] = "auto"

    pool_size: int = Field(default=3, ge=1, le=16)
    reserved_for_p0: int = Field(default=1, ge=0)
    context_max_ops: int = Field(default=50, ge=1)
    context_idle: Duration = Field(default=timedelta(minutes=5), gt=ZERO)
    queue_timeout_p0: Duration = Field(default=timedelta(minutes=1), gt=ZERO)
    queue_timeout_p1: Duration = Field(default=timedelta(minutes=2), gt=ZERO)
    queue_timeout_p2: Duration = Field(default=timedelta(minutes=5), gt=ZERO)
    # Real-time limits: every Playwright call, and a whole op (a thread of many parts needs longer).
    call_timeout_real: Duration = Field(default=timedelta(seconds=15), gt=ZERO)
    op_timeout_real: Duration = Field(default=timedelta(minutes=2), gt=ZERO)

    write_min_spacing: Duration = Field(default=timedelta(seconds=90), ge=ZERO)
    write_jitter: Duration = Field(default=timedelta(seconds=30), ge=ZERO)
    typing_delay_min: Duration = Field(default=timedelta(milliseconds=45), ge=ZERO)
    typing_delay_max: Duration = Field(default=timedelta(milliseconds=160), ge=ZERO)

    breaker_failures: int = Field(default=5, ge=1)
    breaker_reset: Duration = Field(default=timedelta(minutes=1), gt=ZERO)
    breaker_max_reset: Duration = Field(default=timedelta(minutes=8), gt=ZERO)

    # Which driver serves each class of operation (drivers.py): Chromium on X's web client, or the X API v2.
    x_write_driver: Literal["browser", "api"] = "browser"
    x_read_driver: Literal["browser", "api"] = "browser"

    # The X API (xapi/). Unset, its base URL is the sandbox's (XBOT_X_BASE_URL: the sandbox serves both) or, for
    # x.com, https://api.x.com; the authorisation page is on the web host, as on X (x.com/i/oauth2/authorize).
    x_api_base_url: str | None = None
    x_api_authorize_url: str | None = None
    # OAuth 2.0 user context with PKCE: the app's client id (and secret for a confidential client), the redirect
    # URI registered with it, and the file `xbot login --api` writes the tokens to (mode 0600).
    x_api_client_id: str | None = None
    x_api_client_secret: SecretStr | None = None
    x_api_redirect_uri: str = "http://127.0.0.1:8765/callback"
    x_api_scopes: str = "tweet.read tweet.write users.read offline.access"
    x_api_token_file: Path = Path("var/x_api_token.json")
    # Refresh the access token this long (simulated time) before it expires.
    x_api_refresh_margin: Duration = Field(default=timedelta(minutes=5), ge=ZERO)
    # OAuth 1.0a user tokens, the alternative: all four, or none.
    x_api_consumer_key: SecretStr | None = None
    x_api_consumer_secret: SecretStr | None = None
    x_api_access_token: SecretStr | None = None
    x_api_access_token_secret: SecretStr | None = None
    # Prices in USD (X's pay-per-use pricing from February 2026); each resource is charged once per UTC day.
    x_api_price_post_read: float = Field(default=0.005, ge=0)
    x_api_price_user_read: float = Field(default=0.010, ge=0)
    x_api_price_post_create: float = Field(default=0.015, ge=0)
    x_api_price_post_create_url: float = Field(default=0.20, ge=0)
    # Daily spend cap in USD. Reads stop at x_api_read_share of it, so the rest is kept for writes.
    x_api_daily_cap_usd: float = Field(default=2.0, gt=0)
    x_api_read_share: float = Field(default=0.8, gt=0, le=1)
    # Which posts X lets the API reply to. "mentioned": X's rule since 2026-02-23, a programmatic reply only to a
    # post that mentions the account (a reply to one of ours does) or is its own (403 "You can only reply to or
    # quote posts where you are mentioned or are the author"); strangers' posts found by the harvest are then
    # marked not repliable and never drafted for. "any": an access level X lets reply to any post.
    x_api_reply_rule: Literal["mentioned", "any"] = "mentioned"

    @field_validator("x_api_base_url", "x_api_authorize_url", "x_api_redirect_uri")
    @classmethod
    def _is_http_url(cls, value: str | None) -> str | None:
        if value is not None and (urlsplit(value).scheme not in ("http", "https") or not urlsplit(value).hostname):
            raise ValueError("must be an http(s) URL")
        return value

    def budget_limits(self) -> Limits:
        # The default keeps one home timeline (LOGIN_POSTS_VIEWED) of the half for `xbot login`, which lands there
        # outside the gateway: with it the account's day, as X counts it, stays within the half.
        half = X_POSTS_VIEWED_PER_DAY[self.x_account_tier] // 2
        day_posts = self.posts_viewed_per_day or half - LOGIN_POSTS_VIEWED
        day: dict[Resource, int] = {
            "posts_viewed": day_posts,
            "page_loads": self.page_loads_per_day or max(1, day_posts * 2 // 5),
            "searches": self.searches_per_day if self.searches_per_day is not None else max(1, day_posts // 12),
            "profile_views": (self.profile_views_per_day if self.profile_views_per_day is not None
                              else max(1, day_posts // 12)),
        }
        quarter: dict[Resource, int] = {res: max(1, n // 4) for res, n in day.items()}
        if self.posts_viewed_per_15m:
            quarter["posts_viewed"] = self.posts_viewed_per_15m
        return Limits(day=day, quarter=quarter)

    @model_validator(mode="after")
    def _page_gaps(self) -> "GatewaySettings":
        if self.page_gap_min > self.page_gap_max:
            raise ValueError("XBOT_PAGE_GAP_MIN must not be above XBOT_PAGE_GAP_MAX")
        return self

    @model_validator(mode="after")
    def _within_x_limits(self) -> "GatewaySettings":
        tier = self.x_account_tier
        x_posts = X_POSTS_VIEWED_PER_DAY[tier]
        for var, value in (("XBOT_POSTS_VIEWED_PER_DAY", self.posts_viewed_per_day),
                           ("XBOT_POSTS_VIEWED_PER_15M", self.posts_viewed_per_15m)):
            if value is not None and value > x_posts:
                raise ValueError(f"{var}={value} is above X's published reading limit for {tier} accounts "
                                 f"({x_posts} posts viewed a day; XBOT_X_ACCOUNT_TIER={tier})")
        for var, value, limit in (("XBOT_HARD_POSTS_PER_DAY", self.hard_posts_per_day, X_POSTS_PER_DAY[tier]),
                                  ("XBOT_HARD_REPLIES_PER_DAY", self.hard_replies_per_day, X_REPLIES_PER_DAY[tier])):
            if value > limit:
                raise ValueError(f"{var}={value} is above X's published limit for {tier} accounts ({limit} a day; "
                                 f"XBOT_X_ACCOUNT_TIER={tier})")
        if self.hard_posts_per_day + self.hard_replies_per_day > X_WRITES_PER_DAY:
            raise ValueError(f"XBOT_HARD_POSTS_PER_DAY + XBOT_HARD_REPLIES_PER_DAY = "
                             f"{self.hard_posts_per_day + self.hard_replies_per_day} is above X's published limit "
                             f"of {X_WRITES_PER_DAY} writes a day")
        return self

    @model_validator(mode="after")
    def _api_credentials(self) -> "GatewaySettings":
        oauth1 = [self.x_api_consumer_key, self.x_api_consumer_secret, self.x_api_access_token,
                  self.x_api_access_token_secret]
        if any(oauth1) and not all(oauth1):
            raise ValueError("XBOT_X_API_CONSUMER_KEY, XBOT_X_API_CONSUMER_SECRET, XBOT_X_API_ACCESS_TOKEN and "
                             "XBOT_X_API_ACCESS_TOKEN_SECRET go together (OAuth 1.0a user tokens): set all four")
        uses_api = "api" in (self.x_write_driver, self.x_read_driver)
        if uses_api and not all(oauth1) and not self.x_api_client_id:
            raise ValueError("XBOT_X_WRITE_DRIVER/XBOT_X_READ_DRIVER=api needs XBOT_X_API_CLIENT_ID (OAuth 2.0, "
                             "then `xbot login --api`) or the four XBOT_X_API_CONSUMER_*/ACCESS_TOKEN* (OAuth 1.0a)")
        return self

    @property
    def uses_oauth1(self) -> bool:
        return self.x_api_access_token is not None

    @property
    def api_base_url(self) -> str:
        if self.x_api_base_url:
            return self.x_api_base_url.rstrip("/")
        host = (urlsplit(self.x_base_url).hostname or "").lower()
        real_x = any(host == d or host.endswith("." + d) for d in ("x.com", "twitter.com"))
        return "https://api.x.com" if real_x else self.x_base_url.rstrip("/")

    @property
    def api_authorize_url(self) -> str:
        return self.x_api_authorize_url or self.x_base_url.rstrip("/") + "/i/oauth2/authorize"

    @property
    def queue_timeouts(self) -> dict[int, float]:
        """Simulated seconds a request of each priority class may wait for a browser context."""
        return {0: self.queue_timeout_p0.total_seconds(), 1: self.queue_timeout_p1.total_seconds(),
                2: self.queue_timeout_p2.total_seconds()}
