"""The browser driver: X's web client in the one Chromium (pool.py), a page object per op (pages.py).

Priority among ops is the arbiter's (a context is what they wait for) and writes keep a human pace (pacer.py):
both concern the browser only, so they live here, not around the API driver.
"""

from __future__ import annotations

import asyncio
import logging
import time
from typing import Any

from playwright.async_api import Error as PlaywrightError
from playwright.async_api import TimeoutError as PlaywrightTimeout
from pydantic import BaseModel

from libs.contracts.gateway import GatewayError, GatewayRequest
from libs.core.clock import Clock
from services.browser_gateway import metrics
from services.browser_gateway.arbiter import Arbiter
from services.browser_gateway.budget import current_usage
from services.browser_gateway.drivers import DriverName
from services.browser_gateway.errors import op_error, unexpected
from services.browser_gateway.pacer import Pacer
from services.browser_gateway.pages import XSite
from services.browser_gateway.pool import BrowserPool, ContextOpenTimeout, load_storage_state
from services.browser_gateway.selectors import SelectorPack
from services.browser_gateway.settings import GatewaySettings

log = logging.getLogger("xbot.browser_gateway")


class BrowserDriver:
    name: DriverName = "browser"

    def __init__(self, settings: GatewaySettings, clock: Clock, pack: SelectorPack) -> None:
        self.settings = settings
        self.clock = clock
        self.arbiter = Arbiter(
            slots=settings.pool_size, clock=clock, reserved_for_p0=settings.reserved_for_p0,
            queue_timeouts=settings.queue_timeouts,
            on_depth=lambda p, d: metrics.queue_depth.labels(priority=f"P{p}").set(d),
            on_wait=lambda p, s: metrics.queue_wait.labels(priority=f"P{p}").observe(s),
        )
        self.pool = BrowserPool(
            clock=clock, storage_state=self._storage_state(), executable=settings.chromium_path,
            headless=settings.headless, max_ops=settings.context_max_ops, idle_s=settings.context_idle.total_seconds(),
            call_timeout_ms=settings.call_timeout_real.total_seconds() * 1000, sandbox_mode=settings.chromium_sandbox,
        )
        self.pacer = Pacer(
            clock, min_spacing_s=settings.write_min_spacing.total_seconds(),
            jitter_s=settings.write_jitter.total_seconds(),
            typing_delay_ms=(settings.typing_delay_min.total_seconds() * 1000,
                            settings.typing_delay_max.total_seconds() * 1000),
        )
        self.site = XSite(pack=pack, base_url=settings.x_base_url, handle=settings.x_handle,
                          pacer=self.pacer, call_timeout_ms=settings.call_timeout_real.total_seconds() * 1000)
        self._reaper: asyncio.Task[None] | None = None
        # Real seconds of each finished op, newest last (for the benchmark's "one op's duration").
        self.op_seconds: list[float] = []

    def _storage_state(self) -> dict[str, Any] | None:
        s = self.settings
        secret = s.x_session.get_secret_value() if s.x_session else None
        return load_storage_state(session_b64=secret, session_file=s.session_file)

    async def start(self) -> None:
        await self.pool.start()
        self._reaper = asyncio.create_task(self._reap_idle_contexts())

    async def stop(self) -> None:
        if self._reaper:
            self._reaper.cancel()
        await self.pool.close()

    async def _reap_idle_contexts(self) -> None:
        while True:
            await self.clock.sleep(self.settings.context_idle.total_seconds() / 5)
            try:
                await self.pool.reap_idle()
            except Exception:  # noqa: BLE001 - the reaper must outlive one failed close
                log.exception("closing idle contexts failed")

    async def reload_session(self) -> None:
        await self.pool.replace_session(self._storage_state())

    def session_hint(self) -> str:
        return "X session expired: run `xbot login`"

    async def perform(self, request: GatewayRequest) -> BaseModel:
        if request.WRITES:
            await self.pacer.before_write()
        turn = current_usage().turn
        if turn is not None:
            await turn.take_first()  # the budget's pace, before a context is held
        async with self.arbiter.lease(request.effective_priority(), tag=request):
            started = time.monotonic()
            try:
                return await self._run_on_page(request)
            finally:
                elapsed = time.monotonic() - started
                metrics.op_duration.labels(op=request.OP).observe(elapsed)
                self.op_seconds.append(elapsed)

    def op_limit_s(self) -> float:
        """The op's real-time limit: XBOT_OP_TIMEOUT_REAL plus what the budget's pace may make it wait."""
        turn = current_usage().turn
        paced = turn.longest_wait_s(self.settings.page_wait_max.total_seconds()) if turn is not None else 0.0
        return self.settings.op_timeout_real.total_seconds() + self.clock.real_seconds(paced)

    async def _run_on_page(self, request: GatewayRequest) -> BaseModel:
        generation = self.pool.generation
        limit = self.op_limit_s()
        try:
            async with self.pool.page() as page:
                try:
                    return await asyncio.wait_for(getattr(self.site, request.OP)(page, *self._args(request)), limit)
                except PlaywrightError:
                    await self.site.check_sent_away(page)  # X's lock or login page, not the error it caused
                    await self.site.close_sheet(page)  # X's sheet for the owner, which took the failed click
                    raise
        except GatewayError:
            raise
        except ContextOpenTimeout as err:
            # Nothing reached X (no page was open): retryable, and the hung Chromium is being relaunched.
            raise op_error("browser_crashed", f"{request.OP}: {err}") from None
        except TimeoutError:
            raise op_error("timeout", f"{request.OP} exceeded {limit:.0f}s") from None
        except PlaywrightError as err:
            if not self.pool.browser_alive() or self.pool.generation != generation:
                raise op_error("browser_crashed", f"Chromium died during {request.OP}") from None
            if isinstance(err, PlaywrightTimeout) or "net::" in str(err):
                raise op_error("timeout", f"{request.OP}: {str(err).splitlines()[0]}") from None
            raise op_error("browser_crashed", f"{request.OP}: {str(err).splitlines()[0]}") from None
        except Exception as err:  # noqa: BLE001 - a bug or a surprise: answer it; pool.page() closed the context
            log.exception("%s failed unexpectedly", request.OP)
            raise unexpected(request.OP, err) from None

    @staticmethod
    def _args(request: GatewayRequest) -> tuple[Any, ...]:
        return () if request.OP == "login_check" else (request,)
