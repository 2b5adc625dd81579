"""The HTML report renders what the report publishes, and nothing it withholds; every chart
explains itself, every table scrolls in its own box, and no two figures contradict each
other."""

from __future__ import annotations

import dataclasses
import itertools
import math
import re
from datetime import UTC, datetime
from html.parser import HTMLParser
from pathlib import Path
from typing import ClassVar

import numpy as np
import pandas as pd
import pytest

import mes
from mes.charts import LineSeries, line_chart
from mes.groups import Benchmark, benchmark_report, compare_series, compare_waves, icc, summarise
from mes.groups.norms import load_norm_table
from mes.html import render_report_html
from mes.reliability import reliability
from mes.reliability.flags import scale_flags

INST = mes.load_instrument("mes")
WHEN = datetime(2026, 11, 22, 9, 30, tzinfo=UTC)
NORMS = Path(__file__).resolve().parents[2] / "examples" / "mes_norms.yaml"
INDEX = "Index of Medical Engagement"


def survey(sizes: dict[str, int], seed: int = 3, shift: dict[str, int] | None = None
           ) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    n = sum(sizes.values())
    # Each respondent answers around a level of their own: scores spread over the range, as
    # in a real survey, so the histogram has bins to show.
    level = rng.uniform(1, 5, size=(n, 1))
    answers = np.clip(np.rint(level + rng.normal(0, 0.8, size=(n, 30))), 1, 5).astype(int)
    frame = pd.DataFrame(answers, columns=list(INST.item_ids))
    frame["site"] = np.repeat(list(sizes), list(sizes.values()))
    for site, by in (shift or {}).items():
        rows = frame["site"] == site
        items = list(INST.item_ids)
        frame.loc[rows, items] = frame.loc[rows, items].add(by).clip(1, 5)
    return frame


def section(page: str, name: str) -> str:
    match = re.search(rf"<section id='{name}'>.*?</section>", page, re.S)
    assert match, f"no {name} section"
    return match.group(0)


def svgs(html: str) -> list[str]:
    return re.findall(r"<svg.*?</svg>", html, re.S)


def figures(html: str) -> list[str]:
    return re.findall(r"<figure[ >].*?</figure>", html, re.S)


def text_of(html: str) -> str:
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", html)).strip()


class _Tables(HTMLParser):
    """For every <table>, whether it sits inside a horizontally scrolling box."""

    VOID: ClassVar[frozenset[str]] = frozenset({"meta", "br", "img", "input", "hr", "link"})

    def __init__(self) -> None:
        super().__init__()
        self.stack: list[tuple[str, str]] = []
        self.boxed: list[bool] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag == "table":
            self.boxed.append(any(t == "div" and "scroll" in c.split() for t, c in self.stack))
        if tag not in self.VOID:
            self.stack.append((tag, dict(attrs).get("class") or ""))

    def handle_endtag(self, tag: str) -> None:
        while self.stack and self.stack.pop()[0] != tag:
            pass


@pytest.fixture(scope="module")
def four_sites() -> tuple[pd.DataFrame, mes.groups.GroupReport]:
    frame = survey({"North": 60, "South": 50, "East": 45, "West": 40, "Tiny": 4},
                   shift={"North": 1, "West": -1})
    return frame, summarise(INST, frame, by=["site"], min_group_size=10)


@pytest.fixture(scope="module")
def trend(four_sites: tuple[pd.DataFrame, mes.groups.GroupReport]) -> mes.groups.Trend:
    """Three waves, the last the report's: East has 8 respondents in the middle one."""
    frame, _ = four_sites
    first = survey({"North": 50, "South": 45, "East": 40, "West": 35, "Tiny": 3}, seed=8)
    previous = survey({"North": 55, "South": 50, "East": 8, "West": 40}, seed=9)
    return compare_series(INST, [first, previous, frame], ["site"], min_group_size=10,
                          labels=["2022", "2024", "2026"])


@pytest.fixture(scope="module")
def full_page(four_sites: tuple[pd.DataFrame, mes.groups.GroupReport],
              trend: mes.groups.Trend) -> str:
    frame, report = four_sites
    previous = survey({"North": 55, "South": 50, "East": 8, "West": 40}, seed=9)
    change = compare_waves(INST, previous, frame, by=["site"], min_group_size=10)
    benchmarks = benchmark_report(report, load_norm_table(NORMS))
    return render_report_html(INST, report, reliability=reliability(INST, frame),
                              change=change, trend=trend, benchmarks=benchmarks,
                              generated=WHEN, aggregation=report.aggregation)


