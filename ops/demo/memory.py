"""Resident memory of each service during the demo, sampled with psutil, for the report's memory figures.

Each sample reads every running service process (a restarted one under its new pid) and its descendants: the
gateway's Chromium processes are counted apart as ``chromium``; any other descendant (Playwright's driver) counts
with its service. ``stack_without_chromium`` sums every service per sample. Besides the sampled RSS, Linux's
high-water mark (VmHWM: the most a process was ever resident, between samples too) is kept per service.

Not counted: the sandbox (the stand-in for X and the model endpoint, reported apart), NATS and PostgreSQL (servers
the machine may share with other work; ``ops/infra.py`` starts them only where there are none).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

import psutil

MB = 2**20
CHROMIUM = "chromium"
STACK = "stack_without_chromium"
# The targets (README "Memory"): the planner and the harvester each, and every service together. The
# stack's figure is the sum of one sample's resident sizes (concurrent, not a sum of peaks reached at different
# moments); shared library pages count once per process in it, so it is the stricter measure.
TARGETS_MB = {"planner": 250, "harvester": 250, STACK: 1024}


def is_chromium(proc: psutil.Process) -> bool:
    try:
        name = proc.name().lower()
    except (psutil.NoSuchProcess, psutil.AccessDenied):
        return False
    return "chrom" in name or "headless_shell" in name


def high_water_mb(pid: int) -> float | None:
    try:
        with open(f"/proc/{pid}/status") as status:
            for line in status:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1]) / 1024
    except OSError:
        pass
    return None


@dataclass
class Series:
    values: list[float] = field(default_factory=list)
    high_water: float | None = None

    def add(self, mb: float, high_water: float | None = None) -> None:
        self.values.append(mb)
        if high_water is not None:
            self.high_water = max(self.high_water or 0.0, high_water)

    def summary(self) -> dict:
        if not self.values:
            return {"samples": 0}
        out = {"peak_mb": round(max(self.values), 1), "mean_mb": round(sum(self.values) / len(self.values), 1),
               "samples": len(self.values)}
        if self.high_water is not None:
            out["high_water_mb"] = round(self.high_water, 1)
        return out


@dataclass
class MemorySampler:
    services: tuple[str, ...]
    series: dict[str, Series] = field(default_factory=dict)

    def sample(self, pids: Mapping[str, int | None], sandbox_pid: int | None = None) -> None:
        """One reading of every service whose process is up (``pids``: service -> pid or None)."""
        total = chromium = 0.0
        for name in self.services:
            pid = pids.get(name)
            if pid is None:
                continue
            try:
                root = psutil.Process(pid)
                own = root.memory_info().rss / MB
                extra = 0.0
                for child in root.children(recursive=True):
                    try:
                        rss = child.memory_info().rss / MB
                    except psutil.NoSuchProcess:
                        continue
                    if is_chromium(child):
                        chromium += rss
                    else:
                        extra += rss
            except psutil.NoSuchProcess:
                continue  # between a crash and its restart
            self._series(name).add(own + extra, high_water_mb(pid))
            total += own + extra
        self._series(STACK).add(total)
        self._series(CHROMIUM).add(chromium)
        if sandbox_pid is not None:
            try:
                self._series("sandbox").add(psutil.Process(sandbox_pid).memory_info().rss / MB,
                                            high_water_mb(sandbox_pid))
            except psutil.NoSuchProcess:
                pass

    def _series(self, name: str) -> Series:
        return self.series.setdefault(name, Series())

    def summary(self) -> dict:
        """Per service, Chromium, the stack without Chromium and the sandbox: peak and mean MB of the samples
        (and the kernel's high-water mark), plus the targets and whether each was met by the sampled peak."""
        out: dict = {name: self.series[name].summary() for name in (*self.services, STACK, CHROMIUM, "sandbox")
                     if name in self.series}
        out["targets_mb"] = dict(TARGETS_MB)
        out["targets_met"] = {name: out[name]["peak_mb"] <= limit for name, limit in TARGETS_MB.items()
                              if out.get(name, {}).get("samples")}
        return out
