"""Settings of the owner's console (``XBOT_CONSOLE_*``). The approval mode (``XBOT_APPROVAL``), the live guard
and the handle are libs/core/live_guard.py's, shared with the poster, which must agree on them."""

from __future__ import annotations

from datetime import timedelta

from pydantic import Field

from libs.core.live_guard import WriteTargetSettings
from libs.niche import NicheConfig, load_niche


class ConsoleSettings(WriteTargetSettings):
    # The web app: loopback unless the operator says otherwise (it holds the kill switch and the owner's text).
    console_host: str = "127.0.0.1"
    console_port: int = Field(default=8470, ge=0, le=65535)
    # A signed-in session lasts this long (real time), then the owner signs in again.
    console_session_real: timedelta = Field(default=timedelta(hours=12), gt=timedelta(0))
    # Failed sign-ins allowed per window (real time, per client address and overall) before the console
    # refuses to check more.
    console_login_failures: int = Field(default=5, ge=1)
    console_login_window_real: timedelta = Field(default=timedelta(minutes=15), gt=timedelta(0))
    # Mark the session cookie Secure (behind TLS); off on the loopback, where the browser would drop it.
    console_secure_cookie: bool = False
    # How long the Delete button waits for the gateway's answer per part (real time): a deletion is a P0 write,
    # it waits only for a write in progress and the gateway's human pace.
    console_delete_timeout_real: timedelta = Field(default=timedelta(minutes=3), gt=timedelta(0))
    # How often the approval job asks the owner about new drafts (simulated time).
    console_interval: timedelta = Field(default=timedelta(seconds=30), gt=timedelta(0))

    def niche(self) -> NicheConfig:
        """The niche file (XBOT_NICHE_PATH, the planner's) whose gates an owner's edit passes."""
        return load_niche(self.niche_path)
