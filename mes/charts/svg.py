"""Accessible, responsive SVG charts: horizontal bars with confidence intervals, histograms,
and lines over waves.

Reports run on NHS networks that are often offline, so charts are plain SVG
strings with inline styles: no script, no font or stylesheet fetched from
anywhere. Each chart

* scales to its container (a ``viewBox``, ``width="100%"``, ``height:auto``),
  so it fits a phone as well as a desk screen or an A4 page; its text is sized
  for the width it is drawn at, not for a fixed 700 px;
* explains itself: a legend (or direct value labels), round axis ticks
  (:func:`~mes.charts.ticks.nice_ticks`) and an axis title;
* carries ``role="img"``, a ``<title>`` and a ``<desc>`` summarising the numbers
  in words, for screen readers (the HTML report also puts a table with the same
  numbers next to every chart);
* never uses colour alone: colours come from :mod:`mes.charts.palette` and
  every coloured mark also has a text label.

Suppressed groups are drawn as a labelled gap ("fewer than N responses"),
never as a bar.

The pieces (:class:`LinearScale`, the root element, axis and legend builders)
are shared: :func:`line_chart` (a series of waves) composes them the same way
:func:`bar_chart` and :func:`histogram` do. A value withheld from a line chart is
left out (no point, the line breaks there) and its description says why.
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from html import escape
from itertools import count

from mes.charts.palette import BAND_COLOURS, NO_BAND, OKABE_ITO, SERIES
from mes.charts.ticks import Ticks, format_number, nice_ticks

__all__ = [
    "BAND_COLOURS",
    "Bar",
    "LegendEntry",
    "LineSeries",
    "LinearScale",
    "bar_chart",
    "histogram",
    "line_chart",
]

_FONT = "font-family:system-ui,-apple-system,'Segoe UI',Roboto,Arial,sans-serif"
_MUTED = "#555555"
_GRID = "#dddddd"
_INK = "#222222"
# Advance widths in ems, rounded up from DejaVu Sans (the widest of the usual sans-serif
# fonts), so that text measured here is never wider once drawn.
_NARROW, _WIDE = frozenset("il.,:;'|!()[] Ijft"), frozenset("mwMW%@")
_MAX_SCALE = 1.1  # a chart is drawn at most this many pixels per viewBox unit
_ids = count(1)


@dataclass(frozen=True)
class Bar:
    """One bar: a value with an optional confidence interval and benchmark band.

    ``value`` is None for a suppressed group; ``note`` is then shown instead.
    ``colour`` overrides the bar's colour (a band's colour otherwise, or the
    chart's single colour).
    """

    label: str
    value: float | None
    low: float | None = None
    high: float | None = None
    band: str | None = None
    note: str | None = None
    colour: str | None = None


@dataclass(frozen=True)
class LegendEntry:
    """One key of a legend: a mark drawn in ``colour`` and what it means.

    ``mark`` is ``"box"`` (a bar or a cell), ``"whisker"`` (a confidence
    interval) or ``"line"`` (a series of a line chart, drawn with ``dash``, a
    ``stroke-dasharray``).
    """

    label: str
    colour: str
    mark: str = "box"
    dash: str = ""


@dataclass(frozen=True)
class LinearScale:
    """Maps data values onto a pixel range, clipping values outside the domain.

    Examples
    --------
    >>> s = LinearScale(0.0, 100.0, 10.0, 410.0)
    >>> s(50.0), s(150.0)
    (210.0, 410.0)
    """

    lo: float
    hi: float
    start: float
    end: float

    def __post_init__(self) -> None:
        if self.hi <= self.lo:
            raise ValueError(f"hi ({self.hi}) must be greater than lo ({self.lo})")

    def __call__(self, value: float) -> float:
        v = min(max(value, self.lo), self.hi)
        return self.start + (v - self.lo) / (self.hi - self.lo) * (self.end - self.start)


def text_width(text: str, size: float) -> float:
    """Drawn width of ``text`` at font ``size``, estimated generously (no font metrics offline).

    Examples
    --------
    >>> text_width("10%", 10) > text_width("100", 10) > text_width("1.1", 10)
    True
    """
    ems = sum(0.34 if c in _NARROW else 1.0 if c in _WIDE else 0.72 if c.isupper() else 0.64
              for c in text)
    return ems * size


def _fmt(x: float, digits: int = 1, *, signed: bool = False) -> str:
    text = format_number(x, digits)
    return text if not signed or text.startswith("-") or float(text) == 0 else "+" + text


def _svg_open(width: float, height: float, title: str, description: str,
              font_size: float) -> list[str]:
    """The root element, responsive, with its accessible name and description."""
    uid = f"c{next(_ids)}"
    return [
        f'<svg xmlns="http://www.w3.org/2000/svg" role="img" viewBox="0 0 {width:g} '
        f'{height:.0f}" width="100%" preserveAspectRatio="xMinYMin meet" '
        f'aria-labelledby="{uid}t {uid}d" class="chart" style="{_FONT};font-size:{font_size}px;'
        f'max-width:{width * _MAX_SCALE:.0f}px;height:auto;display:block">',
        f'<title id="{uid}t">{escape(title)}</title>',
        f'<desc id="{uid}d">{escape(description)}</desc>',
    ]


def _legend_mark(entry: LegendEntry, x: float, y: float) -> str:
    if entry.mark == "whisker":
        return (f'<path d="M{x:.1f},{y + 6:.1f}H{x + 16:.1f}M{x:.1f},{y + 1:.1f}V{y + 11:.1f}'
                f'M{x + 16:.1f},{y + 1:.1f}V{y + 11:.1f}" stroke="{entry.colour}" '
                'stroke-width="1.5" fill="none"/>')
    if entry.mark == "line":
        dash = f' stroke-dasharray="{entry.dash}"' if entry.dash else ""
        return (f'<path d="M{x:.1f},{y + 6:.1f}H{x + 16:.1f}" stroke="{entry.colour}" '
                f'stroke-width="2.5" fill="none"{dash}/>'
                f'<circle cx="{x + 8:.1f}" cy="{y + 6:.1f}" r="3.5" fill="{entry.colour}"/>')
    return (f'<rect x="{x + 2:.1f}" y="{y}" width="12" height="12" fill="{entry.colour}" '
            'stroke="#444444" stroke-width="0.75"/>')


def _legend(entries: Sequence[LegendEntry], *, x: float, y: float, width: float,
            size: float) -> tuple[str, float]:
    """A legend that wraps onto new rows within ``width``; returns markup and height used."""
    if not entries:
        return "", 0.0
    row_h = size + 8
    parts = ['<g class="legend">']
    cx, cy = x, y
    for entry in entries:
        item_w = 22 + text_width(entry.label, size) + 14
        if cx > x and cx + item_w > x + width:
            cx, cy = x, cy + row_h
        parts.append(_legend_mark(entry, cx, cy))
        parts.append(f'<text x="{cx + 22:.1f}" y="{cy + 10.5:.1f}" fill="{_INK}">'
                     f'{escape(entry.label)}</text>')
        cx += item_w
    parts.append("</g>")
    return "".join(parts), cy - y + row_h


def _x_axis(ticks: Ticks, scale: LinearScale, *, top: float, bottom: float, unit: str,
            title: str, size: float, origin: float | None = None) -> str:
    """Vertical gridlines at the ticks, their labels under the plot, and the axis title."""
    parts = ['<g class="axis">']
    for value, label in zip(ticks.values, ticks.labels(unit), strict=True):
        tx = scale(value)
        stroke = "#777777" if origin is not None and value == origin else _GRID
        parts.append(f'<line x1="{tx:.1f}" y1="{top:.1f}" x2="{tx:.1f}" y2="{bottom:.1f}" '
                     f'stroke="{stroke}"/>')
        parts.append(f'<text x="{tx:.1f}" y="{bottom + size + 3:.1f}" text-anchor="middle" '
                     f'fill="{_MUTED}">{escape(label)}</text>')
    if title:
        parts.append(_axis_title(title, (scale.start + scale.end) / 2, bottom, size))
    parts.append("</g>")
    return "".join(parts)


def _y_axis(ticks: Ticks, scale: LinearScale, *, left: float, right: float, unit: str,
            size: float) -> str:
    """Horizontal gridlines at the ticks with their labels left of the plot."""
    parts = ['<g class="axis">']
    for value, label in zip(ticks.values, ticks.labels(unit), strict=True):
        ty = scale(value)
        parts.append(f'<line x1="{left:.1f}" y1="{ty:.1f}" x2="{right:.1f}" y2="{ty:.1f}" '
                     f'stroke="{_GRID}"/>')
        parts.append(f'<text x="{left - 5:.1f}" y="{ty + size / 3:.1f}" text-anchor="end" '
                     f'fill="{_MUTED}">{escape(label)}</text>')
    parts.append("</g>")
    return "".join(parts)


def _clip_label(label: str, room: float, size: float) -> str:
    """``label``, or as much of it as fits in ``room`` followed by an ellipsis."""
    if text_width(label, size) <= room:
        return label
    cut = label
    while len(cut) > 3 and text_width(cut + "\u2026", size) > room:
        cut = cut[:-1]
    return cut.rstrip() + "\u2026"


def _bar_summary(bars: Sequence[Bar], unit: str, digits: int, signed: bool) -> str:
    """Every bar in words, for the chart's ``<desc>``."""
    said = []
    for bar in bars:
        if bar.value is None or math.isnan(bar.value):
            said.append(f"{bar.label}: {bar.note or 'no data'}")
            continue
        text = f"{bar.label}: {_fmt(bar.value, digits, signed=signed)}{unit}"
        if bar.low is not None and bar.high is not None:
            text += (f" (95% confidence interval {_fmt(bar.low, digits, signed=signed)} to "
                     f"{_fmt(bar.high, digits, signed=signed)})")
        if bar.band:
            text += f", {bar.band} band"
        said.append(text)
    return "; ".join(said) or "no values"


