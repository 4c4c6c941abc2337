"""Today's planner against the template-era one (the code before issue 21, extracted from git) on the same
realistic text endpoint: the old code path queues the defects real models produce, the new one does not."""

from __future__ import annotations

import asyncio

from pydantic import SecretStr

from bench.planner import Endpoint, run_current, run_template_era, summarise

ITEMS = 30
SEED = 3


async def test_template_era_queues_defects_the_new_planner_does_not() -> None:
    current_endpoint = Endpoint("realistic", SEED)
    current = await run_current(current_endpoint.url, SecretStr("sandbox"), "gpt-4o-mini", ITEMS, SEED)
    current_log = await current_endpoint.log()
    current_endpoint.stop()
    era_endpoint = Endpoint("realistic", SEED)
    era = await asyncio.to_thread(run_template_era, era_endpoint.url, ITEMS, SEED)
    era_log = await era_endpoint.log()
    era_endpoint.stop()

    new, old = summarise(current, current_log), summarise(era, era_log)
    # Invented statistics are the claims gate's (issue 21 item 3) and are counted apart.
    def visible(summary: dict, key: str) -> int:
        return sum(n for habit, n in (summary[key] or {}).items()
                   if habit not in ("invented_stat", "unsupported_claim"))

    assert old["queued"] > 0 and visible(old, "queued_defects_per_log") >= 3, old["queued_defects_per_log"]
    assert visible(old, "queued_defects_per_detector") >= 3
    assert new["queued"] >= old["queued"] * 0.8
    assert visible(new, "queued_defects_per_log") == 0, new["queued_defects_per_log"]
    assert visible(new, "queued_defects_per_detector") == 0, [
        t for t in new["queued_texts"] if set(t["defects_detected"]) - {"unsupported_claim"}]
    assert new["halts"] == 0
