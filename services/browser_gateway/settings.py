"""Gateway settings (XBOT_ prefix). Durations are simulated seconds on the Clock unless named *_ms_real."""

from __future__ import annotations

from pathlib import Path

import base64
import binascii
import json

from pydantic import Field, SecretStr, field_validator

from libs.runtime.settings import CommonSettings


class GatewaySettings(CommonSettings):
    # Where X lives: the sandbox by default; x.com only when set explicitly.
    x_base_url: str = "http://127.0.0.1:8400"
    x_handle: str = Field(default="xbot_demo", pattern=r"^[A-Za-z0-9_]{1,30}$")
    # Playwright storage_state: a file, or the same JSON base64-encoded (for containers; wins over the file).
    session_file: Path = Path("var/x_session.json")
    x_session: SecretStr | None = None

    @field_validator("x_session")
    @classmethod
    def _session_is_base64_json(cls, value: SecretStr | None) -> SecretStr | None:
        # Checked at start-up so a bad value stops the gateway with the variable named (never its content).
        if value is not None:
            try:
                json.loads(base64.b64decode(value.get_secret_value(), validate=True))
            except (binascii.Error, ValueError):
                raise ValueError("must be a base64-encoded Playwright storage_state (JSON)") from None
        return value
    chromium_path: Path | None = None
    headless: bool = True

    pool_size: int = Field(default=3, ge=1, le=16)
    reserved_for_p0: int = Field(default=1, ge=0)
    context_max_ops: int = Field(default=50, ge=1)
    context_idle_s: float = Field(default=300.0, gt=0)
    queue_timeout_p0_s: float = Field(default=60.0, gt=0)
    queue_timeout_p1_s: float = Field(default=120.0, gt=0)
    queue_timeout_p2_s: float = Field(default=300.0, gt=0)
    # Real-time limits: every Playwright call, and a whole op (a thread of many parts needs longer).
    call_timeout_ms_real: float = Field(default=15_000, gt=0)
    op_timeout_s_real: float = Field(default=120.0, gt=0)

    write_min_spacing_s: float = Field(default=90.0, ge=0)
    write_jitter_s: float = Field(default=30.0, ge=0)
    typing_delay_min_ms: float = Field(default=45.0, ge=0)
    typing_delay_max_ms: float = Field(default=160.0, ge=0)

    breaker_failures: int = Field(default=5, ge=1)
    breaker_reset_s: float = Field(default=60.0, gt=0)
    breaker_max_reset_s: float = Field(default=480.0, gt=0)

    @property
    def queue_timeouts(self) -> dict[int, float]:
        return {0: self.queue_timeout_p0_s, 1: self.queue_timeout_p1_s, 2: self.queue_timeout_p2_s}