def test_each_hidden_group_says_why_and_nothing_more() -> None:
    # 'Tiny' (3) is below 10. 'Small' (12) is the next smallest: it is hidden too, or
    # overall (55) - North (40) - Small (12) would give Tiny's n away.
    frame = survey({"North": 40, "Small": 12, "Tiny": 3})
    report = summarise(INST, frame, by=["site"], min_group_size=10)
    page = render_report_html(INST, report, generated=WHEN)
    assert report.group(site="Tiny").suppressed
    assert report.group(site="Small").suppressed
    why = {"Tiny": "fewer than 10 responses",
           "Small": "hidden so that another group cannot be worked out"}
    for site, note in why.items():
        rows = re.findall(rf"<tr><th scope='row'>{site}</th>(.*?)</tr>", page)
        assert len(rows) == 2  # the index table and the every-scale table
        for row in rows:
            assert re.sub(r"<[^>]+>", "", row) == note
    assert ">12<" not in page
    assert ">3<" not in page


def test_every_chart_has_a_table_and_nothing_is_fetched() -> None:
    frame = survey({"North": 40, "South": 30})
    report = summarise(INST, frame, by=["site"])
    page = render_report_html(INST, report, reliability=reliability(INST, frame), generated=WHEN)
    charts = figures(page)
    assert len(charts) >= 4
    assert page.count("<table") >= len(charts)
    assert "<script" not in page
    assert not re.search(r"""(src|href)\s*=\s*['"]?(https?:|//)""", page)
    assert "@import" not in page
    assert "url(" not in page
    assert page.count("<svg") == len(charts)
    assert "Can these scores be trusted?" in page


def test_attribute_values_are_escaped() -> None:
    frame = survey({"<script>alert(1)</script>": 20, "B&Q": 20})
    report = summarise(INST, frame, by=["site"])
    page = render_report_html(INST, report, generated=WHEN)
    assert "<script>alert(1)</script>" not in page
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page
    assert "B&amp;Q" in page


def test_headline_numbers_are_the_reports_numbers() -> None:
    frame = survey({"North": 40, "South": 30})
    report = summarise(INST, frame, by=["site"])
    page = render_report_html(INST, report, generated=WHEN)
    index = report.overall.scales["index"]
    row = re.search(rf"<tr><th scope='row'>{INDEX}</th>(.*?)</tr>", page)
    assert row is not None
    assert f"<td>{index.n}</td><td>{index.mean:.2f}</td>" in row.group(1)
    assert f"{index.ci_low:.2f} to {index.ci_high:.2f}" in row.group(1)
    assert "generated 22 November 2026, 09:30 UTC" in page


def test_a_survey_below_the_threshold_shows_no_results() -> None:
    frame = survey({"North": 4, "South": 3})
    report = summarise(INST, frame, by=["site"], min_group_size=10)
    page = render_report_html(INST, report, reliability=reliability(INST, frame), generated=WHEN,
                              aggregation=report.aggregation)
    assert "fewer than 10 respondents" in page
    assert "<svg" not in page
    assert "Cronbach" not in page
    assert "ICC" not in page
    assert not re.search(r"<td>\d", page)


@pytest.mark.parametrize("instrument_id", ["uwes9", "nhs_staff_engagement"])
def test_other_instruments_render_their_own_scales(instrument_id: str) -> None:
    inst = mes.load_instrument(instrument_id)
    rng = np.random.default_rng(0)
    rs = inst.response_scale
    frame = pd.DataFrame(rng.integers(rs.min, rs.max + 1, size=(50, len(inst.items))),
                         columns=list(inst.item_ids))
    page = render_report_html(inst, summarise(inst, frame), generated=WHEN)
    for scale in inst.scales:
        assert (scale.title or scale.id) in page


# --- a phone, a desk screen, paper -------------------------------------------------------


