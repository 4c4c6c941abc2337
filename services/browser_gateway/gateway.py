"""The gateway's core: drivers, breakers, the session state and the op run, with no NATS in it (app.py wires that).

Every op answers: its result or a typed error. A failure nobody foresaw (a bug, a surprise from Playwright's
driver) is logged with its traceback and answered as retryable ``browser_crashed``, rather than left unanswered
for the caller to wait out its whole request timeout.

Every op, whichever driver serves it, passes through :meth:`BrowserGateway.run`: that is where the account's
guards (guardian.py: live guard, content limits, kill switch, hard write caps) wrap both drivers.
"""

from __future__ import annotations

import asyncio
import logging
import sys
from collections.abc import Awaitable, Callable
from datetime import datetime
from typing import TYPE_CHECKING, Any, Protocol, cast

from nats.js.errors import KeyWrongLastSequenceError
from pydantic import BaseModel, ValidationError

from libs.contracts.events import AccountRiskChanged, SessionExpired
from libs.contracts.gateway import (
    OPERATIONS, GatewayError, GatewayReply, GatewayRequest, LoginCheckRequest, LoginCheckResult, TweetList,
)
from libs.bus.control import WriteSwitch
from libs.core.breaker import STATE_CODE, CircuitBreaker
from libs.core.clock import Clock
from services.browser_gateway import metrics
from services.browser_gateway.browser_driver import BrowserDriver
from services.browser_gateway.drivers import XDriver
from services.browser_gateway.guardian import AccountGuardian, WriteRecord, WriteShape
from services.browser_gateway.budget import BudgetClass, PagePace, PageTurn, Usage, class_of, start_usage
from services.browser_gateway.risk import BUDGET_SHARE, RiskLevel
from services.browser_gateway.guardian_store import GuardianStore, InMemoryGuardianStore
from services.browser_gateway.errors import (
    CODE_WHEN_OPEN, FAMILIES, FAMILY_OF_CODE, UNTRIPPED_FAMILIES, families_for, unexpected,
)
from services.browser_gateway.selectors import SelectorPack, load_pack
from services.browser_gateway.settings import GatewaySettings

if TYPE_CHECKING:
    from services.browser_gateway.xapi.driver import ApiDriver

# The X API driver's module, imported only when the settings ask for that driver: it brings tweepy, oauthlib and
# requests (~6 MB resident), which a gateway on the browser alone never uses.
API_DRIVER_MODULE = "services.browser_gateway.xapi.driver"


def api_driver_of(drivers: dict[str, XDriver]) -> ApiDriver | None:
    """The X API driver among ``drivers``, if one runs (none can while its module was never imported)."""
    module = sys.modules.get(API_DRIVER_MODULE)
    api = drivers.get("api")
    if module is None or not isinstance(api, module.ApiDriver):
        return None
    return cast("ApiDriver", api)

# Compare-and-set rounds for a write's admission against other replicas' concurrent saves.
ADMIT_ATTEMPTS = 5

log = logging.getLogger("xbot.browser_gateway")

Publish = Callable[..., Awaitable[Any]]
# X refused these before creating anything: the write does not count against the caps.
NOTHING_POSTED = frozenset({"rate_limited", "daily_limit", "automation_block", "locked", "session_expired",
                            "reply_not_allowed", "budget_exhausted"})


class SwitchReader(Protocol):
    """The kill switch (libs/bus/control.py); anything it cannot trust reads as paused."""

    async def read(self) -> WriteSwitch: ...


class _NoSwitch:
    """A gateway built without NATS has no kill switch to read: it fails closed, as an unreadable one does."""

    async def read(self) -> WriteSwitch:
        return WriteSwitch(True, 0, "no kill switch connected to this gateway")


def build_drivers(settings: GatewaySettings, clock: Clock, pack: SelectorPack) -> dict[str, XDriver]:
    """The drivers the settings ask for, one of each at most (reads and writes may share one)."""
    drivers: dict[str, XDriver] = {}
    for name in (settings.x_write_driver, settings.x_read_driver):
        if name in drivers:
            continue
        if name == "browser":
            drivers[name] = BrowserDriver(settings, clock, pack)
        else:
            from services.browser_gateway.xapi.driver import ApiDriver

            drivers[name] = ApiDriver(settings, clock)
    return drivers