def _bar_legend(bars: Sequence[Bar], bands: Mapping[str, str], value_label: str,
                interval_label: str, extra: Sequence[LegendEntry]) -> list[LegendEntry]:
    shown = [b for b in bars if b.value is not None and not math.isnan(b.value)]
    entries: list[LegendEntry] = []
    if any(b.band for b in shown):
        entries += [LegendEntry(f"{label} band", colour) for label, colour in bands.items()]
        if any(not b.band and not b.colour for b in shown):
            entries.append(LegendEntry("no benchmark", NO_BAND))
    elif not all(b.colour for b in shown):
        entries.append(LegendEntry(value_label, SERIES))
    entries += extra
    if any(b.low is not None and b.high is not None for b in shown):
        entries.append(LegendEntry(interval_label, _INK, "whisker"))
    return entries


def bar_chart(
    bars: Sequence[Bar],
    *,
    title: str,
    description: str | None = None,
    x_min: float = 0.0,
    x_max: float = 100.0,
    unit: str = "",
    origin: float | None = None,
    digits: int = 1,
    width: int = 440,
    axis_label: str = "",
    value_label: str = "mean",
    interval_label: str = "95% confidence interval",
    band_colours: Mapping[str, str] | None = None,
    legend: Sequence[LegendEntry] = (),
    signed: bool = False,
    font_size: float = 14,
) -> str:
    """Horizontal bar chart with CI whiskers and a legend, as a responsive SVG string.

    Each bar's label sits above it (so long names need no side column on a
    phone), its value right of the plot, and its band, if any, right-aligned on
    the label's line.

    Parameters
    ----------
    bars : sequence of Bar
    title : str
        Read by screen readers (``<title>``) and shown as a tooltip.
    description : str, optional
        Read by screen readers (``<desc>``); default: every bar's value, interval
        and band in words.
    x_min, x_max : float
        Range of the data; the axis widens it to round ticks and clips values beyond.
    unit : str
        Appended to value and tick labels (e.g. ``"%"``).
    origin : float, optional
        Where bars start (default the axis's lower end); 0 for differences that may
        be negative.
    digits : int
        Decimals of the values shown.
    width : int
        Width of the ``viewBox``; the chart is drawn at the width of its container,
        up to 1.1 times this, keeping its proportions.
    axis_label : str
        Title under the axis (what the values are).
    value_label : str
        What a bar shows, in the legend of a chart without bands (``"mean"``).
    interval_label : str
        What a whisker shows, in the legend.
    band_colours : mapping of band label -> colour, optional
        Lowest band first (default :data:`BAND_COLOURS`); all are listed in the
        legend when any bar has a band.
    legend : sequence of LegendEntry
        Further legend entries (for bars given their own ``colour``).
    signed : bool
        Show a "+" on positive values (changes).
    font_size : float
        In ``viewBox`` units.

    Returns
    -------
    str
        ``<svg>`` markup.

    Raises
    ------
    ValueError
        If ``x_max`` is not greater than ``x_min``.

    Examples
    --------
    >>> svg = bar_chart([Bar("Surgery", 61.5, 58.0, 65.0, band="high"),
    ...                  Bar("Paediatrics", None, note="fewer than 10 responses")],
    ...                 title="Index by specialty")
    >>> svg.count('class="bar"')  # no bar for the hidden group
    1
    >>> "fewer than 10 responses" in svg, 'viewBox="0 0 440 ' in svg
    (True, True)
    """
    if x_max <= x_min:
        raise ValueError(f"x_max ({x_max}) must be greater than x_min ({x_min})")
    bands = dict(BAND_COLOURS if band_colours is None else band_colours)
    size = font_size
    row_h, bar_h, pad = 2.0 * size + 14, size + 1, 8.0
    ticks = nice_ticks(x_min, x_max, max_intervals=max(2, int((width - 80) / 38)))
    values = [_fmt(b.value, digits, signed=signed) + unit for b in bars
              if b.value is not None and not math.isnan(b.value)]
    labels = ticks.labels(unit)
    value_w = max([text_width(v, size) for v in values] + [text_width(labels[-1], size) / 2]) + 12
    # The first tick's label is centred on the plot's left end: leave it room.
    left = max(pad, text_width(labels[0], size) / 2 + 2)
    scale = LinearScale(ticks.lo, ticks.hi, left, width - value_w)
    legend_svg, legend_h = _legend(
        _bar_legend(bars, bands, value_label, interval_label, legend),
        x=pad, y=4, width=width - 2 * pad, size=size)
    top = 4 + legend_h + 6
    bottom = top + row_h * len(bars)
    height = bottom + (2 * size + 14 if axis_label else size + 10)
    parts = _svg_open(width, height, title, description or _bar_summary(bars, unit, digits,
                                                                          signed), size)
    parts.append(legend_svg)
    parts.append(_x_axis(ticks, scale, top=top, bottom=bottom, unit=unit, title=axis_label,
                         size=size, origin=origin))
    start = ticks.lo if origin is None else origin
    # In a chart coloured by band, a bar without one must not look like a band.
    fallback = NO_BAND if any(b.band for b in bars) else SERIES
    for i, bar in enumerate(bars):
        parts.append(_bar_row(bar, top + i * row_h, scale, start, bands, fallback, size=size,
                              bar_h=bar_h, value_x=width - value_w + 6, unit=unit,
                              digits=digits, signed=signed, right=width - pad))
    parts.append("</svg>")
    return "".join(parts)


