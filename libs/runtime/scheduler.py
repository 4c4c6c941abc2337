"""Periodic jobs on the Clock.

Each job has an interval, an initial offset and jitter (simulated time), never overlaps itself (the loop
awaits a run before sleeping), exports its duration and last success, and runs only while it holds a lease in
JetStream KV, so two replicas of a service never run the same job in the same interval. A lease is a KV entry
``{holder, expires}``; it is taken with a compare-and-set on the entry's revision, renewed by its holder, and
lapses when the holder stops renewing (a crashed replica), after which another replica takes it over.
"""

from __future__ import annotations

import asyncio
import json
import logging
import random
import time
import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import timedelta

from nats.js.errors import KeyNotFoundError, KeyWrongLastSequenceError
from nats.js.kv import KeyValue

from libs.core import metrics
from libs.core.clock import Clock

logger = logging.getLogger("xbot.scheduler")


@dataclass
class Job:
    name: str
    interval: timedelta
    run: Callable[[], Awaitable[object]]
    offset: timedelta = timedelta(0)
    jitter: float = 0.1  # fraction of the interval, drawn uniformly in [0, jitter)
    # Spaced as a person's checks are (``Scheduler.gap``): for a job that opens a page of X, whose automation
    # detection reads a metronome's rhythm (the sandbox's regularity signal, sandbox/suspicion.py).
    irregular: bool = False
    runs: int = 0
    last_success: float | None = None
    last_error: str | None = None


@dataclass
class Lease:
    kv: KeyValue | None
    holder: str = field(default_factory=lambda: uuid.uuid4().hex)

    async def acquire(self, key: str, ttl_s: float) -> bool:
        if self.kv is None:  # single process without a broker (tests of pure jobs)
            return True
        now = time.time()
        value = json.dumps({"holder": self.holder, "expires": now + ttl_s}).encode()
        try:
            entry = await self.kv.get(key)
        except KeyNotFoundError:
            entry = None
        try:
            if entry is None or entry.value is None or entry.operation in ("DEL", "PURGE"):
                if entry is None:
                    await self.kv.create(key, value)
                else:
                    await self.kv.update(key, value, last=entry.revision)
                return True
            current = json.loads(entry.value)
            if current["holder"] == self.holder or current["expires"] <= now:
                await self.kv.update(key, value, last=entry.revision)
                return True
            return False
        except KeyWrongLastSequenceError:
            return False  # another replica won the race

    async def release(self, key: str) -> None:
        """Give the lease up (a clean stop), so a restarted replica need not wait for it to lapse."""
        if self.kv is None:
            return
        try:
            entry = await self.kv.get(key)
            if entry.value and json.loads(entry.value)["holder"] == self.holder:
                await self.kv.delete(key, last=entry.revision)
        except Exception:  # noqa: BLE001 - gone, taken over, or KV unreachable: it lapses by itself
            pass


class Scheduler:
    def __init__(self, *, service: str, clock: Clock, lease: Lease, rng: random.Random | None = None) -> None:
        self.service = service
        self.clock = clock
        self.lease = lease
        self.jobs: list[Job] = []
        self.rng = rng or random.Random()
        self._tasks: list[asyncio.Task[None]] = []
        self._stopping = asyncio.Event()
        self._running: set[str] = set()

    def add(self, job: Job) -> Job:
        self.jobs.append(job)
        metrics.job_interval.labels(self.service, job.name).set(self.clock.real_seconds(job.interval.total_seconds()))
        return job

    def start(self) -> None:
        for job in self.jobs:
            self._tasks.append(asyncio.create_task(self._loop(job), name=f"job:{job.name}"))

    async def stop(self, timeout: float = 30.0) -> None:
        """Let a job in hand finish, then stop."""
        self._stopping.set()
        if self._tasks:
            await asyncio.wait(self._tasks, timeout=timeout)
            for t in self._tasks:
                t.cancel()
        for job in self.jobs:
            await self.lease.release(self._key(job))

    def _key(self, job: Job) -> str:
        return f"{self.service}.{job.name}"

    async def _sleep(self, sim_seconds: float) -> bool:
        """Sleep on the Clock; True when stopping was requested meanwhile."""
        try:
            await asyncio.wait_for(self._stopping.wait(), timeout=self.clock.real_seconds(sim_seconds))
            return True
        except TimeoutError:
            return False

    async def _loop(self, job: Job) -> None:
        if await self._sleep(job.offset.total_seconds()):
            return
        while not self._stopping.is_set():
            interval = job.interval.total_seconds()
            gap = self.gap(job)
            # 1.5 intervals (or the gap and half of one): the live holder always renews before expiry; a dead
            # one is replaced within that.
            lease_s = self.clock.real_seconds(max(interval * 1.5, gap + interval / 2))
            try:
                held = await self.lease.acquire(self._key(job), lease_s)
            except Exception as err:  # noqa: BLE001 - KV unreachable: skip this tick, report it
                logger.warning("lease for job %s unavailable: %s", job.name, err)
                held = False
            if held:
                await self.run_once(job)
            if await self._sleep(gap):
                return

    def gap(self, job: Job) -> float:
        """Simulated seconds from one run to the next: the interval plus up to ``jitter`` of it; an ``irregular``
        job's a tenth of the interval plus an exponential draw, so that they average the interval with a
        coefficient of variation of 0.9, where a person's checks lie (a scheduler's, jitter and all, lie under
        0.3; with a quarter instead of a tenth, 0.75, half of a day's 30 gaps measured under 0.7)."""
        interval = job.interval.total_seconds()
        if job.irregular:
            return interval * (0.1 + self.rng.expovariate(1 / 0.9))
        return interval * (1 + self.rng.uniform(0, job.jitter))

    async def run_once(self, job: Job) -> bool:
        self._running.add(job.name)
        started = time.perf_counter()
        try:
            await job.run()
        except Exception as err:  # noqa: BLE001 - a failing job is reported and retried next interval
            job.last_error = repr(err)
            metrics.job_failures.labels(self.service, job.name).inc()
            logger.exception("job %s failed", job.name)
            return False
        finally:
            self._running.discard(job.name)
            metrics.job_duration.labels(self.service, job.name).observe(time.perf_counter() - started)
        job.runs += 1
        job.last_success = time.time()
        job.last_error = None
        metrics.job_last_success.labels(self.service, job.name).set(job.last_success)
        return True
