"""SVG charts: well-formed, accessible, true to the numbers; suppressed groups drawn as gaps."""

from __future__ import annotations

import xml.etree.ElementTree as ET

import pytest

from mes.charts import Bar, bar_chart, histogram
from mes.charts.svg import BAND_COLOURS

NS = {"s": "http://www.w3.org/2000/svg"}


def parse(svg: str) -> ET.Element:
    return ET.fromstring(svg)


def test_bar_geometry_matches_the_values() -> None:
    svg = parse(bar_chart([Bar("A", 50.0, 40.0, 60.0, band="high"), Bar("B", 100.0)],
                          title="t", description="d", width=640))
    rects = svg.findall("s:rect", NS)
    # plot area: x from 250 (labels) to 640 - 70 = 570: 320 px for 0..100
    assert float(rects[0].get("width")) == pytest.approx(160.0)
    assert float(rects[1].get("width")) == pytest.approx(320.0)
    assert rects[0].get("fill") == BAND_COLOURS["high"]
    whisker = svg.find("s:path", NS).get("d")
    assert whisker.startswith("M378.0,23.0H442.0")  # 40 -> 378, 60 -> 442


def test_negative_values_are_drawn_from_the_origin() -> None:
    root = parse(bar_chart([Bar("down", -0.5)], title="t", description="d", x_min=-1, x_max=1,
                           origin=0.0, width=640))
    rect = root.find("s:rect", NS)
    # 320 px for -1..1: 0 sits at 250 + 160 = 410, -0.5 at 330
    assert float(rect.get("x")) == pytest.approx(330.0)
    assert float(rect.get("width")) == pytest.approx(80.0)


def test_value_labels_use_the_digits_asked_for() -> None:
    svg = bar_chart([Bar("a", 0.137)], title="t", description="d", x_min=-1, x_max=1, digits=2)
    assert ">0.14<" in svg
    assert ">0.1<" not in svg


def test_suppressed_group_is_a_labelled_gap_not_a_bar() -> None:
    svg = bar_chart([Bar("Tiny unit", None, note="fewer than 10 responses")],
                    title="t", description="d")
    root = parse(svg)
    assert root.findall("s:rect", NS) == []
    assert "fewer than 10 responses" in svg


def test_chart_is_accessible_and_escapes_text() -> None:
    svg = bar_chart([Bar("<script>alert(1)</script>", 10.0)], title="A & B", description="d <x>")
    root = parse(svg)  # would fail on unescaped markup
    assert root.get("role") == "img"
    assert root.find("s:title", NS).text == "A & B"
    assert root.find("s:desc", NS).text == "d <x>"
    assert "<script>" not in svg


def test_values_outside_the_axis_are_clipped() -> None:
    root = parse(bar_chart([Bar("A", 150.0)], title="t", description="d"))
    assert float(root.find("s:rect", NS).get("width")) == pytest.approx(380.0)


def test_histogram_heights_are_proportional_and_withheld_bins_are_gaps() -> None:
    root = parse(histogram([0, 1, 2, 3], [5, None, 10], title="t", description="d", height=220,
                           unit="%"))
    rects = root.findall("s:rect", NS)
    assert len(rects) == 2
    heights = [float(r.get("height")) for r in rects]
    assert heights == pytest.approx([90.0, 180.0])  # plot height 220 - 40
    assert "10%" in ET.tostring(root, encoding="unicode")  # the peak, with its unit


def test_bad_arguments_name_the_argument() -> None:
    with pytest.raises(ValueError, match="x_max"):
        bar_chart([], title="t", description="d", x_min=5, x_max=5)
    with pytest.raises(ValueError, match="edges"):
        histogram([0, 1], [1, 2], title="t", description="d")
