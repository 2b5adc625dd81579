"""The results of a group report: :class:`GroupReport`, its groups and their cells.

A report holds only what may be published: a hidden cell has no statistic and no
exact n, only the reason it is hidden (:mod:`mes.groups.protection`). So serialising
a report (``to_dict``, ``to_frame``) cannot leak one, and a report read back with
:meth:`GroupReport.from_dict` (a stored release) is the same report again, its
figures to the 15 significant digits that ``to_dict`` keeps (:mod:`mes.io.numbers`).
"""

from __future__ import annotations

import itertools
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field, fields, replace
from typing import Any

import numpy as np
import pandas as pd

from mes.groups.aggregation import ICCResult, icc_from_summaries
from mes.groups.protection import PROTECTS, TOO_FEW, quantiles_shown, suppression_note
from mes.groups.suppression import equations_for_levels, suppression_mask
from mes.io.numbers import clean_numbers

__all__ = [
    "GroupReport",
    "GroupSummary",
    "ScaleSummary",
    "quantile_name",
    "raise_threshold",
]


@dataclass(frozen=True)
class ScaleSummary:
    """Statistics of one scale in one group; every field None when ``suppressed``.

    Attributes
    ----------
    scale : str
    suppressed : bool
    n : int or None
        Respondents with a score on the scale.
    mean, sd, se, ci_low, ci_high : float or None
        Mean score, SD (ddof = 1), standard error, t confidence interval.
    mean_percent : float or None
        Mean of the percent metric (0-100).
    percent_favourable : float or None
        Share (%) of answered keyed items >= ``favourable_min`` (None when the
        instrument defines no ``favourable_min``).
    quantiles : dict or None
        Quantiles of individual scores (``{"p25": ..., "p50": ..., "p75": ...}``),
        for the distribution scales only.
    histogram : list of dict or None
        Share (%) of respondents whose percent score falls in each bin
        (``{"from": 0, "to": 20, "percent": ..., "suppressed": false}``), for the
        distribution scales. A bin that would describe fewer respondents than the
        threshold has ``percent`` None and ``suppressed`` true.
    reason : str or None
        Why the cell is hidden (:data:`mes.groups.protection.TOO_FEW` or
        :data:`~mes.groups.protection.PROTECTS`); None when shown.
    """

    scale: str
    suppressed: bool
    n: int | None = None
    mean: float | None = None
    sd: float | None = None
    se: float | None = None
    ci_low: float | None = None
    ci_high: float | None = None
    mean_percent: float | None = None
    percent_favourable: float | None = None
    quantiles: dict[str, float | None] | None = None
    histogram: list[dict[str, Any]] | None = None
    reason: str | None = None

    def to_dict(self, min_group_size: int | None = None) -> dict[str, Any]:
        """JSON-safe dict (no NaN); a hidden cell says why (``suppressed_reason``, ``note``).

        Figures at full precision less arithmetic noise (15 significant digits,
        :func:`mes.io.numbers.clean_float`).
        """
        out: dict[str, Any] = {
            "suppressed": self.suppressed,
            "suppressed_reason": self.reason,
            "n": self.n,
            "mean": self.mean,
            "sd": self.sd,
            "se": self.se,
            "ci": None if self.ci_low is None else [self.ci_low, self.ci_high],
            "mean_percent": self.mean_percent,
            "percent_favourable": self.percent_favourable,
        }
        if self.quantiles is not None or self.histogram is not None:
            out["distribution"] = {"quantiles": self.quantiles, "histogram": self.histogram}
        if self.suppressed and min_group_size is not None:
            out["note"] = suppression_note(self.reason, min_group_size)
        return clean_numbers(out)

    @classmethod
    def from_dict(cls, scale: str, data: Mapping[str, Any]) -> ScaleSummary:
        """The cell back from :meth:`to_dict`."""
        ci = data.get("ci") or (None, None)
        distribution = data.get("distribution") or {}
        return cls(
            scale=scale, suppressed=bool(data["suppressed"]), n=data.get("n"),
            mean=data.get("mean"), sd=data.get("sd"), se=data.get("se"), ci_low=ci[0],
            ci_high=ci[1], mean_percent=data.get("mean_percent"),
            percent_favourable=data.get("percent_favourable"),
            quantiles=distribution.get("quantiles"), histogram=distribution.get("histogram"),
            reason=data.get("suppressed_reason"),
        )


