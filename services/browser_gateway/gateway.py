"""The gateway's core: breakers, pacing, arbitration and the op run, with no NATS in it (app.py wires that).

Every op answers: its result or a typed error. A failure nobody foresaw (a bug, a surprise from Playwright's
driver) is logged with its traceback and answered as retryable ``browser_crashed``, its context closed, rather
than left unanswered for the caller to wait out its whole request timeout.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Awaitable, Callable
from datetime import timedelta
from typing import Any

from playwright.async_api import Error as PlaywrightError
from playwright.async_api import TimeoutError as PlaywrightTimeout
from pydantic import BaseModel, ValidationError

from libs.contracts.events import SessionExpired
from libs.contracts.gateway import (
    OPERATIONS, GatewayError, GatewayReply, GatewayRequest, LoginCheckResult,
)
from libs.runtime.breaker import STATE_CODE, CircuitBreaker
from libs.runtime.clock import Clock
from services.browser_gateway import metrics
from services.browser_gateway.arbiter import Arbiter
from services.browser_gateway.errors import (
    CODE_WHEN_OPEN, FAMILIES, FAMILY_OF_CODE, UNTRIPPED_FAMILIES, families_for, op_error,
)
from services.browser_gateway.pacer import Pacer
from services.browser_gateway.pages import XSite
from services.browser_gateway.pool import BrowserPool, ContextOpenTimeout, load_storage_state
from services.browser_gateway.selectors import SelectorPack, load_pack
from services.browser_gateway.settings import GatewaySettings

log = logging.getLogger("xbot.browser_gateway")

Publish = Callable[..., Awaitable[Any]]


def _unexpected(op: str, err: Exception) -> GatewayError:
    """The typed answer to a failure nobody foresaw: retryable, as a crashed browser's."""
    first_line = (str(err).splitlines() or [""])[0][:300]
    return op_error("browser_crashed", f"{op}: unexpected {type(err).__name__}: {first_line}")