def test_charts_scale_to_the_screen(full_page: str) -> None:
    charts = svgs(full_page)
    assert len(charts) >= 5  # headline, profile, distribution, by site, change
    for svg in charts:
        opening = svg[: svg.index(">")]
        assert re.search(r'viewBox="0 0 \d+ \d+"', opening)
        assert 'width="100%"' in opening
        assert not re.search(r'\s(width|height)="[\d.]+(px)?"', opening)  # no fixed pixels
        assert "height:auto" in opening
        assert "preserveAspectRatio" in opening
    assert "width=device-width" in full_page


def test_every_table_scrolls_in_its_own_box(full_page: str) -> None:
    parser = _Tables()
    parser.feed(full_page)
    assert len(parser.boxed) >= 8
    assert all(parser.boxed)
    assert re.search(r"\.scroll\{overflow-x:auto", full_page)
    # Group names stay on one line in wide tables (the box scrolls instead).
    assert re.search(r"tbody th\[scope=row\]\{white-space:nowrap", full_page)


def test_print_stylesheet_gives_a4_pages(full_page: str) -> None:
    css = re.search(r"<style>(.*?)</style>", full_page, re.S).group(1)
    assert re.search(r"@page\{size:A4;margin:", css)
    printed = css[css.index("@media print"):]
    for rule in (".scroll{overflow:visible", "thead{display:table-header-group}",
                 "tr{break-inside:avoid}", "break-inside:avoid}"):
        assert rule in printed
    assert re.search(r"figure[^{]*\{break-inside:avoid", printed)
    assert "print-color-adjust:exact" in css  # the heatmap's colours print


# --- every chart explains itself ----------------------------------------------------------


def test_every_chart_is_titled_with_its_scale(full_page: str) -> None:
    titles = {s.id: s.title for s in INST.scales}
    for name in ("distribution", "change"):
        (figure,) = figures(section(full_page, name))
        caption = re.search(r"<figcaption><strong>(.*?)</strong>", figure).group(1)
        title = re.search(r"<title id=[^>]*>(.*?)</title>", figure).group(1)
        assert INDEX in caption
        assert INDEX in title
    level = re.search(r"<section class='level'>.*?</section>", full_page, re.S).group(0)
    assert INDEX in re.search(r"<title id=[^>]*>(.*?)</title>", level).group(1)
    # A chart of several scales names each of them in its title.
    for name, scales in (("headline", ["index", "open_culture", "purpose_and_direction",
                                       "valued_and_empowered"]),
                         ("profile", ["climate_for_positive_change", "work_satisfaction"])):
        title = re.search(r"<title id=[^>]*>(.*?)</title>", section(full_page, name)).group(1)
        for s in scales:
            assert titles[s] in title
    change = section(full_page, "change")
    assert f"<h2>Change since the previous wave: {INDEX}</h2>" in change
    assert f"<caption>Change in {INDEX} by group</caption>" in change


def test_every_chart_has_a_legend_or_labels(full_page: str) -> None:
    for svg in svgs(full_page):
        has_legend = "class=\"legend\"" in svg
        has_labels = "class=\"value\"" in svg and "class=\"axis-title\"" in svg
        assert has_legend or has_labels
    by_site = re.search(r"<section class='level'>.*?</section>", full_page, re.S).group(0)
    legend = re.search(r'<g class="legend">(.*?)</g>', by_site).group(1)
    for band in ("lowest", "low", "medium", "high", "highest"):
        assert f">{band} band<" in legend
    assert ">95% confidence interval<" in legend
    change = re.search(r'<g class="legend">(.*?)</g>', section(full_page, "change")).group(1)
    assert ">higher than before<" in change
    assert ">lower than before<" in change


def test_axis_ticks_are_round_numbers(full_page: str) -> None:
    for svg in svgs(full_page):
        for axis in re.findall(r'<g class="axis">(.*?)</g>', svg):
            labels = re.findall(r'<text x="[^"]*" y="[^"]*" text-anchor="[^"]*" '
                                r'fill="[^"]*">([^<]*)</text>', axis)
            values = [float(t.rstrip("%")) for t in labels]
            assert len(values) >= 3
            steps = {round(b - a, 9) for a, b in itertools.pairwise(values)}
            assert len(steps) == 1, labels
            step = abs(steps.pop())
            mantissa = step / 10 ** math.floor(math.log10(step))
            assert any(math.isclose(mantissa, m) for m in (1, 2, 5)), labels
    histogram = svgs(section(full_page, "distribution"))[0]
    y_ticks = re.findall(r'text-anchor="end" fill="[^"]*">([^<]*)</text>', histogram)
    assert y_ticks[0] == "0%"
    assert all(t.endswith("%") for t in y_ticks)


