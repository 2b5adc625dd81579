"""Trends over several survey waves: each wave's mean per group, and each step's change.

An organisation that runs the survey every year or two asks, over three to ten waves,
whether it is improving. A :class:`~mes.groups.wave_report.Trend` answers per group and
scale with

- each wave's published figures: ``n``, the mean :math:`\\bar x_w` and its t interval
  :math:`\\bar x_w \\pm t_{(1 + ci)/2,\\, n_w - 1} \\, s_w / \\sqrt{n_w}`
  (:func:`mes.groups.summarise`);
- each *step*, wave :math:`w - 1` to wave :math:`w`: the change
  :math:`\\Delta_w = \\bar x_w - \\bar x_{w-1}` with its Welch interval and Hedges' g,
  exactly as :func:`mes.groups.compare_reports` computes the change between two waves
  (formulas in :mod:`mes.groups.change`).

Confidentiality
---------------
Every wave is the report that wave publishes on its own: suppressed with complementary
suppression and the disclosure audit (:mod:`mes.groups.protection`) at one threshold,
the largest of the waves' (a report is only ever raised, :func:`mes.groups.raise_threshold`,
which hides more and never less). So within a wave a hidden group cannot be worked out
from its siblings or from the overall by subtraction: that wave's own protection already
holds for everything the trend shows of it.

Across waves the trend adds nothing a reader of the single reports could not compute:
every figure is either a wave's published figure or a function of two *adjacent* waves'
published figures (a step). A group hidden in a wave has no n, mean or interval in that
wave, and both steps touching that wave carry no statistic at all (status
``"suppressed"``, as :func:`~mes.groups.compare_waves` hides them). In particular no
figure spans a hidden wave (no change from the wave before it to the wave after it, no
"change since the first wave"), so that no series of published differences adds up to
the hidden mean: the hidden wave's mean would follow from ``mean_{w-1} + step_{w-1,w}``
or ``mean_{w+1} - step_{w,w+1}`` if either step were shown.

Waves are treated as independent samples (anonymous surveys cannot pair respondents).

References
----------
Welch BL (1947). Biometrika 34:28-35. Hedges LV (1981). Journal of Educational
Statistics 6:107-128. Hundepool A et al. (2012). Statistical Disclosure Control. Wiley.
"""

from __future__ import annotations

import itertools
from collections.abc import Mapping, Sequence
from typing import Any

import pandas as pd

from mes.docstrings import shared_parameters
from mes.errors import MesError
from mes.groups.change import compare_reports
from mes.groups.grouping import GroupingError
from mes.groups.report import GroupReport, GroupSummary, raise_threshold
from mes.groups.summary import summarise
from mes.groups.suppression import check_threshold
from mes.groups.wave_report import (
    ABSENT,
    SHOWN,
    SUPPRESSED,
    ChangeCell,
    Trend,
    TrendCell,
    WaveComparison,
    WavePoint,
)
from mes.instrument import Instrument
from mes.responses import Errors

__all__ = [
    "ABSENT",
    "SHOWN",
    "SUPPRESSED",
    "Trend",
    "TrendCell",
    "WavePoint",
    "compare_series",
    "trend_from_reports",
]


