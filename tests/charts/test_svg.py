"""SVG charts: well-formed, accessible, responsive, self-explanatory, true to the numbers;
suppressed groups drawn as gaps."""

from __future__ import annotations

import itertools
import math
import re
import xml.etree.ElementTree as ET

import pytest

from mes.charts import Bar, bar_chart, histogram
from mes.charts.svg import BAND_COLOURS

NS = {"s": "http://www.w3.org/2000/svg"}


def parse(svg: str) -> ET.Element:
    return ET.fromstring(svg)


def bars_of(root: ET.Element) -> list[ET.Element]:
    return [r for r in root.iter("{http://www.w3.org/2000/svg}rect") if r.get("class") == "bar"]


def texts(root: ET.Element) -> list[str]:
    """Every drawn text (tooltips, the <title> children, left out)."""
    return ["".join([t.text or ""] + [child.tail or "" for child in t])
            for t in root.iter("{http://www.w3.org/2000/svg}text")]


def legend_labels(root: ET.Element) -> list[str]:
    legend = next(g for g in root.iter("{http://www.w3.org/2000/svg}g")
                  if g.get("class") == "legend")
    return [t.text or "" for t in legend.findall("s:text", NS)]


def axis_labels(root: ET.Element) -> list[str]:
    labels = []
    for g in root.iter("{http://www.w3.org/2000/svg}g"):
        if g.get("class") == "axis":
            labels += [t.text or "" for t in g.findall("s:text", NS)
                       if t.get("class") != "axis-title"]
    return labels


def is_round_step(values: list[float]) -> bool:
    """Evenly spaced, by 1, 2 or 5 times a power of ten."""
    steps = {round(b - a, 9) for a, b in itertools.pairwise(values)}
    if len(steps) != 1:
        return False
    step = steps.pop()
    mantissa = step / 10 ** math.floor(math.log10(step))
    return any(math.isclose(mantissa, m) for m in (1, 2, 5))


def test_bar_geometry_matches_the_values() -> None:
    root = parse(bar_chart([Bar("A", 50.0, 40.0, 60.0, band="high"), Bar("B", 100.0),
                            Bar("C", 0.0)], title="t", description="d"))
    a, b, c = bars_of(root)
    zero = float(c.get("x"))
    assert float(a.get("x")) == pytest.approx(zero)
    assert float(b.get("width")) == pytest.approx(2 * float(a.get("width")))
    full = float(b.get("width"))
    assert a.get("fill") == BAND_COLOURS["high"]
    whisker = root.find("s:path[@stroke='#222222']", NS).get("d")
    lo, hi = (float(v) for v in re.match(r"M([\d.]+),[\d.]+H([\d.]+)", whisker).groups())
    assert lo == pytest.approx(zero + 0.4 * full, abs=0.1)
    assert hi == pytest.approx(zero + 0.6 * full, abs=0.1)


def test_negative_values_are_drawn_from_the_origin() -> None:
    root = parse(bar_chart([Bar("down", -0.5), Bar("up", 1.0)], title="t", description="d",
                           x_min=-1, x_max=1, origin=0.0))
    down, up = bars_of(root)
    # -1..1: the upward bar spans half the plot from 0, the downward a quarter below 0.
    end = float(down.get("x")) + float(down.get("width"))
    assert end == pytest.approx(float(up.get("x")), abs=0.1)
    assert float(down.get("width")) == pytest.approx(float(up.get("width")) / 2, abs=0.1)


def test_value_labels_use_the_digits_asked_for() -> None:
    svg = bar_chart([Bar("a", 0.137)], title="t", description="d", x_min=-1, x_max=1, digits=2)
    assert ">0.14<" in svg
    assert ">0.1<" not in svg
    assert ">+0.14<" in bar_chart([Bar("a", 0.137)], title="t", x_min=-1, x_max=1, digits=2,
                                  signed=True)


def test_suppressed_group_is_a_labelled_gap_not_a_bar() -> None:
    svg = bar_chart([Bar("Tiny unit", None, note="fewer than 10 responses")],
                    title="t", description="d")
    root = parse(svg)
    assert bars_of(root) == []
    assert "fewer than 10 responses" in texts(root)


