"""Charts rendered server-side as standalone, accessible SVG (no scripts, no external files)."""

from mes.charts.palette import BAND_COLOURS, band_colours
from mes.charts.svg import (
    Bar,
    LegendEntry,
    LinearScale,
    LineSeries,
    bar_chart,
    histogram,
    line_chart,
)
from mes.charts.ticks import Ticks, nice_ticks

__all__ = [
    "BAND_COLOURS",
    "Bar",
    "LegendEntry",
    "LineSeries",
    "LinearScale",
    "Ticks",
    "band_colours",
    "bar_chart",
    "histogram",
    "line_chart",
    "nice_ticks",
]
