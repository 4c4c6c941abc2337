"""Chromium with its sandbox: the renderers that parse strangers' tweets run under seccomp-bpf in their own user
namespace, so a renderer exploit does not reach the signed-in session or the machine.

Playwright adds ``--no-sandbox`` unless asked for the sandbox (``chromium_sandbox=True``), and Chromium refuses
its sandbox as root. So, started as root (CI, a container's default user), Chromium runs as an unprivileged user
through a small wrapper that drops to that user with ``setpriv`` (util-linux: an exec, so Playwright's pipes to the
browser stay the browser's), after handing it the profile folder Playwright made, as ops/infra.py does for
PostgreSQL. ``XBOT_CHROMIUM_SANDBOX``:

- ``auto`` (default): the sandbox; when the kernel or the container refuses it (no user namespaces, a seccomp
  profile that forbids them), Chromium starts with ``--no-sandbox`` instead, logged as a warning and reported in
  the gateway's status (``xbot status``: the ``chromium`` block) with the reason;
- ``required``: the sandbox or no browser at all (the gateway's operations fail with ``browser_crashed``);
- ``off``: ``--no-sandbox`` on purpose (reported too).
"""

from __future__ import annotations

import logging
import os
import pwd
import shlex
import shutil
import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

import psutil

log = logging.getLogger("xbot.browser_gateway.sandbox")

SandboxMode = Literal["auto", "required", "off"]
# The users a root-started gateway runs Chromium as, first found wins.
UNPRIVILEGED_USERS = ("xbot", "nobody")


@dataclass
class SandboxState:
    """How the running Chromium was started."""

    sandbox: bool = False
    user: str = ""
    mode: str = "auto"
    reason: str = ""
    # Renderers seen under seccomp-bpf in a user namespace of their own (None: none to look at yet).
    verified: bool | None = None
    launches: int = field(default=0)

    def as_dict(self) -> dict[str, Any]:
        return {"sandbox": self.sandbox, "user": self.user, "mode": self.mode, "reason": self.reason,
                "verified": self.verified}


def unprivileged_user() -> pwd.struct_passwd:
    for name in UNPRIVILEGED_USERS:
        try:
            return pwd.getpwnam(name)
        except KeyError:
            continue
    raise RuntimeError("started as root with no unprivileged user (xbot, nobody) to run Chromium as")


def drop_privileges_wrapper(binary: str, user: pwd.struct_passwd, directory: Path | None = None) -> Path:
    """An executable that runs ``binary`` as ``user``: it hands Playwright's profile folder to that user, points
    HOME there, and execs Chromium through ``setpriv`` with no supplementary groups."""
    setpriv = shutil.which("setpriv")
    if setpriv is None:
        raise RuntimeError("setpriv (util-linux) is missing: it is needed to run Chromium unprivileged as root")
    directory = directory or Path(tempfile.mkdtemp(prefix="xbot-chromium-"))
    os.chmod(directory, 0o755)
    script = directory / "chromium-as-user"
    uid, gid = user.pw_uid, user.pw_gid
    script.write_text(
        "#!/bin/sh\n"
        "# Written by services/browser_gateway/sandbox.py: Chromium refuses its sandbox as root.\n"
        'profile=""\n'
        'for a in "$@"; do case "$a" in --user-data-dir=*) profile="${a#--user-data-dir=}";; esac; done\n'
        f'if [ -n "$profile" ]; then chown -R {uid}:{gid} "$profile"; export HOME="$profile"; fi\n'
        f"exec {shlex.quote(setpriv)} --reuid={uid} --regid={gid} --clear-groups -- {shlex.quote(binary)} \"$@\"\n")
    os.chmod(script, 0o755)
    return script


def renderers_sandboxed(browser_pid: int | None) -> bool | None:
    """True when every renderer of this Chromium runs under a seccomp filter in a user namespace other than the
    browser's; False when one does not; None when there is no renderer to look at."""
    if browser_pid is None:
        return None
    try:
        root = psutil.Process(browser_pid)
        own_ns = os.readlink(f"/proc/{browser_pid}/ns/user")
        children = root.children(recursive=True)
    except (psutil.Error, OSError):
        return None
    seen = False
    for proc in children:
        try:
            if not any(a == "--type=renderer" for a in proc.cmdline()):
                continue
            status = Path(f"/proc/{proc.pid}/status").read_text()
            ns = os.readlink(f"/proc/{proc.pid}/ns/user")
        except (psutil.Error, OSError):
            continue
        seen = True
        seccomp = next((line.split()[1] for line in status.splitlines() if line.startswith("Seccomp:")), "0")
        if seccomp != "2" or ns == own_ns:
            return False
    return True if seen else None


async def launch_chromium(pw: Any, binary: str, *, mode: SandboxMode, headless: bool, args: list[str],
                          state: SandboxState, timeout: float = 60_000, wrapper_dir: Path | None = None) -> Any:
    """Launch Chromium as :mod:`this module <services.browser_gateway.sandbox>` describes, filling ``state``."""
    state.mode, state.launches = mode, state.launches + 1
    me = pwd.getpwuid(os.geteuid()).pw_name
    if mode != "off":
        try:
            executable, user = binary, me
            if os.geteuid() == 0:
                target = unprivileged_user()
                executable, user = str(drop_privileges_wrapper(binary, target, wrapper_dir)), target.pw_name
            browser = await pw.chromium.launch(executable_path=executable, headless=headless, args=args,
                                               chromium_sandbox=True, timeout=timeout)
            state.sandbox, state.user, state.reason, state.verified = True, user, "", None
            return browser
        except Exception as err:  # noqa: BLE001 - the sandbox refused (kernel, container, unreachable binary)
            if mode == "required":
                raise
            reason = " ".join(str(err).split())[:300]
            log.warning("chromium could not start with its sandbox (%s); falling back to --no-sandbox, "
                        "see XBOT_CHROMIUM_SANDBOX", reason)
    else:
        reason = "XBOT_CHROMIUM_SANDBOX=off"
    browser = await pw.chromium.launch(executable_path=binary, headless=headless, args=[*args, "--no-sandbox"],
                                       chromium_sandbox=False, timeout=timeout)
    state.sandbox, state.user, state.reason, state.verified = False, me, reason, False
    return browser
