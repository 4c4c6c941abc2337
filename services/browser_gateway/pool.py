"""The one Chromium and its contexts.

Contexts are created on demand up to the arbiter's slot count, each loaded with the account's session, and
keep one page between ops (reusing a warm page is what makes the pool fast). A context is closed after
``max_ops`` ops, after any failed op (a failed page may be in any state), and when idle too long. If Chromium
dies, every context goes with it; the next op relaunches it (the arbiter's queue is untouched). A Chromium that
does not open a context or page within the call timeout is hung: it is killed (so the next op relaunches it)
and the op fails with :class:`ContextOpenTimeout` instead of waiting forever.
"""

from __future__ import annotations

import asyncio
import base64
import json
import logging
import os
import tempfile
import signal
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any, cast

import psutil
from playwright.async_api import Browser, BrowserContext, Page, Playwright, StorageState, async_playwright

from libs.core.clock import Clock
from libs.core.logging import redact
from services.browser_gateway.sandbox import SandboxMode, SandboxState, launch_chromium, renderers_sandboxed
from services.browser_gateway import metrics

log = logging.getLogger("xbot.browser_gateway.pool")

# No --no-sandbox: the sandbox is on unless sandbox.py falls back (and says so).
CHROMIUM_ARGS = [
    "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking",
    "--disable-component-update", "--disable-sync",
]
SYSTEM_CHROMIUM = Path("/usr/bin/chromium")


def chromium_executable(configured: Path | None, playwright: Playwright) -> str:
    """XBOT_CHROMIUM_PATH, else Playwright's own build if it is installed, else the system Chromium."""
    if configured:
        return str(configured)
    try:
        own = Path(playwright.chromium.executable_path)
    except Exception:  # noqa: BLE001 - Playwright raises when its browsers were never downloaded
        own = None
    if own and own.exists():
        return str(own)
    return str(SYSTEM_CHROMIUM)


def load_storage_state(*, session_b64: str | None, session_file: Path | None) -> dict[str, Any] | None:
    state = None
    if session_b64:
        state = json.loads(base64.b64decode(session_b64))
    elif session_file and session_file.exists():
        state = json.loads(session_file.read_text())
    if state:
        # The session's cookies are the account: mask them in every log line, from wherever they came.
        redact(*(str(c.get("value") or "") for c in state.get("cookies", [])))
    return state


class ContextOpenTimeout(Exception):
    """Chromium did not open a context or page in time: it is hung, and has been killed to be relaunched."""


@dataclass
class ContextSlot:
    context: BrowserContext
    page: Page
    generation: int
    ops: int = 0
    last_used: float = 0.0


