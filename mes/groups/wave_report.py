"""The results of comparing waves: the change between two, and the trend over several.

:class:`WaveComparison` (of :func:`mes.groups.compare_waves` and
:func:`mes.groups.compare_reports`) holds one :class:`ChangeCell` per group and scale;
:class:`Trend` (of :func:`mes.groups.compare_series` and
:func:`mes.groups.trend_from_reports`) holds one :class:`TrendCell` per group and scale,
each a :class:`WavePoint` per wave and a :class:`ChangeCell` per step. Like a
:class:`~mes.groups.report.GroupReport`, they hold only what may be published: a cell
that either wave hides carries no statistic, only its status (and, for a point, the
reason), so serialising one cannot leak a hidden figure. The computations are in
:mod:`mes.groups.change` and :mod:`mes.groups.trends`.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any

import pandas as pd

from mes.groups.protection import suppression_note
from mes.groups.report import GroupReport
from mes.io.numbers import clean_numbers

__all__ = [
    "ABSENT",
    "SHOWN",
    "SUPPRESSED",
    "ChangeCell",
    "Trend",
    "TrendCell",
    "WaveComparison",
    "WavePoint",
]


@dataclass(frozen=True)
class ChangeCell:
    """The change of one group on one scale.

    ``status`` is ``"compared"``, ``"suppressed"`` (hidden in either wave: no
    statistics at all) or ``"not in both waves"``.
    """

    scale: str
    status: str
    n_before: int | None = None
    n_after: int | None = None
    mean_before: float | None = None
    mean_after: float | None = None
    difference: float | None = None
    ci_low: float | None = None
    ci_high: float | None = None
    df: float | None = None
    hedges_g: float | None = None
    reading: str | None = None

    def to_dict(self) -> dict[str, Any]:
        """JSON-safe dict."""
        return asdict(self)


@dataclass(frozen=True)
class WaveComparison:
    """Result of :func:`mes.groups.compare_waves` and :func:`mes.groups.compare_reports`.

    Attributes
    ----------
    by : tuple of str
    min_group_size : int
    ci : float
    scales : tuple of str
    groups : list of (dict, dict of str -> ChangeCell)
        Group key and its cells, overall first.
    before, after : GroupReport
        The two suppressed wave reports the comparison was made from.

    Examples
    --------
    >>> import mes
    >>> from mes.groups import compare_waves
    >>> inst = mes.load_instrument("uwes9")
    >>> w1 = {f"uwes{i}": [3, 4] * 6 for i in range(1, 10)}
    >>> w2 = {f"uwes{i}": [2, 3] * 6 for i in range(1, 10)}
    >>> result = compare_waves(inst, w1, w2)
    >>> result.cell("vigour").difference, result.to_dict()["groups"][0]["group"]
    (-1.0, {})
    """

    by: tuple[str, ...]
    min_group_size: int
    ci: float
    scales: tuple[str, ...]
    groups: list[tuple[dict[str, str], dict[str, ChangeCell]]] = field(repr=False)
    before: GroupReport = field(repr=False)
    after: GroupReport = field(repr=False)

    def cell(self, scale: str, **key: Any) -> ChangeCell:
        """The change of the group ``key`` on ``scale``."""
        wanted = {a: str(v) for a, v in key.items()}
        for k, cells in self.groups:
            if k == wanted:
                return cells[scale]
        raise KeyError(f"no group {wanted!r} in this comparison")

    def to_dict(self) -> dict[str, Any]:
        """JSON-safe nested dict (suppressed cells carry no statistics)."""
        return {
            "by": list(self.by),
            "min_group_size": self.min_group_size,
            "ci_level": self.ci,
            "scales": list(self.scales),
            "groups": [{"group": dict(k), "scales": {s: c.to_dict() for s, c in cells.items()}}
                       for k, cells in self.groups],
        }

    def to_frame(self) -> pd.DataFrame:
        """One row per group and scale."""
        rows = []
        for k, cells in self.groups:
            for c in cells.values():
                rows.append({"level": "|".join(k) or "overall",
                             **{a: k.get(a) for a in self.by}, **c.to_dict()})
        return pd.DataFrame(rows)



SHOWN = "shown"
"""Status of a wave's point: the wave's report publishes the cell."""
SUPPRESSED = "suppressed"
"""Status of a wave's point: the wave's report hides the group or the cell (no figures)."""
ABSENT = "not in this wave"
"""Status of a wave's point: the group has no respondents in that wave."""


