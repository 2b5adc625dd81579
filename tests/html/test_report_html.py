"""The HTML report renders what the report publishes, and nothing it withholds."""

from __future__ import annotations

import re
from datetime import UTC, datetime

import numpy as np
import pandas as pd
import pytest

import mes
from mes.groups import summarise
from mes.html import render_report_html
from mes.reliability import reliability

INST = mes.load_instrument("mes")
WHEN = datetime(2026, 11, 22, 9, 30, tzinfo=UTC)


def survey(sizes: dict[str, int], seed: int = 3) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    n = sum(sizes.values())
    frame = pd.DataFrame(rng.integers(1, 6, size=(n, 30)), columns=list(INST.item_ids))
    frame["site"] = np.repeat(list(sizes), list(sizes.values()))
    return frame


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
    figures = page.count("<figure>")
    assert figures >= 4
    assert page.count("<table>") >= figures
    assert "<script" not in page
    assert not re.search(r"""(src|href)\s*=\s*['"]?https?:""", page)
    assert page.count("<svg") == figures
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
    row = re.search(r"<tr><th scope='row'>Index of Medical Engagement</th>(.*?)</tr>", page)
    assert row is not None
    assert f"<td>{index.n}</td><td>{index.mean:.2f}</td>" in row.group(1)
    assert f"{index.ci_low:.2f} to {index.ci_high:.2f}" in row.group(1)
    assert "generated 22 November 2026, 09:30 UTC" in page


def test_a_survey_below_the_threshold_shows_no_results() -> None:
    frame = survey({"North": 4, "South": 3})
    report = summarise(INST, frame, by=["site"], min_group_size=10)
    page = render_report_html(INST, report, reliability=reliability(INST, frame), generated=WHEN)
    assert "fewer than 10 respondents" in page
    assert "<svg" not in page
    assert "Cronbach" not in page
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
