"""Charts rendered server-side as standalone, accessible SVG (no scripts, no external files)."""

from mes.charts.svg import Bar, bar_chart, histogram

__all__ = ["Bar", "bar_chart", "histogram"]
