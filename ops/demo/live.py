"""The live progress display: one rich table rebuilt from a snapshot of the running system."""

from __future__ import annotations

from typing import Any

from rich.table import Table

NA = "n/a"


def _get(d: Any, *path: str) -> Any:
    for key in path:
        if not isinstance(d, dict) or key not in d:
            return None
        d = d[key]
    return d


def _fmt(value: Any) -> str:
    if value is None:
        return NA
    if isinstance(value, dict):
        return ", ".join(f"{k} {v}" for k, v in value.items()) or "empty"
    return str(value)


def live_table(view: dict) -> Table:
    """``view`` holds what the last refresh read; a missing figure shows as n/a, never as a guess."""
    status = view.get("status") or {}
    posting = _get(status, "services", "poster", "posting")
    table = Table(title=f"xbot demo {view['run']} — {view['phase']}", show_header=False, min_width=70)
    table.add_column("", style="bold")
    table.add_column("")
    table.add_row("simulated time", f"{view.get('sim_now', NA)}  ({view.get('progress', 0):.0%} of "
                                    f"{view['hours']:.0f} h)")
    table.add_row("real time", f"{view.get('real_elapsed', 0):.0f} s of {view['minutes'] * 60:.0f} s")
    table.add_row("posts / thread parts / replies", _fmt(view.get("tweets_line")))
    table.add_row("followers", _fmt(view.get("followers_line")))
    table.add_row("LLM spend", _fmt(view.get("llm_spend")))
    table.add_row("poster queue", _fmt(_get(posting, "queue")))
    table.add_row("breaker", _fmt(_get(posting, "breaker")))
    table.add_row("risk", _fmt(_get(posting, "risk_level")))
    table.add_row("writes paused", _fmt(_get(posting, "paused")))
    table.add_row("policy version", _fmt(view.get("policy_version")))
    table.add_row("events", _fmt(view.get("events")))
    consumers = status.get("consumers") or {}
    lag = sum(c.get("pending", 0) for c in consumers.values()) if consumers else None
    table.add_row("consumer lag / DLQ", f"{_fmt(lag)} / {_fmt(status.get('dlq'))}")
    services = status.get("services") or {}
    restarts = view.get("restarts") or {}
    for name in view.get("services", ()):
        s = services.get(name) or {}
        state = ("ready" if s.get("ready") else s.get("state", NA)) if s else NA
        extra = f", {restarts[name]} restarts" if restarts.get(name) else ""
        table.add_row(f"  {name}", f"{state}{extra}")
    for err in view.get("errors", ())[-3:]:
        table.add_row("[red]error", err)
    return table