def _bar_row(bar: Bar, y: float, scale: LinearScale, start: float, bands: Mapping[str, str],
             fallback: str, *, size: float, bar_h: float, value_x: float, unit: str, digits: int,
             signed: bool, right: float) -> str:
    """One row: the label (and band) above, then the bar, its whisker and its value."""
    label_y, bar_y = y + size, y + size + 6
    mid = bar_y + bar_h / 2
    band_text = f"{bar.band} band" if bar.band and bar.value is not None else ""
    room = right - scale.start - (text_width(band_text, size * 0.9) + 10 if band_text else 0)
    parts = [f'<text x="{scale.start:.1f}" y="{label_y:.1f}" fill="{_INK}">'
             f'<title>{escape(bar.label)}</title>{escape(_clip_label(bar.label, room, size))}'
             "</text>"]
    if bar.value is None or math.isnan(bar.value):
        note = bar.note or "no data"
        parts.append(f'<text x="{scale.start + 2:.1f}" y="{mid + size / 3:.1f}" fill="#666666" '
                     f'font-style="italic"><title>{escape(note)}</title>'
                     f'{escape(_clip_label(note, right - scale.start, size))}</text>')
        return "".join(parts)
    if band_text:
        parts.append(f'<text x="{right:.1f}" y="{label_y:.1f}" text-anchor="end" '
                     f'fill="{_MUTED}" font-size="{size * 0.9:g}">{escape(band_text)}</text>')
    colour = bar.colour or bands.get(bar.band or "", fallback)
    x0, x1 = sorted((scale(start), scale(bar.value)))
    shown = _fmt(bar.value, digits, signed=signed) + unit
    ci_text = (f", 95% CI {_fmt(bar.low, digits, signed=signed)} to "
               f"{_fmt(bar.high, digits, signed=signed)}"
               if bar.low is not None and bar.high is not None else "")
    parts.append(
        f'<rect class="bar" x="{x0:.1f}" y="{bar_y:.1f}" width="{max(x1 - x0, 0.5):.1f}" '
        f'height="{bar_h:g}" fill="{colour}" stroke="#444444" stroke-width="0.75">'
        f'<title>{escape(bar.label)}: {escape(shown)}{ci_text}'
        f'{escape(", " + band_text) if band_text else ""}</title></rect>'
    )
    if bar.low is not None and bar.high is not None:
        lx, hx = scale(bar.low), scale(bar.high)
        parts.append(f'<path d="M{lx:.1f},{mid:.1f}H{hx:.1f}M{lx:.1f},{mid - 6:.1f}'
                     f'V{mid + 6:.1f}M{hx:.1f},{mid - 6:.1f}V{mid + 6:.1f}" '
                     f'stroke="{_INK}" stroke-width="1.5" fill="none"/>')
    parts.append(f'<text class="value" x="{value_x:.1f}" y="{mid + size / 3:.1f}" '
                 f'fill="{_INK}">{escape(shown)}</text>')
    return "".join(parts)