def test_chart_is_accessible_and_escapes_text() -> None:
    svg = bar_chart([Bar("<script>alert(1)</script>", 10.0)], title="A & B", description="d <x>")
    root = parse(svg)  # would fail on unescaped markup
    assert root.get("role") == "img"
    assert root.find("s:title", NS).text == "A & B"
    assert root.find("s:desc", NS).text == "d <x>"
    ids = root.get("aria-labelledby").split()
    assert [root.find(f".//*[@id='{i}']", NS).tag.split("}")[1] for i in ids] == ["title", "desc"]
    assert "<script>" not in svg


def test_default_description_reads_out_every_bar() -> None:
    root = parse(bar_chart([Bar("Surgery", 61.54, 58.0, 65.0, band="high"),
                            Bar("Tiny", None, note="fewer than 10 responses")], title="t"))
    desc = root.find("s:desc", NS).text
    assert "Surgery: 61.5 (95% confidence interval 58.0 to 65.0), high band" in desc
    assert "Tiny: fewer than 10 responses" in desc


def test_values_outside_the_axis_are_clipped() -> None:
    root = parse(bar_chart([Bar("A", 150.0), Bar("B", 100.0)], title="t", description="d"))
    over, full = bars_of(root)
    assert float(over.get("width")) == pytest.approx(float(full.get("width")))


@pytest.mark.parametrize("svg", [
    bar_chart([Bar("A", 50.0)], title="t", description="d"),
    histogram([0, 50, 100], [3, 7], title="t", description="d"),
], ids=["bar_chart", "histogram"])
def test_charts_scale_to_their_container(svg: str) -> None:
    root = parse(svg)
    assert re.fullmatch(r"0 0 \d+ \d+", root.get("viewBox"))
    assert root.get("width") == "100%"  # not a fixed number of pixels
    assert root.get("height") is None
    assert root.get("preserveAspectRatio") == "xMinYMin meet"
    style = root.get("style")
    assert "height:auto" in style
    width = int(root.get("viewBox").split()[2])
    max_width = float(re.search(r"max-width:(\d+)px", style).group(1))
    assert width <= max_width <= 1.25 * width  # text never blown up beyond a quarter


def test_long_labels_are_shortened_with_the_full_label_as_tooltip() -> None:
    label = "Emergency medicine and acute care, Royal Infirmary main site, Ward Block C"
    root = parse(bar_chart([Bar(label, 40.0)], title="t", description="d"))
    shown = texts(root)
    assert label not in shown
    assert any(s.endswith("\u2026") and label.startswith(s[:-1]) for s in shown)
    assert any(t.text == label for t in root.iter("{http://www.w3.org/2000/svg}title"))


def test_a_chart_without_bands_explains_bar_and_whisker() -> None:
    root = parse(bar_chart([Bar("A", 50.0, 45.0, 55.0)], title="t", description="d",
                           value_label="mean score"))
    assert legend_labels(root) == ["mean score", "95% confidence interval"]


def test_band_colours_have_a_legend_and_words_beside_each_bar() -> None:
    root = parse(bar_chart([Bar("North", 70.0, band="highest"), Bar("South", 40.0, band="low"),
                            Bar("East", 55.0)], title="t", description="d"))
    assert legend_labels(root) == [f"{b} band" for b in BAND_COLOURS] + ["no benchmark"]
    shown = texts(root)
    assert "highest band" in shown  # beside North's bar, not only in the legend
    assert shown.count("low band") == 2  # the legend and South's bar
    north, south, east = bars_of(root)
    assert (north.get("fill"), south.get("fill")) == (BAND_COLOURS["highest"],
                                                      BAND_COLOURS["low"])
    assert east.get("fill") not in BAND_COLOURS.values()


def test_bar_chart_ticks_are_round() -> None:
    for lo, hi in ((0, 100), (-0.37, 0.37), (-1.3, 1.3), (2.2, 4.9)):
        root = parse(bar_chart([Bar("a", (lo + hi) / 2)], title="t", description="d",
                               x_min=lo, x_max=hi))
        values = [float(v) for v in axis_labels(root)]
        assert is_round_step(values), values
        assert values[0] <= lo
        assert values[-1] >= hi


