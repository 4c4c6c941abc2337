"""Composition root of the owner's console: its projections (projections.py: every stream it shows), its worker
(jobs.py: the web app, web.py, and the approval job) and ``set-password``. What the owner does: owner.py."""

from __future__ import annotations

import getpass
import os
from datetime import UTC, datetime
from pathlib import Path

from libs.runtime.context import JobContext
from libs.runtime.service import Service
from services.console import projections
from services.console.auth import WeakPassword, hash_password
from services.console.jobs import ConsoleWorker
from services.console.settings import ConsoleSettings

NAME = "console"
MIGRATIONS = Path(__file__).parent / "migrations"
Settings = ConsoleSettings
# The password arrives on this variable when no terminal can be asked (scripts, tests); never as an argument,
# which every user of the machine can read in the process list.
PASSWORD_VAR = "XBOT_CONSOLE_PASSWORD"


def build(settings: ConsoleSettings) -> Service[ConsoleSettings]:
    settings.niche()  # a bad niche file stops the console here: an edit could not be gated
    svc = Service(NAME, settings, migrations=MIGRATIONS, job_tables=projections.JOB_TABLES)
    projections.register(svc)
    svc.runs(lambda ctx: ConsoleWorker(ctx, broker=svc.broker))
    svc.command("set-password", set_password)
    return svc


async def set_password(ctx: JobContext[ConsoleSettings], _args: list[str]) -> str:
    """``python -m services.console set-password`` (``xbot console set-password``): the owner's password, asked
    twice on the terminal (or read from XBOT_CONSOLE_PASSWORD), stored as a scrypt hash; every session ends."""
    password = os.environ.get(PASSWORD_VAR)
    if password is None:
        password = getpass.getpass("console password: ")
        if getpass.getpass("again: ") != password:
            return "the two passwords differ: nothing changed"
    try:
        stored = hash_password(password)
    except WeakPassword as err:
        return f"{err}: nothing changed"
    async with ctx.pool.acquire() as conn, conn.transaction():
        await conn.execute("INSERT INTO owner (id, password_hash, set_at) VALUES (1, $1, $2) ON CONFLICT (id)"
                           " DO UPDATE SET password_hash = $1, set_at = $2", stored, datetime.now(UTC))
        await conn.execute("DELETE FROM sessions")
    return "console password set; every signed-in session was ended"
