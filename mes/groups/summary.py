"""Group reports: per group and scale n, mean, SD, SE, t CI, percent, favourable share.

:func:`summarise` and :func:`summarise_plan` are the public entry points. Both gather
their options (:class:`~mes.groups.options.SummaryOptions`), build the plan's table once
(:func:`mes.groups.table.build_table`: scored once and vectorised, every additive
quantity summed per finest cell of the grouping, cells added up to every published
level, statistics derived only then, so a report over 200,000 respondents costs
little more than scoring it), and read each breakdown's report from it (this module).

Every cell of every breakdown of the reporting plan (:mod:`mes.groups.plan`) is
protected at once before anything leaves this module (:mod:`mes.groups.protection`):
a hidden cell of a :class:`~mes.groups.report.GroupReport` holds no statistic and no
exact n, so serialising a report (``to_dict``, ``to_frame``) cannot leak one, and no
combination of the plan's reports pins down a small group.
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Sequence
from typing import Any

import numpy as np

from mes.docstrings import fill_shared_parameters
from mes.groups.aggregation import ICCResult, icc_from_summaries
from mes.groups.grouping import MISSING_LABEL, GroupingError
from mes.groups.options import DEFAULT_BINS, DEFAULT_QUANTILES, SummaryOptions
from mes.groups.overlap import Release, protect_against_releases
from mes.groups.plan import (
    Breakdown,
    allowed_breakdowns,
    check_breakdown,
    default_plan,
    normalise_plan,
    report_levels,
)
from mes.groups.report import GroupReport, GroupSummary, ScaleSummary, quantile_name
from mes.groups.table import PlanTable, build_table
from mes.instrument import Instrument
from mes.responses import RESPONDENT_COLUMN, Errors

__all__ = [
    "DEFAULT_BINS",
    "DEFAULT_QUANTILES",
    "MISSING_LABEL",
    "GroupingError",
    "summarise",
    "summarise_plan",
]


_OPTIONS_DOC = """
    min_group_size : int, default 10
        ``k``: no published figure describes 1 to ``k - 1`` respondents. Groups
        (and scale cells, and histogram bins) below it show no statistics and no
        exact n; further cells are hidden so that no combination of the plan's
        reports pins one down (:mod:`mes.groups.protection`).
    headcounts : int, DataFrame or sequence of mappings, optional
        Staff in post per group, for response rates: a ``headcount`` column
        plus the attribute columns of the group (left empty for levels above;
        all empty, or an int, for the overall group).
    scales : sequence of str, optional
        Scales to report (default: all, in definition order).
    ci : float, default 0.95
        Confidence level of the t intervals.
    distribution_scales : sequence of str, optional
        Scales whose distribution of individual scores is reported (quantiles
        and histogram). Default: the broadest scale (most items; the MES
        ``index``).
    quantiles : sequence of float, default (0.25, 0.5, 0.75)
    bins : sequence of float, default (0, 20, 40, 60, 80, 100)
        Histogram edges on the percent metric (0-100).
    {errors}
