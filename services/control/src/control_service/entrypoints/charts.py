"""Charts as inline SVG drawn on the server: no script and no asset from elsewhere. Colours and fonts come from
console.css (classes series-0, series-1, ...); every point and bar carries a <title> with its exact value, and
the chart an aria-label, so the figures are readable without seeing the lines."""

import math
from collections.abc import Callable, Sequence
from decimal import Decimal

from markupsafe import Markup, escape

Number = int | float | Decimal | None


def nice_ceiling(value: float) -> float:
    """The axis' top: the smallest 1, 2 or 5 × 10ⁿ at or above `value` (1 for nothing to show)."""
    if value <= 0 or not math.isfinite(value):
        return 1.0
    power = 10 ** math.floor(math.log10(value))
    return next(step * power for step in (1, 2, 5, 10) if step * power >= value)


def _number(value: Number) -> float:
    return float(value) if value is not None else 0.0


def _tick(value: float) -> str:
    return f"{value:g}" if value < 1e6 else f"{value / 1e6:g}M"


def line_chart(labels: Sequence[str], series: dict[str, Sequence[Number]], *, title: str, width: int = 640,
               height: int = 220) -> Markup:
    """One line per series over the same labels (e.g. days), with a legend. A missing value (None) is a gap in its
    line, not a zero; values below 0 are drawn at 0."""
    left, right, top, bottom = 44, 24, 12, 44
    plot_w, plot_h = width - left - right, height - top - bottom
    values = {name: [None if v is None else max(0.0, float(v)) for v in points] for name, points in series.items()}
    ceiling = nice_ceiling(max((v for points in values.values() for v in points if v is not None), default=0.0))
    step = plot_w / max(1, len(labels) - 1)

    def x(index: int) -> float:
        return left + index * step

    def y(value: float) -> float:
        return top + plot_h - value / ceiling * plot_h

    parts = [f'<svg class="chart line-chart" viewBox="0 0 {width} {height}" role="img" '
             f'aria-label="{escape(title)}" xmlns="http://www.w3.org/2000/svg">', f"<title>{escape(title)}</title>"]
    for fraction in (0, 0.5, 1):
        level = y(ceiling * fraction)
        parts.append(f'<line class="grid" x1="{left}" y1="{level:.1f}" x2="{width - right}" y2="{level:.1f}"/>'
                     f'<text class="tick" x="{left - 6}" y="{level + 4:.1f}" text-anchor="end">'
                     f"{_tick(ceiling * fraction)}</text>")
    every = max(1, math.ceil(len(labels) / 8))  # at most 8 labels under the axis
    for index, label in enumerate(labels):
        if index % every == 0 or index == len(labels) - 1:
            parts.append(f'<text class="tick" x="{x(index):.1f}" y="{top + plot_h + 16}" text-anchor="middle">'
                         f"{escape(label)}</text>")
    if not labels:
        parts.append(f'<text class="empty" x="{width / 2}" y="{top + plot_h / 2}" text-anchor="middle">'
                     "No data</text>")
    for number, (name, points) in enumerate(values.items()):
        parts.append(f'<g class="series series-{number}" data-series="{escape(name)}">')
        for run in _runs(points):
            line = " ".join(f"{x(i):.1f},{y(points[i]):.1f}" for i in run)
            parts.append(f'<polyline points="{line}" fill="none"/>')
        for index, value in enumerate(points):
            if value is not None:
                label = labels[index] if index < len(labels) else ""
                parts.append(f'<circle cx="{x(index):.1f}" cy="{y(value):.1f}" r="3">'
                             f"<title>{escape(name)} {escape(label)}: {value:g}</title></circle>")
        legend_x = left + number * 130
        parts.append(f'<rect x="{legend_x}" y="{height - 14}" width="10" height="10"/>'
                     f'<text class="legend" x="{legend_x + 14}" y="{height - 5}">{escape(name)}</text></g>')
    parts.append("</svg>")
    return Markup("".join(parts))


def _runs(points: Sequence[float | None]) -> list[list[int]]:
    """The indexes of each stretch of values without a gap."""
    runs: list[list[int]] = []
    for index, value in enumerate(points):
        if value is None:
            continue
        if runs and runs[-1][-1] == index - 1:
            runs[-1].append(index)
        else:
            runs.append([index])
    return runs


def bar_chart(bars: Sequence[tuple[str, Number]], *, title: str, width: int = 640,
              shown: Callable[[float], str] = lambda v: f"{v:g}") -> Markup:
    """Horizontal bars, one per (label, value), longest first as given; `shown` formats the values."""
    label_w, value_w, row_h = 170, 70, 24
    plot_w = width - label_w - value_w
    values = [(label, max(0.0, _number(value))) for label, value in bars]
    ceiling = nice_ceiling(max((v for _, v in values), default=0.0))
    height = max(1, len(values)) * row_h + 8
    parts = [f'<svg class="chart bar-chart" viewBox="0 0 {width} {height}" role="img" aria-label="{escape(title)}" '
             f'xmlns="http://www.w3.org/2000/svg">', f"<title>{escape(title)}</title>"]
    if not values:
        parts.append(f'<text class="empty" x="{width / 2}" y="18" text-anchor="middle">No data</text>')
    for row, (label, value) in enumerate(values):
        top = 4 + row * row_h
        length = value / ceiling * plot_w
        parts.append(f'<g class="bar series-0" data-label="{escape(label)}">'
                     f'<text class="tick" x="{label_w - 8}" y="{top + 15}" text-anchor="end">{escape(label)}</text>'
                     f'<rect x="{label_w}" y="{top + 3}" width="{length:.1f}" height="{row_h - 8}">'
                     f"<title>{escape(label)}: {escape(shown(value))}</title></rect>"
                     f'<text class="tick" x="{label_w + length + 6:.1f}" y="{top + 15}">{escape(shown(value))}</text>'
                     "</g>")
    parts.append("</svg>")
    return Markup("".join(parts))
