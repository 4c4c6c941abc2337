"""Sandbox settings from ``XBOT_SANDBOX_*`` environment variables.

The clock is not configured here: the sandbox reads the shared ``XBOT_TIME_SCALE``/``XBOT_SIM_EPOCH``/
``XBOT_SIM_ANCHOR`` through :class:`libs.runtime.settings.CommonSettings`, so it agrees with xbot on "now".
"""

from __future__ import annotations

from pathlib import Path

from pydantic import Field, SecretStr
from pydantic_settings import BaseSettings, SettingsConfigDict


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

    @property
    def ground_truth_token(self) -> str:
        return (self.sim_token or self.admin_token).get_secret_value()
