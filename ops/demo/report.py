"""The demo's report in ``reports/<run>/``: summary.json, PNG charts, report.html and a summary table for the
terminal. Everything shown is read from ``summary.json`` and the raw data files beside it."""

from __future__ import annotations

import html
import json
from datetime import datetime
from pathlib import Path
from typing import Any

import matplotlib

matplotlib.use("Agg")  # files only: the demo may run without a display
import matplotlib.pyplot as plt  # noqa: E402
from rich.table import Table  # noqa: E402

from ops.demo.figures import DIMENSIONS, Decision, choice_shares, parse_time  # noqa: E402

CHARTS = {"followers": "followers.png", "reward": "reward.png", "choices": "choices.png"}


def _na(value: Any, fmt: str = "{}") -> str:
    return "n/a" if value is None else fmt.format(value)


def summary_rows(s: dict) -> list[tuple[str, str]]:
    share = s.get("share_of_best") or {}
    best = s.get("best_choice") or {}
    return [
        ("run", f"{s['run']} ({s['outcome']})"),
        ("simulated period", f"{s['simulated_hours']:.1f} h of {s['planned_hours']:.1f} h "
                             f"(x{s['time_scale']:.0f}, {s['real_seconds']:.0f} real s)"),
        ("posts / threads / replies", f"{s['posts']} / {s['threads']} / {s['replies']}"),
        ("followers", f"{_na(s['followers_start'])} -> {s['followers_end']} "
                      f"({_na(s['followers_gained'], '{:+d}')})"),
        ("mean reward per post", _na(s["reward_mean"], "{:.3f}")),
        ("LLM spend", _na(s["llm_spend_usd"], "${:.4f}")),
        ("X driver", s.get("driver", "browser")),
        ("X API spend", _x_api(s.get("x_api")) if s.get("driver") == "api" else "none (web client)"),
        ("policy version", _na(s["policy_version"])),
        ("choices (source)", f"{s['decisions']} ({s['choice_source']})"),
        ("sandbox's best choice", ", ".join(f"{k}={v}" for k, v in best.items() if k in DIMENSIONS) or "n/a"),
        ("share of best arm", ", ".join(f"{d} {_na(share.get(d), '{:.0%}')}" for d in DIMENSIONS)),
        ("events", ", ".join(f"{k} {v}" for k, v in sorted((s.get("events") or {}).items())) or "none"),
        ("first post", _first_post(s.get("first_post"))),
        ("X activity per day (sandbox)", _x_activity(s.get("x_activity"))),
        *memory_rows(s.get("memory") or {}),
    ]


def _x_api(bill: dict | None) -> str:
    """What the sandbox's X API billed (X's view) per UTC day, and what the gateway's own ledger charged."""
    if not bill:
        return "n/a"
    days = "; ".join(f"{d['day']}: {d['posts_read_unique']} posts read, {d['users_read_unique']} users read, "
                     f"{d['posts_created']} created, ${d['billed_usd']:.3f}" for d in bill.get("days", []))
    return (f"${bill['billed_usd']:.3f} billed by X (sandbox), {_na(bill.get('gateway_charged_usd'), '${:.3f}')} "
            f"in the gateway's ledger; {days or 'no use'}")


def _x_activity(activity: dict | None) -> str:
    """Posts viewed / page loads / writes per calendar day as the sandbox served them, its rate-limit pages and
    automation notices, and the suspicion score at the end."""
    if not activity:
        return "n/a"
    days = "; ".join(f"{d['date']}: {d['posts_viewed']} viewed, {d['page_loads']} pages, {d['writes']} writes"
                     for d in activity.get("days", []))
    limited = sum(d.get("rate_limited", 0) for d in activity.get("days", []))
    notices = sum(d.get("notices", 0) for d in activity.get("days", []))
    suspicion = activity.get("suspicion") or {}
    return (f"{days or 'none'}; rate-limited pages {limited}, automation notices {notices}; suspicion "
            f"{_na(suspicion.get('score'), '{:.1f}')} ({suspicion.get('state', 'n/a')})")


def _first_post(first: dict | None) -> str:
    if not first:
        return "none"
    text = f"{first['real_s_after_demo_start']:.0f} s after the demo started"
    if first.get("real_s_after_command_start") is not None:
        text += f", {first['real_s_after_command_start']:.0f} s after the command started"
    return text


def _mb(series: dict) -> str:
    if not series.get("samples"):
        return "n/a"
    return f"{series['peak_mb']:.0f} / {series['mean_mb']:.0f}"


def memory_rows(memory: dict) -> list[tuple[str, str]]:
    """Resident memory, peak / mean MB of the samples, with the targets where there are some."""
    if not memory:
        return []
    targets, met = memory.get("targets_mb", {}), memory.get("targets_met", {})

    def cell(name: str) -> str:
        text = _mb(memory.get(name, {}))
        if name in targets and name in met:
            text += f" ({'within' if met[name] else 'OVER'} {targets[name]})"
        return text

    services = [n for n in memory if n not in ("stack_without_chromium", "chromium", "sandbox", "targets_mb",
                                                "targets_met")]
    return [
        ("memory per service, peak / mean MB", ", ".join(f"{n} {cell(n)}" for n in services)),
        ("memory of the stack without Chromium", cell("stack_without_chromium")),
        ("memory of Chromium (apart)", _mb(memory.get("chromium", {}))),
        ("memory of the sandbox (not the stack)", _mb(memory.get("sandbox", {}))),
    ]


