"""``python -m services.learner [run|migrate|provision|replay|dlq-retry SEQ|rollback]``.

``rollback`` (what ``xbot model rollback`` runs) republishes the previous model version as a new ModelUpdated;
the other subcommands are every service's (libs.runtime.service.service_main)."""

from __future__ import annotations

import asyncio
import sys

from libs.runtime.service import service_main
from libs.runtime.settings import SettingsError, load_settings
from services.learner.app import LearnerService, Settings, build
from services.learner.jobs import NothingToRollBack


async def rollback(svc: LearnerService) -> int:
    try:
        await svc.broker.connect()
        await svc.migrate()
        event = await svc.model_job.rollback()
    except (NothingToRollBack, TimeoutError) as err:
        print(f"rollback: {err}", file=sys.stderr)
        return 1
    finally:
        await svc.broker.stop()
        if svc.pool:
            await svc.pool.close()
    print(f"rolled back {event.rollback_of}: {event.version} restores {event.parent_version}")
    return 0


def main(argv: list[str] | None = None) -> None:
    args = sys.argv[1:] if argv is None else argv
    if args[:1] != ["rollback"]:
        service_main(build, Settings, args)
        return
    try:
        svc = build(load_settings(Settings))
    except SettingsError as err:
        print(f"error: {err}", file=sys.stderr)
        raise SystemExit(2) from None
    raise SystemExit(asyncio.run(rollback(svc)))


if __name__ == "__main__":
    main()