def histogram(
    edges: Sequence[float],
    counts: Sequence[float | None],
    *,
    title: str,
    description: str | None = None,
    unit: str = "",
    width: int = 440,
    height: int = 240,
    digits: int = 1,
    x_label: str = "",
    y_label: str = "",
    hidden_label: str = "not shown",
    font_size: float = 13,
) -> str:
    """Vertical histogram of binned counts or shares, as a responsive SVG string.

    The y axis has round ticks from 0, every bin its value written above it,
    and a withheld bin a label in place of a bar.

    Parameters
    ----------
    edges : sequence of float
        Bin edges (one more than ``counts``).
    counts : sequence of float or None
        Height of each bin (respondents, or a share); None for a bin withheld.
    title : str
        ``<title>`` of the chart.
    description : str, optional
        ``<desc>``; default: every bin's range and value in words.
    unit : str
        Appended to the values and y ticks shown (e.g. ``"%"``).
    width, height : int
        Of the ``viewBox``; drawn at the container's width, keeping proportions.
    digits : int
        Decimals of the values written above the bins.
    x_label, y_label : str
        Axis titles (what the bins are; what their heights are).
    hidden_label : str
        Written where a bin is withheld.
    font_size : float
        In ``viewBox`` units.

    Returns
    -------
    str

    Raises
    ------
    ValueError
        If ``edges`` is not one longer than ``counts``.

    Examples
    --------
    >>> svg = histogram([0, 50, 100], [3, 7], title="Index", unit="%")
    >>> svg.count("<rect"), ">7.0%<" in svg, ">8%<" in svg  # y ticks 0, 2 ... 8
    (2, True, True)
    """
    if len(edges) != len(counts) + 1:
        raise ValueError(f"edges needs one more value than counts ({len(edges)} vs {len(counts)})")
    size = font_size
    shown = [c for c in counts if c is not None]
    ticks = nice_ticks(0.0, max(shown), max_intervals=5) if shown and max(shown) > 0 else None
    tick_w = max((text_width(t, size) for t in ticks.labels(unit)), default=0.0) if ticks else 0
    # The first and last edge labels are centred on the plot's ends: leave them room.
    edge_w = text_width(format_number(float(edges[-1]), 0), size) / 2 + 4
    left, right = max(tick_w + 10, edge_w), width - max(8.0, edge_w)
    top = size + 14 if y_label else 8.0
    bottom = height - (2 * size + 14 if x_label else size + 10)
    xs = LinearScale(float(edges[0]), float(edges[-1]), left, right)
    parts = _svg_open(width, height, title, description or _bin_summary(edges, counts, unit,
                                                                        digits), size)
    if y_label:
        parts.append(f'<text class="axis-title" x="0" y="{size:g}" fill="{_MUTED}">'
                     f'{escape(y_label)}</text>')
    ys = LinearScale(0.0, ticks.hi if ticks else 1.0, bottom, top + size + 4)
    if ticks:
        parts.append(_y_axis(ticks, ys, left=left, right=right, unit=unit, size=size))
    parts.append(f'<line x1="{left:.1f}" y1="{bottom:.1f}" x2="{right:.1f}" y2="{bottom:.1f}" '
                 'stroke="#888888"/>')
    for i, c in enumerate(counts):
        parts.append(_bin(float(edges[i]), float(edges[i + 1]), c, xs, ys, unit=unit,
                          digits=digits, size=size, hidden_label=hidden_label))
    parts.append(_edge_labels(edges, xs, bottom=bottom, size=size))
    if x_label:
        parts.append(_axis_title(x_label, (left + right) / 2, bottom, size))
    parts.append("</svg>")
    return "".join(parts)


