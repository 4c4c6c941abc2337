"""``python -m services.planner [run|migrate|provision|replay|dlq-retry SEQ|draft [--n N]|embed-facts]``.

``draft`` (what ``xbot draft`` runs) prints drafts for the configured model and niche without queuing anything
(services/planner/draft.py). ``embed-facts`` embeds the packaged niche's facts into the user's cache, as a
planner's start does: ``./xbot test`` runs it before the suite, whose first minutes start many planners at once (two
whole systems, the planner's own tests), each of which would otherwise embed the same ~500 sentences (20 CPU-s on
a slow machine) while the others do, and miss its readiness window. The other subcommands are every service's
(libs.runtime.service.service_main)."""

from __future__ import annotations

import sys

from libs.runtime.service import service_main
from services.planner.app import Settings, build


def main(argv: list[str] | None = None) -> None:
    args = sys.argv[1:] if argv is None else argv
    if args[:1] == ["draft"]:
        from services.planner.draft import main as draft_main

        raise SystemExit(draft_main(args[1:]))
    if args == ["embed-facts"]:
        from libs.niche import load_niche
        from libs.text import Embedder
        from services.planner.drafting import fact_index

        fact_index(load_niche(), Embedder())
        return
    service_main(build, Settings, args)


if __name__ == "__main__":
    main()