class BrowserGateway:
    def __init__(self, settings: GatewaySettings, clock: Clock, *, publish: Publish | None = None,
                 pack: SelectorPack | None = None, drivers: dict[str, XDriver] | None = None,
                 kill_switch: SwitchReader | None = None, store: GuardianStore | None = None) -> None:
        self.settings = settings
        self.clock = clock
        self.started_at = clock.now()
        self.kill_switch: SwitchReader = kill_switch or _NoSwitch()
        self.store: GuardianStore = store or InMemoryGuardianStore()
        self.guardian = AccountGuardian(settings)
        self.pace = PagePace(clock, min_gap_s=settings.page_gap_min.total_seconds(),
                             max_gap_s=settings.page_gap_max.total_seconds())
        self._watch: asyncio.Task[None] | None = None
        self._persisting = asyncio.Lock()
        self._session_seen = self._session_files()
        self._last_login_check = clock.now()
        # EventPublisher.publish; None in tests that do not watch events.
        self.publish = publish
        self.drivers = drivers or build_drivers(settings, clock, pack or load_pack())
        reset = settings.breaker_reset
        # A breaker per driver and error family: the API's rate limit says nothing about the web client's.
        self.breakers: dict[str, dict[str, CircuitBreaker]] = {
            name: {family: CircuitBreaker(clock, failure_threshold=settings.breaker_failures, base_reset=reset,
                                          max_reset=settings.breaker_max_reset)
                   for family in FAMILIES}
            for name in self.drivers
        }
        # Whether each driver's session (browser cookies, API tokens) was valid when last used.
        self.session_ok = {name: True for name in self.drivers}
        api = api_driver_of(self.drivers)
        if api is not None:
            # The API posts a thread part by part: the kill switch is read again before each later part.
            api.before_thread_part = self._before_thread_part

    def driver_for(self, request: GatewayRequest) -> XDriver:
        return self.drivers[self.settings.x_write_driver if request.WRITES else self.settings.x_read_driver]

    @property
    def browser(self) -> BrowserDriver:
        """The browser driver's parts (pool, arbiter, pacer, pages), for tests and the benchmark."""
        driver = self.drivers.get("browser")
        if not isinstance(driver, BrowserDriver):
            raise LookupError("no browser driver: XBOT_X_WRITE_DRIVER and XBOT_X_READ_DRIVER are both api")
        return driver

    # ------------------------------------------------------------ lifecycle

    async def start(self) -> None:
        saved = await self.store.load()
        self.guardian.restore(saved)
        self._merge_spend(saved)
        metrics.risk_level.set(int(self.guardian.published_level))
        if self.guardian.not_live:
            log.error("ALERT %s", self.guardian.not_live)
        for driver in self.drivers.values():
            await driver.start()
        self._watch = asyncio.create_task(self.watch_risk())

    async def stop(self) -> None:
        if self._watch is not None:
            self._watch.cancel()
        for driver in self.drivers.values():
            await driver.stop()

    def ready(self) -> bool:
        """Ready while every driver's session is valid; a dead browser is relaunched on demand, so it does not
        count."""
        return all(self.session_ok.values())

    def not_ready_reason(self) -> str:
        return "; ".join(self.drivers[name].session_hint() for name, ok in self.session_ok.items() if not ok)

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
        driver = self.driver_for(request).name
        try:
            result = await self.run(request)
        except GatewayError as err:
            metrics.op_outcomes.labels(op=request.OP, outcome=err.code, driver=driver).inc()
            return GatewayReply(ok=False, error=err.fault())
        except Exception as err:  # noqa: BLE001 - outside the page (pacer, arbiter, breakers): still answer
            log.exception("%s failed unexpectedly outside the browser", request.OP)
            fault = unexpected(request.OP, err).fault()
            metrics.op_outcomes.labels(op=request.OP, outcome=fault.code, driver=driver).inc()
            return GatewayReply(ok=False, error=fault)
        metrics.op_outcomes.labels(op=request.OP, outcome="ok", driver=driver).inc()
        if isinstance(result, TweetList):
            # What a read-back needs to know (TweetList says why).
            result = result.model_copy(update={"gateway_started_at": self.started_at})
        return GatewayReply(ok=True, result=result.model_dump(mode="json"))

    async def run(self, request: GatewayRequest) -> BaseModel:
        """The op's result, or a GatewayError. The one path of every op to X, whichever driver serves it: the
        account's guards (issue 18: activity budget, risk level, live guard, kill switch) go here, before
        ``driver.perform``; the API driver's spend cap and rate-limit windows are inside the driver."""
        driver = self.driver_for(request)
        await self._refresh()  # another replica's writes, reads and warnings count here too
        if self.guardian.risk.locked and request.WRITES:
            await self._look_for_lock_end()
        self.guardian.check_not_locked(request.OP)
        breakers = self.breakers[driver.name]
        families = [f for f in families_for(request.WRITES) if f in breakers]
        for family in families:
            breaker = breakers[family]
            if not breaker.allows():
                raise GatewayError(CODE_WHEN_OPEN[family], f"{family} breaker open after repeated failures",
                                   retry_after_s=breaker.retry_after())
        cls = class_of(request, self.settings.x_handle)
        now = self.clock.now()
        budget = self.guardian.budget
        reservation = budget.admit(request, cls, now, self.guardian.risk.budget_share(now))
        turn: PageTurn | None = None
        try:
            turn = self._page_turn(request, cls, now)
            record = await self._guard_write(request) if request.WRITES else None
        except BaseException:
            budget.release(reservation)
            if turn is not None:
                turn.finish()
            raise
        usage = start_usage(turn, budget.reserved_posts(reservation))
        result: BaseModel | None = None
        try:
            if turn is not None and driver.name == "api":
                await turn.take_first()  # an API read is one request: it takes one slot of the pace
            result = await driver.perform(request)
        except GatewayError as err:
            self._record_activity(request, cls, usage, None, driver, reservation)
            if record is not None and err.code in NOTHING_POSTED:
                self.guardian.forget_write(record)
            change = self.guardian.warned(err.code, err.message, self.clock.now())
            if change is not None and change.level == RiskLevel.LOCKED and change.previous != RiskLevel.LOCKED:
                self.guardian.lock_revision = (await self.kill_switch.read()).revision
            await self._persist()
            await self._publish_risk(request.OP)
            await self._record_failure(driver, request, err)
            raise
        except BaseException:
            budget.release(reservation)  # cancelled, or a bug: execute() answers it
            raise
        finally:
            if turn is not None:
                turn.finish()
        self._record_activity(request, cls, usage, result, driver, reservation)
        await self._persist()
        if self.session_ok[driver.name]:
            # Any op X answered proves the session as well as a login check would (an expired one redirects to
            # the login page): the periodic check is only for an idle account, and costs nothing otherwise.
            self._last_login_check = now
        for family in families:
            breakers[family].record_success()
            metrics.breaker_state.labels(family=family, driver=driver.name).set(
                STATE_CODE[breakers[family].current()])
        if isinstance(result, LoginCheckResult):
            if result.logged_in:
                self.session_ok[driver.name] = True
                if self.guardian.risk.unlocked(self.clock.now()) is not None:
                    log.warning("the account is no longer locked: X let the login check in")
                    await self._persist()
                    await self._publish_risk(request.OP)
            else:
                await self._session_expired(driver, request.OP, result.reason or "login check found no session")
        return result

    # ------------------------------------------------------------ the account's guards

    def _page_turn(self, request: GatewayRequest, cls: BudgetClass, now: datetime) -> PageTurn | None:
        """The op's place in the budget's pace (budget.PagePace), else ``budget_exhausted`` for a read that would
        wait too long; none with the budget off. The login check takes its slot without waiting: it is the one op
        that runs while locked, and an idle account's only page in hours."""
        if not self.guardian.budget.enabled:
            return None
        if request.OP == "login_check":
            return PageTurn(self.pace, 1, wait=False)
        longest = (self.settings.page_wait_max_background if cls == "background" else self.settings.page_wait_max)
        return self.pace.turn(request, cls, now, longest.total_seconds())

    async def _guard_write(self, request: GatewayRequest) -> WriteRecord:
        """Every check of a write before it may reach X (guardian.py), in an order that never navigates; the write
        is counted against the caps (and persisted) before it leaves."""
        shape = self.guardian.check_static(request)  # live guard, content limits
        await self._check_switch(request.OP)
        await self._check_session_hold(request.OP)
        return await self._admit_write(shape)

    async def _admit_write(self, shape: WriteShape) -> WriteRecord:
        """Check the hard caps and count the write, as one compare-and-set on the shared entry: two replicas of
        the account with room for one more write cannot both take it (each checks the other's latest count, and
        the one whose save comes second sees the first's and checks again)."""
        async with self._persisting:
            for _ in range(ADMIT_ATTEMPTS):
                now = self.clock.now()
                theirs = await self.store.load_changed()  # also the revision the save below must follow
                if theirs is not None:
                    self.guardian.merge(theirs, now)
                self.guardian.check_caps(shape, now)
                record = self.guardian.record_write(shape, now)
                try:
                    await self.store.save(self.guardian.to_dict())
                    return record
                except KeyWrongLastSequenceError:
                    self.guardian.forget_write(record)
        # A guard code: nothing reached X, and a retry a moment later finds the entry quiet again.
        raise GatewayError("budget_exhausted", f"the hard caps could not be checked: {ADMIT_ATTEMPTS} concurrent "
                           "updates of the account's state by other replicas", retry_after_s=1.0)

    async def _refresh(self) -> None:
        """Take in what other replicas of the account saved (their writes, reads and warnings) before deciding."""
        async with self._persisting:
            theirs = await self.store.load_changed()
            if theirs is not None:
                self.guardian.merge(theirs, self.clock.now())

    def _record_activity(self, request: GatewayRequest, cls: BudgetClass, usage: Usage, result: BaseModel | None,
                         driver: XDriver, reservation: str | None = None) -> None:
        """Count what X served this op against the budget (the browser's pages counted themselves as they
        loaded; an API read is one request, viewing the posts in its answer)."""
        if driver.name == "api" and not usage.page_loads:
            items = getattr(result, "tweets", None) or getattr(result, "items", None) or []
            usage.page(len(items))
        now = self.clock.now()
        self.guardian.budget.record(request, cls, usage, now, reservation)
        metrics.page_loads.labels(op=request.OP, budget_class=cls).inc(usage.page_loads)
        metrics.posts_viewed.labels(op=request.OP, budget_class=cls).inc(usage.posts_viewed)
        for name, left in self.guardian.budget.left(now, self.guardian.risk.budget_share(now)).items():
            metrics.budget_left.labels(budget_class=name).set(left)

    async def _check_switch(self, op: str) -> None:
        switch = await self.kill_switch.read()
        if switch.paused:
            raise GatewayError("writes_paused", f"{op} refused: writes are paused ({switch.reason or 'xbot pause'})")

    async def _look_for_lock_end(self) -> None:
        """A write while locked: if the owner resumed since the lock began (they saw X let the account in), run
        the login check now rather than at the next periodic one."""
        switch = await self.kill_switch.read()
        if switch.paused or switch.revision <= self.guardian.lock_revision:
            return
        self.guardian.lock_revision = switch.revision  # one look per resume
        await self._persist()
        log.warning("the owner resumed writes while the account is locked: checking whether X lets it in")
        await self.execute(LoginCheckRequest())

    async def _check_session_hold(self, op: str) -> None:
        """After a session expired, writes wait for a new session and then for the owner's `xbot resume` (a write
        of the kill switch later than the expiry), unless they may resume by themselves."""
        hold = self.guardian.session_hold
        if hold is None:
            return
        if not self.ready():
            raise GatewayError("session_expired", f"{op} refused: the X session expired; {self.not_ready_reason()}")
        if not self.settings.session_auto_resume:
            switch = await self.kill_switch.read()
            if hold == 0 and switch.revision:
                self.guardian.session_hold = switch.revision  # the first readable revision stands for the expiry's
                await self._persist()
            if switch.paused or switch.revision <= (self.guardian.session_hold or 0):
                raise GatewayError("session_expired", f"{op} refused: a new session is in use; writes resume after "
                                   "the owner's `xbot resume` (or set XBOT_SESSION_AUTO_RESUME=true)")
        log.warning("writes resume after the session expiry (%s)",
                    "by themselves" if self.settings.session_auto_resume else "the owner resumed")
        self.guardian.session_hold = None
        await self._persist()

    async def _before_thread_part(self, op: str, index: int) -> None:
        await self._check_switch(f"{op} part {index + 1}")

    async def _persist(self) -> None:
        """Save the guardian's state; another replica's write in between is merged and saved again. (One save at
        a time in this process: its own ops never race each other for the entry's revision.)"""
        async with self._persisting:
            for _ in range(3):
                try:
                    await self.store.save(self._document())
                    return
                except KeyWrongLastSequenceError:
                    theirs = await self.store.load()
                    self.guardian.merge(theirs, self.clock.now())
                    self._merge_spend(theirs)
            log.error("ALERT the guardian's state could not be saved after 3 concurrent updates")

    def _document(self) -> dict[str, Any]:
        """The guardian's state, and today's X API spend with it: a restart must not reset the daily cap."""
        document = self.guardian.to_dict()
        api = api_driver_of(self.drivers)
        if api is not None:
            document["x_api_spend"] = api.spend.ledger.to_dict(api.spend.today())
        return document

    def _merge_spend(self, document: dict[str, Any]) -> None:
        api = api_driver_of(self.drivers)
        if api is not None and "x_api_spend" in document:
            api.spend.ledger.merge(document["x_api_spend"])
            metrics.api_spend_usd.set(api.spend.spent_today())

    async def _publish_risk(self, op: str | None) -> None:
        """Publish AccountRiskChanged when the level differs from the one last published."""
        now = self.clock.now()
        change = self.guardian.pending_change(now)
        if change is None:
            return
        log_at = logging.ERROR if change.level > change.previous else logging.WARNING
        log.log(log_at, "%saccount risk %s -> %s (%s)", "ALERT " if change.level > change.previous else "",
                change.previous.name, change.level.name, change.signal or "cooled down")
        metrics.risk_level.set(int(change.level))
        if self.publish is not None:
            event = AccountRiskChanged(handle=self.settings.x_handle, level=int(change.level),
                                       level_name=change.level.name, previous_level=int(change.previous),
                                       signal=change.signal or "decay", locked=change.level == RiskLevel.LOCKED,
                                       operation=op, budget_share=BUDGET_SHARE[change.level], changed_at=now)
            try:
                await self.publish(event)
            except Exception:  # noqa: BLE001 - published again by the next watch, as the level still differs
                log.exception("publishing AccountRiskChanged failed")
                return
        self.guardian.published_level = change.level
        await self._persist()

    async def watch_risk(self) -> None:
        """Forever, every XBOT_RISK_WATCH_INTERVAL: :meth:`watch_step`."""
        while True:
            await self.clock.sleep(self.settings.risk_watch_interval.total_seconds())
            try:
                await self.watch_step()
            except Exception:  # noqa: BLE001 - the watch must outlive one failure
                log.exception("the account watch failed")

    async def watch_step(self) -> None:
        """Publish the risk level's decay; pick up a new session (a changed session or token file) and check it at
        once; run the periodic login check (while locked: the one op that looks for the lock's end)."""
        await self._publish_risk(None)
        now = self.clock.now()
        new_session = self._session_files() != self._session_seen
        if new_session:
            self._session_seen = self._session_files()
            log.warning("a new X session was saved: picking it up without a restart")
            await self.reload_session()
        interval = (self.settings.lock_check_interval if self.guardian.risk.locked
                    else self.settings.login_check_interval)
        if new_session or now - self._last_login_check >= interval:
            self._last_login_check = now
            reply = await self.execute(LoginCheckRequest())
            if reply.ok and reply.result and reply.result.get("logged_in") and self.guardian.session_hold is not None:
                log.warning("the X session is valid again; writes %s", "resume" if self.settings.session_auto_resume
                            else "resume after the owner's `xbot resume`")

    def _session_files(self) -> tuple[float | None, ...]:
        """When the session file and the API token file last changed (None: absent)."""
        out: list[float | None] = []
        for path in (self.settings.session_file, self.settings.x_api_token_file):
            try:
                out.append(path.stat().st_mtime)
            except OSError:
                out.append(None)
        return tuple(out)

    def guardian_status(self) -> dict[str, Any]:
        return self.guardian.status(self.clock.now())

    async def _record_failure(self, driver: XDriver, request: GatewayRequest, err: GatewayError) -> None:
        family = FAMILY_OF_CODE[err.code]
        breaker = self.breakers[driver.name].get(family)
        if family not in UNTRIPPED_FAMILIES and breaker is not None:
            breaker.record_failure()
            metrics.breaker_state.labels(family=family, driver=driver.name).set(STATE_CODE[breaker.current()])
        if err.code == "session_expired":
            await self._session_expired(driver, request.OP, err.message)

    async def _session_expired(self, driver: XDriver, op: str, reason: str) -> None:
        first = self.session_ok[driver.name]
        self.session_ok[driver.name] = False
        if first:
            log.error("ALERT the X session expired (%s during %s): writes held; %s", reason, op, driver.session_hint())
            if self.guardian.session_hold is None:
                self.guardian.session_hold = (await self.kill_switch.read()).revision
                await self._persist()
        if first and self.publish is not None:
            # Published once per expiry, not per failing op: one person has to log in again.
            event = SessionExpired(handle=self.settings.x_handle, operation=op, detected_at=self.clock.now(),
                                   reason=reason)
            try:
                await self.publish(event)
            except Exception:  # noqa: BLE001 - /ready is already false; the event is the secondary signal
                log.exception("publishing SessionExpired failed")

    async def reload_session(self) -> None:
        """Pick up new credentials (after `xbot login` or `xbot login --api`) without a restart."""
        for driver in self.drivers.values():
            await driver.reload_session()