def _bin(lo: float, hi: float, value: float | None, xs: LinearScale, ys: LinearScale, *,
         unit: str, digits: int, size: float, hidden_label: str) -> str:
    """One bin: its bar with its value above, or the withheld label on the baseline."""
    x0, x1 = xs(lo), xs(hi)
    mid, bin_w = (x0 + x1) / 2, x1 - x0
    label = f"{format_number(lo, 0)} to {format_number(hi, 0)}"
    if value is None:
        text = hidden_label if text_width(hidden_label, size * 0.9) < bin_w - 2 else "\u2013"
        return (f'<text x="{mid:.1f}" y="{ys(0.0) - 5:.1f}" text-anchor="middle" '
                f'fill="#666666" font-style="italic" font-size="{size * 0.9:g}">'
                f'<title>{label}: {escape(hidden_label)}</title>{escape(text)}</text>')
    shown = _fmt(value, digits) + unit
    y = ys(value)
    parts = [f'<rect class="bar" x="{x0 + 1:.1f}" y="{y:.1f}" width="{max(bin_w - 2, 0.5):.1f}" '
             f'height="{ys(0.0) - y:.1f}" fill="{SERIES}"><title>{label}: {escape(shown)}'
             "</title></rect>"]
    if text_width(shown, size) < bin_w:
        parts.append(f'<text class="value" x="{mid:.1f}" y="{y - 4:.1f}" text-anchor="middle" '
                     f'fill="{_INK}">{escape(shown)}</text>')
    return "".join(parts)


