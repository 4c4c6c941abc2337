"""One clock for every timestamp and schedule in xbot and the sandbox.

Simulated time = ``epoch + (real_now - anchor) * scale``. Every process of one run gets the same
``XBOT_TIME_SCALE``, ``XBOT_SIM_EPOCH`` and ``XBOT_SIM_ANCHOR``, so the sandbox and the services agree on
"now" without talking to each other. With scale 1 and no epoch the clock is the wall clock.
"""

from __future__ import annotations

import asyncio
import time
from datetime import UTC, datetime, timedelta


class Clock:
    def __init__(
        self,
        *,
        scale: float = 1.0,
        epoch: datetime | None = None,
        anchor: float | None = None,
    ) -> None:
        if scale <= 0:
            raise ValueError("time scale must be positive")
        self.scale = float(scale)
        self.anchor = time.time() if anchor is None else float(anchor)
        if epoch is None:
            epoch = datetime.fromtimestamp(self.anchor, UTC)
        if epoch.tzinfo is None:
            epoch = epoch.replace(tzinfo=UTC)
        self.epoch = epoch.astimezone(UTC)

    @classmethod
    def from_settings(cls, settings: object) -> "Clock":
        return cls(
            scale=getattr(settings, "time_scale", 1.0),
            epoch=getattr(settings, "sim_epoch", None),
            anchor=getattr(settings, "sim_anchor", None),
        )

    def now(self) -> datetime:
        return self.epoch + timedelta(seconds=(time.time() - self.anchor) * self.scale)

    def timestamp(self) -> float:
        """Simulated seconds since the Unix epoch."""
        return self.now().timestamp()

    def real_seconds(self, sim_seconds: float) -> float:
        """How many real seconds pass while ``sim_seconds`` of simulated time pass."""
        return max(0.0, sim_seconds) / self.scale

    def sim_seconds(self, real_seconds: float) -> float:
        return real_seconds * self.scale

    async def sleep(self, sim_seconds: float) -> None:
        await asyncio.sleep(self.real_seconds(sim_seconds))

    def env(self) -> dict[str, str]:
        """Environment that makes a child process share this clock."""
        return {
            "XBOT_TIME_SCALE": repr(self.scale),
            "XBOT_SIM_EPOCH": self.epoch.isoformat(),
            "XBOT_SIM_ANCHOR": repr(self.anchor),
        }
