"""Chaos hooks for the crash tests: ``XBOT_FAILPOINT=<name>`` makes the poster SIGKILL itself at that step.

They do nothing unless the variable is set, and they kill (never raise) because the point is to prove what a
real crash leaves behind: no ``finally``, no shutdown hook, no flush. Names:

- ``poster.before_intent``   just before the attempt (durable intent) is committed
- ``poster.after_intent``    the intent is committed, the gateway not yet called
- ``poster.during_call``     while the gateway request is in flight: the process dies
                             ``XBOT_FAILPOINT_DELAY_S`` real seconds (default 1.5) after sending it, so the
                             gateway goes on posting and its answer is lost
- ``poster.after_call``      the gateway answered "posted", nothing recorded yet
- ``poster.before_publish``  outcome and outbox row committed, the event not yet published
- ``poster.after_part2``     a thread's second part is posted (the gateway answered), not yet recorded
"""

from __future__ import annotations

import asyncio
import logging
import os
import signal

ENV = "XBOT_FAILPOINT"
NAMES = frozenset({"poster.before_intent", "poster.after_intent", "poster.during_call", "poster.after_call",
                   "poster.before_publish", "poster.after_part2"})

logger = logging.getLogger("xbot.poster.failpoint")


def armed() -> str | None:
    name = os.environ.get(ENV) or None
    if name is not None and name not in NAMES:
        raise ValueError(f"{ENV}={name!r} is not a failpoint; one of {', '.join(sorted(NAMES))}")
    return name


def _die(name: str) -> None:
    logger.warning("failpoint %s: killing the process", name)
    os.kill(os.getpid(), signal.SIGKILL)


def hit(name: str) -> None:
    """Die here if this failpoint is armed."""
    if armed() == name:
        _die(name)


def die_later(name: str) -> asyncio.TimerHandle | None:
    """Schedule the death of ``poster.during_call``: the caller then awaits the gateway and never sees it."""
    if armed() != name:
        return None
    delay = float(os.environ.get("XBOT_FAILPOINT_DELAY_S", "1.5"))
    return asyncio.get_running_loop().call_later(delay, _die, name)