def summary_table(s: dict) -> Table:
    table = Table(title=f"xbot demo — {s['run']}", show_header=False)
    table.add_column("figure", style="bold")
    table.add_column("value")
    for k, v in summary_rows(s):
        table.add_row(k, v)
    return table


def _empty(ax, text: str) -> None:
    ax.text(0.5, 0.5, text, ha="center", va="center", transform=ax.transAxes, color="grey")
    ax.set_xticks([])
    ax.set_yticks([])


def chart_followers(series: list[dict], path: Path) -> None:
    fig, ax = plt.subplots(figsize=(8, 3.5))
    if series:
        times = [parse_time(p["at"]) for p in series]
        ax.plot(times, [p["followers"] for p in series], color="#1d9bf0")
        ax.set_xlabel("simulated time (UTC)")
        fig.autofmt_xdate()
    else:
        _empty(ax, "no follower series")
    ax.set_title("Followers over time (sandbox)")
    fig.tight_layout()
    fig.savefig(path, dpi=100)
    plt.close(fig)


def chart_reward(reward_by: dict[str, dict], path: Path) -> None:
    fig, axes = plt.subplots(1, 3, figsize=(14, 4))
    for ax, dim in zip(axes, DIMENSIONS):
        arms = reward_by.get(dim) or {}
        if arms:
            names = list(arms)
            ax.bar(range(len(names)), [arms[a]["mean"] for a in names], color="#00ba7c")
            ax.set_xticks(range(len(names)), names, rotation=60, ha="right", fontsize=7)
            for i, a in enumerate(names):
                ax.annotate(f"n={arms[a]['n']}", (i, arms[a]["mean"]), ha="center", va="bottom", fontsize=6)
        else:
            _empty(ax, "no posts with this choice")
        ax.set_title(f"mean reward by {dim.replace('_', ' ')}")
    fig.tight_layout()
    fig.savefig(path, dpi=100)
    plt.close(fig)


def chart_choices(decisions: list[Decision], best: dict | None, start: datetime, end: datetime, windows: int,
                  source: str, path: Path) -> None:
    fig, axes = plt.subplots(1, 3, figsize=(15, 4))
    for ax, dim in zip(axes, DIMENSIONS):
        bounds, shares = choice_shares(decisions, dim, start, end, windows)
        best_arm = str(best.get(dim)) if best else None
        if shares:
            for arm, values in shares.items():
                is_best = arm == best_arm
                ys = [float("nan") if v is None else v for v in values]
                ax.plot(bounds, ys, marker="o", markersize=3, linewidth=3 if is_best else 1,
                        color="#f4212e" if is_best else None, alpha=1 if is_best else 0.5,
                        label=f"{arm} (best)" if is_best else arm)
            if best_arm is not None and best_arm not in shares:
                ax.plot(bounds, [0.0] * len(bounds), linewidth=3, color="#f4212e", label=f"{best_arm} (best)")
            ax.set_ylim(0, 1)
            ax.legend(fontsize=6, ncol=2)
            fig.autofmt_xdate()
        else:
            _empty(ax, "no choices made")
        ax.set_title(f"share by {dim.replace('_', ' ')}")
    fig.suptitle(f"The policy's choices over time against the sandbox's best choice (from {source})")
    fig.tight_layout()
    fig.savefig(path, dpi=100)
    plt.close(fig)


def write_html(s: dict, path: Path) -> None:
    rows = "\n".join(f"<tr><th>{html.escape(k)}</th><td>{html.escape(v)}</td></tr>" for k, v in summary_rows(s))
    charts = "\n".join(f'<figure><img src="{f}" alt="{n}"><figcaption>{n}</figcaption></figure>'
                       for n, f in CHARTS.items())
    url = s.get("console_url")
    # The console lives as long as the run: the link is the way back to it while the demo still runs.
    console = (f'<p>The owner\'s console of this run: <a href="{html.escape(url)}">{html.escape(url)}</a> (while the '
               f'demo runs; approval: {html.escape(str(s.get("approval", "none")))}).</p>\n') if url else ""
    path.write_text(f"""<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>xbot demo {html.escape(s['run'])}</title>
<style>body{{font-family:sans-serif;max-width:1100px;margin:2em auto}}th{{text-align:left;padding-right:2em}}
img{{max-width:100%}}figure{{margin:2em 0}}</style></head>
<body><h1>xbot demo — {html.escape(s['run'])}</h1>
<p>Every figure comes from the sandbox's admin API and the event streams of this run
(<a href="summary.json">summary.json</a>, raw data in <code>data/</code>).</p>
{console}<table>{rows}</table>
{charts}
</body></html>
""")


def write_report(run_dir: Path, summary: dict, *, series: list[dict], decisions: list[Decision],
                 start: datetime, end: datetime) -> dict:
    run_dir.mkdir(parents=True, exist_ok=True)
    windows = max(3, min(12, round(summary["simulated_hours"] / 6)))
    chart_followers(series, run_dir / CHARTS["followers"])
    chart_reward(summary.get("reward_by") or {}, run_dir / CHARTS["reward"])
    chart_choices(decisions, summary.get("best_choice"), start, end, windows, summary["choice_source"],
                  run_dir / CHARTS["choices"])
    summary = {**summary, "charts": dict(CHARTS), "html": "report.html"}
    (run_dir / "summary.json").write_text(json.dumps(summary, indent=2, default=str))
    write_html(summary, run_dir / "report.html")
    return summary