"""


def summarise(
    instrument: Instrument,
    responses: Any,
    attributes: Any = None,
    by: Sequence[str] = (),
    *,
    plan: Sequence[Sequence[str]] | None = None,
    min_group_size: int = 10,
    headcounts: Any = None,
    scales: Sequence[str] | None = None,
    ci: float = 0.95,
    margins: bool = False,
    distribution_scales: Sequence[str] | None = None,
    quantiles: Sequence[float] = DEFAULT_QUANTILES,
    bins: Sequence[float] = DEFAULT_BINS,
    errors: Errors = "raise",
) -> GroupReport:
    """Summarise scale scores per group, with small groups protected across a plan.

    Parameters
    ----------
    instrument : Instrument
        From :func:`mes.load_instrument`.
    responses : DataFrame, mapping, sequence of mappings or 2-D array
        As for :func:`mes.score`.
    attributes : DataFrame or mapping of attribute -> values, optional
        One row per respondent, in the order of ``responses``. Default: the
        attribute columns of ``responses`` itself (a DataFrame).
    by : sequence of str
        Attributes to group by, outermost first (``["directorate",
        "specialty"]``). Missing values form a group labelled ``"(missing)"``.
    plan : sequence of sequences of str, optional
        The reporting plan: every breakdown that will be published from these
        data (``[["site"], ["grade"], ["site", "grade"]]``). The report is
        protected together with all of them, so that no combination of the
        plan's reports reveals a small group; ``by`` must be in the plan
        (:func:`mes.groups.plan.check_breakdown`). Default: ``by`` alone (with
        ``margins``, every combination of ``by``).
    margins : bool, default False
        False: nested levels (overall, ``by[0]``, ``by[0] x by[1]``, ...).
        True: every combination of the attributes (each attribute's own
        margin as well).
    {options}
    Returns
    -------
    GroupReport

    Raises
    ------
    GroupingError
        Unknown attribute or scale, misaligned attributes, bad headcounts.
    mes.groups.plan.PlanError
        A malformed plan, or ``by`` not in it.
    mes.InvalidResponsesError
        Invalid answers (with ``errors="raise"``).

    Notes
    -----
    For the scored respondents :math:`x_1..x_n` of a group on a scale:

    .. math::

        \\bar x = \\frac{{1}}{{n}} \\sum x_i, \\quad
        s = \\sqrt{{\\frac{{\\sum (x_i - \\bar x)^2}}{{n - 1}}}}, \\quad
        SE = s / \\sqrt{{n}}, \\quad
        CI = \\bar x \\pm t_{{(1 + ci)/2,\\, n - 1}} \\, SE.

    ``percent_favourable`` is :math:`100 F / A`, where *A* counts the answered
    items of the scale (keyed, imputed answers excluded) of the group's scored
    respondents and *F* those at or above ``favourable_min`` (the top-two-box
    share of staff surveys). ``response_rate`` is :math:`100 n / headcount`.

    Edge cases: no respondents gives an overall row with n = 0 and no
    statistics (an empty cell identifies nobody, so it is not suppressed); a
    group of one has no SD, SE or CI (None); a respondent with no score on a
    scale counts in the group's n but not in the scale's n; when every group
    is suppressed only the structure (keys) is published; a headcount below the
    number of respondents of a shown group is an error (for a suppressed group it
    is not checked, so that the error cannot say anything about its n).

    Protection (:mod:`mes.groups.protection`) covers groups, scale cells,
    composite scales against their sub-scales, histogram bins (each shown bin
    holds 0 or at least ``k`` respondents, also after subtracting other cells'
    bins) and quantiles (shown only with ``k`` respondents on each side). It
    holds for every report of the plan read together, not for reports of other
    breakdowns of the same data, nor for the same data read again after a
    change: publish one plan per data set, once (the service releases a survey's
    reports once, when its fieldwork is closed).

    Sums are accumulated per finest cell by a sparse (cells x respondents)
    indicator matrix (scores centred on the scale midpoint, so the sum of squares
    keeps its precision) and added up to each level, so the cost is one pass over
    the respondents.

    References
    ----------
    Student (1908). The probable error of a mean. Biometrika 6:1-25.
    Hundepool A et al. (2012). Statistical Disclosure Control. Wiley
    (suppression; see :mod:`mes.groups.disclosure`).
    Bliese PD (2000) for the ICCs in ``aggregation``
    (:mod:`mes.groups.aggregation`).

    Examples
    --------
    >>> import mes
    >>> from mes.groups import summarise
    >>> inst = mes.load_instrument("uwes9")
    >>> answers = {{f"uwes{{i}}": [4, 5, 6, 2, 3] * 6 for i in range(1, 10)}}
    >>> grade = ["consultant"] * 24 + ["sas"] * 6
    >>> report = summarise(inst, answers, {{"grade": grade}}, by=["grade"])
    >>> report.overall.n, report.group(grade="consultant").n, report.group(grade="sas").n
    (30, None, None)
    >>> report.group(grade="sas").reason, report.group(grade="consultant").reason
    ('too_few_responses', 'protects_another_group')
    >>> round(report.overall.scales["total"].mean, 2)
    4.0
    """
    by = _breakdown(by)
    if plan is None:
        chosen = default_plan(by, margins=True) if margins else ((by,) if by else ())
    else:
        chosen = normalise_plan(plan)
    check_breakdown(by, chosen, margins=margins)
    options = SummaryOptions(
        min_group_size=min_group_size, ci=ci, quantiles=quantiles, bins=bins, scales=scales,
        distribution_scales=distribution_scales, headcounts=headcounts, errors=errors,
    )
    table = build_table(instrument, responses, attributes, chosen, options)
    return _report(table, by, margins)


def summarise_plan(
    instrument: Instrument,
    responses: Any,
    attributes: Any = None,
    plan: Sequence[Sequence[str]] = (),
    *,
    min_group_size: int = 10,
    headcounts: Any = None,
    scales: Sequence[str] | None = None,
    ci: float = 0.95,
    distribution_scales: Sequence[str] | None = None,
    quantiles: Sequence[float] = DEFAULT_QUANTILES,
    bins: Sequence[float] = DEFAULT_BINS,
    errors: Errors = "raise",
    releases: Sequence[Release] = (),
) -> dict[Breakdown, GroupReport]:
    """Every report a plan allows, protected together: what a service publishes.

    Parameters
    ----------
    instrument, responses, attributes
        As for :func:`summarise`.
    plan : sequence of sequences of str
        The breakdowns to publish (:mod:`mes.groups.plan`).
    {options}
    releases : sequence of Release, optional
        What other surveys of the same instrument have published, with their answers
        (:class:`mes.groups.overlap.Release`). Where they share respondents with these
        responses, the plan is protected together with them, so that no reader of all
        of them can subtract one from another to pin down a few
        (:mod:`mes.groups.overlap`).

    Returns
    -------
    dict of tuple of str -> GroupReport
        One report per allowed breakdown (:func:`mes.groups.plan.allowed_breakdowns`:
        the overall group ``()`` and every prefix of every breakdown), each equal to
        ``summarise(..., by=breakdown, plan=plan)``, computed in one pass.

    Examples
    --------
    The 4-person group site N x grade c cannot be worked out from any combination
    of the three reports:

    >>> import mes
    >>> from mes.groups import summarise_plan
    >>> inst = mes.load_instrument("uwes9")
    >>> site = ["N"] * 24 + ["S"] * 40
    >>> grade = ["c"] * 4 + ["t"] * 20 + ["c"] * 20 + ["t"] * 20
    >>> answers = {{f"uwes{{i}}": [6] * 4 + [3, 4] * 30 for i in range(1, 10)}}
    >>> reports = summarise_plan(inst, answers, {{"site": site, "grade": grade}},
    ...                          plan=[["grade"], ["site", "grade"]])
    >>> sorted(reports)
    [(), ('grade',), ('site',), ('site', 'grade')]
    >>> [g.n for g in reports[("grade",)]]
    [64, 24, 40]
    >>> [(g.label, g.reason) for g in reports[("site", "grade")] if g.suppressed]
    [('site=N, grade=c', 'too_few_responses'), ('site=N, grade=t', 'protects_another_group'), \
('site=S, grade=c', 'protects_another_group'), ('site=S, grade=t', 'protects_another_group')]
    """
    chosen = normalise_plan(plan)
    options = SummaryOptions(
        min_group_size=min_group_size, ci=ci, quantiles=quantiles, bins=bins, scales=scales,
        distribution_scales=distribution_scales, headcounts=headcounts, errors=errors,
    )
    table = build_table(instrument, responses, attributes, chosen, options)
    if releases:
        table = protect_against_releases(table, responses, attributes, releases, errors=errors)
    return {b: _report(table, b, False) for b in allowed_breakdowns(chosen)}


_OPTIONS = fill_shared_parameters(_OPTIONS_DOC.strip("\n")) + "\n"
summarise.__doc__ = (summarise.__doc__ or "").format(options=_OPTIONS)
summarise_plan.__doc__ = (summarise_plan.__doc__ or "").format(options=_OPTIONS)


def _breakdown(by: Any) -> Breakdown:
    """``by`` as a tuple of attribute names, each once, none of them the respondent id."""
    names = tuple(str(b) for b in ([by] if isinstance(by, str) else by))
    if len(set(names)) != len(names):
        raise GroupingError(f"by: an attribute is named twice ({', '.join(names)})")
    if RESPONDENT_COLUMN in names:
        raise GroupingError("by: cannot group by respondent (every group would have one person)")
    return names


# ----- from the table to a breakdown's report -----------------------------------------------


def _report(table: PlanTable, by: Breakdown, margins: bool) -> GroupReport:
    """The report of one breakdown of the plan: its levels' nodes, in the order of ``by``."""
    level_of = {frozenset(table.attrs[a] for a in level): li
                for li, level in enumerate(table.grouping.levels)}
    bin_pairs = list(itertools.pairwise(table.options.bins))
    groups: list[GroupSummary] = []
    aggregation: dict[str, dict[str, ICCResult]] = {}
    levels = report_levels(by, margins=margins)
    for level in levels:
        nodes = _level_nodes(table, level_of[frozenset(level)], level)
        groups.extend(_group_summary(table, int(i), level, bin_pairs) for i in nodes)
        if level:
            aggregation["|".join(level)] = _level_iccs(table, nodes)
    options = table.options
    return GroupReport(
        instrument_id=table.scores.instrument.id,
        instrument_version=table.scores.instrument.version,
        by=tuple(by),
        levels=tuple(levels),
        min_group_size=options.min_group_size,
        ci=float(options.ci),
        scales=table.scores.reported,
        distribution_scales=table.distribution,
        quantiles=options.quantiles,
        bins=options.bins,
        groups=groups,
        aggregation=aggregation,
        invalid_answers=table.scores.invalid,
        plan=table.plan,
    )


