"""``xbot demo``: the whole system against a fresh sandbox for a simulated period, watched live, then reported.

Each run gets its own namespace (streams, KV, durables), its own database and its own sandbox world under
``reports/<run>/``, so runs never mix. The sandbox and the services are subprocesses sharing one scaled Clock;
this process only starts, watches and stops them, and reads the sandbox's admin API and the event streams.
"""

from __future__ import annotations

import asyncio
import json
import os
import secrets
import signal
import subprocess
import sys
import time
import uuid
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path
from urllib.parse import urlparse, urlunparse

import aiohttp
import asyncpg
import psutil
from rich.console import Console
from rich.live import Live

from libs.bus.provision import provision_streams, remove_namespace

from libs.demo.figures import EventLog, decisions_from, items_from, parse_time, summarise
from libs.demo.live import live_table
from libs.demo.plan import HANDLE, SANDBOX_PASSWORD, SHUTDOWN_RESERVE_S, DemoPlan
from libs.demo.report import summary_table, write_report
from libs.demo.sources import EventWatcher, SandboxAdmin, scrape_metrics, service_urls
from libs.runtime.clock import Clock
from libs.runtime.infra import ROOT, ensure_servers
from libs.runtime.nats import connect
from libs.runtime.settings import CommonSettings
from libs.runtime.status import collect_status
from libs.runtime.supervisor import Supervisor

SERVICES = ("browser_gateway", "planner", "poster", "harvester", "scraper", "learner")
REFRESH_S = 2.0
STATUS_EVERY_S = 4.0
LOGIN_TIMEOUT_S = 120.0
PROVISION_TIMEOUT_S = 120.0
SANDBOX_START_TIMEOUT_S = 30.0
GATEWAY_READY_TIMEOUT_S = 60.0
GRACE_S = 10.0


class DemoStopped(Exception):
    """Ctrl-C (or SIGTERM) before the simulated period began."""


def _database_url(admin_url: str, name: str) -> str:
    return urlunparse(urlparse(admin_url)._replace(path=f"/{name}"))


