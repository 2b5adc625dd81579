"""The HTML report in a real browser: Debian's chromium, headless, driven by Playwright.

The page is looked at as a medical director meets it: on a phone (390 px), on a desk
screen (1280 px) and printed on A4. The CI set-up (.ci/run) installs chromium (and
poppler-utils, to turn the printed pages into pictures) when missing; elsewhere the tests
skip with the reason. Screenshots and the printed pages are kept in test-artifacts/ for a
person to look at.
"""

from __future__ import annotations

import re
import shutil
import struct
import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest

import mes
from mes.groups import benchmark_report, compare_series, compare_waves, summarise
from mes.groups.norms import load_norm_table
from mes.html import render_report_html
from mes.reliability import reliability, scale_intercorrelations

ROOT = Path(__file__).resolve().parents[2]
ARTIFACTS = ROOT / "test-artifacts"
NORMS = ROOT / "examples" / "mes_norms.yaml"
CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync", "--no-first-run"]
LONG_NAME = "Emergency medicine and acute care (Royal Infirmary)"
# A4 less the @page margins (12 mm either side, 14 mm top and 16 mm bottom), in CSS px.
A4_CONTENT_WIDTH = round((210 - 24) / 25.4 * 96)
A4_CONTENT_HEIGHT = round((297 - 30) / 25.4 * 96)
# headline, profile, distribution, by specialty, change since the previous wave; then the
# trend over three waves: one line chart per scale.
TREND_CHARTS = len(mes.load_instrument("mes").scale_ids)
CHARTS = 5 + TREND_CHARTS

pytestmark = pytest.mark.skipif(
    CHROMIUM is None, reason="no chromium on PATH (Debian: apt-get install chromium)"
)

# Elements whose right edge is beyond the viewport, other than inside a scroll box (which
# scrolls on its own without widening the page).
OVERFLOW_JS = """() => {
  const vw = document.documentElement.clientWidth;
  const out = [];
  for (const el of document.body.querySelectorAll('*')) {
    if (el.parentElement && el.parentElement.closest('.scroll')) continue;
    const r = el.getBoundingClientRect();
    if (r.width > 0 && (r.right > vw + 0.5 || r.left < -0.5)) {
      out.push(`${el.tagName}.${el.getAttribute('class') || ''} ${Math.round(r.left)}` +
               `..${Math.round(r.right)}`);
    }
  }
  return {scrollWidth: document.documentElement.scrollWidth, viewport: vw, out: out};
}"""

# Lines of text of every group name heading a table row (scale names may wrap).
LINES_JS = """() => Array.from(
    document.querySelectorAll('table:not(.by-scale) tbody th[scope=row]')).map(th => {
  const range = document.createRange();
  range.selectNodeContents(th);
  return new Set(Array.from(range.getClientRects()).map(r => Math.round(r.top))).size;
})"""

# Per chart: its drawn width, the smallest text in CSS px, the texts drawn outside it,
# and whether it has a legend or direct labels.
CHARTS_JS = """() => Array.from(document.querySelectorAll('figure svg')).map(svg => {
  const box = svg.getBoundingClientRect();
  const scale = box.width / svg.viewBox.baseVal.width;
  const texts = Array.from(svg.querySelectorAll('text'));
  const sizes = texts.map(t => parseFloat(getComputedStyle(t).fontSize));
  const outside = texts.filter(t => {
    const r = t.getBoundingClientRect();
    return r.width > 0 && (r.left < box.left - 0.5 || r.right > box.right + 0.5 ||
                           r.top < box.top - 0.5 || r.bottom > box.bottom + 0.5);
  }).map(t => t.textContent);
  return {title: svg.querySelector('title').textContent, width: box.width,
          height: box.height, scale: scale, smallest: Math.min(...sizes),
          outside: outside, legend: svg.querySelectorAll('g.legend text').length,
          labels: svg.querySelectorAll('text.value').length};
})"""