def _edge_labels(edges: Sequence[float], xs: LinearScale, *, bottom: float,
                 size: float) -> str:
    """Bin edges under the axis, thinned so that neighbouring labels never touch."""
    texts = [format_number(float(e), 0 if float(e).is_integer() else 1) for e in edges]
    gap = (xs.end - xs.start) / max(len(edges) - 1, 1)
    need = max(text_width(t, size) for t in texts) + 6
    every = max(1, math.ceil(need / gap))
    last = len(edges) - 1
    shown = list(range(0, last + 1, every))
    if shown[-1] != last:
        # The upper end matters more than the label before it, if both do not fit.
        if (last - shown[-1]) * gap < need:
            shown.pop()
        shown.append(last)
    parts = []
    for i in shown:
        edge, text = edges[i], texts[i]
        parts.append(f'<text x="{xs(float(edge)):.1f}" y="{bottom + size + 3:.1f}" '
                     f'text-anchor="middle" fill="{_MUTED}">{escape(text)}</text>')
    return "".join(parts)


def _bin_summary(edges: Sequence[float], counts: Sequence[float | None], unit: str,
                 digits: int) -> str:
    return "; ".join(
        f"{format_number(float(a), 0)} to {format_number(float(b), 0)}: "
        + ("not shown" if c is None else _fmt(c, digits) + unit)
        for a, b, c in zip(edges[:-1], edges[1:], counts, strict=True)
    )


def _axis_title(text: str, centre: float, bottom: float, size: float) -> str:
    """An axis title centred under the tick labels of an axis at ``bottom``."""
    return (f'<text class="axis-title" x="{centre:.1f}" y="{bottom + 2 * size + 9:.1f}" '
            f'text-anchor="middle" fill="{_MUTED}">{escape(text)}</text>')


# ----- line charts: a value per category (wave) for each of several series -----------------

_LINE_COLOURS = tuple(OKABE_ITO[name] for name in (
    "blue", "vermillion", "bluish green", "reddish purple", "orange", "sky blue", "black"))
"""Okabe-Ito colours for the series of a line chart, in turn (yellow is too light to read
on white as a thin line)."""
_DASHES = ("", "7 3", "2 3", "9 3 2 3")
"""Dash patterns taken in turn with the colours, so that lines differ in greyscale too."""


@dataclass(frozen=True)
class LineSeries:
    """One line of a line chart: a value per category, oldest first.

    ``values[i]`` is None where the value is not shown (a group hidden in that wave):
    no point is drawn there, the line breaks, and ``notes[i]`` (default "not shown")
    says why in the chart's description. ``low`` and ``high`` give a confidence
    interval per category (a whisker); ``colour`` and ``dash`` override the chart's
    choice (a ``stroke-dasharray``, "" for solid).
    """

    label: str
    values: tuple[float | None, ...]
    low: tuple[float | None, ...] | None = None
    high: tuple[float | None, ...] | None = None
    notes: tuple[str | None, ...] | None = None
    colour: str | None = None
    dash: str | None = None

    def shown(self, i: int) -> bool:
        """Whether category ``i`` has a value to draw."""
        value = self.values[i]
        return value is not None and math.isfinite(value)

    def interval(self, i: int) -> tuple[float, float] | None:
        """The whisker of category ``i``, if it has one."""
        if self.low is None or self.high is None or not self.shown(i):
            return None
        lo, hi = self.low[i], self.high[i]
        if lo is None or hi is None or not (math.isfinite(lo) and math.isfinite(hi)):
            return None
        return lo, hi