@shared_parameters
def compare_series(
    instrument: Instrument,
    waves: Sequence[Any],
    by: Sequence[str] = (),
    *,
    attributes: Sequence[Any] | None = None,
    labels: Sequence[str] | None = None,
    plan: Sequence[Sequence[str]] | None = None,
    min_group_size: int = 10,
    scales: Sequence[str] | None = None,
    ci: float = 0.95,
    margins: bool = False,
    errors: Errors = "raise",
) -> Trend:
    """Each group's mean in every wave of a series, and its change at every step.

    Parameters
    ----------
    instrument : Instrument
        The one instrument every wave answered.
    waves : sequence of responses or GroupReport
        The waves in time order, oldest first, each in any shape :func:`mes.score`
        accepts (DataFrames holding the attribute columns, or pass ``attributes``), or
        a wave's published report of ``instrument`` and ``by`` (last year's stored
        report, say), taken as it is (raised to ``min_group_size`` if below it).
    by : sequence of str
        Grouping attributes, as for :func:`mes.groups.summarise`.
    attributes : sequence of DataFrame or mapping, optional
        One per wave, when the attributes are not columns of the waves.
    labels : sequence of str, optional
        One distinct label per wave (``["2022", "2024", "2026"]``); default
        ``"wave 1"``, ``"wave 2"`` ...
    plan : sequence of sequences of str, optional
        The reporting plan every wave is protected with (:func:`mes.groups.summarise`).
    min_group_size : int, default 10
        Suppression threshold, applied to each wave on its own (with complementary
        suppression and the disclosure audit).
    scales : sequence of str, optional
    ci : float, default 0.95
        Confidence level of the waves' t intervals and the steps' Welch intervals.
    margins : bool, default False
    {errors}

    Returns
    -------
    Trend

    Raises
    ------
    TypeError
        ``waves`` is not a sequence of waves (one table, a mapping or a string).
    GroupingError
        Fewer than 2 waves; ``labels`` or ``attributes`` not one per wave; labels
        repeated or blank; a report of another instrument (id or version) or
        breakdown; an unknown attribute or scale in a wave (the message names the
        wave).
    mes.InvalidResponsesError
        Invalid answers in a wave (``errors="raise"``; a note names the wave).

    Notes
    -----
    For wave :math:`w` (respondents :math:`x_{w1} .. x_{wn_w}` of a group on a
    scale) the point is

    .. math::

        \\bar x_w \\pm t_{(1 + ci)/2,\\, n_w - 1} \\, \\frac{s_w}{\\sqrt{n_w}},

    and the step from wave :math:`w - 1` is :math:`\\Delta_w = \\bar x_w - \\bar x_{w-1}`
    with the Welch interval

    .. math::

        \\Delta_w \\pm t_{(1 + ci)/2,\\, \\nu} \\sqrt{\\frac{s_{w-1}^2}{n_{w-1}}
        + \\frac{s_w^2}{n_w}}

    (:math:`\\nu` by Welch-Satterthwaite) and Hedges' g, the standardised change with
    the pooled SD and the correction :math:`1 - 3 / (4 (n_{w-1} + n_w) - 9)`: each step
    is :func:`mes.groups.compare_waves` of its two waves. A group hidden in a wave shows
    nothing in that wave, nor in the steps into and out of it (module docstring).

    Examples
    --------
    >>> import mes
    >>> from mes.groups import compare_series
    >>> inst = mes.load_instrument("uwes9")
    >>> site = ["North"] * 12 + ["South"] * 12
    >>> waves = [{f"uwes{i}": [3, 4, 2] * 8 for i in range(1, 10)},
    ...          {f"uwes{i}": [4, 4, 3] * 8 for i in range(1, 10)},
    ...          {f"uwes{i}": [4, 5, 3] * 8 for i in range(1, 10)}]
    >>> trend = compare_series(inst, waves, ["site"], attributes=[{"site": site}] * 3,
    ...                        labels=["2022", "2024", "2026"])
    >>> [round(p.mean, 2) for p in trend.cell("total").points]
    [3.0, 3.67, 4.0]
    >>> step = trend.cell("total", site="North").steps[1]
    >>> round(step.difference, 2), round(step.hedges_g, 2)
    (0.33, 0.46)
    """
    if isinstance(waves, (str, bytes, Mapping, pd.DataFrame)) or not isinstance(
        waves, Sequence
    ):
        raise TypeError(
            "waves must be a sequence of waves, oldest first (one responses table per wave), "
            f"got {type(waves).__name__}"
        )
    count = len(waves)
    _check_count(count, "waves")
    names = _labels(labels, count)
    if attributes is not None and (
        isinstance(attributes, (str, Mapping, pd.DataFrame)) or len(attributes) != count
    ):
        raise GroupingError(
            f"attributes: give one attribute table per wave ({count} waves), or None when "
            "the waves hold their attribute columns"
        )
    reports = []
    for i, wave in enumerate(waves):
        if isinstance(wave, GroupReport):
            _check_report(wave, instrument, tuple(by), f"waves[{i}] ({names[i]})")
            reports.append(wave)
            continue
        try:
            reports.append(summarise(
                instrument, wave, None if attributes is None else attributes[i], by,
                plan=plan, min_group_size=min_group_size, scales=scales, ci=ci,
                margins=margins, errors=errors,
            ))
        except GroupingError as exc:
            raise GroupingError(f"waves[{i}] ({names[i]}): {exc}") from exc
        except MesError as exc:
            exc.add_note(f"in waves[{i}] ({names[i]})")
            raise
    return trend_from_reports(reports, names, min_group_size=min_group_size)


