"""Benchmarks as a group x scale heatmap, with the full table one click away.

One table row per group and scale runs to sixty rows for four sites; a grid
with one row per group and one column per scale shows the same at a glance.
Each cell is coloured by its benchmark band (a colour-blind-safe diverging
scale, :mod:`mes.charts.palette`) and also says, in text, the group's value,
its band and its percentile rank, so that nothing depends on colour.

Rows come from the report, not from the benchmarks: a suppressed group or cell
gets the suppression note on a plain background and nothing else, even if a
benchmark for it were passed in, so neither a value nor a colour can give its
band away.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping, Sequence
from html import escape

from mes.charts.palette import band_colours, text_colour_on
from mes.groups import Benchmark, GroupReport, GroupSummary
from mes.groups.benchmarks import DEFAULT_BAND_LABELS
from mes.html.format import num, ordinal

__all__ = ["BenchmarkGrid", "band_order"]

Key = tuple[tuple[str, str], ...]


def key_of(group: Mapping[str, str]) -> Key:
    """A hashable group key (attribute order does not matter)."""
    return tuple(sorted(group.items()))


def band_order(benchmarks: Sequence[Benchmark]) -> list[str]:
    """The bands from lowest to highest.

    The default labels keep their order (all five, so the legend shows the whole
    scale); custom labels are ordered by the lowest percentile rank seen in each,
    since a band is a rising function of the rank.

    Examples
    --------
    >>> from mes.groups import Benchmark
    >>> b = [Benchmark({}, "s", "mean", 3.0, 70.0, "above", 9, None),
    ...      Benchmark({}, "t", "mean", 2.0, 10.0, "below", 9, None)]
    >>> band_order(b)
    ['below', 'above']
    """
    seen = {b.band for b in benchmarks}
    if seen <= set(DEFAULT_BAND_LABELS):
        return list(DEFAULT_BAND_LABELS)
    lowest: dict[str, float] = {}
    for b in benchmarks:
        lowest[b.band] = min(lowest.get(b.band, b.percentile_rank), b.percentile_rank)
    return sorted(lowest, key=lambda band: lowest[band])


def _shown(report: GroupReport, benchmarks: Sequence[Benchmark]) -> list[Benchmark]:
    """The benchmarks of cells the report shows (a group it has, not hidden, nor the cell)."""
    visible = {(key_of(g.key), s) for g in report.groups if not g.suppressed
               for s, cell in g.scales.items() if not cell.suppressed}
    return [b for b in benchmarks if (key_of(b.group), b.scale) in visible]


def _slug(text: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-") or "band"


class BenchmarkGrid:
    """The benchmarks of one report, looked up by group and scale, never for a hidden cell.

    Parameters
    ----------
    report : GroupReport
        Already suppressed: decides which groups and cells may show anything.
    benchmarks : sequence of Benchmark
    scales : sequence of str
        Scale ids in display order (those without any benchmark are left out).
    title_of : callable
        Scale id to title.
    note_of : callable
        ``(group, scale id)`` to the suppression note of a hidden cell.
    answer_range : (int, int)
        Lowest and highest answer, to say what a mean is on.
    """

    def __init__(self, report: GroupReport, benchmarks: Sequence[Benchmark],
                 scales: Sequence[str], title_of: Callable[[str], str],
                 note_of: Callable[[GroupSummary, str], str],
                 answer_range: tuple[int, int]) -> None:
        self.report = report
        # Only what the report shows counts, even for the legend and the columns: a band
        # label, a scale or a comparison size seen only for a hidden cell says something
        # about it.
        benchmarks = _shown(report, benchmarks)
        self.metrics = {b.metric for b in benchmarks}
        self.answer_range = answer_range
        self.lookup = {(key_of(b.group), b.scale): b for b in benchmarks}
        self.scales = [s for s in scales if any(b.scale == s for b in benchmarks)]
        self.colours = band_colours(band_order(benchmarks))
        self.title_of = title_of
        self.note_of = note_of
        self.sizes = sorted({b.comparison_size for b in benchmarks})
        self.sources = sorted({b.source for b in benchmarks if b.source})

    def get(self, group: GroupSummary, scale: str) -> Benchmark | None:
        """The benchmark of a shown cell; None for a hidden group or cell, or none given."""
        cell = group.scales.get(scale)
        if group.suppressed or cell is None or cell.suppressed:
            return None
        return self.lookup.get((key_of(group.key), scale))

    def band(self, group: GroupSummary, scale: str) -> str | None:
        """The band of a shown cell, for colouring its bar."""
        mark = self.get(group, scale)
        return mark.band if mark else None

    @staticmethod
    def label(group: GroupSummary) -> str:
        """A group's row label: its attribute values, or "overall"."""
        return ", ".join(group.key.values()) or "overall"

    def _levels(self) -> list[tuple[tuple[str, ...], list[GroupSummary]]]:
        return [(level, [g for g in self.report.groups if g.level == level])
                for level in self.report.levels]

    def _cell(self, group: GroupSummary, scale: str) -> str:
        cell = group.scales.get(scale)
        if cell is not None and cell.suppressed:
            return f"<td class='suppressed'>{self.note_of(group, scale)}</td>"
        mark = self.get(group, scale)
        if mark is None:
            return "<td class='muted' title='no benchmark for this scale'>&ndash;</td>"
        fill = self.colours.get(mark.band, "#ffffff")
        digits = 2 if mark.metric == "mean" else 1
        return (f"<td class='band band-{_slug(mark.band)}' style='background:{fill};"
                f"color:{text_colour_on(fill)}'><span class='v'>{num(mark.value, digits)}"
                f"</span><span class='b'>{escape(mark.band)}</span><span class='p'>"
                f"{ordinal(round(mark.percentile_rank))}</span></td>")

    def _row(self, group: GroupSummary) -> str:
        head = f"<th scope='row'>{escape(self.label(group))}</th>"
        if group.suppressed:
            return (f"<tr>{head}<td colspan='{len(self.scales)}' class='suppressed'>"
                    f"{self.note_of(group, self.scales[0])}</td></tr>")
        return f"<tr>{head}{''.join(self._cell(group, s) for s in self.scales)}</tr>"

    def legend(self) -> str:
        """The bands, lowest first, each a swatch and its name."""
        keys = "".join(
            f"<li><span class='swatch' style='background:{colour}'></span>{escape(band)}</li>"
            for band, colour in self.colours.items()
        )
        return (f"<ul class='legend-list' aria-label='benchmark bands, lowest first'>{keys}"
                "<li><span class='swatch blank'></span>not shown or no benchmark</li></ul>")

    def comparison_text(self) -> str:
        """How many organisations the groups are compared with."""
        if not self.sizes:
            return "the comparison organisations"
        size = (f"{self.sizes[0]}" if len(self.sizes) == 1
                else f"{self.sizes[0]} to {self.sizes[-1]}")
        return f"{size} comparison organisations"

    def source_text(self) -> str:
        """Where the comparison set comes from, as a sentence (empty if not given)."""
        return f" Comparison set: {escape('; '.join(self.sources))}." if self.sources else ""

    def value_text(self) -> str:
        """What the value in a cell is."""
        lo, hi = self.answer_range
        if self.metrics == {"percent"}:
            return "score (0 to 100)"
        if self.metrics == {"mean"}:
            return f"mean score (on the {lo} to {hi} answer scale)"
        return f"mean score (on the {lo} to {hi} answer scale, or 0 to 100)"

    def heatmap(self) -> str:
        """The grid: one row per group, one column per scale."""
        head = "".join(f"<th scope='col'>{escape(self.title_of(s))}</th>" for s in self.scales)
        bodies = []
        for level, groups in self._levels():
            rows = "".join(self._row(g) for g in groups)
            header = ("" if not level else
                      f"<tr class='level'><th scope='rowgroup' colspan='{len(self.scales) + 1}'>"
                      f"By {escape(' and '.join(level))}</th></tr>")
            bodies.append(f"<tbody>{header}{rows}</tbody>")
        caption = "Benchmark band of each group on each scale"
        return (f"<figure class='heatmap-figure'><figcaption><strong>{escape(caption)}"
                f"</strong>Each cell: the group's {self.value_text()}, its benchmark band, and "
                f"its percentile rank among {self.comparison_text()}.{self.source_text()} Colour "
                "repeats the band: lowest in red through to highest in blue.</figcaption>"
                f"{self.legend()}<div class='scroll' role='region' tabindex='0' "
                f"aria-label='{escape(caption)}'><table class='heatmap matrix'><caption>"
                f"{escape(caption)}</caption><thead><tr><th scope='col'>group</th>{head}</tr>"
                f"</thead>{''.join(bodies)}</table></div></figure>")

    def full_table(self) -> str:
        """Every benchmark as a row, inside <details> (one click away)."""
        rows = []
        for _, groups in self._levels():
            for g in groups:
                head = f"<th scope='row'>{escape(self.label(g))}</th>"
                if g.suppressed:
                    rows.append(f"<tr>{head}<td colspan='5' class='suppressed'>"
                                f"{self.note_of(g, self.scales[0])}</td></tr>")
                    continue
                for s in self.scales:
                    cell = g.scales.get(s)
                    if cell is not None and cell.suppressed:
                        rows.append(f"<tr>{head}<td class='text'>{escape(self.title_of(s))}</td>"
                                    f"<td colspan='4' class='suppressed'>{self.note_of(g, s)}"
                                    "</td></tr>")
                        continue
                    mark = self.get(g, s)
                    if mark is None:
                        continue
                    rows.append(
                        f"<tr>{head}<td class='text'>{escape(self.title_of(s))}</td>"
                        f"<td>{num(mark.value, 2 if mark.metric == 'mean' else 1)}</td>"
                        f"<td>{num(mark.percentile_rank, 0)}</td>"
                        f"<td class='text band-{_slug(mark.band)}'>{escape(mark.band)}</td>"
                        f"<td>{mark.comparison_size}</td></tr>"
                    )
        caption = "Percentile rank among comparison organisations"
        return ("<details><summary>Full benchmark table (every group and scale)</summary>"
                f"<div class='scroll' role='region' tabindex='0' aria-label='{caption}'>"
                f"<table><caption>{caption}</caption><thead><tr><th scope='col'>group</th>"
                "<th scope='col'>scale</th><th scope='col'>value</th><th scope='col'>percentile"
                "</th><th scope='col'>band</th><th scope='col'>organisations compared</th></tr>"
                f"</thead><tbody>{''.join(rows)}</tbody></table></div></details>")

    def section(self) -> str:
        """The Benchmarks section: heatmap, then the full table in <details>."""
        if not self.scales:
            return ""
        return ("<section id='benchmarks'><h2>Benchmarks</h2>" + self.heatmap()
                + "<p class='print-only muted'>The full benchmark table is in the online "
                "version of this report.</p>" + self.full_table() + "</section>")