@dataclass(frozen=True)
class WavePoint:
    """One group on one scale in one wave: what that wave's report publishes.

    Attributes
    ----------
    wave : str
        The wave's label.
    status : str
        :data:`SHOWN`, :data:`SUPPRESSED` (no n, mean or interval) or :data:`ABSENT`.
    n : int or None
        Respondents with a score on the scale.
    mean, ci_low, ci_high : float or None
        Mean score and its t confidence interval.
    reason : str or None
        Why a suppressed point is hidden (:data:`mes.groups.TOO_FEW` or
        :data:`mes.groups.PROTECTS`).
    """

    wave: str
    status: str
    n: int | None = None
    mean: float | None = None
    ci_low: float | None = None
    ci_high: float | None = None
    reason: str | None = None

    @property
    def shown(self) -> bool:
        """Whether the point has a mean to draw."""
        return self.status == SHOWN and self.mean is not None

    def to_dict(self, min_group_size: int | None = None) -> dict[str, Any]:
        """JSON-safe dict (15 significant digits, :mod:`mes.io.numbers`); a hidden point
        says why (``suppressed_reason``, ``note``) and nothing else."""
        out: dict[str, Any] = {
            "wave": self.wave,
            "status": self.status,
            "n": self.n,
            "mean": self.mean,
            "ci": None if self.ci_low is None else [self.ci_low, self.ci_high],
            "suppressed_reason": self.reason,
        }
        if self.status == SUPPRESSED and min_group_size is not None:
            out["note"] = suppression_note(self.reason, min_group_size)
        return clean_numbers(out)


@dataclass(frozen=True)
class TrendCell:
    """One group on one scale across the waves.

    Attributes
    ----------
    scale : str
    points : tuple of WavePoint
        One per wave, oldest first.
    steps : tuple of ChangeCell
        One per step (``steps[i]`` is wave ``i`` to wave ``i + 1``): the change as
        :func:`mes.groups.compare_reports` gives it, status ``"suppressed"`` (no
        statistic) when the group is hidden in either wave of the step.
    """

    scale: str
    points: tuple[WavePoint, ...]
    steps: tuple[ChangeCell, ...]