def line_chart(
    series: Sequence[LineSeries],
    categories: Sequence[str],
    *,
    title: str,
    description: str | None = None,
    limits: tuple[float, float] | None = None,
    unit: str = "",
    digits: int = 2,
    width: int = 440,
    plot_height: int = 190,
    x_label: str = "",
    y_label: str = "",
    interval_label: str = "95% confidence interval",
    font_size: float = 14,
) -> str:
    """Lines over ordered categories (waves), with CI whiskers and a legend, as responsive SVG.

    Categories are evenly spaced along the x axis, labelled under it (on two staggered
    rows when they do not fit on one); the y axis has round ticks covering every value
    and whisker shown. Each series is one colour and dash pattern, named in the legend;
    its whiskers are nudged sideways so that overlapping intervals stay apart. A value
    that is None is left out: no point, the line breaks there, and the description says
    why.

    Parameters
    ----------
    series : sequence of LineSeries
        Each with one value (or None) per category.
    categories : sequence of str
        The x axis labels, in order (wave labels, oldest first).
    title : str
        ``<title>`` of the chart.
    description : str, optional
        ``<desc>``; default: every series' values and intervals in words, and why a
        value is missing.
    limits : (float, float), optional
        The range values can take (an answer scale, 1 to 5): the axis never goes beyond.
    unit : str
        Appended to values and tick labels.
    digits : int
        Decimals of the values in tooltips and the description.
    width, plot_height : int
        Width of the ``viewBox`` (drawn at the container's width, up to 1.1 times this)
        and height of the plotting area in it.
    x_label, y_label : str
        Axis titles (what the categories are; what the values are).
    interval_label : str
        What a whisker shows, in the legend.
    font_size : float
        In ``viewBox`` units.

    Returns
    -------
    str
        ``<svg>`` markup; each series a ``<g class="series">`` holding its
        ``path.line`` segments, ``path.whisker`` intervals and ``circle.point`` values;
        the category labels in ``<g class="categories">``.

    Raises
    ------
    ValueError
        A series without one value per category, no category, or ``limits`` not
        increasing.

    Examples
    --------
    >>> svg = line_chart([LineSeries("overall", (3.4, 3.5, 3.7), (3.3, 3.4, 3.6),
    ...                              (3.5, 3.6, 3.8)),
    ...                   LineSeries("Surgery", (3.1, None, 3.6),
    ...                              notes=(None, "fewer than 10 responses", None))],
    ...                  ["2022", "2024", "2026"], title="Index by wave", limits=(1, 5))
    >>> svg.count('class="point"'), svg.count('class="whisker"')
    (5, 3)
    >>> "Surgery: 2022 3.10; 2024 not shown (fewer than 10 responses)" in svg
    True
    """
    m = len(categories)
    if m == 0:
        raise ValueError("categories: a line chart needs at least one category")
    for s in series:
        for name, values in (("values", s.values), ("low", s.low), ("high", s.high),
                             ("notes", s.notes)):
            if values is not None and len(values) != m:
                raise ValueError(f"series {s.label!r}: {name} has {len(values)} entries for "
                                 f"{m} categories")
    if limits is not None and limits[1] <= limits[0]:
        raise ValueError(f"limits must be increasing, got {limits}")
    size = font_size
    pad = 8.0
    ticks = _line_ticks(series, limits)
    tick_w = max(text_width(t, size) for t in ticks.labels(unit))
    left, right = tick_w + 10, width - pad
    gap = (right - left) / m
    label_w = max(text_width(c, size) for c in categories)
    rows = 1 if label_w <= gap - 6 or m == 1 else 2
    room = gap - 6 if rows == 1 else 2 * gap - 6
    # Series given no colour take the chart's colours in turn.
    turns = itertools.accumulate((s.colour is None for s in series), initial=0)
    styled = [_styled(s, j) for s, j in zip(series, turns, strict=False)]
    entries = [LegendEntry(s.label, s.colour or SERIES, "line", s.dash or "") for s in styled]
    if any(s.interval(i) is not None for s in series for i in range(m)):
        entries.append(LegendEntry(interval_label, _INK, "whisker"))
    legend_svg, legend_h = _legend(entries, x=pad, y=4, width=width - 2 * pad, size=size)
    y_title = legend_h + 6 + size if y_label else legend_h
    top = y_title + size * 0.6 + 6
    bottom = top + plot_height
    labels_h = rows * (size + 4)
    height = bottom + labels_h + (size + 12 if x_label else 8)
    parts = _svg_open(width, height, title,
                      description or _line_summary(series, categories, unit, digits), size)
    parts.append(legend_svg)
    if y_label:
        parts.append(f'<text class="axis-title" x="0" y="{y_title:.1f}" fill="{_MUTED}">'
                     f'{escape(y_label)}</text>')
    ys = LinearScale(ticks.lo, ticks.hi, bottom, top)
    parts.append(_y_axis(ticks, ys, left=left, right=right, unit=unit, size=size))
    parts.append(f'<line x1="{left:.1f}" y1="{bottom:.1f}" x2="{right:.1f}" y2="{bottom:.1f}" '
                 'stroke="#888888"/>')
    xs = [left + (i + 0.5) * gap for i in range(m)]
    parts.append('<g class="categories">')
    for i, (x, category) in enumerate(zip(xs, categories, strict=True)):
        y = bottom + size + 3 + (i % rows) * (size + 4)
        shown = _clip_label(category, room, size)
        # A label cut short keeps the whole of it as a tooltip.
        whole = f"<title>{escape(category)}</title>" if shown != category else ""
        parts.append(f'<text x="{x:.1f}" y="{y:.1f}" text-anchor="middle" fill="{_MUTED}">'
                     f"{whole}{escape(shown)}</text>")
    parts.append("</g>")
    if x_label:
        parts.append(f'<text class="axis-title" x="{(left + right) / 2:.1f}" '
                     f'y="{bottom + labels_h + size + 4:.1f}" text-anchor="middle" '
                     f'fill="{_MUTED}">{escape(x_label)}</text>')
    nudge = min(5.0, gap * 0.3 / max(len(series) - 1, 1))
    for j, s in enumerate(styled):
        offset = (j - (len(series) - 1) / 2) * nudge
        parts.append(_line_series(s, [x + offset for x in xs], ys, categories, unit=unit,
                                  digits=digits))
    parts.append("</svg>")
    return "".join(parts)


