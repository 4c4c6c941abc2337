"""``python -m services.planner [run|migrate|provision|replay|dlq-retry SEQ|draft [--n N]]``.

``draft`` (what ``xbot draft`` runs) prints drafts for the configured model and niche without queuing anything
(services/planner/draft.py); the other subcommands are every service's (libs.runtime.service.service_main)."""

from __future__ import annotations

import sys

from libs.runtime.service import service_main
from services.planner.app import Settings, build


def main(argv: list[str] | None = None) -> None:
    args = sys.argv[1:] if argv is None else argv
    if args[:1] == ["draft"]:
        from services.planner.draft import main as draft_main

        raise SystemExit(draft_main(args[1:]))
    service_main(build, Settings, args)


if __name__ == "__main__":
    main()
