"""Benchmarks and norm tables."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from scipy import stats

from mes.groups import (
    BenchmarkError,
    ComparisonSet,
    NormTableError,
    band,
    benchmark,
    benchmark_report,
    load_norm_table,
    percentile_rank,
    summarise,
)


def test_percentile_rank_matches_scipy_with_ties() -> None:
    rng = np.random.default_rng(41)
    comparison = np.round(rng.normal(3.5, 0.3, 37), 1)  # rounded: many ties
    for value in [*comparison[:10], 2.0, 5.0, 3.5]:
        assert percentile_rank(value, comparison) == pytest.approx(
            stats.percentileofscore(comparison, value, kind="mean"))
    with pytest.raises(ValueError, match="empty"):
        percentile_rank(3.0, [])
    with pytest.raises(ValueError, match="finite"):
        percentile_rank(float("nan"), [1.0])


def test_bands_from_default_and_custom_cuts() -> None:
    expected = {0: "lowest", 19.99: "lowest", 20: "low", 39.9: "low", 40: "medium",
                60: "high", 79.9: "high", 80: "highest", 100: "highest"}
    assert {r: band(r) for r in expected} == expected
    assert band(10, cuts=[10, 90], labels=["bottom", "middle", "top"]) == "middle"
    with pytest.raises(ValueError, match="one more label"):
        band(50, cuts=[50], labels=["a"])
    with pytest.raises(ValueError, match="increase"):
        band(50, cuts=[60, 40], labels=["a", "b", "c"])


def test_fewer_than_five_organisations_is_refused() -> None:
    four = ComparisonSet.from_values({"index": [3.0, 3.2, 3.4, 3.6]})
    with pytest.raises(BenchmarkError, match=r"4 organisation.*at least 5"):
        benchmark(3.3, four, "index")
    five = ComparisonSet.from_means({f"T{i}": {"index": 3.0 + i / 10} for i in range(5)})
    b = benchmark(3.25, five, "index")
    assert (b.percentile_rank, b.band, b.comparison_size) == (60.0, "high", 5)
    with pytest.raises(BenchmarkError, match="4 organisation"):
        benchmark(3.25, five, "index", exclude="T0")
    with pytest.raises(BenchmarkError, match="0 organisation"):
        benchmark(3.25, five, "climate")


def test_norm_table_csv_and_yaml(tmp_path: Path) -> None:
    csv = tmp_path / "norms.csv"
    rows = ["# national norms", "organisation,scale,mean"]
    rows += [f"Trust {i},index,{3 + i / 10}" for i in range(6)]
    rows += ["Trust 0,climate_for_positive_change,3.1"]
    csv.write_text("\n".join(rows) + "\n")
    table = load_norm_table(csv)
    assert table.metric == "mean"
    assert table.size("index") == 6
    assert table.size("climate_for_positive_change") == 1
    yml = tmp_path / "norms.yaml"
    yml.write_text("instrument: mes\nmetric: percent\nsource: test norms\norganisations:\n"
                   + "".join(f"  T{i}: {{index: {50 + i}}}\n" for i in range(5)))
    ytable = load_norm_table(yml)
    assert (ytable.metric, ytable.instrument, ytable.source, ytable.size("index")) == (
        "percent", "mes", "test norms", 5)


@pytest.mark.parametrize(("text", "match"), [
    ("organisation,scale,value\nA,index,3\n", "exactly one of 'mean' or 'percent'"),
    ("organisation,scale,mean\nA,index,3\nA,index,4\n", "appears twice"),
    ("organisation,scale,mean\nA,index,high\n", "not a number"),
])
def test_bad_norm_tables_say_what_and_where(tmp_path: Path, text: str, match: str) -> None:
    p = tmp_path / "bad.csv"
    p.write_text(text)
    with pytest.raises(NormTableError, match=match):
        load_norm_table(p)
    with pytest.raises(NormTableError, match="unknown norm-table format"):
        load_norm_table(p.rename(tmp_path / "bad.txt"))
    with pytest.raises(FileNotFoundError):
        load_norm_table(tmp_path / "missing.csv")


def test_benchmark_report_skips_suppressed_groups(small_instrument, frames) -> None:
    frame = frames(120, seed=42)
    frame.loc[:3, "grade"] = "locum"
    report = summarise(small_instrument, frame, by=["grade"])
    norms = ComparisonSet.from_values({"total": [2.5, 2.8, 3.0, 3.1, 3.3, 3.6]})
    results = benchmark_report(report, norms)
    shown = [g.key for g in report if not g.scales["total"].suppressed]
    assert [b.group for b in results] == shown
    assert all(b.comparison_size == 6 for b in results)
    overall = results[0]
    assert overall.percentile_rank == percentile_rank(report.overall.scales["total"].mean,
                                                      [2.5, 2.8, 3.0, 3.1, 3.3, 3.6])
    pct = ComparisonSet.from_values({"total": [40, 45, 50, 55, 60]}, metric="percent")
    assert benchmark_report(report, pct, overall_only=True)[0].value == pytest.approx(
        report.overall.scales["total"].mean_percent)
    other = ComparisonSet.from_values({"total": [1, 2, 3, 4, 5]}, instrument="uwes9")
    with pytest.raises(BenchmarkError, match="instrument 'uwes9'"):
        benchmark_report(report, other)
    few = ComparisonSet.from_values({"total": [1, 2, 3]})
    with pytest.raises(BenchmarkError, match="at least 5"):
        benchmark_report(report, few)


def test_comparison_set_from_a_frame_of_means() -> None:
    frame = pd.DataFrame({"index": [3.1, 3.3, np.nan]}, index=["A", "B", "C"])
    cs = ComparisonSet.from_means(frame)
    assert cs.size("index") == 2
    assert cs.to_dict()["sizes"] == {"index": 2}
    with pytest.raises(NormTableError, match="not a number"):
        ComparisonSet.from_values({"index": ["x"]})