def test_charts_are_described_for_screen_readers(full_page: str) -> None:
    for svg in svgs(full_page):
        assert 'role="img"' in svg
        ids = re.search(r'aria-labelledby="([^"]+)"', svg).group(1).split()
        assert len(ids) == 2
        desc = re.search(rf'<desc id="{ids[1]}">(.*?)</desc>', svg).group(1)
        assert re.search(r"\d", desc)  # the numbers in words, not "a chart"
    by_site = re.search(r"<section class='level'>.*?</section>", full_page, re.S).group(0)
    desc = re.search(r"<desc[^>]*>(.*?)</desc>", by_site).group(1)
    assert "Tiny: fewer than 10 responses" in desc


# --- benchmarks: a heatmap, the full table one click away -----------------------------------


def test_benchmarks_are_a_heatmap_with_the_full_table_in_details(
    full_page: str, four_sites: tuple[pd.DataFrame, mes.groups.GroupReport]
) -> None:
    _, report = four_sites
    bench = section(full_page, "benchmarks")
    heatmap = re.search(r"<table class='heatmap matrix'>.*?</table>", bench, re.S).group(0)
    rows = re.findall(r"<tr><th scope='row'>", heatmap)
    assert len(rows) == len(report.groups)  # one row per group, not per group and scale
    north = report.group(site="North")
    marks = {b.scale: b for b in benchmark_report(report, load_norm_table(NORMS))
             if b.group == {"site": "North"}}
    row = re.search(r"<tr><th scope='row'>North</th>(.*?)</tr>", heatmap).group(1)
    cells = re.findall(r"<td class='band band-[a-z-]+' style='background:(#[0-9a-f]{6});"
                       r"color:#[0-9a-f]{6}'><span class='v'>([\d.]+)</span><span class='b'>"
                       r"(\w+)</span><span class='p'>(\d+)(?:st|nd|rd|th)</span></td>", row)
    assert len(cells) == len(north.scales)
    index = marks["index"]
    assert cells[0][1:] == (f"{index.value:.2f}", index.band, f"{round(index.percentile_rank)}")
    legend = re.search(r"<ul class='legend-list'.*?</ul>", bench, re.S).group(0)
    for band in ("lowest", "low", "medium", "high", "highest"):
        assert f"</span>{band}</li>" in legend
    details = re.search(r"<details><summary>(.*?)</summary>(.*?)</details>", bench, re.S)
    assert details
    assert "Full benchmark table" in details.group(1)
    full_rows = re.findall(r"<tr><th scope='row'>", details.group(2))
    shown = [g for g in report.groups if not g.suppressed]
    hidden = [g for g in report.groups if g.suppressed]
    assert len(full_rows) == len(shown) * len(north.scales) + len(hidden)


def test_the_heatmap_never_shows_a_hidden_groups_value_or_band() -> None:
    frame = survey({"North": 40, "Small": 12, "Tiny": 3})
    report = summarise(INST, frame, by=["site"], min_group_size=10)
    real = benchmark_report(report, load_norm_table(NORMS))
    # Benchmarks of the hidden groups, as if a caller had computed them before suppression:
    # the page must still show only why they are hidden.
    forged = [Benchmark({"site": site}, s, "mean", 4.987, 97.0, "top decile", 13, None)
              for site in ("Tiny", "Small") for s in report.scales]
    page = render_report_html(INST, report, benchmarks=[*real, *forged], generated=WHEN)
    bench = section(page, "benchmarks")
    why = {"Tiny": "fewer than 10 responses",
           "Small": "hidden so that another group cannot be worked out"}
    for site, note in why.items():
        for row in re.findall(rf"<tr><th scope='row'>{site}</th>(.*?)</tr>", bench):
            assert text_of(row) == note
            assert "style=" not in row  # no band colour
            assert "band" not in row
    assert "4.987" not in page
    assert "97th" not in page
    assert "top decile" not in page  # not even as a band in the legend
    assert "13 comparison organisations" not in page