@pytest.fixture(scope="module")
def report_file(tmp_path_factory: pytest.TempPathFactory) -> Path:
    inst = mes.load_instrument("mes")
    units = ["Medicine", "Surgery", "Paediatrics", LONG_NAME, "Tiny unit"]
    weights = [0.3, 0.3, 0.2, 0.18, 0.02]

    def wave(seed: int, shift: float) -> pd.DataFrame:
        rng = np.random.default_rng(seed)
        level = rng.uniform(1.5, 4.8, size=(320, 1)) + shift
        answers = np.clip(np.rint(level + rng.normal(0, 0.8, size=(320, 30))), 1, 5)
        frame = pd.DataFrame(answers.astype(int), columns=list(inst.item_ids))
        frame["specialty"] = rng.choice(units, 320, p=weights)
        return frame

    now, before, first = wave(7, 0.2), wave(8, 0.0), wave(9, -0.1)
    report = summarise(inst, now, by=["specialty"], min_group_size=10)
    page = render_report_html(
        inst, report, title="Medical Engagement Scale: example trust, 2026",
        reliability=reliability(inst, now),
        change=compare_waves(inst, before, now, by=["specialty"], min_group_size=10),
        trend=compare_series(inst, [first, before, now], by=["specialty"], min_group_size=10,
                             labels=["2022", "2024", "2026"]),
        benchmarks=benchmark_report(report, load_norm_table(NORMS)),
        intercorrelations=scale_intercorrelations(inst, now),
        aggregation=report.aggregation,
    )
    path = tmp_path_factory.mktemp("report") / "report.html"
    path.write_text(page)
    return path


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    sync_api = pytest.importorskip("playwright.sync_api", reason="playwright not installed")
    with sync_api.sync_playwright() as p:
        launched = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        try:
            yield launched
        finally:
            launched.close()


def _open(browser: Any, report_file: Path, width: int, problems: list[str]) -> Any:
    page = browser.new_page(viewport={"width": width, "height": 900})
    page.on("console", lambda m: problems.append(m.text) if m.type == "error" else None)
    page.on("pageerror", lambda e: problems.append(str(e)))
    page.on("requestfailed", lambda r: problems.append(f"request {r.url}"))
    page.goto(report_file.as_uri())
    return page


def test_report_renders_charts_without_console_errors(browser: Any, report_file: Path) -> None:
    problems: list[str] = []
    page = _open(browser, report_file, 1100, problems)
    try:
        charts = page.locator("figure svg")
        assert charts.count() == CHARTS
        drawn = page.evaluate(
            "Array.from(document.querySelectorAll('figure svg rect.bar'))"
            ".filter(r => r.getBoundingClientRect().width > 0).length"
        )
        # 4 headline + 6 sub-scales + histogram bins + 4 published specialties + changes
        assert drawn >= 4 + 6 + 4
        assert page.get_by_text("fewer than 10 responses").count() >= 1
        assert page.locator("#benchmarks table.heatmap td.band").count() >= 4 * 10
        assert page.locator("#aggregation").count() == 1
    finally:
        page.close()
    assert problems == []


def test_the_trend_charts_show_three_waves(browser: Any, report_file: Path) -> None:
    """Each trend chart draws a line per group with a point per wave it shows: three for a
    group shown in every wave, none for the tiny unit (hidden in every wave), whose
    absence the page notes."""
    page = _open(browser, report_file, 1100, [])
    try:
        charts = page.evaluate("""() => Array.from(
            document.querySelectorAll('#trend figure svg')).map(svg => ({
          waves: Array.from(svg.querySelectorAll('g.categories text')).map(
            t => t.textContent),
          series: Array.from(svg.querySelectorAll('g.series')).map(g => ({
            points: Array.from(g.querySelectorAll('circle.point')).filter(
              c => c.getBoundingClientRect().width > 0).map(
              c => c.querySelector('title').textContent),
            whiskers: g.querySelectorAll('path.whisker').length}))}))""")
        notes = [n for n in page.locator("#trend p.muted").all_text_contents()
                 if n.startswith("Not shown")]
    finally:
        page.close()
    assert len(charts) == TREND_CHARTS
    for chart in charts:
        assert chart["waves"] == ["2022", "2024", "2026"]
        overall = chart["series"][0]
        assert len(overall["points"]) == 3
        assert [p.split(":")[0] for p in overall["points"]] == [
            "overall, 2022", "overall, 2024", "overall, 2026"]
        assert overall["whiskers"] == 3
        assert max(len(s["points"]) for s in chart["series"]) == 3
        assert min(len(s["points"]) for s in chart["series"]) == 0  # the tiny unit
    assert len(notes) == TREND_CHARTS
    assert all("Tiny unit in 2022, 2024 and 2026 (fewer than 10 responses)" in n for n in notes)


@pytest.mark.parametrize("width", [390, 1280])
def test_nothing_sticks_out_of_a_phone_or_a_desk_screen(
    browser: Any, report_file: Path, width: int
) -> None:
    problems: list[str] = []
    page = _open(browser, report_file, width, problems)
    try:
        found = page.evaluate(OVERFLOW_JS)
        ARTIFACTS.mkdir(exist_ok=True)
        page.screenshot(path=str(ARTIFACTS / f"report-{width}.png"), full_page=True)
        assert found["scrollWidth"] <= width
        assert found["out"] == []
        # Wide tables scroll inside their own box, and a keyboard can reach the box.
        boxes = page.evaluate(
            "Array.from(document.querySelectorAll('.scroll')).map(b => "
            "({wide: b.scrollWidth > b.clientWidth + 1, focusable: b.tabIndex === 0}))"
        )
        assert all(b["focusable"] for b in boxes)
        if width == 390:
            assert any(b["wide"] for b in boxes)  # the heatmap at least
        # A group name never wraps onto three lines.
        lines = page.evaluate(LINES_JS)
        assert lines
        assert max(lines) <= 2
    finally:
        page.close()
    assert problems == []


