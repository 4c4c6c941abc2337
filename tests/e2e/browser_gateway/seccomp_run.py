"""Run the gateway's browser pool under an OCI seccomp profile, applied to this whole process as a container
runtime applies it to a container (Playwright's driver and Chromium inherit it), render a page and print the
pool's sandbox status as JSON. Usage: python -m tests.e2e.browser_gateway.seccomp_run PROFILE MODE."""

from __future__ import annotations

import asyncio
import errno
import json
import sys
from pathlib import Path
from typing import Any

import pyseccomp as sc

from libs.core.clock import Clock
from services.browser_gateway.pool import BrowserPool
from tests.e2e.browser_gateway.test_chromium_sandbox import CHROMIUM, render_and_report

OPS = {"SCMP_CMP_EQ": sc.EQ, "SCMP_CMP_NE": sc.NE, "SCMP_CMP_MASKED_EQ": sc.MASKED_EQ}


def apply(profile: dict[str, Any]) -> None:
    """Load an allow-by-default OCI profile's refusals (what both profiles here are) into the kernel."""
    assert profile["defaultAction"] == "SCMP_ACT_ALLOW", "only allow-by-default profiles are read here"
    f = sc.SyscallFilter(sc.ALLOW)
    for rule in profile["syscalls"]:
        assert rule["action"] == "SCMP_ACT_ERRNO", rule
        action = sc.ERRNO(rule.get("errnoRet", errno.EPERM))
        args = [sc.Arg(a["index"], OPS[a["op"]], a["value"], a.get("valueTwo", 0)) for a in rule.get("args", [])]
        for name in rule["names"]:
            try:
                f.add_rule(action, name, *args)
            except (ValueError, OSError, RuntimeError):
                pass  # a syscall this architecture does not have
    f.load()


async def status(mode: str) -> dict[str, Any]:
    return await render_and_report(BrowserPool(clock=Clock(), storage_state=None, executable=CHROMIUM,
                                               sandbox_mode=mode))


if __name__ == "__main__":
    apply(json.loads(Path(sys.argv[1]).read_text()))
    print(json.dumps(asyncio.run(status(sys.argv[2]))))
