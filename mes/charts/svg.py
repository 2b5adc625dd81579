"""Accessible SVG charts: horizontal bars with confidence intervals, and histograms.

Reports run on NHS networks that are often offline, so charts are plain SVG
strings with inline styles: no script, no font or stylesheet fetched from
anywhere. Each chart carries ``role="img"``, a ``<title>`` and a ``<desc>``
summarising it in words; the HTML report puts a table with the same numbers
next to every chart. Suppressed groups are drawn as a labelled gap ("fewer
than N responses"), never as a bar.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from html import escape
from itertools import count

__all__ = ["BAND_COLOURS", "Bar", "bar_chart", "histogram"]

BAND_COLOURS = {
    "lowest": "#b2182b",
    "low": "#ef8a62",
    "medium": "#9e9e9e",
    "high": "#67a9cf",
    "highest": "#2166ac",
}
_DEFAULT_COLOUR = "#3f6fb5"
_FONT = "font-family:system-ui,-apple-system,'Segoe UI',Roboto,Arial,sans-serif"
_ids = count(1)


@dataclass(frozen=True)
class Bar:
    """One bar: a value with an optional confidence interval and benchmark band.

    ``value`` is None for a suppressed group; ``note`` is then shown instead.
    """

    label: str
    value: float | None
    low: float | None = None
    high: float | None = None
    band: str | None = None
    note: str | None = None


def _fmt(x: float, digits: int = 1) -> str:
    return f"{x:.{digits}f}"


def bar_chart(
    bars: Sequence[Bar],
    *,
    title: str,
    description: str,
    x_min: float = 0.0,
    x_max: float = 100.0,
    unit: str = "",
    origin: float | None = None,
    digits: int = 1,
    width: int = 700,
) -> str:
    """Horizontal bar chart with CI whiskers, as an SVG string.

    Parameters
    ----------
    bars : sequence of Bar
    title, description : str
        Read by screen readers (``<title>``, ``<desc>``) and shown as a tooltip.
    x_min, x_max : float
        Axis range; values are clipped to it.
    unit : str
        Appended to value labels (e.g. ``"%"``).
    origin : float, optional
        Where bars start (default ``x_min``); 0 for differences that may be negative.
    digits : int
        Decimals of the values shown.

    Returns
    -------
    str
        ``<svg>`` markup.

    Examples
    --------
    >>> svg = bar_chart([Bar("Surgery", 61.5, 58.0, 65.0, band="high"),
    ...                  Bar("Paediatrics", None, note="fewer than 10 responses")],
    ...                 title="Index by specialty", description="Surgery 61.5")
    >>> svg.count("<rect"), "fewer than 10 responses" in svg  # no bar for a hidden group
    (1, True)
    """
    if x_max <= x_min:
        raise ValueError(f"x_max ({x_max}) must be greater than x_min ({x_min})")
    label_w, value_w, row_h, top, bottom = 250, 70, 26, 10, 28
    plot_w = width - label_w - value_w
    height = top + row_h * len(bars) + bottom
    uid = f"c{next(_ids)}"

    def x(v: float) -> float:
        v = min(max(v, x_min), x_max)
        return label_w + (v - x_min) / (x_max - x_min) * plot_w

    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" role="img" width="{width}" '
        f'height="{height}" viewBox="0 0 {width} {height}" aria-labelledby="{uid}t {uid}d" '
        f'style="{_FONT};font-size:12px">',
        f'<title id="{uid}t">{escape(title)}</title>',
        f'<desc id="{uid}d">{escape(description)}</desc>',
    ]
    for tick in _ticks(x_min, x_max):
        tx = x(tick)
        parts.append(f'<line x1="{tx:.1f}" y1="{top}" x2="{tx:.1f}" '
                     f'y2="{height - bottom}" stroke="#e0e0e0"/>')
        parts.append(f'<text x="{tx:.1f}" y="{height - bottom + 16}" text-anchor="middle" '
                     f'fill="#555">{_fmt(tick).removesuffix(".0")}</text>')
    for i, bar in enumerate(bars):
        y = top + i * row_h
        short = bar.label if len(bar.label) <= 38 else bar.label[:36] + "\u2026"
        parts.append(f'<text x="{label_w - 8}" y="{y + row_h / 2 + 4:.1f}" text-anchor="end" '
                     f'fill="#222"><title>{escape(bar.label)}</title>{escape(short)}</text>')
        if bar.value is None or math.isnan(bar.value):
            parts.append(f'<text x="{label_w + 4}" y="{y + row_h / 2 + 4:.1f}" fill="#666" '
                         f'font-style="italic">{escape(bar.note or "no data")}</text>')
            continue
        colour = BAND_COLOURS.get(bar.band or "", _DEFAULT_COLOUR)
        x0, x1 = sorted((x(x_min if origin is None else origin), x(bar.value)))
        band_text = f", band {bar.band}" if bar.band else ""
        ci_text = (f", 95% CI {_fmt(bar.low, digits)} to {_fmt(bar.high, digits)}"
                   if bar.low is not None and bar.high is not None else "")
        parts.append(
            f'<rect x="{x0:.1f}" y="{y + 5}" width="{max(x1 - x0, 0.5):.1f}" '
            f'height="{row_h - 10}" fill="{colour}"><title>{escape(bar.label)}: '
            f'{_fmt(bar.value, digits)}{escape(unit)}{ci_text}{band_text}</title></rect>'
        )
        if bar.low is not None and bar.high is not None:
            lx, hx, cy = x(bar.low), x(bar.high), y + row_h / 2
            parts.append(f'<path d="M{lx:.1f},{cy:.1f}H{hx:.1f}M{lx:.1f},{cy - 5:.1f}'
                         f'V{cy + 5:.1f}M{hx:.1f},{cy - 5:.1f}V{cy + 5:.1f}" '
                         f'stroke="#222" stroke-width="1.2" fill="none"/>')
        parts.append(f'<text x="{label_w + plot_w + 6}" y="{y + row_h / 2 + 4:.1f}" '
                     f'fill="#222">{_fmt(bar.value, digits)}{escape(unit)}</text>')
    parts.append("</svg>")
    return "".join(parts)


def histogram(
    edges: Sequence[float],
    counts: Sequence[float | None],
    *,
    title: str,
    description: str,
    unit: str = "",
    width: int = 640,
    height: int = 220,
) -> str:
    """Vertical histogram of binned counts or shares, as an SVG string.

    Parameters
    ----------
    edges : sequence of float
        Bin edges (one more than ``counts``).
    counts : sequence of float or None
        Height of each bin (respondents, or a share); None for a bin withheld (a gap).
    unit : str
        Appended to the values shown (e.g. ``"%"``).

    Examples
    --------
    >>> svg = histogram([0, 50, 100], [3, 7], title="Index", description="two bins")
    >>> svg.count("<rect")
    2
    """
    if len(edges) != len(counts) + 1:
        raise ValueError(f"edges needs one more value than counts ({len(edges)} vs {len(counts)})")
    left, right, top, bottom = 40, 10, 10, 30
    plot_w, plot_h = width - left - right, height - top - bottom
    peak = max([c for c in counts if c is not None] or [0]) or 1
    uid = f"h{next(_ids)}"
    bin_w = plot_w / max(len(counts), 1)
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" role="img" width="{width}" '
        f'height="{height}" viewBox="0 0 {width} {height}" aria-labelledby="{uid}t {uid}d" '
        f'style="{_FONT};font-size:11px">',
        f'<title id="{uid}t">{escape(title)}</title>',
        f'<desc id="{uid}d">{escape(description)}</desc>',
        f'<line x1="{left}" y1="{top + plot_h}" x2="{left + plot_w}" y2="{top + plot_h}" '
        f'stroke="#888"/>',
    ]
    for i, c in enumerate(counts):
        bx = left + i * bin_w
        label = f"{_fmt(edges[i])} to {_fmt(edges[i + 1])}"
        if c is None:
            continue
        h = c / peak * plot_h
        parts.append(f'<rect x="{bx + 1:.1f}" y="{top + plot_h - h:.1f}" '
                     f'width="{max(bin_w - 2, 0.5):.1f}" height="{h:.1f}" fill="{_DEFAULT_COLOUR}">'
                     f'<title>{label}: {c:g}{escape(unit)}</title></rect>')
    for i, edge in enumerate(edges):
        if i % max(1, len(edges) // 6) == 0 or i == len(edges) - 1:
            parts.append(f'<text x="{left + i * bin_w:.1f}" y="{height - 12}" '
                         f'text-anchor="middle" fill="#555">{_fmt(edge).removesuffix(".0")}</text>')
    parts.append(f'<text x="{left - 6}" y="{top + 8}" text-anchor="end" fill="#555">'
                 f'{peak:g}{escape(unit)}</text>')
    parts.append("</svg>")
    return "".join(parts)


def _ticks(lo: float, hi: float) -> list[float]:
    """Round tick values: a step of 1, 2 or 5 x 10^k giving 4 to 10 intervals."""
    span = hi - lo
    magnitude = 10 ** math.floor(math.log10(span))
    steps = (m * magnitude / 10 for m in (1, 2, 5, 10, 20, 50))
    step = next(s for s in steps if span / s <= 10)
    first = math.ceil(lo / step) * step
    return [round(first + i * step, 9) for i in range(int((hi - first) / step + 1e-9) + 1)]
