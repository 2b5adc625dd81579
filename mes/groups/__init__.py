"""Group reports: summaries by attribute, suppression, benchmarks, change, aggregation checks.

The public functions:

- :func:`summarise` - per group and scale n, mean, SD, SE, t CI, percent, favourable
  share, response rate, distribution; small groups protected across a reporting plan.
- :func:`summarise_plan` - every report of a plan at once (what a service publishes).
- :func:`raise_threshold` - a published report with more hidden.
- :func:`suppress_small_groups` - primary and complementary suppression of any table;
  :func:`mes.groups.disclosure.find_disclosure` audits any set of published cells.
- :func:`percentile_rank`, :func:`band`, :func:`benchmark`, :func:`benchmark_report`,
  :class:`ComparisonSet`, :func:`load_norm_table` - norm-referenced benchmarks.
- :func:`compare_waves`, :func:`compare_reports` - change between two survey waves
  (Welch CI, Hedges' g).
- :func:`compare_series`, :func:`trend_from_reports` - a trend over several waves: each
  wave's mean and each step's change, hidden wherever a wave's report hides the group.
- :func:`icc` - ICC(1) and ICC(2) aggregation check (Bliese 2000).

How a report is made, one module per step: :mod:`~mes.groups.options` (the options,
checked once), :mod:`~mes.groups.grouping` (respondents scored once, coded by attribute
and summed per cell), :mod:`~mes.groups.table` (every group of the plan: statistics and
protection), :mod:`~mes.groups.summary` (the public functions and each breakdown's
report). Protection: :mod:`~mes.groups.plan`, :mod:`~mes.groups.protection`,
:mod:`~mes.groups.suppression`, :mod:`~mes.groups.disclosure`. Results:
:mod:`~mes.groups.report` (one wave), :mod:`~mes.groups.wave_report` (change and trends).
"""

from mes.groups.aggregation import ICCResult, icc, icc_from_summaries
from mes.groups.benchmarks import (
    DEFAULT_BAND_LABELS,
    DEFAULT_CUTS,
    MIN_ORGANISATIONS,
    Benchmark,
    BenchmarkError,
    band,
    benchmark,
    benchmark_report,
    percentile_rank,
)
from mes.groups.change import compare_reports, compare_waves
from mes.groups.grouping import MISSING_LABEL, GroupingError
from mes.groups.norms import ComparisonSet, NormTableError, load_norm_table
from mes.groups.overlap import Release, release_discloses_items, sharing_releases
from mes.groups.plan import PlanError
from mes.groups.protection import PROTECTS, TOO_FEW
from mes.groups.report import GroupReport, GroupSummary, ScaleSummary, raise_threshold
from mes.groups.summary import summarise, summarise_plan
from mes.groups.suppression import suppress_small_groups
from mes.groups.trends import compare_series, trend_from_reports
from mes.groups.wave_report import ChangeCell, Trend, TrendCell, WaveComparison, WavePoint

__all__ = [
    "DEFAULT_BAND_LABELS",
    "DEFAULT_CUTS",
    "MIN_ORGANISATIONS",
    "MISSING_LABEL",
    "PROTECTS",
    "TOO_FEW",
    "Benchmark",
    "BenchmarkError",
    "ChangeCell",
    "ComparisonSet",
    "GroupReport",
    "GroupSummary",
    "GroupingError",
    "ICCResult",
    "NormTableError",
    "PlanError",
    "Release",
    "ScaleSummary",
    "Trend",
    "TrendCell",
    "WaveComparison",
    "WavePoint",
    "band",
    "benchmark",
    "benchmark_report",
    "compare_reports",
    "compare_series",
    "compare_waves",
    "icc",
    "icc_from_summaries",
    "load_norm_table",
    "percentile_rank",
    "raise_threshold",
    "release_discloses_items",
    "sharing_releases",
    "summarise",
    "summarise_plan",
    "suppress_small_groups",
    "trend_from_reports",
]
