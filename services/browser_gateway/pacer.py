"""Human pace for write actions: a minimum spacing plus jitter between writes, and typing delays.

Durations are simulated seconds on the Clock, so a sandbox run at XBOT_TIME_SCALE=60 types and waits 60×
faster while keeping the same pace in simulated time as on x.com.
"""

from __future__ import annotations

import asyncio
import random

from libs.core.clock import Clock


class Pacer:
    def __init__(
        self,
        clock: Clock,
        *,
        min_spacing_s: float = 90.0,
        jitter_s: float = 30.0,
        typing_delay_ms: tuple[float, float] = (45.0, 160.0),
        rng: random.Random | None = None,
    ) -> None:
        self.clock = clock
        self.min_spacing_s = min_spacing_s
        self.jitter_s = jitter_s
        self.typing_delay_ms = typing_delay_ms
        self.rng = rng or random.Random()
        self._last_write: float | None = None
        self._next_gap = self._draw_gap()
        self._lock = asyncio.Lock()

    def _draw_gap(self) -> float:
        return self.min_spacing_s + self.rng.uniform(0.0, self.jitter_s)

    def wait_before_write(self, now: float) -> float:
        """Simulated seconds to wait at ``now`` (Clock timestamp) before the next write may start."""
        if self._last_write is None:
            return 0.0
        return max(0.0, self._last_write + self._next_gap - now)

    def mark_write(self, now: float) -> None:
        self._last_write = now
        self._next_gap = self._draw_gap()

    async def before_write(self) -> None:
        """Wait for this write's turn; writes are serialised so two posts never go out closer than the spacing."""
        async with self._lock:
            await self.clock.sleep(self.wait_before_write(self.clock.timestamp()))
            self.mark_write(self.clock.timestamp())

    def keystroke_delay_ms(self) -> float:
        """Real milliseconds between two keystrokes of the next word."""
        lo, hi = self.typing_delay_ms
        return self.clock.real_seconds(self.rng.uniform(lo, hi) / 1000.0) * 1000.0

    def think_pause_s(self) -> float:
        """Real seconds of a pause between words, occasionally longer, as a person hesitates."""
        lo, hi = self.typing_delay_ms
        pause = self.rng.uniform(lo, hi) * (4.0 if self.rng.random() < 0.1 else 1.0) / 1000.0
        return self.clock.real_seconds(pause)
