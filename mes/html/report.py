"""The human-readable survey report: one self-contained HTML page with SVG charts.

A medical director reads a page, not JSON. :func:`render_report_html` turns a
:class:`~mes.groups.GroupReport` (already suppressed) and, optionally, the
reliability report, a comparison with the previous wave and benchmarks into one
HTML document that works offline (no script, no external file), prints to PDF
from the browser, and puts a table with the same numbers behind every chart.

Nothing here computes a statistic or decides what is suppressed: it renders
only what the report objects publish, so a group below the threshold appears
as "fewer than N responses" or "hidden so that another group cannot be worked out",
and nothing else.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping, Sequence
from datetime import UTC, datetime
from html import escape

from mes.charts import Bar, bar_chart, histogram
from mes.groups import Benchmark, GroupReport, GroupSummary, WaveComparison
from mes.groups.protection import TOO_FEW, suppression_note
from mes.instrument import Instrument
from mes.reliability import ScaleCorrelations, ScaleReliability

__all__ = ["render_report_html"]

_CSS = """
body{font-family:system-ui,-apple-system,'Segoe UI',Roboto,Arial,sans-serif;color:#222;
margin:2rem auto;max-width:60rem;padding:0 1rem;line-height:1.45}
h1{font-size:1.6rem;margin-bottom:.2rem}h2{font-size:1.25rem;margin-top:2.2rem;
border-bottom:2px solid #3f6fb5;padding-bottom:.2rem}h3{font-size:1.05rem}
table{border-collapse:collapse;margin:.6rem 0 1rem;font-size:.9rem}
th,td{border:1px solid #ccc;padding:.25rem .5rem;text-align:right}
th:first-child,td:first-child{text-align:left}caption{text-align:left;font-weight:600;
padding:.3rem 0}td.text{text-align:left}.muted{color:#666}.flag{color:#8a1c1c}
.suppressed{color:#666;font-style:italic}
figure{margin:.5rem 0}figcaption{font-size:.85rem;color:#555}
.band-lowest{color:#b2182b}.band-low{color:#c4582b}.band-high{color:#2b6f9e}
.band-highest{color:#2166ac}
@media print{body{margin:0;max-width:none}section{break-inside:avoid-page}
a{color:inherit;text-decoration:none}}
"""


def render_report_html(
    instrument: Instrument,
    report: GroupReport,
    *,
    title: str | None = None,
    reliability: Mapping[str, ScaleReliability] | None = None,
    change: WaveComparison | None = None,
    benchmarks: Sequence[Benchmark] = (),
    generated: datetime | None = None,
    intercorrelations: ScaleCorrelations | None = None,
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
    benchmarks : sequence of Benchmark
        From :func:`mes.groups.benchmark_report`; bands colour the group charts.
    generated : datetime, optional
        Shown in the header (default: now, UTC).
    intercorrelations : ScaleCorrelations, optional
        From :func:`mes.reliability.scale_intercorrelations`: whether the sub-scales
        are distinct (shown with the reliability, when the overall group is).

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
    >>> page.startswith("<!doctype html>"), "<svg" in page
    (True, True)
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
        body += [page.level(level) for level in report.levels if level]
        if benchmarks:
            body.append(page.benchmark_table())
        if change is not None:
            body.append(page.change(change))
        if reliability:
            body.append(page.reliability(reliability))
        if intercorrelations is not None and len(intercorrelations.scales) > 1:
            body.append(page.intercorrelations(intercorrelations))
    body.append(page.footer())
    return (
        "<!doctype html>\n<html lang='en'><head><meta charset='utf-8'>"
        "<meta name='viewport' content='width=device-width, initial-scale=1'>"
        f"<title>{escape(heading)}</title><style>{_CSS}</style></head><body>"
        + "\n".join(body)
        + "</body></html>\n"
    )


def _num(x: float | None, digits: int = 2) -> str:
    return "&ndash;" if x is None or (isinstance(x, float) and math.isnan(x)) else f"{x:.{digits}f}"


class _Page:
    """Section builders sharing the instrument, report and benchmark lookups."""

    def __init__(self, instrument: Instrument, report: GroupReport,
                 benchmarks: Sequence[Benchmark]) -> None:
        self.inst = instrument
        self.report = report
        rs = instrument.response_scale
        self.lo, self.hi = rs.min, rs.max
        self.bands = {(tuple(sorted(b.group.items())), b.scale): b for b in benchmarks}
        composite = [s.id for s in instrument.scales if s.scales is not None]
        nested = {c for s in instrument.scales for c in (s.scales or [])}
        self.top = [s for s in composite if s not in nested and s in report.scales]
        self.headline_scales = self.top + [s for s in composite
                                           if s in nested and s in report.scales]
        self.leaf_scales = [s.id for s in instrument.scales
                            if s.items is not None and s.id in report.scales]
        self.main_scale = (self.top or self.leaf_scales or list(report.scales))[0]

    def title(self, scale_id: str) -> str:
        return self.inst.scale(scale_id).title or scale_id

    def pct(self, x: float | None) -> float | None:
        return None if x is None else (x - self.lo) / (self.hi - self.lo) * 100

    def suppressed_note(self, reason: str | None = TOO_FEW) -> str:
        """Why a cell is hidden: too few responses, or to protect another group."""
        return suppression_note(reason, self.report.min_group_size) or "not shown"

    def cell_note(self, group: GroupSummary, scale_id: str) -> str:
        cell = group.scales[scale_id]
        return self.suppressed_note(group.reason if group.suppressed else cell.reason)

    def bar(self, label: str, group: GroupSummary, scale_id: str) -> Bar:
        cell = group.scales[scale_id]
        if group.suppressed or cell.suppressed or cell.mean is None:
            return Bar(label, None, note=self.cell_note(group, scale_id))
        mark = self.bands.get((tuple(sorted(group.key.items())), scale_id))
        return Bar(label, self.pct(cell.mean), self.pct(cell.ci_low), self.pct(cell.ci_high),
                   band=mark.band if mark else None)

    def scale_table(self, caption: str, rows: Iterable[tuple[str, GroupSummary, str]]) -> str:
        out = [f"<table><caption>{escape(caption)}</caption><thead><tr><th scope='col'>"
               "</th><th scope='col'>n</th><th scope='col'>mean</th><th scope='col'>95% CI</th>"
               "<th scope='col'>score (0-100)</th><th scope='col'>% favourable</th>"
               "</tr></thead><tbody>"]
        for label, group, scale_id in rows:
            cell = group.scales[scale_id]
            if group.suppressed or cell.suppressed:
                out.append(f"<tr><th scope='row'>{escape(label)}</th><td colspan='5' "
                           f"class='suppressed'>{self.cell_note(group, scale_id)}</td></tr>")
                continue
            ci = (f"{_num(cell.ci_low)} to {_num(cell.ci_high)}" if cell.ci_low is not None
                  else "&ndash;")
            out.append(
                f"<tr><th scope='row'>{escape(label)}</th><td>{cell.n}</td>"
                f"<td>{_num(cell.mean)}</td><td>{ci}</td><td>{_num(cell.mean_percent, 1)}</td>"
                f"<td>{_num(cell.percent_favourable, 1)}</td></tr>"
            )
        out.append("</tbody></table>")
        return "".join(out)

    def figure(self, svg: str, caption: str) -> str:
        return f"<figure>{svg}<figcaption>{escape(caption)}</figcaption></figure>"

    def chart_of(self, title: str, rows: list[tuple[str, GroupSummary, str]]) -> str:
        bars = [self.bar(label, group, scale_id) for label, group, scale_id in rows]
        shown = [b for b in bars if b.value is not None]
        desc = "; ".join(f"{b.label} {b.value:.0f}" for b in shown if b.value is not None)
        return bar_chart(bars, title=title, description=desc or "no published values")

    def headline(self) -> str:
        overall = self.report.overall
        rows = [(self.title(s), overall, s) for s in self.headline_scales]
        if not rows:
            return ""
        title = "Headline scores (0 = every answer at the lowest, 100 = at the highest)"
        return ("<section id='headline'><h2>Headline scores</h2>"
                + self.figure(self.chart_of(title, rows),
                              "Bars: mean score; whiskers: 95% confidence interval.")
                + self.scale_table("Headline scores", rows) + "</section>")

    def profile(self) -> str:
        overall = self.report.overall
        rows = [(self.title(s), overall, s) for s in self.leaf_scales]
        if not rows:
            return ""
        return ("<section id='profile'><h2>Sub-scale profile</h2>"
                + self.figure(self.chart_of("Sub-scale profile (0-100)", rows),
                              "Each sub-scale's mean with its 95% confidence interval.")
                + self.scale_table("Sub-scales", rows) + "</section>")

    def distribution(self) -> str:
        cell = self.report.overall.scales.get(self.main_scale)
        if cell is None or not cell.histogram:
            return ""
        edges = [float(h["from"] or 0.0) for h in cell.histogram]
        edges.append(float(cell.histogram[-1]["to"] or 100.0))
        shares = [h["percent"] for h in cell.histogram]
        title = f"Distribution of individual {self.title(self.main_scale)} scores (0-100)"
        rows = "".join(
            f"<tr><th scope='row'>{_num(a, 0)} to {_num(b, 0)}</th><td>{_num(s, 1)}%</td></tr>"
            for a, b, s in zip(edges[:-1], edges[1:], shares, strict=True)
        )
        quantiles = ", ".join(f"{k} {_num(v)}" for k, v in (cell.quantiles or {}).items())
        desc = "; ".join(f"{_num(a, 0)}-{_num(b, 0)}: {_num(s, 1)}%"
                         for a, b, s in zip(edges[:-1], edges[1:], shares, strict=True))
        return ("<section id='distribution'><h2>Distribution of scores</h2>"
                + self.figure(histogram(edges, shares, title=title, description=desc, unit="%"),
                              f"Share of respondents in each band of the score. Quantiles of "
                              f"the mean score: {quantiles}.")
                + "<table><caption>Share of respondents by score</caption><thead><tr>"
                "<th scope='col'>score</th><th scope='col'>respondents</th></tr></thead>"
                f"<tbody>{rows}</tbody></table></section>")

    def level(self, level: tuple[str, ...]) -> str:
        groups = [g for g in self.report.groups if g.level == level]
        name = " and ".join(level)
        rows = [(self._label(g), g, self.main_scale) for g in groups]
        parts = [f"<section class='level'><h2>By {escape(name)}</h2>",
                 self.figure(self.chart_of(f"{self.title(self.main_scale)} by {name} (0-100)",
                                           rows),
                             "Groups with too few responses, and groups hidden so that "
                             "they cannot be worked out from the others, are not shown."
                             + (" Colours: benchmark band." if self.bands else "")),
                 self.scale_table(f"{self.title(self.main_scale)} by {name}", rows)]
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
                if g.scales[s].suppressed else f"<td>{_num(g.scales[s].mean)}</td>"
                for s in scales
            )
            rows.append(f"<tr><th scope='row'>{escape(self._label(g))}</th>{cells}</tr>")
        return (f"<table><caption>Mean of every scale by {escape(name)}</caption><thead><tr>"
                f"<th scope='col'>{escape(name)}</th>{head}</tr></thead>"
                f"<tbody>{''.join(rows)}</tbody></table>")

    def benchmark_table(self) -> str:
        rows = []
        for b in self.bands.values():
            label = ", ".join(b.group.values()) or "overall"
            rows.append(
                f"<tr><th scope='row'>{escape(label)}</th>"
                f"<td class='text'>{escape(self.title(b.scale))}</td>"
                f"<td>{_num(b.value)}</td><td>{_num(b.percentile_rank, 0)}</td>"
                f"<td class='band-{escape(b.band)}'>{escape(b.band)}</td>"
                f"<td>{b.comparison_size}</td></tr>"
            )
        return ("<section id='benchmarks'><h2>Benchmarks</h2><table><caption>Percentile rank "
                "among comparison organisations</caption><thead><tr><th scope='col'>group</th>"
                "<th scope='col'>scale</th><th scope='col'>value</th><th scope='col'>percentile"
                "</th><th scope='col'>band</th><th scope='col'>organisations compared</th></tr>"
                f"</thead><tbody>{''.join(rows)}</tbody></table></section>")

    def change(self, comparison: WaveComparison) -> str:
        scale = self.main_scale if self.main_scale in comparison.scales else comparison.scales[0]
        bars, rows = [], []
        for key, cells in comparison.groups:
            label = ", ".join(key.values()) or "overall"
            cell = cells[scale]
            if cell.status != "compared" or cell.difference is None:
                note = ("hidden in one of the waves (too few responses, or to protect "
                        "another group)" if cell.status == "suppressed" else "not in both waves")
                bars.append(Bar(label, None, note=note))
                rows.append(f"<tr><th scope='row'>{escape(label)}</th><td colspan='5' "
                            f"class='suppressed'>{note}</td></tr>")
                continue
            bars.append(Bar(label, cell.difference, cell.ci_low, cell.ci_high))
            rows.append(
                f"<tr><th scope='row'>{escape(label)}</th><td>{_num(cell.mean_before)}</td>"
                f"<td>{_num(cell.mean_after)}</td><td>{_num(cell.difference)} "
                f"({_num(cell.ci_low)} to {_num(cell.ci_high)})</td>"
                f"<td>{_num(cell.hedges_g)}</td>"
                f"<td class='text'>{escape(cell.reading or '')}</td></tr>"
            )
        limit = max([abs(v) for b in bars for v in (b.low, b.high, b.value) if v is not None]
                    + [0.25])
        span = math.ceil(limit * 4) / 4
        desc = "; ".join(f"{b.label} {b.value:+.2f}" for b in bars if b.value is not None)
        svg = bar_chart(bars, title=f"Change in {self.title(scale)} since the previous wave",
                        description=desc or "no published changes", x_min=-span, x_max=span,
                        origin=0.0, digits=2)
        return ("<section id='change'><h2>Change since the previous wave</h2>"
                + self.figure(svg, "Difference of means (this wave minus the previous) with its "
                              "Welch 95% confidence interval.")
                + "<table><caption>Change by group</caption><thead><tr><th scope='col'>group"
                "</th><th scope='col'>before</th><th scope='col'>now</th><th scope='col'>"
                "difference (95% CI)</th><th scope='col'>Hedges' g</th><th scope='col'>reading"
                f"</th></tr></thead><tbody>{''.join(rows)}</tbody></table></section>")

    def reliability(self, results: Mapping[str, ScaleReliability]) -> str:
        rows, flags = [], []
        for scale_id, r in results.items():
            rows.append(
                f"<tr><th scope='row'>{escape(self.title(scale_id))}</th><td>{r.k}</td>"
                f"<td>{r.n}</td><td>{_num(r.alpha)}</td><td>{_num(r.alpha_ci[0])} to "
                f"{_num(r.alpha_ci[1])}</td><td>{_num(r.omega_total)}</td>"
                f"<td>{_num(r.average_r)}</td></tr>"
            )
            flags += [f"<li class='flag'><strong>{escape(self.title(scale_id))}</strong>: "
                      f"{escape(f.message)}</li>" for f in r.flags]
        flag_list = (f"<ul>{''.join(flags)}</ul>" if flags
                     else "<p>No problems found: every scale is reliable enough to report.</p>")
        return ("<section id='reliability'><h2>Can these scores be trusted?</h2>"
                "<table><caption>Reliability of each scale</caption><thead><tr>"
                "<th scope='col'>scale</th><th scope='col'>items</th><th scope='col'>n</th>"
                "<th scope='col'>Cronbach's alpha</th><th scope='col'>95% CI</th>"
                "<th scope='col'>omega total</th><th scope='col'>average r</th></tr></thead>"
                f"<tbody>{''.join(rows)}</tbody></table>{flag_list}</section>")

    def intercorrelations(self, result: ScaleCorrelations) -> str:
        scales = list(result.scales)
        head = "".join(f"<th scope='col'>{escape(self.title(s))}</th>" for s in scales)
        rows = []
        for i, a in enumerate(scales):
            cells = []
            for j in range(len(scales)):
                value = (result.alpha[i] if i == j else result.cor[i, j] if j < i
                         else result.corrected[i, j])
                cls = " class='flag'" if j > i and abs(value) >= 0.9 else ""
                cells.append(f"<td{cls}>{_num(value)}</td>")
            rows.append(f"<tr><th scope='row'>{escape(self.title(a))}</th>{''.join(cells)}</tr>")
        flags = [f"<li class='flag'>{escape(f.message)}</li>" for f in result.flags]
        flag_list = (f"<ul>{''.join(flags)}</ul>" if flags else
                     "<p>Every pair of sub-scales is distinct (corrected correlations below "
                     "0.90).</p>")
        return ("<section id='intercorrelations'><h2>Are the sub-scales distinct?</h2>"
                "<p>Correlations between scale scores: below the diagonal as measured, on it "
                "each scale's alpha, above it corrected for unreliability (psych::scoreItems). "
                "A corrected correlation near 1 means two scales measure the same thing.</p>"
                "<div class='scroll'><table><caption>Scale intercorrelations</caption><thead>"
                f"<tr><th scope='col'></th>{head}</tr></thead><tbody>{''.join(rows)}</tbody>"
                f"</table></div>{flag_list}</section>")

    def footer(self) -> str:
        k = self.report.min_group_size
        return (f"<footer><p class='muted'>Groups with fewer than {k} responses are not "
                "reported, and where a hidden group could be worked out from the others, the "
                "next smallest group is hidden too. Scores: mean of a scale's items "
                f"({self.lo} to {self.hi}); 0-100 rescales it. {escape(self.inst.licence)}"
                "</p></footer>")