def _styled(series: LineSeries, j: int) -> LineSeries:
    """The series with its colour and dash pattern: the chart's ``j``-th where unset."""
    colour = series.colour or _LINE_COLOURS[j % len(_LINE_COLOURS)]
    dash = series.dash if series.dash is not None else _DASHES[
        (j // len(_LINE_COLOURS) + j) % len(_DASHES)]
    return LineSeries(series.label, series.values, series.low, series.high, series.notes,
                      colour, dash)


def _line_ticks(series: Sequence[LineSeries], limits: tuple[float, float] | None) -> Ticks:
    """Round ticks covering every shown value and whisker, within ``limits``."""
    seen = [v for s in series for i in range(len(s.values)) if s.shown(i)
            for v in (s.values[i], *(s.interval(i) or ())) if v is not None]
    if not seen:
        lo, hi = limits if limits is not None else (0.0, 1.0)
    else:
        lo, hi = min(seen), max(seen)
        margin = max((hi - lo) * 0.08, 0.05 * max(abs(lo), abs(hi), 1.0))
        lo, hi = lo - margin, hi + margin
    if limits is not None:
        lo, hi = max(lo, limits[0]), min(hi, limits[1])
        if hi <= lo:
            lo, hi = limits
    return nice_ticks(float(lo), float(hi), max_intervals=5)


def _line_series(series: LineSeries, xs: Sequence[float], ys: LinearScale,
                 categories: Sequence[str], *, unit: str, digits: int) -> str:
    """One series: its line (broken where a value is missing), whiskers and points."""
    colour = series.colour or SERIES
    dash = f' stroke-dasharray="{series.dash}"' if series.dash else ""
    parts = ['<g class="series">']
    run: list[str] = []
    segments = []
    for i, x in enumerate(xs):
        if series.shown(i):
            run.append(f"{x:.1f},{ys(float(series.values[i] or 0.0)):.1f}")
            continue
        if len(run) > 1:
            segments.append(run)
        run = []
    if len(run) > 1:
        segments.append(run)
    for points in segments:
        parts.append(f'<path class="line" d="M{" L".join(points)}" stroke="{colour}" '
                     f'stroke-width="2.5" fill="none"{dash}/>')
    for i, x in enumerate(xs):
        interval = series.interval(i)
        if interval is None:
            continue
        lo, hi = ys(interval[0]), ys(interval[1])
        parts.append(f'<path class="whisker" d="M{x:.1f},{lo:.1f}V{hi:.1f}M{x - 4:.1f},'
                     f'{lo:.1f}H{x + 4:.1f}M{x - 4:.1f},{hi:.1f}H{x + 4:.1f}" '
                     f'stroke="{colour}" stroke-width="1.25" fill="none"/>')
    for i, x in enumerate(xs):
        if not series.shown(i):
            continue
        value = float(series.values[i] or 0.0)
        parts.append(f'<circle class="point" cx="{x:.1f}" cy="{ys(value):.1f}" r="4.5" '
                     f'fill="{colour}" stroke="#ffffff" stroke-width="1.25"><title>'
                     f"{escape(series.label)}, {escape(categories[i])}: "
                     f"{escape(_point_words(series, i, unit, digits))}</title></circle>")
    parts.append("</g>")
    return "".join(parts)


def _point_words(series: LineSeries, i: int, unit: str, digits: int) -> str:
    text = _fmt(float(series.values[i] or 0.0), digits) + unit
    interval = series.interval(i)
    if interval is not None:
        text += (f" (95% confidence interval {_fmt(interval[0], digits)} to "
                 f"{_fmt(interval[1], digits)})")
    return text


def _line_summary(series: Sequence[LineSeries], categories: Sequence[str], unit: str,
                  digits: int) -> str:
    """Every series in words, for the chart's ``<desc>``."""
    said = []
    for s in series:
        values = []
        for i, category in enumerate(categories):
            if s.shown(i):
                values.append(f"{category} {_point_words(s, i, unit, digits)}")
            else:
                note = (s.notes[i] if s.notes is not None else None) or "not shown"
                values.append(f"{category} not shown ({note})" if note != "not shown"
                              else f"{category} not shown")
        said.append(f"{s.label}: " + "; ".join(values))
    return ". ".join(said) or "no values"