def test_a_hidden_cell_of_a_shown_group_is_a_note_on_a_blank_cell() -> None:
    from mes.html.heatmap import BenchmarkGrid

    frame = survey({"North": 40, "South": 30})
    report = summarise(INST, frame, by=["site"])
    north = report.group(site="North")
    hidden = dataclasses.replace(north.scales["index"], suppressed=True, reason="too_few_responses",
                                 mean=None)
    groups = [dataclasses.replace(north, scales={**north.scales, "index": hidden})
              if g is north else g for g in report.groups]
    report = dataclasses.replace(report, groups=groups)
    forged = [Benchmark({"site": "North"}, "index", "mean", 4.987, 97.0, "highest", 12, None),
              Benchmark({"site": "South"}, "index", "mean", 3.14, 40.0, "medium", 12, None)]
    grid = BenchmarkGrid(report, forged, ["index"], str, lambda g, s: "fewer than 10 responses",
                         (1, 5))
    html = grid.section()
    row = re.search(r"<tr><th scope='row'>North</th>(.*?)</tr>", html).group(1)
    assert row == "<td class='suppressed'>fewer than 10 responses</td>"
    assert "4.987" not in html
    assert ">3.14<" in html  # South's own cell is there


# --- can groups be compared? ---------------------------------------------------------------


def test_the_aggregation_check_is_read_out_in_words(
    full_page: str, four_sites: tuple[pd.DataFrame, mes.groups.GroupReport]
) -> None:
    frame, report = four_sites
    part = section(full_page, "aggregation")
    assert "<h2>Can groups be compared?</h2>" in part
    result = report.aggregation["site"]["index"]
    # Over the groups shown only: Tiny (4 respondents), and West, hidden so that Tiny cannot
    # be worked out, add nothing to the figures.
    hidden = {g.key["site"] for g in report.groups if g.suppressed}
    assert hidden == {"Tiny", "West"}
    scores = mes.score(INST, frame).scores["index"]
    shown = ~frame["site"].isin(hidden)
    again = icc(scores[shown], frame.loc[shown, "site"])
    assert result.icc2 == pytest.approx(again.icc2)
    assert result.n_groups == 3
    lead = re.search(rf"<p><strong>{INDEX}</strong>: (.*?)</p>", part).group(1)
    assert lead.startswith(f"ICC(2) = {result.icc2:.2f}: group means are reliable enough to "
                           "compare groups.")
    assert f"ICC(1) = {result.icc1:.2f}" in lead
    row = re.search(rf"<tr><th scope='row'>{INDEX}</th>(.*?)</tr>", part).group(1)
    assert f"<td>3</td><td>{result.icc1:.2f}</td><td>{result.icc2:.2f}</td>" in row
    # The level's own section says it too, under its chart.
    level = re.search(r"<section class='level'>.*?</section>", full_page, re.S).group(0)
    assert "Can these groups be compared?" in level
    assert f"ICC(2) = {result.icc2:.2f}" in level


def test_without_the_aggregation_check_there_is_no_icc_section() -> None:
    frame = survey({"North": 40, "South": 30})
    report = summarise(INST, frame, by=["site"])
    page = render_report_html(INST, report, generated=WHEN)
    assert "id='aggregation'" not in page
    assert "ICC(" not in page


@pytest.mark.parametrize(("icc1", "icc2", "words"), [
    (0.05, 0.82, "ICC(2) = 0.82: group means are reliable enough to compare groups."),
    (0.02, 0.60, "ICC(2) = 0.60: group means are only marginally reliable"),
    (0.01, 0.45, "ICC(2) = 0.45: group means are not stable enough to rank groups."),
    # 0.698 is marginal: it is not printed as 0.70, the reliable threshold.
    (0.03, 0.698, "ICC(2) = 0.698: group means are only marginally reliable"),
    # A negative ICC says only that the groups differ less than chance would make them.
    (-0.004, -21.04, "ICC(2) is below 0: group means are not stable enough to rank groups. "
                     "ICC(1) is below 0: the groups differ no more than chance"),
    (0.004, 0.2, "ICC(1) = 0.004: 0.4% of the variation"),  # above 0, so not "0.00"
    (None, None, "Not computed: fewer than two groups are shown."),
])
def test_icc_readings_use_the_documented_thresholds(
    icc1: float | None, icc2: float | None, words: str
) -> None:
    from mes.groups import ICCResult
    from mes.html.icc import icc_reading

    n_groups = 1 if icc1 is None else 5
    reading = icc_reading(ICCResult(icc1, icc2, None, None, None, None, n_groups, 100, 20.0, ""))
    assert words in reading


