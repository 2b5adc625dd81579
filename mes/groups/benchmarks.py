"""Benchmarks: a group's mean placed within a comparison set of organisations.

The percentile rank of a value *x* in a comparison set of *m* organisation
values is

.. math:: PR(x) = 100 \\, \\frac{\\#\\{v < x\\} + \\tfrac12 \\#\\{v = x\\}}{m},

the "mean" definition of ``scipy.stats.percentileofscore`` (ties count half;
Crocker & Algina 1986, chapter 19). A band is read from cut points on the
percentile rank; the default cuts 20/40/60/80 give quintiles labelled lowest,
low, medium, high and highest (the relative-engagement bands of MES reports).
A rank exactly on a cut belongs to the band above it.

A comparison set of fewer than :data:`MIN_ORGANISATIONS` organisations is
refused: a rank among four is mostly noise and can identify the others.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from typing import Any

import numpy as np

from mes.errors import MesError
from mes.groups.norms import ComparisonSet
from mes.groups.report import GroupReport

__all__ = [
    "DEFAULT_BAND_LABELS",
    "DEFAULT_CUTS",
    "MIN_ORGANISATIONS",
    "Benchmark",
    "BenchmarkError",
    "band",
    "benchmark",
    "benchmark_report",
    "percentile_rank",
]

MIN_ORGANISATIONS = 5
DEFAULT_CUTS = (20.0, 40.0, 60.0, 80.0)
DEFAULT_BAND_LABELS = ("lowest", "low", "medium", "high", "highest")


class BenchmarkError(MesError, ValueError):
    """A benchmark cannot be given (too few organisations, scale or metric mismatch)."""


def percentile_rank(value: float, comparison: Any) -> float:
    """Percentile rank (0-100) of ``value`` within ``comparison``.

    Parameters
    ----------
    value : float
    comparison : array-like of float
        The comparison set (at least one finite value).

    Returns
    -------
    float
        :math:`100 (\\#\\{v < x\\} + \\#\\{v = x\\}/2) / m`.

    Raises
    ------
    ValueError
        ``value`` not finite, or an empty comparison set.

    Notes
    -----
    Equal to ``scipy.stats.percentileofscore(comparison, value, kind="mean")``.
    NaN values in ``comparison`` are ignored.

    Examples
    --------
    >>> from mes.groups import percentile_rank
    >>> percentile_rank(3.5, [3.0, 3.2, 3.5, 3.9])
    62.5
    """
    x = float(value)
    if not math.isfinite(x):
        raise ValueError(f"value must be a finite number, got {value!r}")
    v = np.asarray(comparison, dtype=np.float64).ravel()
    v = v[~np.isnan(v)]
    if not v.size:
        raise ValueError("comparison: the comparison set is empty")
    below = np.count_nonzero(v < x)
    equal = np.count_nonzero(v == x)
    return float(100.0 * (below + 0.5 * equal) / v.size)


def _check_cuts(cuts: Sequence[float], labels: Sequence[str]) -> tuple[np.ndarray, tuple[str, ...]]:
    c = np.asarray(cuts, dtype=np.float64)
    if c.ndim != 1 or np.any(np.diff(c) <= 0) or np.any((c <= 0) | (c >= 100)):
        raise ValueError(f"cuts must increase strictly within (0, 100), got {list(cuts)}")
    if len(labels) != c.size + 1:
        raise ValueError(
            f"labels: {len(labels)} labels for {c.size} cut points; give one more label than "
            "cut points"
        )
    return c, tuple(str(label) for label in labels)


def band(
    rank: float,
    cuts: Sequence[float] = DEFAULT_CUTS,
    labels: Sequence[str] = DEFAULT_BAND_LABELS,
) -> str:
    """The band of a percentile rank.

    Parameters
    ----------
    rank : float
        Percentile rank, 0-100.
    cuts : sequence of float, default (20, 40, 60, 80)
        Increasing cut points within (0, 100).
    labels : sequence of str, default lowest, low, medium, high, highest
        One more label than cut points.

    Returns
    -------
    str
        ``labels[i]`` where *i* is the number of cuts at or below ``rank``.

    Examples
    --------
    >>> from mes.groups import band
    >>> band(19.9), band(20.0), band(95.0)
    ('lowest', 'low', 'highest')
    >>> band(50, cuts=[25, 75], labels=["below", "typical", "above"])
    'typical'
    """
    c, names = _check_cuts(cuts, labels)
    r = float(rank)
    if not 0 <= r <= 100:
        raise ValueError(f"rank must lie in [0, 100], got {rank!r}")
    return names[int(np.searchsorted(c, r, side="right"))]


@dataclass(frozen=True)
class Benchmark:
    """One group's mean placed within a comparison set.

    Attributes
    ----------
    group : dict of str -> str
        Group key (empty for the overall row; also empty for a bare value).
    scale : str
    metric : {"mean", "percent"}
    value : float
    percentile_rank : float
    band : str
    comparison_size : int
        Organisations in the comparison set for this scale.
    source : str or None

    Examples
    --------
    >>> from mes.groups import ComparisonSet, benchmark
    >>> cs = ComparisonSet.from_values({"index": [3.0, 3.2, 3.4, 3.6, 3.8]})
    >>> benchmark(3.9, cs, "index").to_dict()["band"]
    'highest'
    """

    group: dict[str, str]
    scale: str
    metric: str
    value: float
    percentile_rank: float
    band: str
    comparison_size: int
    source: str | None

    def to_dict(self) -> dict[str, Any]:
        """JSON-safe dict."""
        return asdict(self)


def benchmark(
    value: float,
    comparison: ComparisonSet,
    scale: str,
    *,
    cuts: Sequence[float] = DEFAULT_CUTS,
    labels: Sequence[str] = DEFAULT_BAND_LABELS,
    exclude: str | None = None,
    group: dict[str, str] | None = None,
) -> Benchmark:
    """Percentile rank and band of one value within a comparison set.

    Parameters
    ----------
    value : float
        The group's mean (on the comparison set's metric).
    comparison : ComparisonSet
    scale : str
    cuts, labels
        See :func:`band`.
    exclude : str, optional
        An organisation to leave out (the one being benchmarked, when it is in
        the set).
    group : dict, optional
        Group key to carry into the result.

    Returns
    -------
    Benchmark

    Raises
    ------
    BenchmarkError
        Fewer than five organisations on ``scale`` (after ``exclude``).

    References
    ----------
    Crocker L, Algina J (1986). Introduction to Classical and Modern Test
    Theory, chapter 19 (percentile ranks).

    Examples
    --------
    >>> from mes.groups import ComparisonSet, benchmark
    >>> cs = ComparisonSet.from_values({"index": [3.1, 3.3, 3.4, 3.6, 3.8]})
    >>> b = benchmark(3.5, cs, "index")
    >>> b.percentile_rank, b.band, b.comparison_size
    (60.0, 'high', 5)
    """
    sample = comparison.sample(scale, exclude=exclude)
    if sample.size < MIN_ORGANISATIONS:
        raise BenchmarkError(
            f"comparison: scale {scale!r} has {sample.size} organisation(s) in the comparison "
            f"set; a benchmark needs at least {MIN_ORGANISATIONS}. Add organisations to the "
            "norm table or report without a benchmark."
        )
    rank = percentile_rank(value, sample)
    return Benchmark(
        group=dict(group or {}),
        scale=scale,
        metric=comparison.metric,
        value=float(value),
        percentile_rank=rank,
        band=band(rank, cuts, labels),
        comparison_size=int(sample.size),
        source=comparison.source,
    )


def benchmark_report(
    report: GroupReport,
    comparison: ComparisonSet,
    *,
    scales: Sequence[str] | None = None,
    cuts: Sequence[float] = DEFAULT_CUTS,
    labels: Sequence[str] = DEFAULT_BAND_LABELS,
    exclude: str | None = None,
    overall_only: bool = False,
) -> list[Benchmark]:
    """Benchmark every shown group of a report on every scale of the comparison set.

    Parameters
    ----------
    report : GroupReport
        From :func:`summarise`; suppressed cells are skipped (they have no mean).
    comparison : ComparisonSet
    scales : sequence of str, optional
        Default: the report's scales that the comparison set has.
    cuts, labels, exclude
        See :func:`benchmark`.
    overall_only : bool, default False
        Benchmark only the overall row (the organisation against organisations).

    Returns
    -------
    list of Benchmark

    Raises
    ------
    BenchmarkError
        A requested scale with fewer than five organisations, or a comparison
        set built for another instrument.

    Examples
    --------
    >>> import mes
    >>> from mes.groups import ComparisonSet, benchmark_report, summarise
    >>> inst = mes.load_instrument("uwes9")
    >>> report = summarise(inst, {f"uwes{i}": [4, 5] * 10 for i in range(1, 10)})
    >>> cs = ComparisonSet.from_values({"total": [3.9, 4.2, 4.4, 4.6, 4.8]})
    >>> [(b.scale, b.percentile_rank, b.band) for b in benchmark_report(report, cs)]
    [('total', 60.0, 'high')]
    """
    if comparison.instrument is not None and comparison.instrument != report.instrument_id:
        raise BenchmarkError(
            f"comparison: the comparison set is for instrument {comparison.instrument!r}, the "
            f"report for {report.instrument_id!r}"
        )
    _check_cuts(cuts, labels)
    if scales is None:
        chosen = [s for s in report.scales if comparison.size(s)]
    else:
        unknown = [s for s in scales if s not in report.scales]
        if unknown:
            raise BenchmarkError(f"scales: {', '.join(map(repr, unknown))} not in the report")
        chosen = list(scales)
    out: list[Benchmark] = []
    for s in chosen:
        if comparison.sample(s, exclude=exclude).size < MIN_ORGANISATIONS:
            benchmark(0.0, comparison, s, exclude=exclude)  # raises with the message
    for g in report.groups[:1] if overall_only else report.groups:
        for s in chosen:
            cell = g.scales[s]
            if cell.suppressed:
                continue
            value = cell.mean if comparison.metric == "mean" else cell.mean_percent
            if value is None:
                continue
            out.append(benchmark(value, comparison, s, cuts=cuts, labels=labels,
                                 exclude=exclude, group=g.key))
    return out