@pytest.mark.parametrize("width", [390, 1280])
def test_every_chart_explains_itself_and_fits(browser: Any, report_file: Path,
                                              width: int) -> None:
    page = _open(browser, report_file, width, [])
    try:
        charts = page.evaluate(CHARTS_JS)
    finally:
        page.close()
    assert len(charts) == CHARTS
    for chart in charts:
        assert chart["legend"] > 0 or chart["labels"] > 0, chart["title"]
        assert chart["outside"] == [], chart["title"]  # no cut-off label like ".892%"
        assert chart["width"] <= width
        if width == 390:
            assert chart["width"] > 330  # the chart uses the phone's width
            assert chart["smallest"] * chart["scale"] >= 9.5, chart["title"]  # readable
        else:
            assert chart["smallest"] * chart["scale"] <= 18  # not blown up on a wide screen


def test_prints_on_a4_pages(browser: Any, report_file: Path) -> None:
    page = _open(browser, report_file, A4_CONTENT_WIDTH, [])
    try:
        page.emulate_media(media="print")
        printed = page.evaluate("""() => ({
          figures: Array.from(document.querySelectorAll('figure')).map(f => ({
            height: f.getBoundingClientRect().height,
            avoid: getComputedStyle(f).breakInside})),
          rows: Array.from(document.querySelectorAll('tr')).every(
            r => getComputedStyle(r).breakInside === 'avoid'),
          clipped: Array.from(document.querySelectorAll('.scroll')).filter(
            b => getComputedStyle(b).overflowX !== 'visible').length,
          details: Array.from(document.querySelectorAll('details')).every(
            d => getComputedStyle(d).display === 'none'),
          wide: Array.from(document.body.querySelectorAll('*')).filter(
            e => e.getBoundingClientRect().right > document.documentElement.clientWidth + 0.5
          ).map(e => e.tagName + ' ' + (e.textContent || '').slice(0, 40))})""")
        pdf = ARTIFACTS / "report.pdf"
        ARTIFACTS.mkdir(exist_ok=True)
        page.pdf(path=str(pdf), format="A4")
    finally:
        page.close()
    # No chart is cut: each figure fits on one page and is never split across two.
    assert len(printed["figures"]) >= CHARTS + 1  # the charts and the heatmap
    for figure in printed["figures"]:
        assert figure["height"] <= A4_CONTENT_HEIGHT
        assert figure["avoid"] == "avoid"
    assert printed["rows"]  # no table row split across pages
    assert printed["clipped"] == 0  # no scroll box hides part of a table on paper
    assert printed["wide"] == []  # nothing runs off the right edge of the paper
    assert printed["details"]  # the click-to-open table is left off paper
    pages = _page_count(pdf)
    assert 3 <= pages <= 15  # the trend over three waves takes about four of them
    _render_pages(pdf, pages)


def _page_count(pdf: Path) -> int:
    if shutil.which("pdfinfo"):
        info = subprocess.run(["pdfinfo", str(pdf)], capture_output=True, text=True,
                              check=True).stdout
        return int(re.search(r"^Pages:\s+(\d+)", info, re.M).group(1))
    return len(re.findall(rb"/Type\s*/Page[^s]", pdf.read_bytes()))


def _render_pages(pdf: Path, pages: int) -> None:
    """The printed pages as pictures, for a person to look at (when poppler is there)."""
    if not shutil.which("pdftoppm"):
        return
    for old in ARTIFACTS.glob("report-print-*.png"):
        old.unlink()
    subprocess.run(["pdftoppm", "-r", "60", "-png", str(pdf), str(ARTIFACTS / "report-print")],
                   check=True)
    pictures = sorted(ARTIFACTS.glob("report-print-*.png"))
    assert len(pictures) == pages
    for picture in pictures:
        data = picture.read_bytes()
        width, height = struct.unpack(">II", data[16:24])  # the PNG header's IHDR chunk
        assert height / width == pytest.approx(297 / 210, rel=0.01)  # A4 portrait
        assert len(data) > 3_000  # not a blank page (one compresses to about a kilobyte)