def test_one_group_shown_gives_no_icc_figure() -> None:
    frame = survey({"North": 40, "Small": 12, "Tiny": 3})
    report = summarise(INST, frame, by=["site"], min_group_size=10)
    page = render_report_html(INST, report, generated=WHEN, aggregation=report.aggregation)
    part = section(page, "aggregation")
    assert "Not computed: fewer than two groups are shown." in part
    assert not re.search(r"ICC\(\d\) = ", part)


# --- one rounding rule: tables and warnings agree ------------------------------------------


@pytest.mark.parametrize(("alpha", "shown"), [
    (0.697, "0.697"), (0.6996, "0.6996"), (0.6949, "0.69"), (0.704, "0.70"), (0.85, "0.85"),
])
def test_alpha_in_the_table_is_the_alpha_in_the_warning(alpha: float, shown: str) -> None:
    frame = survey({"North": 40, "South": 30})
    report = summarise(INST, frame, by=["site"])
    real = reliability(INST, frame)["index"]
    flags = scale_flags(scale="index", alpha=alpha, alpha_ci=real.alpha_ci, ci=real.ci,
                        n=real.n, k=real.k, k_defined=real.k)
    forged = dataclasses.replace(real, alpha=alpha, flags=tuple(flags))
    page = render_report_html(INST, report, reliability={"index": forged}, generated=WHEN)
    part = section(page, "reliability")
    row = re.search(rf"<tr><th scope='row'>{INDEX}</th>(.*?)</tr>", part).group(1)
    assert re.findall(r"<td>([^<]*)</td>", row)[2] == shown
    warning = re.search(r"<li class='flag'>(.*?)</li>", part)
    if alpha < 0.70:
        assert warning is not None
        assert f"is {shown}, below the usual 0.70" in warning.group(1)
        assert float(shown) < 0.70  # the figure agrees with the verdict
    else:
        assert warning is None


@pytest.mark.parametrize(("corrected", "shown", "flagged"), [
    (0.8996, "0.8996", False),  # not "0.90" beside "below 0.90"
    (0.9004, "0.90", True),
    (1.0004, "1.0004", True),  # beyond 1, as the warning says, not "1.00"
    (0.42, "0.42", False),
])
def test_corrected_correlations_agree_with_their_warnings(corrected: float, shown: str,
                                                          flagged: bool) -> None:
    from mes.reliability import scale_intercorrelations

    frame = survey({"North": 40, "South": 30})
    report = summarise(INST, frame, by=["site"])
    real = scale_intercorrelations(INST, frame, ["open_culture", "purpose_and_direction"])
    matrix = real.corrected.copy()
    matrix[0, 1] = matrix[1, 0] = corrected
    forged = dataclasses.replace(real, corrected=matrix)
    page = render_report_html(INST, report, intercorrelations=forged, generated=WHEN)
    first = re.search(r"<tr><th scope='row'>Working in an open culture</th>(.*?)</tr>",
                      section(page, "intercorrelations")).group(1)
    cell = re.findall(r"<td( class='flag')?>([^<]*)</td>", first)[1]
    assert cell == (" class='flag'" if flagged else "", shown)


# --- the trend over several waves: a line chart and a table per scale ---------------------


