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
import socket
import subprocess
import sys
import time
import uuid
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from urllib.parse import urlparse, urlunparse

import aiohttp
import asyncpg
import psutil
from prometheus_client.parser import text_string_to_metric_families
from rich.console import Console
from rich.live import Live

from libs.bus.provision import provision_streams, remove_namespace
from libs.bus.streams import retention_from

from ops.demo.figures import EventLog, decisions_from, items_from, parse_time, summarise
from ops.demo.live import live_table
from ops.demo.memory import MemorySampler
from ops.demo.plan import (
    HANDLE, SANDBOX_PASSWORD, STARTUP_RESERVE_S, DemoPlan, first_checkpoint_s,
)
from sandbox.xapi import consent
from ops.demo.report import summary_table, write_report
from ops.demo.sources import EventWatcher, SandboxAdmin, scrape_metrics, service_urls
from libs.core.account import AccountSettings
from libs.core.clock import Clock
from ops.infra import ROOT, ensure_servers
from ops.registry import SERVICES
from libs.bus.nats import connect
from libs.core.settings import CommonSettings
from ops.status import collect_status
from ops.supervisor import Supervisor

REFRESH_S = 2.0
STATUS_EVERY_S = 4.0
LOGIN_TIMEOUT_S = 120.0
PROVISION_TIMEOUT_S = 120.0
SANDBOX_START_TIMEOUT_S = 30.0
# How long the gateway, then the other services, may take to answer /ready (a cold start on a small machine). The
# wait ends as soon as they answer; 60 s was short for the planner with two demo runs and a test suite sharing two
# cores (it answered after ~60 s: imports, the embedding model and the facts file's vectors), and 120 s was short
# for it on a machine running 2.2 times slower than usual: a run given more real time gives its start a third of it.
READY_TIMEOUT_S = 120.0
GRACE_S = 10.0
MEMORY_EVERY_S = 1.0
API_CLIENT_ID = "xbot-demo"
# Set by the ./xbot script when it starts (Unix seconds), so the first post can be timed from the command's
# start, installation included.
COMMAND_STARTED_ENV = "XBOT_COMMAND_STARTED"


class DemoStopped(Exception):
    """Ctrl-C (or SIGTERM) before the simulated period began."""


def _console_port() -> int:
    """The owner's console's port: XBOT_CONSOLE_PORT when set to one (a bookmark), else a free one now (the demo
    prints the URL, so it must know the port before the console starts)."""
    wanted = int(os.environ.get("XBOT_CONSOLE_PORT") or 0)
    return wanted or _free_port()


