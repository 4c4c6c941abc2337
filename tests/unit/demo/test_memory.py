"""The demo's memory figures: per service (with non-Chromium helpers), Chromium apart, the stack's total."""

from __future__ import annotations

import os
import shutil
import subprocess

import psutil
import pytest

from ops.demo.memory import CHROMIUM, STACK, MemorySampler
from ops.demo.report import memory_rows


@pytest.fixture
def fake_chromium(tmp_path):
    """A child process named like the browser (a copy of sleep), as the gateway's Chromium would be."""
    exe = tmp_path / "chromium"
    shutil.copy(shutil.which("sleep"), exe)
    proc = subprocess.Popen([str(exe), "30"])
    yield proc
    proc.kill()
    proc.wait()


@pytest.mark.slow  # starts a process: not in the fast tier
def test_chromium_is_counted_apart_and_the_stack_sums_the_services(fake_chromium) -> None:
    sampler = MemorySampler(("planner", "browser_gateway"))
    me = os.getpid()  # this process stands for both services, and fake_chromium is its child
    sampler.sample({"planner": me, "browser_gateway": me})
    sampler.sample({"planner": me, "browser_gateway": None})  # the gateway between a crash and its restart
    out = sampler.summary()
    assert out["planner"]["samples"] == 2 and out["browser_gateway"]["samples"] == 1
    assert out[CHROMIUM]["peak_mb"] > 0
    first_total = out["planner"]["peak_mb"] + out["browser_gateway"]["peak_mb"]
    assert out[STACK]["peak_mb"] == pytest.approx(first_total, abs=5)  # both services at the first sample
    assert out[STACK]["samples"] == 2
    # The high-water mark is the process's own (VmHWM), the sampled figure adds its helper children (in an xdist
    # worker, other tests' servers): the mark is at least what the process itself holds now.
    assert out["planner"]["high_water_mb"] >= psutil.Process(me).memory_info().rss / 2**20 - 1


def test_targets_are_judged_on_the_sampled_peak() -> None:
    sampler = MemorySampler(("planner", "harvester"))
    for mb in (100.0, 300.0):
        sampler._series("planner").add(mb)
        sampler._series("harvester").add(mb / 2)
        sampler._series(STACK).add(mb * 1.5)
    out = sampler.summary()
    assert out["planner"] == {"peak_mb": 300.0, "mean_mb": 200.0, "samples": 2}
    assert out["targets_met"] == {"planner": False, "harvester": True, STACK: True}
    rows = dict(memory_rows(out))
    assert rows["memory per service, peak / mean MB"] == \
        "planner 300 / 200 (OVER 250), harvester 150 / 100 (within 250)"
    assert rows["memory of the stack without Chromium"] == "450 / 300 (within 1024)"


def test_a_report_without_samples_says_so() -> None:
    assert memory_rows({}) == []
    assert dict(memory_rows(MemorySampler(("planner",)).summary()))["memory of Chromium (apart)"] == "n/a"
