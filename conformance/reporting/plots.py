"""Plots as inline SVG, drawn here: the reports are single offline HTML files (no script, no CDN, no fonts).

Two shapes are enough for the report: lines over time (latency percentiles, throughput, sessions, memory)
and a histogram (delivery latency). Colours come from the report's CSS variables, so dark mode follows.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from html import escape

__all__ = ["histogram", "lines"]

WIDTH, HEIGHT = 560, 220
# TOP leaves the y unit a line of its own above the highest tick label.
LEFT, RIGHT, TOP, BOTTOM = 56, 12, 26, 34
COLOURS = ("#0a58ca", "#c62828", "#1a7f37", "#8a5a00", "#6f42c1")


def _nice(top: float) -> float:
    if top <= 0:
        return 1.0
    step = 10 ** math.floor(math.log10(top))
    for factor in (1, 2, 2.5, 5, 10):
        if top <= factor * step:
            return factor * step
    return 10 * step


def _label(value: float) -> str:
    # Whole numbers from 100 up as a reader writes them (1,000, not 1e+03); fractions to three figures.
    return f"{value:,.0f}" if abs(value) >= 100 else f"{value:.3g}"


def _frame(title: str, x_max: float, y_max: float, x_unit: str, y_unit: str) -> list[str]:
    plot_w, plot_h = WIDTH - LEFT - RIGHT, HEIGHT - TOP - BOTTOM
    parts = [
        f'<svg class="plot" viewBox="0 0 {WIDTH} {HEIGHT}" width="{WIDTH}" height="{HEIGHT}" role="img" '
        f'aria-label="{escape(title)}" xmlns="http://www.w3.org/2000/svg"><title>{escape(title)}</title>',
        '<g font-size="10" fill="currentColor" stroke="none">',
    ]
    for i in range(5):
        y = TOP + plot_h - plot_h * i / 4
        parts.append(f'<line x1="{LEFT}" x2="{WIDTH - RIGHT}" y1="{y:.1f}" y2="{y:.1f}" stroke="#8886" />')
        parts.append(f'<text x="{LEFT - 6}" y="{y + 3:.1f}" text-anchor="end">{_label(y_max * i / 4)}</text>')
    for i in range(5):
        x = LEFT + plot_w * i / 4
        parts.append(
            f'<text x="{x:.1f}" y="{HEIGHT - BOTTOM + 14}" text-anchor="middle">{_label(x_max * i / 4)}</text>'
        )
    parts.append(f'<text x="{WIDTH - RIGHT}" y="{HEIGHT - 4}" text-anchor="end">{escape(x_unit)}</text>')
    parts.append(f'<text x="4" y="{TOP - 12}" >{escape(y_unit)}</text></g>')
    return parts


def lines(title: str, series: Mapping[str, Sequence[tuple[float, float]]], x_unit: str, y_unit: str) -> str:
    """One line per named series of (x, y) points, a legend under the title."""
    points = [p for values in series.values() for p in values]
    if not points:
        return f'<p class="muted">{escape(title)}: no data.</p>'
    x_max = max(1.0, max(x for x, _ in points))
    y_max = _nice(max(y for _, y in points))
    plot_w, plot_h = WIDTH - LEFT - RIGHT, HEIGHT - TOP - BOTTOM
    parts = _frame(title, x_max, y_max, x_unit, y_unit)
    legend = []
    for index, (name, values) in enumerate(series.items()):
        colour = COLOURS[index % len(COLOURS)]
        path = " ".join(
            f"{LEFT + plot_w * x / x_max:.1f},{TOP + plot_h - plot_h * min(y, y_max) / y_max:.1f}" for x, y in values
        )
        parts.append(f'<polyline fill="none" stroke="{colour}" stroke-width="1.8" points="{path}" />')
        legend.append(f'<span style="color:{colour}">&#9632;</span> {escape(name)}')
    parts.append("</svg>")
    return f"<figure><figcaption>{escape(title)} · {' &nbsp; '.join(legend)}</figcaption>{''.join(parts)}</figure>"


def histogram(title: str, buckets: Sequence[tuple[float, int]], x_unit: str) -> str:
    """Bars of (upper bound, count); the x axis is logarithmic (latencies span orders of magnitude)."""
    if not buckets:
        return f'<p class="muted">{escape(title)}: no data.</p>'
    low = max(0.01, min(b for b, _ in buckets) / 1.05)
    high = max(b for b, _ in buckets)
    span = math.log10(high / low) or 1.0
    y_max = _nice(max(n for _, n in buckets))
    plot_w, plot_h = WIDTH - LEFT - RIGHT, HEIGHT - TOP - BOTTOM
    parts = _frame(title, 1, y_max, x_unit, "messages")
    # The frame's x labels are fractions; a log axis gets its own decade labels instead.
    parts = [p for p in parts if 'text-anchor="middle"' not in p]
    decade = 10 ** math.floor(math.log10(low))
    while decade <= high * 10:
        if low <= decade <= high:
            x = LEFT + plot_w * math.log10(decade / low) / span
            parts.append(
                f'<text font-size="10" fill="currentColor" x="{x:.1f}" y="{HEIGHT - BOTTOM + 14}" '
                f'text-anchor="middle">{_label(decade)}</text>'
            )
        decade *= 10
    previous = low
    for upper, count in buckets:
        x0 = LEFT + plot_w * math.log10(max(previous, low) / low) / span
        x1 = LEFT + plot_w * math.log10(upper / low) / span
        h = plot_h * count / y_max
        parts.append(
            f'<rect x="{x0:.1f}" y="{TOP + plot_h - h:.1f}" width="{max(x1 - x0, 1):.1f}" height="{h:.1f}" '
            f'fill="{COLOURS[0]}"><title>&le; {upper:.1f} {escape(x_unit)}: {count}</title></rect>'
        )
        previous = upper
    parts.append("</svg>")
    return f"<figure><figcaption>{escape(title)}</figcaption>{''.join(parts)}</figure>"