def _check_report(report: GroupReport, instrument: Instrument, by: tuple[str, ...],
                  name: str) -> None:
    """A published wave given to :func:`compare_series` is of its instrument and breakdown."""
    if (report.instrument_id, report.instrument_version) != (instrument.id, instrument.version):
        raise GroupingError(
            f"{name} is a report of instrument {report.instrument_id} version "
            f"{report.instrument_version}, not of {instrument.id} version "
            f"{instrument.version}: a trend needs one instrument id and version"
        )
    if report.by != by:
        raise GroupingError(f"{name} is a report by {_words(report.by)}, not by {_words(by)}")


def trend_from_reports(
    reports: Sequence[GroupReport],
    labels: Sequence[str] | None = None,
    *,
    min_group_size: int | None = None,
) -> Trend:
    """The trend over published reports of the same breakdown and instrument.

    Parameters
    ----------
    reports : sequence of GroupReport
        One per wave, oldest first, each as published (stored releases read back with
        :meth:`GroupReport.from_dict`, say).
    labels : sequence of str, optional
        One distinct label per wave (default ``"wave 1"``, ``"wave 2"`` ...).
    min_group_size : int, optional
        Threshold of the trend; every report is raised to the largest of this and the
        reports' own thresholds (:func:`mes.groups.raise_threshold`: more hidden, never
        less), so that every wave is shown at one threshold.

    Returns
    -------
    Trend

    Raises
    ------
    TypeError
        An element of ``reports`` is not a GroupReport.
    GroupingError
        Fewer than 2 reports; reports of different instruments (id or version),
        breakdowns, scales or confidence levels; ``labels`` not one distinct,
        non-blank label per report.
    ValueError
        ``min_group_size`` below 1.

    Examples
    --------
    >>> import mes
    >>> from mes.groups import summarise, trend_from_reports
    >>> inst = mes.load_instrument("uwes9")
    >>> reports = [summarise(inst, {f"uwes{i}": [3 + w, 4] * 6 for i in range(1, 10)})
    ...            for w in range(3)]
    >>> trend = trend_from_reports(reports, ["2022", "2024", "2026"])
    >>> trend.waves, [s.difference for s in trend.cell("total").steps]
    (('2022', '2024', '2026'), [0.5, 0.5])
    """
    if isinstance(reports, GroupReport) or not isinstance(reports, Sequence):
        raise TypeError(f"reports must be a sequence of GroupReport, one per wave, got "
                        f"{type(reports).__name__}")
    for i, r in enumerate(reports):
        if not isinstance(r, GroupReport):
            raise TypeError(f"reports[{i}] must be a GroupReport, got {type(r).__name__}")
    count = len(reports)
    _check_count(count, "reports")
    names = _labels(labels, count)
    _check_one_series(reports, names)
    first = reports[0]
    threshold = max(r.min_group_size for r in reports)
    if min_group_size is not None:
        threshold = max(threshold, check_threshold(min_group_size))
    # Raising only hides more: every wave at one threshold shows a subset of what its
    # own report shows.
    published = tuple(raise_threshold(r, threshold) for r in reports)
    steps = tuple(compare_reports(a, b, ci=first.ci) for a, b in itertools.pairwise(published))
    groups = _trend_groups(published, steps, names, first.scales)
    return Trend(
        instrument_id=first.instrument_id, instrument_version=first.instrument_version,
        by=first.by, min_group_size=threshold, ci=float(first.ci), scales=first.scales,
        waves=tuple(names), groups=groups, reports=published, steps=steps,
    )


_Key = tuple[tuple[str, str], ...]