class BrowserGateway:
    def __init__(self, settings: GatewaySettings, clock: Clock, *, publish: Publish | None = None,
                 pack: SelectorPack | None = None) -> None:
        self.settings = settings
        self.clock = clock
        # EventPublisher.publish; None in tests that do not watch events.
        self.publish = publish
        self.pack = pack or load_pack()
        self.arbiter = Arbiter(
            slots=settings.pool_size, clock=clock, reserved_for_p0=settings.reserved_for_p0,
            queue_timeouts=settings.queue_timeouts,
            on_depth=lambda p, d: metrics.queue_depth.labels(priority=f"P{p}").set(d),
            on_wait=lambda p, s: metrics.queue_wait.labels(priority=f"P{p}").observe(s),
        )
        secret = settings.x_session.get_secret_value() if settings.x_session else None
        self.pool = BrowserPool(
            clock=clock, storage_state=load_storage_state(session_b64=secret, session_file=settings.session_file),
            executable=settings.chromium_path, headless=settings.headless, max_ops=settings.context_max_ops,
            idle_s=settings.context_idle_s, call_timeout_ms=settings.call_timeout_ms_real,
        )
        self.pacer = Pacer(
            clock, min_spacing_s=settings.write_min_spacing_s, jitter_s=settings.write_jitter_s,
            typing_delay_ms=(settings.typing_delay_min_ms, settings.typing_delay_max_ms),
        )
        self.site = XSite(pack=self.pack, base_url=settings.x_base_url, handle=settings.x_handle,
                          pacer=self.pacer, call_timeout_ms=settings.call_timeout_ms_real)
        reset = timedelta(seconds=settings.breaker_reset_s)
        self.breakers = {
            family: CircuitBreaker(clock, failure_threshold=settings.breaker_failures, base_reset=reset,
                                   max_reset=timedelta(seconds=settings.breaker_max_reset_s))
            for family in FAMILIES
        }
        self.session_ok = True
        self._reaper: asyncio.Task[None] | None = None
        # Real seconds of each finished op, newest last (for the benchmark's "one op's duration").
        self.op_seconds: list[float] = []

    # ------------------------------------------------------------ lifecycle

    async def start(self) -> None:
        await self.pool.start()
        self._reaper = asyncio.create_task(self._reap_idle_contexts())

    async def stop(self) -> None:
        if self._reaper:
            self._reaper.cancel()
        await self.pool.close()

    def ready(self) -> bool:
        """Ready while the session is valid; a dead browser is relaunched on demand, so it does not count."""
        return self.session_ok

    async def _reap_idle_contexts(self) -> None:
        while True:
            await self.clock.sleep(self.settings.context_idle_s / 5)
            try:
                await self.pool.reap_idle()
            except Exception:  # noqa: BLE001 - the reaper must outlive one failed close
                log.exception("closing idle contexts failed")

    # ------------------------------------------------------------ ops

    async def handle(self, op: str, body: dict[str, Any]) -> dict[str, Any]:
        """A NATS request body in, a GatewayReply body out."""
        request_model, _ = OPERATIONS[op]
        try:
            request = request_model.model_validate(body)
        except ValidationError as err:
            # The client validates before sending, so only a contract mismatch lands here.
            return GatewayReply(ok=False, rejected=str(err)).model_dump(mode="json")
        return (await self.execute(request)).model_dump(mode="json")

    async def execute(self, request: GatewayRequest) -> GatewayReply:
        try:
            result = await self.run(request)
        except GatewayError as err:
            metrics.op_outcomes.labels(op=request.OP, outcome=err.code).inc()
            return GatewayReply(ok=False, error=err.fault())
        except Exception as err:  # noqa: BLE001 - outside the page (pacer, arbiter, breakers): still answer
            log.exception("%s failed unexpectedly outside the browser", request.OP)
            fault = _unexpected(request.OP, err).fault()
            metrics.op_outcomes.labels(op=request.OP, outcome=fault.code).inc()
            return GatewayReply(ok=False, error=fault)
        metrics.op_outcomes.labels(op=request.OP, outcome="ok").inc()
        return GatewayReply(ok=True, result=result.model_dump(mode="json"))

    async def run(self, request: GatewayRequest) -> BaseModel:
        """The op's result, or a GatewayError."""
        families = families_for(request.WRITES)
        for family in families:
            breaker = self.breakers[family]
            if not breaker.allows():
                raise GatewayError(CODE_WHEN_OPEN[family], f"{family} breaker open after repeated failures",
                                   retry_after_s=breaker.retry_after())
        if request.WRITES:
            await self.pacer.before_write()
        async with self.arbiter.lease(request.effective_priority(), tag=request):
            started = time.monotonic()
            try:
                result = await self._run_on_page(request)
            except GatewayError as err:
                await self._record_failure(request, err)
                raise
            finally:
                elapsed = time.monotonic() - started
                metrics.op_duration.labels(op=request.OP).observe(elapsed)
                self.op_seconds.append(elapsed)
        for family in families:
            self.breakers[family].record_success()
            metrics.breaker_state.labels(family=family).set(STATE_CODE[self.breakers[family].current()])
        if isinstance(result, LoginCheckResult):
            if result.logged_in:
                self.session_ok = True
            else:
                await self._session_expired(request.OP, "login check found no session")
        return result

    async def _run_on_page(self, request: GatewayRequest) -> BaseModel:
        generation = self.pool.generation
        try:
            async with self.pool.page() as page:
                return await asyncio.wait_for(getattr(self.site, request.OP)(page, *self._args(request)),
                                              self.settings.op_timeout_s_real)
        except GatewayError:
            raise
        except ContextOpenTimeout as err:
            # Nothing reached X (no page was open): retryable, and the hung Chromium is being relaunched.
            raise op_error("browser_crashed", f"{request.OP}: {err}") from None
        except TimeoutError:
            raise op_error("timeout", f"{request.OP} exceeded {self.settings.op_timeout_s_real:.0f}s") from None
        except PlaywrightError as err:
            if not self.pool.browser_alive() or self.pool.generation != generation:
                raise op_error("browser_crashed", f"Chromium died during {request.OP}") from None
            if isinstance(err, PlaywrightTimeout) or "net::" in str(err):
                raise op_error("timeout", f"{request.OP}: {str(err).splitlines()[0]}") from None
            raise op_error("browser_crashed", f"{request.OP}: {str(err).splitlines()[0]}") from None
        except Exception as err:  # noqa: BLE001 - a bug or a surprise: answer it; pool.page() closed the context
            log.exception("%s failed unexpectedly", request.OP)
            raise _unexpected(request.OP, err) from None

    @staticmethod
    def _args(request: GatewayRequest) -> tuple[Any, ...]:
        return () if request.OP == "login_check" else (request,)

    async def _record_failure(self, request: GatewayRequest, err: GatewayError) -> None:
        family = FAMILY_OF_CODE[err.code]
        if family not in UNTRIPPED_FAMILIES:
            breaker = self.breakers[family]
            breaker.record_failure()
            metrics.breaker_state.labels(family=family).set(STATE_CODE[breaker.current()])
        if err.code == "session_expired":
            await self._session_expired(request.OP, err.message)

    async def _session_expired(self, op: str, reason: str) -> None:
        first = self.session_ok
        self.session_ok = False
        if first and self.publish is not None:
            # Published once per expiry, not per failing op: one person has to log in again.
            event = SessionExpired(handle=self.settings.x_handle, operation=op, detected_at=self.clock.now(),
                                   reason=reason)
            try:
                await self.publish(event)
            except Exception:  # noqa: BLE001 - /ready is already false; the event is the secondary signal
                log.exception("publishing SessionExpired failed")

    async def reload_session(self) -> None:
        """Pick up a new session file (after `xbot login`) without a restart."""
        s = self.settings
        secret = s.x_session.get_secret_value() if s.x_session else None
        await self.pool.replace_session(load_storage_state(session_b64=secret, session_file=s.session_file))