def test_the_trend_has_a_line_chart_per_scale_with_a_point_per_shown_wave(
    full_page: str, trend: mes.groups.Trend
) -> None:
    part = section(full_page, "trend")
    assert "<h2>Trend over 3 waves</h2>" in part
    charts = svgs(part)
    assert len(charts) == len(trend.scales)
    titles = [re.search(r"<title id=[^>]*>(.*?)</title>", c).group(1) for c in charts]
    assert titles[0] == f"{INDEX} by wave (mean, 1 to 5)"
    assert {t.split(" by wave")[0] for t in titles} == {s.title for s in INST.scales}
    index = charts[0]
    series = re.findall(r'<g class="series">(.*?)</g>', index, re.S)
    labels = ["overall", "East", "North", "South", "Tiny", "West"]
    assert len(series) == len(labels)
    points = {label: re.findall(r'<circle class="point"[^>]*><title>([^<]*)</title>', g)
              for label, g in zip(labels, series, strict=True)}
    assert [p.split(":")[0] for p in points["overall"]] == [
        "overall, 2022", "overall, 2024", "overall, 2026"]
    # East is hidden in 2024 (8 responses) and Tiny in every wave: no point, no line
    # across the gap, and the reason in words.
    assert [p.split(":")[0] for p in points["East"]] == ["East, 2022", "East, 2026"]
    assert points["Tiny"] == []
    assert 'class="line"' not in series[1]
    desc = re.search(r"<desc[^>]*>(.*?)</desc>", index).group(1)
    assert "East: 2022 " in desc
    assert "2024 not shown (fewer than 10 responses)" in desc
    # The values drawn are the trend's, rounded for the eye only.
    cell = trend.cell("index")
    for point, title in zip(cell.points, points["overall"], strict=True):
        assert title.startswith(f"overall, {point.wave}: {point.mean:.2f} (95% confidence "
                                f"interval {point.ci_low:.2f} to {point.ci_high:.2f})")
    ys = [float(y) for y in re.findall(r'<circle class="point" cx="[^"]*" cy="([^"]*)"',
                                       series[0])]
    means = [p.mean for p in cell.points]
    assert sorted(range(3), key=lambda i: ys[i]) == sorted(range(3), key=lambda i: -means[i])


def test_the_trend_table_shows_each_step_and_hides_what_a_wave_hides(
    full_page: str, trend: mes.groups.Trend
) -> None:
    part = section(full_page, "trend")
    tables = re.findall(r"<table class='trend'>.*?</table>", part, re.S)
    assert len(tables) == len(trend.scales)
    assert part.count("<details>") == len(trend.scales) - 1  # the index's table is open
    index = tables[0]
    east = re.search(r"<th scope='rowgroup' rowspan='3'>East</th>(.*?)</tbody>", index, re.S)
    assert east is not None
    rows = re.findall(r"<th scope='row'>(\d+)</th>(.*?)</tr>", east.group(1), re.S)
    assert [w for w, _ in rows] == ["2022", "2024", "2026"]
    assert text_of(rows[1][1]) == "fewer than 10 responses hidden in one of the waves"
    assert text_of(rows[2][1]).endswith("hidden in one of the waves")
    overall = re.search(r"<th scope='rowgroup' rowspan='3'>overall</th>(.*?)</tbody>", index,
                        re.S)
    step = trend.cell("index").steps[1]
    last = re.findall(r"<th scope='row'>2026</th>(.*?)</tr>", overall.group(1), re.S)[0]
    assert (f"<td>{step.difference:.2f} ({step.ci_low:.2f} to {step.ci_high:.2f})</td>"
            f"<td>{step.hedges_g:.2f}</td>") in last
    # The overall reading, step by step, leads the section.
    assert f"<strong>2024 to 2026</strong>: {step.reading}" in part.replace("&#x27;", "'")
    # Nothing of East's 2024 wave anywhere: its n (8) is not printed as a figure.
    assert "<td>8</td>" not in part


def test_line_chart_checks_its_series_and_breaks_lines_at_gaps() -> None:
    svg = line_chart([LineSeries("a", (1.0, None, 3.0, 4.0))], ["w1", "w2", "w3", "w4"],
                     title="t")
    assert svg.count('class="line"') == 1  # w3 to w4; w1 stands alone
    assert svg.count('class="point"') == 3
    assert "w2 not shown" in svg
    with pytest.raises(ValueError, match="values has 2 entries for 3 categories"):
        line_chart([LineSeries("a", (1.0, 2.0))], ["x", "y", "z"], title="t")
    with pytest.raises(ValueError, match="at least one category"):
        line_chart([], [], title="t")
    # Long wave labels are staggered and cut to fit, the whole label kept as a tooltip.
    long = [f"Doctors' survey, autumn {2016 + 2 * i}" for i in range(6)]
    svg = line_chart([LineSeries("a", tuple(float(i) for i in range(6)))], long, title="t")
    labels = re.findall(r'<g class="categories">(.*?)</g>', svg)[0]
    assert len(set(re.findall(r'y="([\d.]+)"', labels))) == 2
    assert all(f"<title>{label.replace(chr(39), '&#x27;')}</title>" in labels
               for label in long)