def _check_one_series(reports: Sequence[GroupReport], names: Sequence[str]) -> None:
    """Every report is of the first one's instrument, breakdown, scales and confidence."""
    first = reports[0]
    for i, r in enumerate(reports[1:], start=1):
        if (r.instrument_id, r.instrument_version) != (first.instrument_id,
                                                       first.instrument_version):
            raise GroupingError(
                f"reports[{i}] ({names[i]}) uses instrument {r.instrument_id} version "
                f"{r.instrument_version} but reports[0] ({names[0]}) uses "
                f"{first.instrument_id} version {first.instrument_version}: a trend needs "
                "one instrument id and version"
            )
        for what, mine, theirs in (("breakdown", r.by, first.by),
                                   ("scales", r.scales, first.scales),
                                   ("confidence level", r.ci, first.ci)):
            if mine != theirs:
                raise GroupingError(
                    f"reports[{i}] ({names[i]}) has another {what} than reports[0] "
                    f"({names[0]}): {_words(mine)} against {_words(theirs)}"
                )


def _trend_groups(
    published: Sequence[GroupReport], steps: Sequence[WaveComparison], names: Sequence[str],
    scales: Sequence[str],
) -> list[tuple[dict[str, str], dict[str, TrendCell]]]:
    """Per group of any wave and per scale: its point in every wave and every step.

    Each point and step is read from one published report or comparison only
    (:func:`_point`), so the trend shows nothing that they do not.
    """
    wave_groups = [{tuple(g.key.items()): g for g in r.groups} for r in published]
    step_cells = [{tuple(k.items()): cells for k, cells in c.groups} for c in steps]
    groups = []
    for key in _ordered_keys(published):
        cells: dict[str, TrendCell] = {}
        for s in scales:
            points = tuple(_point(names[w], found.get(key), s)
                           for w, found in enumerate(wave_groups))
            changes = tuple(found[key][s] if key in found
                            else ChangeCell(scale=s, status="not in both waves")
                            for found in step_cells)
            cells[s] = TrendCell(scale=s, points=points, steps=changes)
        groups.append((dict(key), cells))
    return groups


def _check_count(count: int, name: str) -> None:
    if count < 2:
        raise GroupingError(
            f"{name}: a trend needs at least 2 waves, oldest first; got {count} (for one "
            "wave, use mes.groups.summarise)"
        )


def _labels(labels: Sequence[str] | None, count: int) -> list[str]:
    """The waves' labels, checked: one per wave, text, not blank, each once."""
    if labels is None:
        return [f"wave {i + 1}" for i in range(count)]
    if isinstance(labels, str) or len(labels) != count:
        raise GroupingError(
            f"labels: give one label per wave ({count} waves), got "
            f"{1 if isinstance(labels, str) else len(labels)}"
        )
    names = []
    for i, label in enumerate(labels):
        if not isinstance(label, str) or not label.strip():
            raise GroupingError(f"labels[{i}] must be a non-blank text, got {label!r}")
        names.append(label.strip())
    repeated = sorted({n for n in names if names.count(n) > 1})
    if repeated:
        raise GroupingError(
            f"labels: each wave needs its own label; {', '.join(map(repr, repeated))} "
            "appears more than once"
        )
    return names


def _words(value: Any) -> str:
    if isinstance(value, tuple):
        return ", ".join(map(str, value)) or "overall only"
    return str(value)


def _ordered_keys(reports: Sequence[GroupReport]) -> list[_Key]:
    """Every group of any wave, in the order of the first wave that has it, level by level."""
    seen: dict[_Key, None] = {}
    levels: dict[tuple[str, ...], None] = {}
    for r in reports:
        for level in r.levels:
            levels.setdefault(tuple(level), None)
        for g in r.groups:
            seen.setdefault(tuple(g.key.items()), None)
            levels.setdefault(g.level, None)
    order = list(levels)
    return sorted(seen, key=lambda key: order.index(tuple(a for a, _ in key)))


def _point(wave: str, group: GroupSummary | None, scale: str) -> WavePoint:
    """What the wave's report publishes of the group on the scale, and nothing else."""
    if group is None:
        return WavePoint(wave=wave, status=ABSENT)
    cell = group.scales[scale]
    if group.suppressed or cell.suppressed:
        return WavePoint(wave=wave, status=SUPPRESSED,
                         reason=group.reason if group.suppressed else cell.reason)
    return WavePoint(wave=wave, status=SHOWN, n=cell.n, mean=cell.mean, ci_low=cell.ci_low,
                     ci_high=cell.ci_high)