@dataclass(frozen=True)
class Trend:
    """Result of :func:`mes.groups.compare_series` and :func:`mes.groups.trend_from_reports`.

    Attributes
    ----------
    instrument_id, instrument_version : str
    by : tuple of str
    min_group_size : int
        The threshold every wave is suppressed at.
    ci : float
        Confidence level of the waves' and the steps' intervals.
    scales : tuple of str
    waves : tuple of str
        Labels of the waves, oldest first.
    groups : list of (dict, dict of str -> TrendCell)
        Group key and its cells, overall first, then level by level (a group that
        appears only in later waves comes after the others of its level).
    reports : tuple of GroupReport
        Each wave's report as published (at ``min_group_size``).
    steps : tuple of WaveComparison
        ``steps[i]``: wave ``i`` to wave ``i + 1``.

    Examples
    --------
    >>> import mes
    >>> from mes.groups import compare_series
    >>> inst = mes.load_instrument("uwes9")
    >>> waves = [{f"uwes{i}": [3, 4] * 6 for i in range(1, 10)},
    ...          {f"uwes{i}": [3, 5] * 6 for i in range(1, 10)},
    ...          {f"uwes{i}": [4, 5] * 6 for i in range(1, 10)}]
    >>> trend = compare_series(inst, waves, labels=["2022", "2024", "2026"])
    >>> [p.mean for p in trend.cell("vigour").points]
    [3.5, 4.0, 4.5]
    >>> [s.difference for s in trend.cell("vigour").steps]
    [0.5, 0.5]
    >>> trend.to_frame().shape[0] == len(trend.groups) * len(trend.scales) * 3
    True
    """

    instrument_id: str
    instrument_version: str
    by: tuple[str, ...]
    min_group_size: int
    ci: float
    scales: tuple[str, ...]
    waves: tuple[str, ...]
    groups: list[tuple[dict[str, str], dict[str, TrendCell]]] = field(repr=False)
    reports: tuple[GroupReport, ...] = field(repr=False)
    steps: tuple[WaveComparison, ...] = field(repr=False)

    def cell(self, scale: str, **key: Any) -> TrendCell:
        """The trend of the group ``key`` on ``scale`` (``trend.cell("index", site="N")``).

        Raises
        ------
        KeyError
            No such group or scale.
        """
        wanted = {a: str(v) for a, v in key.items()}
        for k, cells in self.groups:
            if k == wanted:
                return cells[scale]
        raise KeyError(f"no group {wanted!r} in this trend")

    def to_dict(self) -> dict[str, Any]:
        """JSON-safe nested dict: per group and scale, ``waves`` (one point per wave) and
        ``steps`` (one change per step, with ``from`` and ``to`` naming its waves).

        Hidden points and steps carry no statistic; figures keep 15 significant digits
        (:mod:`mes.io.numbers`), as :meth:`GroupReport.to_dict` does.
        """
        k = self.min_group_size
        return {
            "instrument": {"id": self.instrument_id, "version": self.instrument_version},
            "by": list(self.by),
            "min_group_size": k,
            "ci_level": self.ci,
            "scales": list(self.scales),
            "waves": list(self.waves),
            "groups": [
                {
                    "group": dict(key),
                    "scales": {
                        s: {
                            "waves": [p.to_dict(k) for p in c.points],
                            "steps": [
                                {"from": self.waves[i], "to": self.waves[i + 1],
                                 **clean_numbers(step.to_dict())}
                                for i, step in enumerate(c.steps)
                            ],
                        }
                        for s, c in cells.items()
                    },
                }
                for key, cells in self.groups
            ],
        }

    def to_frame(self) -> pd.DataFrame:
        """Long format: one row per group, scale and wave, oldest wave first.

        Columns: ``level`` ("overall" or the attributes joined by ``|``), one column per
        attribute of ``by``, ``scale``, ``wave``, ``status``, ``suppressed_reason``,
        ``n``, ``mean``, ``ci_low``, ``ci_high``, then the step *into* this wave:
        ``change_from`` (the previous wave's label; empty on the first wave),
        ``change_status``, ``difference``, ``change_ci_low``, ``change_ci_high`` and
        ``hedges_g``. Hidden points and steps are empty. The figures are unrounded:
        :func:`mes.io.formula_escape.write_csv` rounds them by kind (:mod:`mes.io.numbers`).
        """
        rows = []
        for key, cells in self.groups:
            base: dict[str, Any] = {"level": "|".join(key) or "overall"}
            for a in self.by:
                base[a] = key.get(a)
            for s, c in cells.items():
                for i, p in enumerate(c.points):
                    step = c.steps[i - 1] if i else None
                    rows.append(dict(
                        base, scale=s, wave=p.wave, status=p.status,
                        suppressed_reason=p.reason, n=p.n, mean=p.mean, ci_low=p.ci_low,
                        ci_high=p.ci_high,
                        change_from=self.waves[i - 1] if i else None,
                        change_status=None if step is None else step.status,
                        difference=None if step is None else step.difference,
                        change_ci_low=None if step is None else step.ci_low,
                        change_ci_high=None if step is None else step.ci_high,
                        hedges_g=None if step is None else step.hedges_g,
                    ))
        columns = ["level", *self.by, "scale", "wave", "status", "suppressed_reason", "n",
                   "mean", "ci_low", "ci_high", "change_from", "change_status", "difference",
                   "change_ci_low", "change_ci_high", "hedges_g"]
        frame = pd.DataFrame(rows, columns=columns)
        frame["n"] = frame["n"].astype("Int64")
        return frame