class BrowserPool:
    def __init__(
        self,
        *,
        clock: Clock,
        storage_state: dict[str, Any] | None,
        executable: Path | None = None,
        headless: bool = True,
        max_ops: int = 50,
        idle_s: float = 300.0,
        call_timeout_ms: float = 15_000,
        sandbox_mode: SandboxMode = "auto",
    ) -> None:
        self.clock = clock
        self.sandbox_mode: SandboxMode = sandbox_mode
        self.sandbox = SandboxState(mode=sandbox_mode)
        self._wrapper_dir: Path | None = None
        self.storage_state = storage_state
        self.executable = executable
        self.headless = headless
        self.max_ops = max_ops
        self.idle_s = idle_s
        self.call_timeout_ms = call_timeout_ms
        self._pw: Playwright | None = None
        self._browser: Browser | None = None
        self._browser_pid: int | None = None
        # Bumped at every (re)launch: a context from an older generation belongs to a dead browser.
        self.generation = 0
        self.restarts = 0
        self._free: list[ContextSlot] = []
        self._leased = 0
        self._launch_lock = asyncio.Lock()
        self._closing = False
        # A Chromium found hung: relaunched by the next op even if it still looks alive.
        self._hung_browser: Browser | None = None

    @property
    def call_timeout_s(self) -> float:
        return self.call_timeout_ms / 1000

    # ------------------------------------------------------------ browser lifecycle

    async def start(self) -> None:
        self._pw = await async_playwright().start()
        await self._ensure_browser()

    async def close(self) -> None:
        self._closing = True
        for slot in self._free:
            await self._close_slot(slot)
        self._free.clear()
        if self._browser is not None:
            try:
                await asyncio.wait_for(self._browser.close(), self.call_timeout_s)
            except Exception:  # noqa: BLE001 - already gone (or hung: the Playwright driver's exit ends it)
                pass
        if self._pw is not None:
            await self._pw.stop()
        self._browser = self._pw = None

    @property
    def browser_pid(self) -> int | None:
        return self._browser_pid

    def sandbox_status(self) -> dict[str, Any]:
        """How Chromium runs (``xbot status``'s ``chromium`` block): sandbox on or the fallback and why, the user,
        and whether its renderers are seen confined (seccomp-bpf, their own user namespace)."""
        if self.sandbox.sandbox and self.browser_alive():
            self.sandbox.verified = renderers_sandboxed(self._browser_pid)
        return {**self.sandbox.as_dict(), "running": self.browser_alive()}

    def browser_alive(self) -> bool:
        if self._browser is None or not self._browser.is_connected() or self._browser_pid is None:
            return False
        if self._browser is self._hung_browser:
            return False
        try:
            return psutil.Process(self._browser_pid).status() != psutil.STATUS_ZOMBIE
        except psutil.NoSuchProcess:
            return False

    async def _ensure_browser(self) -> Browser:
        async with self._launch_lock:
            if self._browser is not None and self.browser_alive():
                return self._browser
            if self._browser is not None:  # it died: everything it held is gone
                log.warning("chromium died; relaunching")
                self.restarts += 1
                metrics.browser_restarts.inc()
                self._free.clear()
                try:
                    await asyncio.wait_for(self._browser.close(), self.call_timeout_s)
                except Exception:  # noqa: BLE001 - dead, or hung and killed
                    pass
            assert self._pw is not None, "pool not started"
            before = {p.pid for p in psutil.Process().children(recursive=True)}
            if self._wrapper_dir is None and os.geteuid() == 0:
                self._wrapper_dir = Path(tempfile.mkdtemp(prefix="xbot-chromium-"))
            self._browser = await launch_chromium(
                self._pw, chromium_executable(self.executable, self._pw), mode=self.sandbox_mode,
                headless=self.headless, args=CHROMIUM_ARGS, state=self.sandbox, timeout=60_000,
                wrapper_dir=self._wrapper_dir,
            )
            self._browser_pid = self._find_browser_pid(before)
            self._hung_browser = None
            self.generation += 1
            metrics.contexts_open.set(0)
            return self._browser

    @staticmethod
    def _find_browser_pid(before: set[int]) -> int | None:
        """The new Chromium's main process: a new descendant of ours that is not a --type= child."""
        for proc in psutil.Process().children(recursive=True):
            if proc.pid in before:
                continue
            try:
                cmd = proc.cmdline()
            except psutil.Error:
                continue
            if cmd and "chrom" in os.path.basename(cmd[0]) and not any(a.startswith("--type=") for a in cmd):
                return proc.pid
        return None

    def process_tree_pss(self) -> int:
        """Bytes of proportional set size of Chromium and all its children."""
        if self._browser_pid is None:
            return 0
        root = psutil.Process(self._browser_pid)
        total = 0
        for proc in [root, *root.children(recursive=True)]:
            try:
                total += proc.memory_full_info().pss
            except psutil.Error:
                pass
        return total

    # ------------------------------------------------------------ contexts

    @property
    def open_contexts(self) -> int:
        return len(self._free) + self._leased

    async def _new_slot(self, browser: Browser) -> ContextSlot:
        generation = self.generation
        try:
            context = await asyncio.wait_for(
                browser.new_context(storage_state=cast("StorageState | None", self.storage_state),
                                    viewport={"width": 1280, "height": 900}),
                self.call_timeout_s)
        except TimeoutError:
            raise self._hung(browser, "a context") from None
        try:
            context.set_default_timeout(self.call_timeout_ms)
            context.set_default_navigation_timeout(self.call_timeout_ms)
            page = await asyncio.wait_for(context.new_page(), self.call_timeout_s)
        except TimeoutError:
            raise self._hung(browser, "a page") from None
        except BaseException:
            await self._close_context(context)
            raise
        return ContextSlot(context=context, page=page, generation=generation)

    def _hung(self, browser: Browser, what: str) -> ContextOpenTimeout:
        """Kill a Chromium that could not open ``what`` in time (unless it was replaced meanwhile)."""
        message = f"Chromium did not open {what} within {self.call_timeout_s:g}s"
        if browser is self._browser and self._hung_browser is not browser:
            self._hung_browser = browser
            log.error("%s: killing it (pid %s) so the next op relaunches it", message, self._browser_pid)
            if self._browser_pid is not None:
                try:
                    os.kill(self._browser_pid, signal.SIGKILL)
                except ProcessLookupError:
                    pass
        return ContextOpenTimeout(message)

    async def _close_context(self, context: BrowserContext) -> None:
        try:
            await asyncio.wait_for(context.close(), self.call_timeout_s)
        except Exception:  # noqa: BLE001 - closing a context of a dead browser fails; nothing to free then
            pass

    async def _close_slot(self, slot: ContextSlot) -> None:
        await self._close_context(slot.context)

    @asynccontextmanager
    async def page(self) -> AsyncIterator[Page]:
        """A warm page of a session-loaded context, for one op. The caller must hold an arbiter lease."""
        browser = await self._ensure_browser()
        slot = self._free.pop() if self._free else await self._new_slot(browser)
        self._leased += 1
        metrics.contexts_in_use.inc()
        metrics.contexts_open.set(self.open_contexts)
        ok = False
        try:
            yield slot.page
            ok = True
        finally:
            self._leased -= 1
            metrics.contexts_in_use.dec()
            slot.ops += 1
            slot.last_used = self.clock.timestamp()
            reusable = ok and slot.ops < self.max_ops and slot.generation == self.generation \
                and not self._closing and self.browser_alive()
            if reusable:
                self._free.append(slot)
            else:
                await self._close_slot(slot)
            metrics.contexts_open.set(self.open_contexts)

    async def reap_idle(self) -> int:
        """Close contexts idle for longer than ``idle_s`` (simulated); returns how many were closed."""
        now = self.clock.timestamp()
        stale = [s for s in self._free if now - s.last_used >= self.idle_s]
        self._free = [s for s in self._free if s not in stale]
        for slot in stale:
            await self._close_slot(slot)
        metrics.contexts_open.set(self.open_contexts)
        return len(stale)

    async def replace_session(self, storage_state: dict[str, Any] | None) -> None:
        """Use a new session (after `xbot login`): idle contexts are dropped, leased ones at their release."""
        self.storage_state = storage_state
        stale, self._free = self._free, []
        for slot in stale:
            await self._close_slot(slot)
        # A generation bump retires the leased contexts too, without a browser restart.
        self.generation += 1
