"""Server-rendered SVG charts for the Growth page: no JavaScript, no chart library. Pure."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from html import escape

W, H, PAD = 640, 220, 36


def line_chart(points: Sequence[tuple[datetime, float]], *, title: str) -> str:
    """A polyline of ``(time, value)``; an empty series says so instead of drawing axes with nothing."""
    head = f'<svg class="chart" role="img" aria-label="{escape(title)}" viewBox="0 0 {W} {H}" ' \
           f'xmlns="http://www.w3.org/2000/svg"><title>{escape(title)}</title>'
    if not points:
        return head + f'<text x="{PAD}" y="{H // 2}">no data yet</text></svg>'
    t0, t1 = points[0][0].timestamp(), points[-1][0].timestamp()
    lo, hi = min(v for _, v in points), max(v for _, v in points)
    span_t, span_v = (t1 - t0) or 1.0, (hi - lo) or 1.0

    def xy(t: datetime, v: float) -> str:
        x = PAD + (t.timestamp() - t0) / span_t * (W - 2 * PAD)
        y = H - PAD - (v - lo) / span_v * (H - 2 * PAD)
        return f"{x:.1f},{y:.1f}"

    line = " ".join(xy(t, v) for t, v in points)
    return (head + f'<line x1="{PAD}" y1="{H - PAD}" x2="{W - PAD}" y2="{H - PAD}" stroke="#999"/>'
            f'<line x1="{PAD}" y1="{PAD}" x2="{PAD}" y2="{H - PAD}" stroke="#999"/>'
            f'<polyline fill="none" stroke="#1d9bf0" stroke-width="2" points="{line}"/>'
            f'<text x="2" y="{PAD}" font-size="11">{hi:g}</text>'
            f'<text x="2" y="{H - PAD}" font-size="11">{lo:g}</text>'
            f'<text x="{PAD}" y="{H - 8}" font-size="11">{escape(points[0][0].strftime("%m-%d %H:%M"))}</text>'
            f'<text x="{W - PAD}" y="{H - 8}" font-size="11" text-anchor="end">'
            f'{escape(points[-1][0].strftime("%m-%d %H:%M"))}</text></svg>')


def bar_chart(bars: Sequence[tuple[str, float]], *, title: str) -> str:
    """Horizontal bars of ``(label, value)`` (values may be negative: bars start at zero)."""
    height = max(H // 2, 24 * len(bars) + 2 * PAD)
    head = f'<svg class="chart" role="img" aria-label="{escape(title)}" viewBox="0 0 {W} {height}" ' \
           f'xmlns="http://www.w3.org/2000/svg"><title>{escape(title)}</title>'
    if not bars:
        return head + f'<text x="{PAD}" y="{height // 2}">no data yet</text></svg>'
    lo, hi = min(0.0, *(v for _, v in bars)), max(0.0, *(v for _, v in bars))
    span = (hi - lo) or 1.0
    # The labels' column as wide as the longest (about 7 px a character at 12 px), at most half the chart.
    left, right = min(W // 2, max(180, 7 * max(len(label) for label, _ in bars) + 12)), W - PAD
    zero = left + (0 - lo) / span * (right - left)
    out = [head]
    for i, (label, value) in enumerate(bars):
        y = PAD + i * 24
        x = left + (min(value, 0) - lo) / span * (right - left)
        width = abs(value) / span * (right - left)
        out.append(f'<text x="{left - 6}" y="{y + 14}" font-size="12" text-anchor="end">{escape(label)}</text>'
                   f'<rect x="{x:.1f}" y="{y}" width="{max(width, 1):.1f}" height="18" fill="#1d9bf0"/>'
                   f'<text x="{x + max(width, 1) + 4:.1f}" y="{y + 14}" font-size="11">{value:.3g}</text>')
    out.append(f'<line x1="{zero:.1f}" y1="{PAD - 4}" x2="{zero:.1f}" y2="{height - PAD + 4}" stroke="#999"/></svg>')
    return "".join(out)