def _level_nodes(table: PlanTable, li: int, level: Breakdown) -> np.ndarray:
    """The nodes of level ``li``, sorted by their values in the order of ``level``."""
    grouping = table.grouping
    nodes = np.flatnonzero(grouping.node_level == li)
    columns = [table.attrs.index(a) for a in level]
    if columns:
        order = np.lexsort(tuple(grouping.node_codes[nodes][:, c] for c in reversed(columns)))
        nodes = nodes[order]
    return nodes


def _level_iccs(table: PlanTable, nodes: np.ndarray) -> dict[str, ICCResult]:
    """Per reported scale, ICC(1) and ICC(2) across the level's shown groups only."""
    st, hidden = table.stats, table.protection.hidden
    out: dict[str, ICCResult] = {}
    for s in table.scores.reported:
        j = table.scores.scales.index(s)
        shown = nodes[~hidden[nodes, j]]
        out[s] = icc_from_summaries(st["n"][shown, j], st["mean"][shown, j], st["var"][shown, j])
    return out


def _group_summary(
    table: PlanTable, i: int, level: Breakdown, bin_pairs: list[tuple[float, float]]
) -> GroupSummary:
    """Node ``i`` as published: its figures where shown, only the reason where hidden."""
    protection = table.protection
    key = dict(table.grouping.keys[i])
    cells = {s: _scale_summary(table, i, s, bin_pairs) for s in table.scores.reported}
    head = None if np.isnan(table.heads[i]) else int(table.heads[i])
    shown = not protection.hidden_group[i]
    n = int(table.respondents[i])
    return GroupSummary(
        key={a: key[a] for a in level}, suppressed=not shown, n=n if shown else None,
        headcount=head, response_rate=(100.0 * n / head) if shown and head else None,
        scales=cells, reason=protection.group_reason[i],
    )


