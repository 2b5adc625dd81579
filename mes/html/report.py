"""The human-readable survey report: one self-contained HTML page with SVG charts.

A medical director reads a page, not JSON, on a phone as often as on paper.
:func:`render_report_html` turns a :class:`~mes.groups.GroupReport` (already
suppressed) and, optionally, the reliability report, a comparison with the
previous wave, a trend over several waves, benchmarks and the aggregation check
into one HTML document that works offline (no script, no external file), fits a
390 px phone without sideways scrolling of the page, prints to A4 from the browser,
and puts a table with the same numbers behind every chart.

Every chart explains itself: its title names the scale, a legend or direct
labels say what bars, whiskers and colours mean, and its axis has round ticks.
Numbers are rounded by one rule everywhere (:mod:`mes.html.format`), so a
table never contradicts a warning.

Nothing here computes a statistic or decides what is suppressed: it renders
only what the report objects publish, so a group below the threshold appears
as "fewer than N responses" or "hidden so that another group cannot be worked out",
and nothing else - no bar, no heatmap value or colour.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping, Sequence
from datetime import UTC, datetime
from html import escape

from mes.charts import Bar, LegendEntry, LineSeries, bar_chart, histogram, line_chart
from mes.charts.palette import DECREASE, INCREASE, OKABE_ITO
from mes.groups import (
    Benchmark,
    ChangeCell,
    GroupReport,
    GroupSummary,
    ICCResult,
    Trend,
    TrendCell,
    WaveComparison,
    WavePoint,
)
from mes.groups.protection import TOO_FEW, suppression_note
from mes.groups.trends import ABSENT
from mes.html.format import decimals_against, num, num_against, ordinal
from mes.html.heatmap import BenchmarkGrid
from mes.html.icc import icc_note, icc_section
from mes.html.style import CSS
from mes.instrument import Instrument
from mes.reliability import ScaleCorrelations, ScaleReliability
from mes.reliability.flags import LOW_ALPHA
from mes.reliability.intercorrelation import BARELY_DISTINCT

__all__ = ["render_report_html"]


def render_report_html(
    instrument: Instrument,
    report: GroupReport,
    *,
    title: str | None = None,
    reliability: Mapping[str, ScaleReliability] | None = None,
    change: WaveComparison | None = None,
    trend: Trend | None = None,
    benchmarks: Sequence[Benchmark] = (),
    generated: datetime | None = None,
    intercorrelations: ScaleCorrelations | None = None,
    aggregation: Mapping[str, Mapping[str, ICCResult]] | None = None,
) -> str:
    """Render a survey report as a standalone HTML page.

    Parameters
    ----------
    instrument : Instrument
        The instrument the report was made with (titles, response scale).
    report : GroupReport
        From :func:`mes.summarise`; already suppressed.
    title : str, optional
        Page heading (default: the instrument's title).
    reliability : mapping of scale id -> ScaleReliability, optional
        From :func:`mes.reliability`; shown only when the overall group is
        published (a survey below the threshold shows nothing about itself).
    change : WaveComparison, optional
        From :func:`mes.groups.compare_waves` (this wave against the previous).
    trend : Trend, optional
        From :func:`mes.groups.compare_series` (this wave last): a "Trend over N waves"
        section with a line chart per scale (each wave's mean and 95% CI, a line per
        group) and a table of each wave and each step's change, CI and Hedges' g. A
        group a wave hides has no point in that wave, its line breaks there, and the
        steps into and out of that wave show why instead of a change.
    benchmarks : sequence of Benchmark
        From :func:`mes.groups.benchmark_report`: a group x scale heatmap, and
        bands colour the bars. A benchmark of a group or cell the report hides
        is never shown.
    generated : datetime, optional
        Shown in the header (default: now, UTC).
    intercorrelations : ScaleCorrelations, optional
        From :func:`mes.reliability.scale_intercorrelations`: whether the sub-scales
        are distinct (shown with the reliability, when the overall group is).
    aggregation : mapping of level -> scale id -> ICCResult, optional
        The aggregation check, ``report.aggregation`` (ICC(1) and ICC(2) over the
        groups the report shows): a "Can groups be compared?" section, and a
        one-line reading under each level's chart. Not shown when omitted.

    Returns
    -------
    str
        An HTML5 document.

    Examples
    --------
    >>> import mes
    >>> inst = mes.load_instrument("uwes9")
    >>> answers = {f"uwes{i}": [i % 7 for i in range(30)] for i in range(1, 10)}
    >>> page = render_report_html(inst, mes.summarise(inst, answers))
    >>> page.startswith("<!doctype html>"), "<svg" in page, "viewBox" in page
    (True, True, True)
    """
    page = _Page(instrument, report, benchmarks)
    heading = title or instrument.title
    when = (generated or datetime.now(UTC)).strftime("%d %B %Y, %H:%M UTC")
    overall = report.overall
    n_text = (f"{overall.n} respondents" if not overall.suppressed
              else f"fewer than {report.min_group_size} respondents")
    body = [
        f"<header><h1>{escape(heading)}</h1><p class='muted'>{escape(instrument.title)} "
        f"({escape(instrument.id)}, version {escape(instrument.version)}) &middot; {n_text} "
        f"&middot; generated {escape(when)}</p></header>",
    ]
    if overall.suppressed:
        body.append(
            f"<p class='suppressed'>This survey has fewer than {report.min_group_size} "
            "responses: no results are shown, to protect respondents' confidentiality.</p>"
        )
    else:
        body += [page.headline(), page.profile(), page.distribution()]
        body += [page.level(level, aggregation) for level in report.levels if level]
        if aggregation:
            body.append(icc_section(aggregation, report.levels, page.ordered_scales,
                                    page.title, page.main_scale))
        if page.grid is not None:
            body.append(page.grid.section())
        if change is not None:
            body.append(page.change(change))
        if trend is not None:
            body.append(page.trend(trend))
        if reliability:
            body.append(page.reliability(reliability))
        if intercorrelations is not None and len(intercorrelations.scales) > 1:
            body.append(page.intercorrelations(intercorrelations))
    body.append(page.footer())
    return (
        "<!doctype html>\n<html lang='en'><head><meta charset='utf-8'>"
        "<meta name='viewport' content='width=device-width, initial-scale=1'>"
        f"<title>{escape(heading)}</title><style>{CSS}</style></head><body>"
        + "\n".join(b for b in body if b)
        + "</body></html>\n"
    )


def _scroll(table: str, label: str) -> str:
    """A table in its own horizontally scrolling box, so the page never gets wider.

    The box is a labelled, focusable region so that keyboard users can scroll it.
    """
    return (f"<div class='scroll' role='region' tabindex='0' aria-label='{escape(label)}'>"
            f"{table}</div>")


def _figure(svg: str, heading: str, explanation: str) -> str:
    """A chart under its caption: what it shows (naming the scale), then how to read it."""
    return (f"<figure><figcaption><strong>{escape(heading)}</strong>{escape(explanation)}"
            f"</figcaption>{svg}</figure>")


def _and(words: Sequence[str]) -> str:
    """``a``, ``a and b``, ``a, b and c``."""
    return words[0] if len(words) == 1 else f"{', '.join(words[:-1])} and {words[-1]}"


def _quantile_name(key: str) -> str:
    """``p25`` -> ``25th percentile``, ``p50`` -> ``median``."""
    rest = key.removeprefix("p")
    if not rest.isdigit():
        return key
    return "median" if rest == "50" else f"{ordinal(int(rest))} percentile"


class _Page:
    """Section builders sharing the instrument, report and benchmark lookups."""

    def __init__(self, instrument: Instrument, report: GroupReport,
                 benchmarks: Sequence[Benchmark]) -> None:
        self.inst = instrument
        self.report = report
        rs = instrument.response_scale
        self.lo, self.hi = rs.min, rs.max
        composite = [s.id for s in instrument.scales if s.scales is not None]
        nested = {c for s in instrument.scales for c in (s.scales or [])}
        self.top = [s for s in composite if s not in nested and s in report.scales]
        self.headline_scales = self.top + [s for s in composite
                                           if s in nested and s in report.scales]
        self.leaf_scales = [s.id for s in instrument.scales
                            if s.items is not None and s.id in report.scales]
        self.main_scale = (self.top or self.leaf_scales or list(report.scales))[0]
        listed = self.headline_scales + self.leaf_scales
        self.ordered_scales = listed + [s for s in report.scales if s not in listed]
        grid = BenchmarkGrid(report, benchmarks, self.ordered_scales, self.title,
                             self.cell_note, (self.lo, self.hi))
        self.grid = grid if grid.scales else None

    def title(self, scale_id: str) -> str:
        return self.inst.scale(scale_id).title or scale_id

    def pct(self, x: float | None) -> float | None:
        return None if x is None else (x - self.lo) / (self.hi - self.lo) * 100

    def scale_words(self) -> str:
        """What 0 and 100 mean, in the instrument's own answer labels."""
        labels = self.inst.response_scale.labels or {}
        low, high = labels.get(self.lo), labels.get(self.hi)
        if low and high:
            return f"0 = every answer '{low}', 100 = every answer '{high}'"
        return f"0 = every answer {self.lo}, 100 = every answer {self.hi}"

    def suppressed_note(self, reason: str | None = TOO_FEW) -> str:
        """Why a cell is hidden: too few responses, or to protect another group."""
        return suppression_note(reason, self.report.min_group_size) or "not shown"

    def cell_note(self, group: GroupSummary, scale_id: str) -> str:
        cell = group.scales[scale_id]
        return self.suppressed_note(group.reason if group.suppressed else cell.reason)

    def band_colours(self) -> dict[str, str] | None:
        return self.grid.colours if self.grid is not None else None

    def bar(self, label: str, group: GroupSummary, scale_id: str) -> Bar:
        cell = group.scales[scale_id]
        if group.suppressed or cell.suppressed or cell.mean is None:
            return Bar(label, None, note=self.cell_note(group, scale_id))
        band = self.grid.band(group, scale_id) if self.grid is not None else None
        return Bar(label, self.pct(cell.mean), self.pct(cell.ci_low), self.pct(cell.ci_high),
                   band=band)

    def scale_table(self, caption: str, rows: Iterable[tuple[str, GroupSummary, str]],
                    *, wrap: bool = False) -> str:
        """n, mean, CI, 0-100 score and % favourable per row; hidden rows say why only."""
        cls = " class='by-scale'" if wrap else ""
        out = [f"<table{cls}><caption>{escape(caption)}</caption><thead><tr><th scope='col'>"
               "</th><th scope='col'>n</th><th scope='col'>mean</th><th scope='col'>95% CI</th>"
               "<th scope='col'>score (0-100)</th><th scope='col'>% favourable</th>"
               "</tr></thead><tbody>"]
        for label, group, scale_id in rows:
            cell = group.scales[scale_id]
            head = f"<th scope='row'>{escape(label)}</th>"
            if group.suppressed or cell.suppressed:
                out.append(f"<tr>{head}<td colspan='5' class='suppressed'>"
                           f"{self.cell_note(group, scale_id)}</td></tr>")
                continue
            ci = (f"{num(cell.ci_low)} to {num(cell.ci_high)}" if cell.ci_low is not None
                  else "&ndash;")
            out.append(
                f"<tr>{head}<td>{cell.n}</td>"
                f"<td>{num(cell.mean)}</td><td>{ci}</td><td>{num(cell.mean_percent, 1)}</td>"
                f"<td>{num(cell.percent_favourable, 1)}</td></tr>"
            )
        out.append("</tbody></table>")
        return _scroll("".join(out), caption)

    def chart_of(self, title: str, rows: list[tuple[str, GroupSummary, str]]) -> str:
        bars = [self.bar(label, group, scale_id) for label, group, scale_id in rows]
        return bar_chart(bars, title=title, axis_label="score (0-100)",
                         band_colours=self.band_colours())

    def band_words(self) -> str:
        if self.grid is None:
            return ""
        return (" Bar colour and the words right of each label: the group's benchmark band "
                f"among {self.grid.comparison_text()}.")

    def headline(self) -> str:
        overall = self.report.overall
        rows = [(self.title(s), overall, s) for s in self.headline_scales]
        if not rows:
            return ""
        names = ", ".join(self.title(s) for s in self.headline_scales)
        heading = f"Headline scores (0-100): {names}"
        return ("<section id='headline'><h2>Headline scores</h2>"
                + _figure(self.chart_of(heading, rows), heading,
                          f"Bars: mean score of all respondents ({self.scale_words()}); "
                          "whiskers: 95% confidence interval." + self.band_words())
                + self.scale_table("Headline scores", rows, wrap=True) + "</section>")

    def profile(self) -> str:
        overall = self.report.overall
        rows = [(self.title(s), overall, s) for s in self.leaf_scales]
        if not rows:
            return ""
        heading = f"Sub-scale profile (0-100): the {len(rows)} sub-scales"
        return ("<section id='profile'><h2>Sub-scale profile</h2>"
                + _figure(self.chart_of(f"{heading}: "
                                        + ", ".join(self.title(s) for s in self.leaf_scales),
                                        rows), heading,
                          "Each sub-scale's mean with its 95% confidence interval."
                          + self.band_words())
                + self.scale_table("Sub-scales", rows, wrap=True) + "</section>")

    def distribution(self) -> str:
        cell = self.report.overall.scales.get(self.main_scale)
        if cell is None or not cell.histogram:
            return ""
        edges = [float(h["from"] or 0.0) for h in cell.histogram]
        edges.append(float(cell.histogram[-1]["to"] or 100.0))
        shares = [h["percent"] for h in cell.histogram]
        name = self.title(self.main_scale)
        heading = f"Distribution of individual {name} scores (0-100)"
        k = self.report.min_group_size
        rows = "".join(
            f"<tr><th scope='row'>{num(a, 0)} to {num(b, 0)}</th><td>"
            + (f"{num(s, 1)}%" if s is not None else "<span class='suppressed'>not shown</span>")
            + "</td></tr>"
            for a, b, s in zip(edges[:-1], edges[1:], shares, strict=True)
        )
        quantiles = ", ".join(f"{_quantile_name(q)} {num(v)}"
                              for q, v in (cell.quantiles or {}).items() if v is not None)
        spread = (f" Percentiles of the mean answer ({self.lo} to {self.hi}): {quantiles}."
                  if quantiles else "")
        svg = histogram(edges, shares, title=heading, unit="%",
                        x_label=f"{name} score (0-100)", y_label="share of respondents")
        caption = f"Share of respondents by {name} score"
        table = ("<table><caption>" + escape(caption) + "</caption><thead><tr>"
                 "<th scope='col'>score</th><th scope='col'>respondents</th></tr></thead>"
                 f"<tbody>{rows}</tbody></table>")
        return ("<section id='distribution'><h2>Distribution of scores</h2>"
                + _figure(svg, heading,
                          "Share of respondents whose score falls in each band (value above "
                          f"each bar). A band that would single out fewer than {k} respondents "
                          f"is not shown.{spread}")
                + _scroll(table, caption) + "</section>")

    def level(self, level: tuple[str, ...],
              aggregation: Mapping[str, Mapping[str, ICCResult]] | None) -> str:
        groups = [g for g in self.report.groups if g.level == level]
        name = " and ".join(level)
        scale = self.title(self.main_scale)
        rows = [(self._label(g), g, self.main_scale) for g in groups]
        heading = f"{scale} by {name} (0-100)"
        parts = [f"<section class='level'><h2>By {escape(name)}</h2>",
                 _figure(self.chart_of(heading, rows), heading,
                         "Bars: each group's mean score; whiskers: 95% confidence interval. "
                         "Groups with too few responses, and groups hidden so that they cannot "
                         "be worked out from the others, show why instead of a bar."
                         + self.band_words())]
        lead = (aggregation or {}).get("|".join(level), {}).get(self.main_scale)
        if lead is not None:
            parts.append(icc_note(lead))
        parts.append(self.scale_table(f"{scale} by {name}", rows))
        others = [s for s in self.report.scales if s != self.main_scale]
        if others:
            parts.append(self._wide_table(name, groups, others))
        parts.append("</section>")
        return "".join(parts)

    def _label(self, group: GroupSummary) -> str:
        return ", ".join(group.key.values())

    def _wide_table(self, name: str, groups: list[GroupSummary], scales: list[str]) -> str:
        head = "".join(f"<th scope='col'>{escape(self.title(s))}</th>" for s in scales)
        rows = []
        for g in groups:
            if g.suppressed:
                rows.append(f"<tr><th scope='row'>{escape(self._label(g))}</th><td colspan="
                            f"'{len(scales)}' class='suppressed'>"
                            f"{self.suppressed_note(g.reason)}</td></tr>")
                continue
            cells = "".join(
                f"<td class='suppressed' title='{self.cell_note(g, s)}'>&ndash;</td>"
                if g.scales[s].suppressed else f"<td>{num(g.scales[s].mean)}</td>"
                for s in scales
            )
            rows.append(f"<tr><th scope='row'>{escape(self._label(g))}</th>{cells}</tr>")
        caption = f"Mean of every scale by {name} ({self.lo} to {self.hi})"
        return _scroll(f"<table class='matrix'><caption>{escape(caption)}</caption><thead><tr>"
                       f"<th scope='col'>{escape(name)}</th>{head}</tr></thead>"
                       f"<tbody>{''.join(rows)}</tbody></table>", caption)

    def change(self, comparison: WaveComparison) -> str:
        scale = self.main_scale if self.main_scale in comparison.scales else comparison.scales[0]
        name = self.title(scale)
        bars, rows = [], []
        for key, cells in comparison.groups:
            label = ", ".join(key.values()) or "overall"
            cell = cells[scale]
            if cell.status != "compared" or cell.difference is None:
                note = ("hidden in one of the waves (too few responses, or to protect "
                        "another group)" if cell.status == "suppressed" else "not in both waves")
                short = "hidden in one of the waves" if cell.status == "suppressed" else note
                bars.append(Bar(label, None, note=short))
                rows.append(f"<tr><th scope='row'>{escape(label)}</th><td colspan='5' "
                            f"class='suppressed'>{note}</td></tr>")
                continue
            bars.append(Bar(label, cell.difference, cell.ci_low, cell.ci_high,
                            colour=INCREASE if cell.difference >= 0 else DECREASE))
            rows.append(
                f"<tr><th scope='row'>{escape(label)}</th><td>{num(cell.mean_before)}</td>"
                f"<td>{num(cell.mean_after)}</td><td>{num(cell.difference)} "
                f"({num(cell.ci_low)} to {num(cell.ci_high)})</td>"
                f"<td>{num(cell.hedges_g)}</td>"
                f"<td class='text'>{escape(cell.reading or '')}</td></tr>"
            )
        limit = max([abs(v) for b in bars for v in (b.low, b.high, b.value) if v is not None]
                    + [0.1])
        heading = f"Change in {name} since the previous wave"
        svg = bar_chart(
            bars, title=heading, x_min=-limit, x_max=limit, origin=0.0, digits=2, signed=True,
            axis_label=f"difference of means (answer scale {self.lo} to {self.hi})",
            legend=[LegendEntry("higher than before", INCREASE),
                    LegendEntry("lower than before", DECREASE)],
        )
        caption = f"Change in {name} by group"
        table = ("<table><caption>" + escape(caption) + "</caption><thead><tr>"
                 "<th scope='col'>group</th><th scope='col'>before</th><th scope='col'>now</th>"
                 "<th scope='col'>difference (95% CI)</th><th scope='col'>Hedges' g</th>"
                 f"<th scope='col'>reading</th></tr></thead><tbody>{''.join(rows)}</tbody>"
                 "</table>")
        return (f"<section id='change'><h2>Change since the previous wave: {escape(name)}</h2>"
                + _figure(svg, heading,
                          "Difference of means (this wave minus the previous, on the "
                          f"{self.lo} to {self.hi} answer scale) with its Welch 95% confidence "
                          "interval; a whisker that crosses 0 means no clear change.")
                + _scroll(table, caption) + "</section>")

    def trend(self, trend: Trend) -> str:
        """A line chart and a table per scale: each wave's mean, each step's change."""
        waves = len(trend.waves)
        scales = [s for s in self.ordered_scales if s in trend.scales]
        parts = [f"<section id='trend'><h2>Trend over {waves} waves</h2>",
                 f"<p>Waves, oldest first: {escape(', '.join(trend.waves))}. Each wave shows "
                 "what its own report shows: a group hidden in a wave (fewer than "
                 f"{trend.min_group_size} responses, or hidden so that another group cannot "
                 "be worked out) has no figure in that wave, and the changes into and out of "
                 "that wave are not shown either.</p>"]
        lead = self._trend_reading(trend)
        if lead:
            parts.append(lead)
        if scales:
            parts.append(self._trend_scale(trend, scales[0],
                                           folded=scales[0] != self.main_scale, first=True))
        if len(scales) > 1:
            # The other scales side by side where there is room (a desk screen, A4 paper),
            # one under the other on a phone: a chart is narrower than the text column.
            parts.append(
                "<div class='trend-grid' style='display:grid;grid-template-columns:"
                "repeat(auto-fill,minmax(min(100%,20rem),1fr));gap:0 1.5rem'>"
                + "".join("<div style='break-inside:avoid'>"
                          f"{self._trend_scale(trend, s, folded=True, first=False)}</div>"
                          for s in scales[1:])
                + "</div>")
            parts.append("<p class='print-only muted'>The tables of the other scales are in "
                         "the online version of this report.</p>")
        parts.append("</section>")
        return "".join(parts)

    def _trend_reading(self, trend: Trend) -> str:
        """The overall change of the main scale at each step, in words."""
        if self.main_scale not in trend.scales or not trend.groups or trend.groups[0][0]:
            return ""
        cell = trend.groups[0][1][self.main_scale]
        items = [f"<li><strong>{escape(trend.waves[i])} to {escape(trend.waves[i + 1])}"
                 f"</strong>: {escape(step.reading)}</li>"
                 for i, step in enumerate(cell.steps) if step.reading]
        if not items:
            return ""
        return (f"<p>Overall {escape(self.title(self.main_scale))}, wave by wave:</p>"
                f"<ul>{''.join(items)}</ul>")

    def _trend_note(self, trend: Trend, point: WavePoint) -> str:
        if point.status == ABSENT:
            return "no responses in this wave"
        return suppression_note(point.reason, trend.min_group_size) or "not shown"

    def _trend_scale(self, trend: Trend, scale: str, *, folded: bool, first: bool) -> str:
        """The scale's chart, with its table below (one click away when ``folded``: a
        table per scale would make the printed report several pages longer). The
        ``first`` chart says how to read them all."""
        name = self.title(scale)
        levels = [tuple(key) for key, _ in trend.groups]
        outer = next((level for level in levels if level), None)
        charted = [(key, cells[scale]) for key, cells in trend.groups
                   if tuple(key) in ((), outer)]
        series, missing = [], []
        for key, cell in charted:
            label = ", ".join(key.values()) or "overall"
            notes = tuple(None if p.shown else self._trend_note(trend, p) for p in cell.points)
            series.append(LineSeries(
                label, tuple(p.mean if p.shown else None for p in cell.points),
                tuple(p.ci_low for p in cell.points), tuple(p.ci_high for p in cell.points),
                notes, colour=OKABE_ITO["black"] if not key else None))
            by_note: dict[str, list[str]] = {}
            for p, why in zip(cell.points, notes, strict=True):
                if why:
                    by_note.setdefault(why, []).append(p.wave)
            missing += [f"{label} in {_and(hidden_in)} ({why})"
                        for why, hidden_in in by_note.items()]
        heading = f"{name} by wave (mean, {self.lo} to {self.hi})"
        svg = line_chart(series, trend.waves, title=heading, limits=(self.lo, self.hi),
                         y_label=f"mean ({self.lo} to {self.hi})", plot_height=150)
        explanation = ("Points: each wave's mean; whiskers: its 95% confidence interval; "
                       "lines join consecutive waves. A group hidden in a wave has no point "
                       "there and its line breaks." if first else "")
        note = (f"<p class='muted'>Not shown: {escape('; '.join(missing))}.</p>"
                if missing else "")
        caption = f"{name}: each wave and each change"
        rows = [self._trend_rows(trend, key, cells[scale]) for key, cells in trend.groups]
        table = ("<table class='trend'><caption>" + escape(caption) + "</caption><thead><tr>"
                 "<th scope='col'>group</th><th scope='col'>wave</th><th scope='col'>n</th>"
                 "<th scope='col'>mean (95% CI)</th>"
                 "<th scope='col'>change since the previous wave (95% CI)</th>"
                 f"<th scope='col'>Hedges' g</th></tr></thead>{''.join(rows)}</table>")
        boxed = _scroll(table, caption)
        if folded:
            boxed = f"<details><summary>Table: {escape(caption)}</summary>{boxed}</details>"
        return _figure(svg, heading, explanation) + note + boxed

    def _trend_rows(self, trend: Trend, key: Mapping[str, str], cell: TrendCell) -> str:
        label = ", ".join(key.values()) or "overall"
        rows = []
        for i, point in enumerate(cell.points):
            head = (f"<th scope='rowgroup' rowspan='{len(cell.points)}'>{escape(label)}</th>"
                    if i == 0 else "")
            if point.shown:
                ci = (f" ({num(point.ci_low)} to {num(point.ci_high)})"
                      if point.ci_low is not None else "")
                figures = f"<td>{point.n}</td><td>{num(point.mean)}{ci}</td>"
            else:
                figures = (f"<td colspan='2' class='suppressed'>"
                           f"{self._trend_note(trend, point)}</td>")
            change = ("<td>&ndash;</td><td>&ndash;</td>" if i == 0
                      else self._step_cells(cell.steps[i - 1]))
            rows.append(f"<tr>{head}<th scope='row'>{escape(point.wave)}</th>{figures}"
                        f"{change}</tr>")
        return f"<tbody>{''.join(rows)}</tbody>"

    @staticmethod
    def _step_cells(step: ChangeCell) -> str:
        if step.status != "compared" or step.difference is None:
            note = ("hidden in one of the waves" if step.status == "suppressed"
                    else "not in both waves")
            return f"<td colspan='2' class='suppressed'>{note}</td>"
        ci = (f" ({num(step.ci_low)} to {num(step.ci_high)})" if step.ci_low is not None
              else "")
        return f"<td>{num(step.difference)}{ci}</td><td>{num(step.hedges_g)}</td>"

    def reliability(self, results: Mapping[str, ScaleReliability]) -> str:
        rows, flags = [], []
        for scale_id, r in results.items():
            # The same rounding as the low-alpha flag: never "0.70" for an alpha below 0.70.
            rows.append(
                f"<tr><th scope='row'>{escape(self.title(scale_id))}</th>"
                f"<td>{r.k}</td><td>{r.n}</td><td>{num_against(r.alpha, (LOW_ALPHA,))}</td>"
                f"<td>{num(r.alpha_ci[0])} to {num(r.alpha_ci[1])}</td>"
                f"<td>{num(r.omega_total)}</td><td>{num(r.average_r)}</td></tr>"
            )
            flags += [f"<li class='flag'><strong>{escape(self.title(scale_id))}</strong>: "
                      f"{escape(f.message)}</li>" for f in r.flags]
        flag_list = (f"<ul>{''.join(flags)}</ul>" if flags
                     else "<p>No problems found: every scale is reliable enough to report.</p>")
        caption = "Reliability of each scale"
        table = (f"<table class='by-scale'><caption>{caption}</caption><thead><tr>"
                 "<th scope='col'>scale</th><th scope='col'>items</th><th scope='col'>n</th>"
                 "<th scope='col'>Cronbach's alpha</th><th scope='col'>95% CI</th>"
                 "<th scope='col'>omega total</th><th scope='col'>average r</th></tr></thead>"
                 f"<tbody>{''.join(rows)}</tbody></table>")
        return ("<section id='reliability'><h2>Can these scores be trusted?</h2>"
                f"<p>Cronbach's alpha of {LOW_ALPHA:.2f} or more means a scale's items agree "
                "closely enough for its score to be used to compare groups (Nunnally 1978).</p>"
                + _scroll(table, caption) + flag_list + "</section>")

    def intercorrelations(self, result: ScaleCorrelations) -> str:
        scales = list(result.scales)
        head = "".join(f"<th scope='col'>{escape(self.title(s))}</th>" for s in scales)
        rows = []
        for i, a in enumerate(scales):
            cells = []
            for j in range(len(scales)):
                value = float(result.alpha[i] if i == j else result.cor[i, j] if j < i
                              else result.corrected[i, j])
                cells.append(self._correlation_cell(value, diagonal=i == j, upper=j > i))
            rows.append(f"<tr><th scope='row'>{escape(self.title(a))}</th>{''.join(cells)}</tr>")
        flags = [f"<li class='flag'>{escape(f.message)}</li>" for f in result.flags]
        flag_list = (f"<ul>{''.join(flags)}</ul>" if flags else
                     "<p>Every pair of sub-scales is distinct (corrected correlations below "
                     f"{BARELY_DISTINCT:.2f}).</p>")
        caption = "Scale intercorrelations"
        return ("<section id='intercorrelations'><h2>Are the sub-scales distinct?</h2>"
                "<p>Correlations between scale scores: below the diagonal as measured, on it "
                "each scale's alpha, above it corrected for unreliability (psych::scoreItems). "
                "A corrected correlation near 1 means two scales measure the same thing.</p>"
                + _scroll(f"<table class='by-scale matrix'><caption>{caption}</caption><thead>"
                          f"<tr><th scope='col'></th>{head}</tr></thead><tbody>{''.join(rows)}"
                          "</tbody></table>", caption)
                + flag_list + "</section>")

    @staticmethod
    def _correlation_cell(value: float, *, diagonal: bool, upper: bool) -> str:
        """One cell, rounded so that it agrees with the flags read against the same cut."""
        if not math.isfinite(value):
            return "<td>&ndash;</td>"
        if diagonal:
            return f"<td>{num_against(value, (LOW_ALPHA,))}</td>"
        if not upper:
            return f"<td>{num(value)}</td>"
        # "Barely distinct" from 0.90, "beyond the 1 that true scores cannot exceed" past 1.
        digits = decimals_against(abs(value), (BARELY_DISTINCT,), above=(1.0 + 1e-9,))
        cls = " class='flag'" if abs(value) >= BARELY_DISTINCT else ""
        return f"<td{cls}>{value:.{digits}f}</td>"

    def footer(self) -> str:
        k = self.report.min_group_size
        return (f"<footer><p class='muted'>Groups with fewer than {k} responses are not "
                "reported, and where a hidden group could be worked out from the others, the "
                "next smallest group is hidden too. Scores: mean of a scale's items "
                f"({self.lo} to {self.hi}); 0-100 rescales it. {escape(self.inst.licence)}"
                "</p></footer>")