@dataclass(frozen=True)
class GroupSummary:
    """One group of a report (the overall row has an empty ``key``).

    Attributes
    ----------
    key : dict of str -> str
        Attribute -> value of the group, in the order of ``by``.
    suppressed : bool
        True: no statistics and no exact n are published.
    n : int or None
        Respondents in the group (None when suppressed).
    headcount : int or None
        Staff in the group, when ``headcounts`` gave it.
    response_rate : float or None
        ``100 n / headcount`` (None when suppressed or no headcount).
    scales : dict of str -> ScaleSummary
    reason : str or None
        Why the group is hidden (see :class:`ScaleSummary`); None when shown.
    """

    key: dict[str, str]
    suppressed: bool
    n: int | None
    headcount: int | None
    response_rate: float | None
    scales: dict[str, ScaleSummary]
    reason: str | None = None

    @property
    def level(self) -> tuple[str, ...]:
        """The attributes this group is defined by (``()`` for the overall row)."""
        return tuple(self.key)

    @property
    def label(self) -> str:
        """``"grade=consultant, site=North"``, or ``"overall"``."""
        return ", ".join(f"{a}={v}" for a, v in self.key.items()) or "overall"

    def to_dict(self, min_group_size: int | None = None) -> dict[str, Any]:
        """JSON-safe dict (no NaN; suppressed groups carry no statistics)."""
        out: dict[str, Any] = {
            "group": dict(self.key),
            "level": list(self.key),
            "suppressed": self.suppressed,
            "suppressed_reason": self.reason,
            "n": self.n,
            "headcount": self.headcount,
            "response_rate": clean_numbers(self.response_rate),
            "scales": {s: v.to_dict(min_group_size) for s, v in self.scales.items()},
        }
        if self.suppressed and min_group_size is not None:
            out["note"] = suppression_note(self.reason, min_group_size)
        return out

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> GroupSummary:
        """The group back from :meth:`to_dict`."""
        return cls(
            key={str(a): str(v) for a, v in data["group"].items()},
            suppressed=bool(data["suppressed"]), n=data.get("n"),
            headcount=data.get("headcount"), response_rate=data.get("response_rate"),
            scales={s: ScaleSummary.from_dict(s, v) for s, v in data["scales"].items()},
            reason=data.get("suppressed_reason"),
        )