def _scale_summary(
    table: PlanTable, i: int, s: str, bin_pairs: list[tuple[float, float]]
) -> ScaleSummary:
    """Scale ``s`` of node ``i`` as published (no statistic at all when hidden)."""
    protection, st = table.protection, table.stats
    j = table.scores.scales.index(s)
    if protection.hidden[i, j]:
        return ScaleSummary(scale=s, suppressed=True, reason=protection.cell_reason[i][j])
    qd = hd = None
    if s in table.quant:
        probs = table.options.quantiles
        qd = {quantile_name(q): _num(table.quant[s][i, k]) for k, q in enumerate(probs)}
        d = table.distribution.index(s)
        hidden_bins = protection.hidden_bins[j][i]
        hd = [{"from": a, "to": b,
               "percent": None if hidden_bins[k] else _num(table.hist[i, d, k]),
               "suppressed": bool(hidden_bins[k])}
              for k, (a, b) in enumerate(bin_pairs)]
    return ScaleSummary(
        scale=s, suppressed=False, n=int(st["n"][i, j]), mean=_num(st["mean"][i, j]),
        sd=_num(st["sd"][i, j]), se=_num(st["se"][i, j]), ci_low=_num(st["ci_low"][i, j]),
        ci_high=_num(st["ci_high"][i, j]), mean_percent=_num(st["mean_percent"][i, j]),
        percent_favourable=_num(st["percent_favourable"][i, j]), quantiles=qd,
        histogram=hd,
    )


def _num(x: float) -> float | None:
    """A figure as a float, None when it is not finite (no NaN is ever published)."""
    return float(x) if x is not None and math.isfinite(x) else None