@dataclass
class DemoRun:
    plan: DemoPlan
    reports_root: Path = ROOT / "reports"
    cleanup: bool = False
    console: Console = field(default_factory=Console)

    def __post_init__(self) -> None:
        self.run_id = "demo" + uuid.uuid4().hex[:8]
        self.run_dir = self.reports_root / self.run_id
        self.stop = asyncio.Event()
        self.t0 = time.time()
        self.phase = "starting"
        self.errors: list[str] = []
        self.sandbox_proc: subprocess.Popen | None = None
        self.gateway: Supervisor | None = None
        self.supervisor: Supervisor | None = None  # every service but the gateway
        self.watcher: EventWatcher | None = None
        self.admin: SandboxAdmin | None = None
        self.start_sim: datetime | None = None
        self.end_sim: datetime | None = None  # when the services were told to stop
        self.followers_start: int | None = None
        self.timings: dict[str, float] = {}
        self._status: dict = {}
        self._status_at = 0.0
        self.metrics_scraped: dict[str, bool] = dict.fromkeys(SERVICES, False)
        self.kills: list[dict] = []  # each SIGKILL actually delivered (chaos runs only)

    # ------------------------------------------------------------------ set-up

    def _say(self, text: str) -> None:
        self.console.print(f"[dim]{time.time() - self.t0:5.1f}s[/dim] {text}")

    def _mark(self, step: str) -> None:
        self.timings[step] = round(time.time() - self.t0, 2)

    async def _create_database(self, admin_url: str) -> str:
        name = f"xbot_{self.run_id}"
        conn = await asyncpg.connect(admin_url)
        try:
            await conn.execute(f'CREATE DATABASE "{name}"')
        finally:
            await conn.close()
        return _database_url(admin_url, name)

    def _base_env(self, servers: dict[str, str], db_url: str, clock: Clock) -> dict[str, str]:
        env = dict(os.environ)
        env.update(servers)
        env.update(clock.env())
        env.update(self.plan.tuning_env())
        self.admin_token = secrets.token_urlsafe(16)
        env.update({
            "PYTHONPATH": str(ROOT), "XBOT_NAMESPACE": self.run_id, "XBOT_DATABASE_URL": db_url,
            "XBOT_SANDBOX_DB_PATH": str(self.run_dir / "sandbox.sqlite3"), "XBOT_SANDBOX_PORT": "0",
            "XBOT_SANDBOX_SEED": str(self.plan.seed), "XBOT_SANDBOX_HANDLE": HANDLE,
            "XBOT_SANDBOX_PASSWORD": SANDBOX_PASSWORD, "XBOT_SANDBOX_ADMIN_TOKEN": self.admin_token,
            "XBOT_X_HANDLE": HANDLE, "XBOT_OWN_HANDLE": HANDLE, "XBOT_X_USERNAME": HANDLE,
            "XBOT_X_PASSWORD": SANDBOX_PASSWORD, "XBOT_SESSION_FILE": str(self.run_dir / "x_session.json"),
            "XBOT_LIVE": "false",  # the demo writes to its own sandbox only
        })
        env.pop("XBOT_SANDBOX_SIM_TOKEN", None)  # the ground truth is read with the admin token
        env.pop("XBOT_X_SESSION", None)  # a session of another account must not win over the demo's file
        return env

    async def _start_sandbox(self, env: dict[str, str]) -> str:
        log_dir = self.run_dir / "logs"
        out_path = log_dir / "sandbox.out"
        with open(out_path, "wb") as out, open(log_dir / "sandbox.log", "ab") as err:
            # Own session: the terminal's Ctrl-C must not kill the sandbox before the final readings.
            self.sandbox_proc = subprocess.Popen([sys.executable, "-m", "sandbox"], env=env, cwd=ROOT,
                                                 stdout=out, stderr=err, start_new_session=True)
        deadline = time.time() + SANDBOX_START_TIMEOUT_S
        prefix = "sandbox listening on "
        while time.time() < deadline:
            for line in out_path.read_text().splitlines():
                if line.startswith(prefix):
                    return line[len(prefix):].strip()
            if self.sandbox_proc.poll() is not None:
                raise RuntimeError(f"the sandbox exited with {self.sandbox_proc.returncode}; see {log_dir}")
            await asyncio.sleep(0.1)
        raise RuntimeError(f"the sandbox did not announce its URL within {SANDBOX_START_TIMEOUT_S:.0f}s")

    async def _module(self, env: dict[str, str], module: str, *args: str, timeout: float, log: str) -> None:
        with open(self.run_dir / "logs" / f"{log}.log", "ab") as out:
            proc = await asyncio.create_subprocess_exec(sys.executable, "-m", module, *args, env=env, cwd=ROOT,
                                                        stdout=out, stderr=out, start_new_session=True)
        try:
            code = await asyncio.wait_for(proc.wait(), timeout)
        except TimeoutError:
            proc.kill()
            await proc.wait()
            raise RuntimeError(f"{module} {' '.join(args)} did not finish within {timeout:.0f}s") from None
        except asyncio.CancelledError:
            proc.kill()  # Ctrl-C during start-up
            await proc.wait()
            raise
        if code != 0:
            raise RuntimeError(f"{module} {' '.join(args)} failed ({code}); see logs/{log}.log")

    async def _provision(self, settings: CommonSettings, env: dict[str, str]) -> None:
        nc = await connect(settings, name="xbot-demo")
        try:
            await provision_streams(nc.jetstream(), settings.namespace)
        finally:
            await nc.close()
        results = await asyncio.gather(
            *(self._module(env, f"services.{s}", "provision", timeout=PROVISION_TIMEOUT_S, log=f"provision-{s}")
              for s in SERVICES if s != "browser_gateway"),  # the gateway has no durable consumers
            return_exceptions=True)
        for r in results:
            if isinstance(r, BaseException):
                # A service that cannot provision will also fail to start; the run goes on and says so.
                self.errors.append(str(r))

    def _checkpoint(self) -> None:
        if self.stop.is_set():
            raise DemoStopped()

    async def _unless_stopped(self, *steps) -> None:
        """Run start-up steps together; Ctrl-C cancels them (their subprocesses are killed)."""
        work = asyncio.ensure_future(asyncio.gather(*steps))
        stopped = asyncio.ensure_future(self.stop.wait())
        await asyncio.wait({work, stopped}, return_when=asyncio.FIRST_COMPLETED)
        if not work.done():
            work.cancel()
            await asyncio.gather(work, return_exceptions=True)
            raise DemoStopped()
        stopped.cancel()
        work.result()

    async def _gateway_ready(self) -> None:
        deadline = time.time() + GATEWAY_READY_TIMEOUT_S
        while time.time() < deadline:
            self.gateway.tick()
            status = await collect_status(self.settings, ("browser_gateway",))
            if status["services"]["browser_gateway"].get("ready"):
                return
            await asyncio.sleep(0.5)
        # The run goes on: what the services then fail to do shows in the display and the report.
        self.errors.append(f"the browser gateway was not ready within {GATEWAY_READY_TIMEOUT_S:.0f}s")

    # ------------------------------------------------------------------ watching

    async def _view(self, clock: Clock, end_sim: datetime | None) -> dict:
        view: dict = {"run": self.run_id, "phase": self.phase, "hours": self.plan.hours,
                      "minutes": self.plan.minutes, "services": SERVICES, "real_elapsed": time.time() - self.t0,
                      "errors": self.errors}
        now = clock.now()
        view["sim_now"] = now.strftime("%Y-%m-%d %H:%M")
        if self.start_sim and end_sim:
            view["progress"] = min(1.0, max(0.0, (now - self.start_sim) / (end_sim - self.start_sim)))
        if self.admin:
            try:
                account, tweets = await self.admin.snapshot()
                items = items_from(tweets, self.watcher.log if self.watcher else EventLog())
                view["tweets_line"] = (f"{sum(1 for i in items if i.kind == 'post')} / "
                                       f"{sum(1 for t in tweets if t.get('thread_root'))} / "
                                       f"{sum(1 for i in items if i.kind == 'reply')}")
                gained = "" if self.followers_start is None else f" ({account['followers'] - self.followers_start:+d})"
                view["followers_line"] = f"{account['followers']}{gained}"
            except Exception as err:  # noqa: BLE001 - shown, and the next refresh tries again
                view["errors"] = [*self.errors, f"sandbox: {err!r}"[:160]]
        if self.watcher:
            log = self.watcher.log
            spend = log.llm_spend_usd()
            view["llm_spend"] = None if spend is None else f"${spend:.4f}"
            view["policy_version"] = log.policy_version()
            view["events"] = log.counts() or None
        if self._supervisors():
            view["restarts"] = self._restarts()
            if time.time() - self._status_at >= STATUS_EVERY_S:
                self._status_at = time.time()
                try:
                    self._status = await collect_status(self.settings, SERVICES)
                except Exception as err:  # noqa: BLE001
                    self._status = {"error": repr(err)}
            view["status"] = self._status
        return view

    def _supervisors(self) -> list[Supervisor]:
        return [s for s in (self.gateway, self.supervisor) if s]

    def _restarts(self) -> dict[str, int]:
        return {n: c.restarts for s in self._supervisors() for n, c in s.children.items()}

    # ------------------------------------------------------------------ the run

    async def run(self) -> Path:
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGINT, signal.SIGTERM):
            loop.add_signal_handler(sig, self.stop.set)
        (self.run_dir / "logs").mkdir(parents=True, exist_ok=True)
        plan = self.plan
        self._say(f"run {self.run_id}: {plan.hours:g} simulated hours at x{plan.time_scale:.0f} "
                  f"(~{plan.run_real_s:.0f} real s), report in {self.run_dir}")
        servers = ensure_servers()
        db_url = await self._create_database(servers["XBOT_DATABASE_URL"])
        # One clock for every process; the simulated period starts once everything is up.
        clock = Clock(scale=plan.time_scale)
        env = self._base_env(servers, db_url, clock)
        self.settings = CommonSettings(nats_url=servers["XBOT_NATS_URL"], database_url=db_url,
                                       namespace=self.run_id)
        outcome = "interrupted"
        end_sim: datetime | None = None
        http = aiohttp.ClientSession()
        try:
            base_url = await self._start_sandbox(env)
            self._mark("sandbox")
            self._say(f"sandbox on {base_url}")
            env.update({"XBOT_X_BASE_URL": base_url, "XBOT_LLM_BASE_URL": base_url + "/v1"})
            self.admin = SandboxAdmin(base_url, self.admin_token, http)
            self._checkpoint()
            await self._unless_stopped(
                self._module(env, "services.browser_gateway", "login", timeout=LOGIN_TIMEOUT_S, log="login"),
                self._provision(self.settings, env))
            self._mark("login_and_provision")
            self._say("logged in through the gateway; streams and consumers provisioned")
            self._checkpoint()
            self.watcher = EventWatcher(self.settings)
            await self.watcher.start()
            # The gateway first: the others ask it for pages as soon as they start.
            self.gateway = Supervisor(env=env, cwd=ROOT, grace_s=GRACE_S, log_dir=self.run_dir / "logs")
            self.gateway.add("browser_gateway", [sys.executable, "-m", "services.browser_gateway", "run"])
            self.gateway.start_all()
            await self._unless_stopped(self._gateway_ready())
            self._mark("gateway_ready")
            self.supervisor = Supervisor(env=env, cwd=ROOT, grace_s=GRACE_S, log_dir=self.run_dir / "logs")
            for s in SERVICES:
                if s != "browser_gateway":
                    self.supervisor.add(s, [sys.executable, "-m", f"services.{s}", "run"])
            self.followers_start = int((await self.admin.account())["followers"])
            self.supervisor.start_all()
            self.start_sim = clock.now()
            end_sim = self.start_sim + timedelta(hours=plan.hours)
            self._mark("services_started")
            self.phase = "running"
            real_deadline = self.t0 + plan.minutes * 60 - SHUTDOWN_RESERVE_S
            outcome = await self._watch(clock, end_sim, real_deadline)
            self.end_sim = min(clock.now(), end_sim)
        except DemoStopped:
            outcome = "interrupted"
        except BaseException as err:  # noqa: BLE001 - the report says what happened, then the error is raised
            self.errors.append(f"{type(err).__name__}: {err}")
            outcome = "failed"
            raise
        finally:
            if self.start_sim and self.end_sim is None:
                self.end_sim = clock.now()
            self.phase = f"stopping ({outcome})"
            self._say(f"stopping ({outcome})")
            summary = await self._finish(clock, outcome, end_sim, http)
            if summary:
                self.console.print(summary_table(summary))
                self.console.print(f"report: {self.run_dir / 'report.html'}")
        return self.run_dir

    def _supervisor_of(self, service: str) -> Supervisor:
        return self.gateway if service == "browser_gateway" else self.supervisor  # type: ignore[return-value]

    def _kill(self, service: str, clock: Clock) -> bool:
        """SIGKILL a running service and everything it started (the gateway's Chromium); the supervisor restarts
        it. False when it is not running right now (already dead, waiting for its restart)."""
        child = self._supervisor_of(service).children[service]
        if child.proc is None or child.proc.poll() is not None:
            return False
        try:
            descendants = psutil.Process(child.proc.pid).children(recursive=True)
        except psutil.NoSuchProcess:
            return False
        child.proc.kill()
        child.proc.wait()
        killed = 0
        for proc in descendants:  # orphaned Chromium processes would otherwise outlive their gateway
            try:
                proc.kill()
                killed += 1
            except psutil.NoSuchProcess:
                pass
        assert self.start_sim is not None
        now = clock.now()
        self.kills.append({"service": service, "pid": child.proc.pid, "descendants_killed": killed,
                           "real_s": round(time.time() - self.t0, 2), "sim_at": now.isoformat(),
                           "sim_hours": round((now - self.start_sim).total_seconds() / 3600, 4)})
        self._say(f"SIGKILL {service} (pid {child.proc.pid}, {killed} descendants)")
        return True

    async def _watch(self, clock: Clock, end_sim: datetime, real_deadline: float) -> str:
        assert self.supervisor is not None
        next_refresh = 0.0
        started = time.time()
        schedule = self.plan.kill_schedule(SERVICES)
        with Live(live_table(await self._view(clock, end_sim)), console=self.console,
                  refresh_per_second=2, transient=False) as live:
            while True:
                # A victim that is down (waiting for its restart) is tried again a second later.
                while schedule and time.time() - started >= schedule[0][0]:
                    at, victim = schedule.pop(0)
                    if not self._kill(victim, clock):
                        schedule.insert(0, (at + 1.0, victim))
                        break
                for sup in self._supervisors():
                    sup.tick()
                if clock.now() >= end_sim:
                    return "complete"
                if time.time() >= real_deadline:
                    self.errors.append("the real-time budget ran out before the simulated period ended")
                    return "out of real time"
                if time.time() >= next_refresh:
                    next_refresh = time.time() + REFRESH_S
                    live.update(live_table(await self._view(clock, end_sim)))
                try:
                    await asyncio.wait_for(self.stop.wait(), 0.5)
                    return "interrupted"
                except TimeoutError:
                    pass

    # ------------------------------------------------------------------ the end

    async def _finish(self, clock: Clock, outcome: str, end_sim: datetime | None,
                      http: aiohttp.ClientSession) -> dict | None:
        try:
            if self._supervisors():
                await self._scrape_metrics(http)
            # The gateway last, so that a post in hand can finish through it.
            for sup in (self.supervisor, self.gateway):
                if sup:
                    await asyncio.to_thread(sup.stop_all)
            self._mark("services_stopped")
            summary = None
            if self.admin and self.sandbox_proc and self.sandbox_proc.poll() is None:
                # Let the watcher read what the services published while stopping.
                await asyncio.sleep(0.5)
                summary = await self._report(clock, outcome)
            return summary
        finally:
            if self.watcher:
                await self.watcher.stop()
            await http.close()
            if self.sandbox_proc and self.sandbox_proc.poll() is None:
                self.sandbox_proc.terminate()
                try:
                    self.sandbox_proc.wait(timeout=GRACE_S)
                except subprocess.TimeoutExpired:
                    self.sandbox_proc.kill()
                    self.sandbox_proc.wait()
            if self.cleanup:
                await self._remove_namespace_and_database()

    async def _scrape_metrics(self, http: aiohttp.ClientSession) -> None:
        """Every running service's /metrics just before it stops (a few GETs), for checking the dashboards."""
        try:
            urls = await asyncio.wait_for(service_urls(self.settings, SERVICES), 5)
            self.metrics_scraped = await scrape_metrics(http, urls, SERVICES, self.run_dir / "data" / "metrics")
        except Exception as err:  # noqa: BLE001 - the stop must go on; the summary says nothing was scraped
            self.errors.append(f"metrics not scraped: {err!r}")

    async def _report(self, clock: Clock, outcome: str) -> dict:
        assert self.admin is not None
        account, tweets = await self.admin.snapshot()
        as_of = parse_time(account["now"])
        start = self.start_sim or as_of
        period_end = self.end_sim or as_of
        # The chart covers the period and the few seconds of shutdown after it, up to the readings.
        hours = max((as_of - start).total_seconds() / 3600, 1e-6)
        series = await self.admin.followers_series(hours=hours, step_minutes=max(hours * 60 / 200, 1e-3))
        best = await self.admin.best_choice(int(account["followers"]))
        log = self.watcher.log if self.watcher else EventLog()
        data = self.run_dir / "data"
        data.mkdir(parents=True, exist_ok=True)
        for name, value in (("account", account), ("tweets", tweets), ("followers_series", series),
                            ("best_choice", best), ("events", [{"type": t, "occurred_at": at.isoformat(),
                                                                "payload": p} for t, at, p in log.events])):
            (data / f"{name}.json").write_text(json.dumps(value, indent=1, default=str))
        figures = summarise(account=account, tweets=tweets, log=log, best=best,
                            followers_start=self.followers_start)
        summary = {
            "run": self.run_id, "namespace": self.run_id, "outcome": outcome, "seed": self.plan.seed,
            "planned_hours": self.plan.hours, "budget_minutes": self.plan.minutes,
            "time_scale": self.plan.time_scale,
            "period_start": start.isoformat(), "period_end": period_end.isoformat(),
            "simulated_hours": round(max(0.0, (period_end - start).total_seconds()) / 3600, 4),
            "real_seconds": round(time.time() - self.t0, 1), "timings": self.timings,
            "errors": self.errors, "restarts": self._restarts(), "metrics_scraped": self.metrics_scraped,
            "kills_planned": self.plan.kills, "kills": self.kills,
            "unreadable_events": self.watcher.unreadable if self.watcher else 0,
            **figures,
        }
        decisions, _ = decisions_from(items_from(tweets, log), log)
        end = max(as_of, start + timedelta(seconds=1))
        return write_report(self.run_dir, summary, series=series, decisions=decisions, start=start, end=end)

    async def _remove_namespace_and_database(self) -> None:
        try:
            nc = await connect(self.settings, name="xbot-demo-cleanup")
            await remove_namespace(nc.jetstream(), self.run_id)
            await nc.close()
            admin = ensure_servers()["XBOT_DATABASE_URL"]
            conn = await asyncpg.connect(admin)
            try:
                await conn.execute(f'DROP DATABASE IF EXISTS "xbot_{self.run_id}" WITH (FORCE)')
            finally:
                await conn.close()
        except Exception as err:  # noqa: BLE001 - cleanup must not hide the run's outcome
            self.console.print(f"[yellow]cleanup incomplete: {err!r}")


def run_demo(plan: DemoPlan, *, reports_root: Path | None = None, cleanup: bool = False) -> Path:
    demo = DemoRun(plan, reports_root=reports_root or ROOT / "reports", cleanup=cleanup)
    return asyncio.run(demo.run())