@dataclass(frozen=True)
class GroupReport:
    """Result of :func:`summarise`.

    Attributes
    ----------
    instrument_id, instrument_version : str
    by : tuple of str
        The grouping attributes.
    levels : tuple of tuple of str
        Published levels, ``()`` (overall) first.
    min_group_size : int
    ci : float
        Confidence level of the intervals.
    scales : tuple of str
        Scales reported.
    distribution_scales : tuple of str
        Scales with quantiles and a histogram.
    quantiles : tuple of float
    bins : tuple of float
        Histogram edges on the percent metric.
    groups : list of GroupSummary
        Overall row first, then level by level, groups sorted by value.
    aggregation : dict of str -> dict of str -> ICCResult
        Per level (``"grade"``, ``"grade|site"``) and scale: ICC(1) and ICC(2)
        across the level's groups that are shown (suppressed groups are left
        out so that the ICC discloses nothing about them).
    invalid_answers : int
        Answers scored as missing because they were invalid (``errors="missing"``).
    plan : tuple of tuple of str
        The reporting plan the report was protected with: no combination of the
        reports of these breakdowns pins down a group below ``min_group_size``
        (:mod:`mes.groups.plan`).

    Examples
    --------
    >>> import json, mes
    >>> from mes.groups import summarise
    >>> inst = mes.load_instrument("uwes9")
    >>> answers = {f"uwes{i}": [4, 5, 3] * 8 for i in range(1, 10)}
    >>> site = ["North"] * 12 + ["South"] * 12
    >>> report = summarise(inst, answers, {"site": site}, by=["site"])
    >>> [g.label for g in report], report.group(site="North").n
    (['overall', 'site=North', 'site=South'], 12)
    >>> payload = json.dumps(report.to_dict(), allow_nan=False)  # what the API serves
    >>> report.to_frame().shape[0] == len(report) * len(report.scales)
    True
    """

    instrument_id: str
    instrument_version: str
    by: tuple[str, ...]
    levels: tuple[tuple[str, ...], ...]
    min_group_size: int
    ci: float
    scales: tuple[str, ...]
    distribution_scales: tuple[str, ...]
    quantiles: tuple[float, ...]
    bins: tuple[float, ...]
    groups: list[GroupSummary] = field(repr=False)
    aggregation: dict[str, dict[str, ICCResult]] = field(repr=False)
    invalid_answers: int = 0
    plan: tuple[tuple[str, ...], ...] = ()

    def __iter__(self) -> Iterator[GroupSummary]:
        return iter(self.groups)

    def __len__(self) -> int:
        return len(self.groups)

    @property
    def overall(self) -> GroupSummary:
        """The overall row."""
        return self.groups[0]

    def group(self, **key: Any) -> GroupSummary:
        """The group with exactly this key: ``report.group(grade="consultant")``.

        Raises
        ------
        KeyError
            Naming the groups at that level.
        """
        wanted = {a: str(v) for a, v in key.items()}
        for g in self.groups:
            if g.key == wanted:
                return g
        known = [g.label for g in self.groups if set(g.key) == set(wanted)]
        raise KeyError(
            f"no group {wanted!r} in this report; groups at that level: {', '.join(known) or '-'}"
        )

    def to_dict(self) -> dict[str, Any]:
        """JSON-safe nested dict: what the API returns.

        Suppressed groups and cells hold ``null`` statistics and ``null`` n;
        there is no NaN anywhere (``json.dumps(..., allow_nan=False)`` works).
        Figures keep full precision less arithmetic noise: 15 significant
        digits (:mod:`mes.io.numbers`), so ``(4.4 - 1) * 25`` reads 85.0, not
        85.00000000000001; :meth:`to_frame` rounds only when written as CSV.
        """
        return {
            "instrument": {"id": self.instrument_id, "version": self.instrument_version},
            "by": list(self.by),
            "levels": [list(level) for level in self.levels],
            "min_group_size": self.min_group_size,
            "ci_level": self.ci,
            "scales": list(self.scales),
            "distribution": {
                "scales": list(self.distribution_scales),
                "quantiles": list(self.quantiles),
                "bins": list(self.bins),
            },
            "groups": [g.to_dict(self.min_group_size) for g in self.groups],
            "aggregation": {
                level: {s: clean_numbers(r.to_dict()) for s, r in per_scale.items()}
                for level, per_scale in self.aggregation.items()
            },
            "invalid_answers": self.invalid_answers,
            "reporting_plan": [list(b) for b in self.plan],
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> GroupReport:
        """The report back from :meth:`to_dict` (for example a stored release): the same
        report, its figures to the 15 significant digits that :meth:`to_dict` keeps.

        Examples
        --------
        >>> import mes
        >>> from mes.groups import GroupReport, summarise
        >>> inst = mes.load_instrument("uwes9")
        >>> report = summarise(inst, {f"uwes{i}": [4, 5, 3] * 8 for i in range(1, 10)})
        >>> GroupReport.from_dict(report.to_dict()).to_dict() == report.to_dict()
        True
        """
        icc_fields = {f.name for f in fields(ICCResult)}
        return cls(
            instrument_id=data["instrument"]["id"],
            instrument_version=data["instrument"]["version"],
            by=tuple(data["by"]),
            levels=tuple(tuple(level) for level in data["levels"]),
            min_group_size=int(data["min_group_size"]),
            ci=float(data["ci_level"]),
            scales=tuple(data["scales"]),
            distribution_scales=tuple(data["distribution"]["scales"]),
            quantiles=tuple(float(q) for q in data["distribution"]["quantiles"]),
            bins=tuple(float(b) for b in data["distribution"]["bins"]),
            groups=[GroupSummary.from_dict(g) for g in data["groups"]],
            aggregation={
                level: {s: ICCResult(**{k: v for k, v in r.items() if k in icc_fields})
                        for s, r in per_scale.items()}
                for level, per_scale in data["aggregation"].items()
            },
            invalid_answers=int(data.get("invalid_answers", 0)),
            plan=tuple(tuple(b) for b in data.get("reporting_plan", ())),
        )

    def to_frame(self) -> pd.DataFrame:
        """One row per group and scale (long format), for CSV export.

        The figures are the report's own, unrounded: writing the frame with
        :func:`mes.io.formula_escape.write_csv` rounds them by kind
        (:mod:`mes.io.numbers`: counts whole, percentages to 1 decimal, other
        statistics to 3) and writes ``suppressed`` as ``true`` / ``false``.

        Columns: ``level`` ("overall" or the attributes joined by ``|``), one
        column per attribute of ``by`` (empty where the row is aggregated over
        it), ``scale``, ``suppressed``, ``group_n``, ``headcount``,
        ``response_rate``, ``n``, ``mean``, ``sd``, ``se``, ``ci_low``,
        ``ci_high``, ``mean_percent``, ``percent_favourable``, then the
        quantiles (``p25`` ...) and histogram shares (``pct_0_20`` ...) of the
        distribution scales. Suppressed cells are empty, and
        ``suppressed_group_reason`` and ``suppressed_reason`` say why.
        """
        q_cols = [quantile_name(q) for q in self.quantiles]
        h_cols = [f"pct_{_edge(a)}_{_edge(b)}" for a, b in itertools.pairwise(self.bins)]
        rows = []
        for g in self.groups:
            base: dict[str, Any] = {"level": "|".join(g.key) or "overall"}
            for a in self.by:
                base[a] = g.key.get(a)
            base.update(suppressed_group=g.suppressed, suppressed_group_reason=g.reason,
                        group_n=g.n, headcount=g.headcount, response_rate=g.response_rate)
            for s, v in g.scales.items():
                row = dict(base, scale=s, suppressed=v.suppressed, suppressed_reason=v.reason,
                           n=v.n, mean=v.mean, sd=v.sd,
                           se=v.se, ci_low=v.ci_low, ci_high=v.ci_high,
                           mean_percent=v.mean_percent,
                           percent_favourable=v.percent_favourable)
                for c in q_cols:
                    row[c] = (v.quantiles or {}).get(c)
                shares = [h["percent"] for h in v.histogram] if v.histogram else []
                for k, c in enumerate(h_cols):
                    row[c] = shares[k] if shares else None
                rows.append(row)
        columns = ["level", *self.by, "scale", "suppressed_group", "suppressed_group_reason",
                   "suppressed", "suppressed_reason", "group_n", "headcount", "response_rate",
                   "n", "mean", "sd", "se", "ci_low", "ci_high",
                   "mean_percent", "percent_favourable", *q_cols, *h_cols]
        frame = pd.DataFrame(rows, columns=columns)
        for c in ("group_n", "headcount", "n"):
            frame[c] = frame[c].astype("Int64")
        return frame


def quantile_name(q: float) -> str:
    """``0.25`` -> ``"p25"``: the key of a quantile in a report."""
    return f"p{round(q * 100, 6):g}"


def _edge(x: float) -> str:
    return f"{x:g}".replace(".", "p")




def raise_threshold(report: GroupReport, min_group_size: int) -> GroupReport:
    """The same report with a higher threshold: more groups, cells and bins hidden.

    Only what ``report`` shows is used, so the result shows a subset of it: reading
    a report at several thresholds reveals nothing that the lowest did not.
    Complementary suppression (:func:`mes.groups.suppression.suppression_mask`) runs
    over the report's groups and then per scale; bins below the new threshold are
    hidden with a partner.

    Parameters
    ----------
    report : GroupReport
    min_group_size : int
        At least ``report.min_group_size``.

    Raises
    ------
    ValueError
        When ``min_group_size`` is below the report's.

    Examples
    --------
    >>> import mes
    >>> from mes.groups import raise_threshold, summarise
    >>> inst = mes.load_instrument("uwes9")
    >>> answers = {f"uwes{i}": [4, 5, 3] * 10 for i in range(1, 10)}
    >>> site = ["North"] * 18 + ["South"] * 12
    >>> report = summarise(inst, answers, {"site": site}, by=["site"])
    >>> [g.n for g in raise_threshold(report, 15)]
    [30, None, None]
    """
    k = int(min_group_size)
    if k < report.min_group_size:
        raise ValueError(
            f"min_group_size must be at least the report's ({report.min_group_size}), got {k}"
        )
    if k == report.min_group_size:
        return report
    keys = [tuple(g.key.items()) for g in report.groups]
    equations = equations_for_levels(keys)
    sizes = np.array([g.n or 0 for g in report.groups], dtype=np.int64)
    shown_before = np.array([not g.suppressed for g in report.groups])
    hidden_group = suppression_mask(sizes, equations, k, initial=~shown_before)
    groups = []
    cells: dict[str, np.ndarray] = {}
    for s in report.scales:
        n = np.array([g.scales[s].n or 0 for g in report.groups], dtype=np.int64)
        start = hidden_group | np.array([g.scales[s].suppressed for g in report.groups])
        cells[s] = suppression_mask(n, equations, k, initial=start)
    for i, g in enumerate(report.groups):
        if not hidden_group[i] and not any(cells[s][i] for s in report.scales):
            groups.append(_raise_bins(g, k, report.quantiles))
            continue
        group_reason = g.reason if g.suppressed else (
            _reason(g.n, k) if hidden_group[i] else None)
        scales = {}
        for s, v in g.scales.items():
            if v.suppressed:
                scales[s] = v
            elif cells[s][i]:
                reason = group_reason if hidden_group[i] else _reason(v.n, k)
                scales[s] = ScaleSummary(scale=s, suppressed=True, reason=reason)
            else:
                scales[s] = _raise_scale_bins(v, k, report.quantiles)
        groups.append(GroupSummary(
            key=g.key, suppressed=bool(hidden_group[i]),
            n=None if hidden_group[i] else g.n, headcount=g.headcount,
            response_rate=None if hidden_group[i] else g.response_rate, scales=scales,
            reason=group_reason,
        ))
    return replace(report, min_group_size=k, groups=groups,
                   aggregation=_shown_aggregation(report, groups))


def _reason(n: int | None, k: int) -> str:
    return TOO_FEW if n is not None and 0 < n < k else PROTECTS


def _raise_bins(group: GroupSummary, k: int, probs: tuple[float, ...]) -> GroupSummary:
    return replace(group, scales={s: _raise_scale_bins(v, k, probs)
                                  for s, v in group.scales.items()})


def _raise_scale_bins(cell: ScaleSummary, k: int, probs: tuple[float, ...]) -> ScaleSummary:
    if cell.suppressed or not cell.histogram or not cell.n:
        return cell
    counts = np.array([0.0 if b["percent"] is None else b["percent"] * cell.n / 100.0
                       for b in cell.histogram])
    hidden = np.array([bool(b.get("suppressed")) for b in cell.histogram])
    hidden |= (counts > 0.5) & (counts < k - 0.5)
    hidden_total = cell.n - counts[~hidden].sum()
    while 0.5 < hidden_total < k - 0.5:
        shown = np.flatnonzero(~hidden & (counts > 0.5))
        if not shown.size:
            break
        hidden[shown[np.argmin(counts[shown])]] = True
        hidden_total = cell.n - counts[~hidden].sum()
    histogram = [dict(b, percent=None, suppressed=True) if hidden[i] else b
                 for i, b in enumerate(cell.histogram)]
    quantiles = cell.quantiles
    if quantiles is not None:
        # The cell's quantiles are the report's, in its order (``quantile_name(p)``).
        shown_q = quantiles_shown(np.array([cell.n]), probs, k)[0]
        quantiles = {q: (v if shown_q[j] else None) for j, (q, v) in enumerate(quantiles.items())}
    return replace(cell, histogram=histogram, quantiles=quantiles)


def _shown_aggregation(
    report: GroupReport, groups: list[GroupSummary]
) -> dict[str, dict[str, ICCResult]]:
    """The ICCs again over the groups still shown."""
    out: dict[str, dict[str, ICCResult]] = {}
    for name in report.aggregation:
        level = tuple(name.split("|"))
        at_level = [g for g in groups if g.level == level]
        out[name] = {}
        for s in report.scales:
            shown = [g.scales[s] for g in at_level if not g.scales[s].suppressed]
            n = np.array([c.n for c in shown], dtype=np.float64)
            mean = np.array([c.mean for c in shown], dtype=np.float64)
            var = np.array([np.nan if c.sd is None else c.sd**2 for c in shown])
            out[name][s] = icc_from_summaries(n, mean, var)
    return out
