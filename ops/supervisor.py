"""A small local supervisor for `xbot up` and the demo: starts processes, restarts one that dies (with a
growing delay, so a crash loop does not spin), and stops them all on Ctrl-C or SIGTERM (SIGTERM first, so each
finishes the message in hand; SIGKILL after a grace period)."""

from __future__ import annotations

import signal
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path


# Set for every child unless its environment says otherwise. glibc gives each thread that allocates its own
# malloc arena (up to 8 per core), and each arena keeps what its thread freed; a service's threads (the asyncio
# executor that embeds and reads files, ONNX Runtime's, OpenTelemetry's exporter) spread small allocations over
# many of them. Two arenas is the setting glibc documents for this (mallopt M_ARENA_MAX), as container images of
# Python services commonly set it: it changes where memory is allocated, never what a service decides.
# One OpenBLAS thread: the learner's and the planner's linear algebra is many small products and solves, where
# OpenBLAS's worker threads (one per core) cost more than they save and, on a host shared with the other services,
# spin for busy cores: a learner build of 2,000 posts took 42 CPU-s beside the test suite with the default threads,
# 1.6 with one (3.3 and 1.4 on an idle machine). It must be in the environment before numpy's first import.
SERVICE_ENV_DEFAULTS = {"MALLOC_ARENA_MAX": "2", "OPENBLAS_NUM_THREADS": "1"}


@dataclass
class Child:
    name: str
    cmd: list[str]
    # Its own environment (its credentials, none of the others' secrets); the supervisor's when None.
    env: dict[str, str] | None = None
    proc: subprocess.Popen | None = None
    restarts: int = 0
    next_start: float = 0.0
    started_at: float = 0.0


@dataclass
class Supervisor:
    env: dict[str, str]
    cwd: Path
    grace_s: float = 20.0
    children: dict[str, Child] = field(default_factory=dict)
    log_dir: Path | None = None
    _stop: bool = False

    def add(self, name: str, cmd: list[str], env: dict[str, str] | None = None) -> None:
        self.children[name] = Child(name, cmd, env)

    def _start(self, child: Child) -> None:
        out = None
        if self.log_dir:
            self.log_dir.mkdir(parents=True, exist_ok=True)
            out = open(self.log_dir / f"{child.name}.log", "ab")  # noqa: SIM115 - owned by the child
        env = {**SERVICE_ENV_DEFAULTS, **(child.env or self.env)}
        child.proc = subprocess.Popen(child.cmd, env=env, cwd=self.cwd, stdout=out, stderr=out)
        child.started_at = time.time()

    def start_all(self) -> None:
        for child in self.children.values():
            self._start(child)

    def tick(self) -> None:
        """Restart children that died; call periodically."""
        now = time.time()
        for child in self.children.values():
            if child.proc is None or child.proc.poll() is None:
                continue
            if child.next_start == 0.0:
                # Back off: 1 s, 2 s, 4 s … up to 60 s; a child that ran for 5 minutes starts over at 1 s.
                if now - child.started_at > 300:
                    child.restarts = 0
                child.next_start = now + min(60.0, 2.0 ** child.restarts)
                print(f"[supervisor] {child.name} exited with {child.proc.returncode}; restarting",
                      file=sys.stderr, flush=True)
            elif now >= child.next_start:
                child.restarts += 1
                child.next_start = 0.0
                self._start(child)

    def stop_all(self) -> None:
        for child in self.children.values():
            if child.proc and child.proc.poll() is None:
                child.proc.send_signal(signal.SIGTERM)
        deadline = time.time() + self.grace_s
        for child in self.children.values():
            if child.proc is None:
                continue
            try:
                child.proc.wait(timeout=max(0.1, deadline - time.time()))
            except subprocess.TimeoutExpired:
                child.proc.kill()
                child.proc.wait()

    def run_until_interrupted(self) -> int:
        def stop(*_: object) -> None:
            self._stop = True

        signal.signal(signal.SIGINT, stop)
        signal.signal(signal.SIGTERM, stop)
        self.start_all()
        try:
            while not self._stop:
                self.tick()
                time.sleep(0.5)
        finally:
            self.stop_all()
        return 0