def _free_port() -> int:
    """A loopback port nobody listens on now, for `xbot login --api`'s redirect listener."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _database_url(admin_url: str, name: str) -> str:
    return urlunparse(urlparse(admin_url)._replace(path=f"/{name}"))


# Past posts of the demo's sandbox account (60 days of them; the browser's profile page shows the newest 40).
DEMO_PAST_POSTS = 60


@dataclass
class DemoRun:
    plan: DemoPlan
    reports_root: Path = ROOT / "reports"
    cleanup: bool = False
    console: Console = field(default_factory=Console)
    # A finished run's directory to carry on with this code (docs/upgrade.md): its namespace, database and sandbox
    # world, the clock going on from the world's last reading. Its streams and schemas must already be migrated
    # and provisioned (`xbot migrate`, `xbot provision`): the demo does neither for a resumed run, so that the
    # upgrade path an owner follows is what is tested.
    resume: Path | None = None
    # Settings every process of the run gets on top of the defaults (bench/safety.py: XBOT_ACTIVITY_BUDGET=false
    # for its reference run); empty for the demo itself, which runs at defaults.
    env_overrides: dict[str, str] = field(default_factory=dict)

    def __post_init__(self) -> None:
        if self.resume is None:
            self.run_id = "demo" + uuid.uuid4().hex[:8]
            self.run_dir = self.reports_root / self.run_id
        else:
            self.run_id, self.run_dir = self.resume.name, self.resume
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
        self.console_url = ""  # the owner's console, once its port is chosen
        self.console_password = ""
        self.timings: dict[str, float] = {}
        self._status: dict = {}
        self._status_at = 0.0
        self.metrics_scraped: dict[str, bool] = dict.fromkeys(SERVICES, False)
        self.kills: list[dict] = []  # each SIGKILL actually delivered (chaos runs only)
        self.memory = MemorySampler(SERVICES)
        self._memory_at = 0.0
        self.first_post: dict | None = None

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
        env.update(self.plan.tuning_env(first_checkpoint_s(env)))
        self.admin_token = secrets.token_urlsafe(16)
        env.update({
            "PYTHONPATH": str(ROOT), "XBOT_NAMESPACE": self.run_id, "XBOT_DATABASE_URL": db_url,
            "XBOT_SANDBOX_DB_PATH": str(self.run_dir / "sandbox.sqlite3"), "XBOT_SANDBOX_PORT": "0",
            "XBOT_SANDBOX_SEED": str(self.plan.seed), "XBOT_SANDBOX_HANDLE": HANDLE,
            "XBOT_SANDBOX_PASSWORD": SANDBOX_PASSWORD, "XBOT_SANDBOX_ADMIN_TOKEN": self.admin_token,
            # The demo's account comes with a past, as an owner's does: the scraper reads it once and the learner's
            # first model starts from it (README, Starting from the account's past posts).
            "XBOT_SANDBOX_HISTORY_POSTS": str(DEMO_PAST_POSTS),
            "XBOT_X_HANDLE": HANDLE, "XBOT_OWN_HANDLE": HANDLE, "XBOT_X_USERNAME": HANDLE,
            "XBOT_X_PASSWORD": SANDBOX_PASSWORD, "XBOT_SESSION_FILE": str(self.run_dir / "x_session.json"),
            "XBOT_LIVE": "false",  # the demo writes to its own sandbox only
            "XBOT_APPROVAL": self.plan.approval,
            "XBOT_CONSOLE_PORT": str(_console_port()),
        })
        self.console_url = f"http://127.0.0.1:{env['XBOT_CONSOLE_PORT']}"
        if self.plan.driver == "api":
            # The one app registered with the sandbox's X API, with a secret of this run; its tokens go to the
            # run's folder (mode 0600), as `xbot login --api` writes them.
            client_secret = secrets.token_urlsafe(16)
            env.update({
                "XBOT_X_WRITE_DRIVER": "api", "XBOT_X_READ_DRIVER": "api",
                "XBOT_SANDBOX_API_CLIENT_ID": API_CLIENT_ID, "XBOT_X_API_CLIENT_ID": API_CLIENT_ID,
                "XBOT_SANDBOX_API_CLIENT_SECRET": client_secret, "XBOT_X_API_CLIENT_SECRET": client_secret,
                "XBOT_X_API_TOKEN_FILE": str(self.run_dir / "x_api_token.json"),
                "XBOT_X_API_REDIRECT_URI": f"http://127.0.0.1:{_free_port()}/callback",
            })
        env.update(self.env_overrides)
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

    async def _console_password(self, env: dict[str, str]) -> None:
        """The owner's console password for this run: XBOT_CONSOLE_PASSWORD when set, else a new random one (the
        run's database is new, so no password is there yet); printed with the console's URL."""
        self.console_password = os.environ.get("XBOT_CONSOLE_PASSWORD") or secrets.token_urlsafe(12)
        await self._module({**env, "XBOT_CONSOLE_PASSWORD": self.console_password}, "services.console",
                           "set-password", timeout=PROVISION_TIMEOUT_S, log="console-password")

    async def _api_login(self, env: dict[str, str], http: aiohttp.ClientSession) -> None:
        """`xbot login --api` as an owner runs it: the command prints X's authorisation URL and listens on the
        redirect URI; the demo plays the owner (signs in on the sandbox's consent page and allows the app) and
        the owner's browser (follows X's redirect to the command's listener)."""
        with open(self.run_dir / "logs" / "login.log", "ab") as log:
            proc = await asyncio.create_subprocess_exec(
                sys.executable, "-m", "services.browser_gateway", "login", "--api", cwd=ROOT,
                env=env | {"PYTHONUNBUFFERED": "1"},  # the URL must reach us before the command ends
                stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=log, start_new_session=True)
        assert proc.stdout is not None
        try:
            async with asyncio.timeout(LOGIN_TIMEOUT_S):
                url = ""
                while not url:
                    line = (await proc.stdout.readline()).decode()
                    if not line:
                        raise RuntimeError("login --api ended before printing the authorisation URL; see "
                                           "logs/login.log")
                    url = line.strip() if "/i/oauth2/authorize?" in line else ""
                location = await consent(http, url, username=HANDLE, password=SANDBOX_PASSWORD)
                while True:  # the listener starts just after the URL is printed
                    try:
                        async with http.get(location) as resp:
                            if resp.status == 200:
                                break
                    except aiohttp.ClientConnectionError:
                        pass
                    await asyncio.sleep(0.1)
                said = await proc.stdout.read()
                code = await proc.wait()
        except BaseException:
            if proc.returncode is None:
                proc.kill()
                await proc.wait()
            raise
        if code != 0:
            raise RuntimeError(f"login --api failed ({code}): {said.decode()[-500:]}; see logs/login.log")

    async def _provision(self, settings: CommonSettings, env: dict[str, str]) -> None:
        nc = await connect(settings, name="xbot-demo")
        try:
            await provision_streams(nc.jetstream(), settings.namespace, retention=retention_from(settings))
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

    async def _ready(self, supervisor: Supervisor, names: tuple[str, ...]) -> None:
        """Until every service named answers /ready (the supervisor restarting any that died meanwhile)."""
        window = max(READY_TIMEOUT_S, self.plan.minutes * 60 / 3)
        deadline = time.time() + window
        waiting = names
        while time.time() < deadline:
            supervisor.tick()
            status = await collect_status(self.settings, names)
            waiting = tuple(n for n in names if not status["services"][n].get("ready"))
            if not waiting:
                return
            await asyncio.sleep(0.5)
        # The run goes on: what the services then fail to do shows in the display and the report.
        self.errors.append(f"not ready within {window:.0f}s: {', '.join(waiting)}")

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
        if self.resume is None:
            db_url = await self._create_database(servers["XBOT_DATABASE_URL"])
            # One clock for every process; the simulated period starts once everything is up, in the account's
            # day: a demo started in its quiet hours read and posted nothing for its first seven simulated hours.
            clock = Clock(scale=plan.time_scale, epoch=period_start(datetime.now(UTC)))
        else:
            db_url = _database_url(servers["XBOT_DATABASE_URL"], f"xbot_{self.run_id}")
            clock = Clock(scale=plan.time_scale, epoch=resumed_epoch(self.run_dir))
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
            env.update({"XBOT_X_BASE_URL": base_url, "XBOT_LLM_BASE_URL": base_url + "/v1",
                        # The harvester reads the sandbox's news feeds, not the public health bodies' own.
                        "XBOT_NEWS_FEEDS": json.dumps([
                            {"name": "Sandbox health bodies", "url": f"{base_url}/feeds/health-bodies.rss"},
                            {"name": "Sandbox journals", "url": f"{base_url}/feeds/journals.atom"}])})
            self.admin = SandboxAdmin(base_url, self.admin_token, http)
            self._checkpoint()
            if self.resume is None:
                login = self._api_login(env, http) if plan.driver == "api" else \
                    self._module(env, "services.browser_gateway", "login", timeout=LOGIN_TIMEOUT_S, log="login")
                await self._unless_stopped(login, self._provision(self.settings, env))
                self._mark("login_and_provision")
                self._say(f"logged in through the gateway ({'X API' if plan.driver == 'api' else 'web'}); streams "
                          "and consumers provisioned")
            else:
                self._say("resumed: the run's session, streams, consumers and tables as they were left")
            self._checkpoint()
            self.watcher = EventWatcher(self.settings)
            await self.watcher.start()
            # The gateway first: the others ask it for pages as soon as they start.
            self.gateway = Supervisor(env=env, cwd=ROOT, grace_s=GRACE_S, log_dir=self.run_dir / "logs")
            self.gateway.add("browser_gateway", [sys.executable, "-m", "services.browser_gateway", "run"])
            self.gateway.start_all()
            # The console's password is set while Chromium starts (it needs the streams, not the gateway).
            await self._unless_stopped(self._ready(self.gateway, ("browser_gateway",)), self._console_password(env))
            self._mark("gateway_ready")
            self.supervisor = Supervisor(env=env, cwd=ROOT, grace_s=GRACE_S, log_dir=self.run_dir / "logs")
            for s in SERVICES:
                if s != "browser_gateway":
                    self.supervisor.add(s, [sys.executable, "-m", f"services.{s}", "run"])
            self.supervisor.start_all()
            # The measured run starts once every service answers /ready: a slow cold start must not eat into it.
            await self._unless_stopped(self._ready(self.supervisor, tuple(s for s in SERVICES
                                                                          if s != "browser_gateway")))
            self._say(f"console on {self.console_url} (password: {self.console_password}); it runs as long as the "
                      "demo does")
            self.followers_start = int((await self.admin.account())["followers"])
            self.start_sim = clock.now()
            end_sim = self.start_sim + timedelta(hours=plan.hours)
            self._mark("services_started")
            self.phase = "running"
            real_deadline = plan.period_deadline(self.t0, time.time())
            if real_deadline > plan.budget_deadline(self.t0):
                self._say(f"the start took {time.time() - self.t0:.0f} real s (reserved: {STARTUP_RESERVE_S:.0f}): "
                          f"the run ends past --minutes, so that the period is simulated whole")
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
                if time.time() - self._memory_at >= MEMORY_EVERY_S:
                    self._memory_at = time.time()
                    self.memory.sample(self._pids(), self.sandbox_proc.pid if self.sandbox_proc else None)
                self._note_first_post()
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

    def _pids(self) -> dict[str, int | None]:
        return {name: child.proc.pid if child.proc and child.proc.poll() is None else None
                for sup in self._supervisors() for name, child in sup.children.items()}

    def _note_first_post(self) -> None:
        """Say when the first post went out (the poster's TweetPosted), timed from the demo's and the command's
        start: the README's first-run figure is read from this line."""
        if self.first_post is not None or not self.watcher:
            return
        posted = self.watcher.log.of("TweetPosted")
        if not posted:
            return
        now = time.time()
        self.first_post = {"at": datetime.now().astimezone().isoformat(timespec="seconds"),
                           "kind": posted[0][1].get("kind"), "real_s_after_demo_start": round(now - self.t0, 1)}
        since = f"{now - self.t0:.0f} s after the demo started"
        command_started = os.environ.get(COMMAND_STARTED_ENV)
        if command_started:
            try:
                self.first_post["real_s_after_command_start"] = round(now - float(command_started), 1)
                since += f", {now - float(command_started):.0f} s after the command started"
            except ValueError:
                pass  # not ours to validate: the figure is left out
        self._say(f"first post ({self.first_post['kind']}) at {self.first_post['at']}: {since}")

    # ------------------------------------------------------------------ the end

    async def _finish(self, clock: Clock, outcome: str, end_sim: datetime | None,
                      http: aiohttp.ClientSession) -> dict | None:
        try:
            if self._supervisors():
                await self._scrape_metrics(http, SERVICES)
            # The gateway last, so that a post in hand can finish through it.
            if self.supervisor:
                await asyncio.to_thread(self.supervisor.stop_all)
            if self.gateway:
                # Its metrics once more, now that nothing else can call it: a read another service finished while
                # stopping is then in the gateway's X API ledger as it is in the sandbox's bill, which the report
                # compares with it (scraped only before, the two differed by such a read under load).
                await self._scrape_metrics(http, ("browser_gateway",))
                await asyncio.to_thread(self.gateway.stop_all)
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

    async def _scrape_metrics(self, http: aiohttp.ClientSession, services: tuple[str, ...]) -> None:
        """These running services' /metrics just before they stop (a few GETs), for checking the dashboards; a
        service scraped once stays marked scraped when a later scrape of it fails."""
        try:
            urls = await asyncio.wait_for(service_urls(self.settings, services), 5)
            why_not = await scrape_metrics(http, urls, services, self.run_dir / "data" / "metrics")
            for name, why in why_not.items():
                if why is None:
                    self.metrics_scraped[name] = True
                elif not self.metrics_scraped[name]:
                    self.errors.append(f"{name} metrics not scraped: {why}"[:200])
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
        try:
            x_activity: dict | None = await self.admin.x_activity()
        except Exception as err:  # noqa: BLE001 - an older sandbox or a ground truth switched off: say so
            x_activity = None
            self.errors.append(f"sandbox activity unreadable: {err!r}"[:200])
        x_api: dict | None = None
        if self.plan.driver == "api":
            try:
                x_api = await self.admin.x_api_bill() | {"gateway_charged_usd": self._gateway_spend()}
            except Exception as err:  # noqa: BLE001 - the report says the bill is missing, and why
                self.errors.append(f"X API bill unreadable: {err!r}"[:200])
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
            "memory": self.memory.summary(), "first_post": self.first_post,
            "x_activity": x_activity, "driver": self.plan.driver, "x_api": x_api,
            "console_url": self.console_url, "approval": self.plan.approval,
            **figures,
        }
        decisions, _ = decisions_from(items_from(tweets, log), log)
        end = max(as_of, start + timedelta(seconds=1))
        return write_report(self.run_dir, summary, series=series, decisions=decisions, start=start, end=end)

    def _gateway_spend(self) -> float | None:
        """The gateway's own X API ledger for the run (its counter as scraped at the end); None when not scraped."""
        path = self.run_dir / "data" / "metrics" / "browser_gateway.prom"
        if not path.exists():
            return None
        for family in text_string_to_metric_families(path.read_text()):
            for sample in family.samples:
                if sample.name == "xbot_gateway_api_spent_usd_total":
                    return round(sample.value, 4)
        return None

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


def period_start(now: datetime) -> datetime:
    """Where a new run's simulated period starts: ``now``, or in the account's quiet hours (its active hours as
    the services read them) the next opening of its day."""
    active = AccountSettings().active_hours()
    return now if active is None else active.open_at(now)


def resumed_epoch(run_dir: Path) -> datetime:
    """Where a resumed run's clock starts: the sandbox world's own time at the finished run's last reading (after
    its services had stopped), so that simulated time never goes back for the world or the services' records."""
    account = run_dir / "data" / "account.json"
    if not account.exists():
        raise RuntimeError(f"{run_dir} has no data/account.json: only a run that finished its report can resume")
    return parse_time(json.loads(account.read_text())["now"])


def run_demo(plan: DemoPlan, *, reports_root: Path | None = None, cleanup: bool = False,
             resume: Path | None = None) -> Path:
    demo = DemoRun(plan, reports_root=reports_root or ROOT / "reports", cleanup=cleanup, resume=resume)
    return asyncio.run(demo.run())