def test_histogram_has_round_percent_ticks_and_rounded_values() -> None:
    shares = [3.1, 47.1892, 30.2, None, 19.5108]
    svg = histogram([0, 20, 40, 60, 80, 100], shares, title="t", description="d", unit="%",
                    y_label="share of respondents", x_label="score (0-100)")
    root = parse(svg)
    ticks = axis_labels(root)
    assert ticks == ["0%", "10%", "20%", "30%", "40%", "50%"]
    assert "47.1892" not in svg.replace(">47.2%<", "")  # only in no label
    assert "47.2%" in texts(root)  # the bin's own label
    assert "not shown" in texts(root)  # the withheld bin says so
    assert {"share of respondents", "score (0-100)"} <= set(texts(root))


def test_histogram_heights_are_proportional_and_withheld_bins_are_gaps() -> None:
    root = parse(histogram([0, 1, 2, 3], [5, None, 10], title="t", description="d",
                           unit="%"))
    rects = bars_of(root)
    assert len(rects) == 2
    heights = [float(r.get("height")) for r in rects]
    assert heights[1] == pytest.approx(2 * heights[0], rel=1e-3)
    bottoms = {round(float(r.get("y")) + float(r.get("height")), 1) for r in rects}
    assert len(bottoms) == 1  # both from the same baseline


def test_a_histogram_with_every_bin_withheld_draws_no_axis_of_nothing() -> None:
    root = parse(histogram([0, 50, 100], [None, None], title="t", description="d", unit="%"))
    assert bars_of(root) == []
    assert axis_labels(root) == []
    assert texts(root).count("not shown") == 2


def test_bad_arguments_name_the_argument() -> None:
    with pytest.raises(ValueError, match="x_max"):
        bar_chart([], title="t", description="d", x_min=5, x_max=5)
    with pytest.raises(ValueError, match="edges"):
        histogram([0, 1], [1, 2], title="t", description="d")


@pytest.mark.parametrize(("lo", "hi", "most", "expected"), [
    (0, 100, 10, (0, 100, 10)),
    (0, 47.1892, 5, (0, 50, 10)),
    (-0.23, 0.41, 8, (-0.3, 0.5, 0.1)),
    (0, 3.2, 5, (0, 4, 1)),
    (0.001, 0.0013, 5, (0.001, 0.0013, 0.0001)),
])
def test_nice_ticks(lo: float, hi: float, most: int, expected: tuple[float, float, float]) -> None:
    from mes.charts.ticks import nice_ticks

    ticks = nice_ticks(lo, hi, max_intervals=most)
    assert (ticks.lo, ticks.hi, ticks.step) == pytest.approx(expected)
    assert len(ticks.values) - 1 <= most
    assert is_round_step(ticks.values)
    assert not [label for label in ticks.labels() if label.startswith("-") and not float(label)]


def test_nice_ticks_refuses_an_empty_range() -> None:
    from mes.charts.ticks import nice_ticks

    with pytest.raises(ValueError, match="hi"):
        nice_ticks(1.0, 1.0)
    with pytest.raises(ValueError, match="finite"):
        nice_ticks(0.0, math.inf)


def test_band_palette_reads_in_greyscale_and_text_on_it_contrasts() -> None:
    from mes.charts.palette import band_colours, contrast_ratio, luminance, text_colour_on

    for n in range(2, 12):
        colours = list(band_colours([f"b{i}" for i in range(n)]).values())
        assert len(set(colours)) == n
    lum = [luminance(c) for c in BAND_COLOURS.values()]
    # Neighbouring bands differ in lightness, not only in hue: a colour-blind reader and a
    # black-and-white printout still tell them apart.
    assert min(abs(a - b) for a, b in itertools.pairwise(lum)) > 0.2
    for colour in BAND_COLOURS.values():
        # WCAG AA for the value written on a heatmap cell of that colour
        assert contrast_ratio(colour, text_colour_on(colour)) >= 4.5
    with pytest.raises(ValueError, match="distinct"):
        band_colours(["low", "low"])
