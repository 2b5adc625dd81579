"""Group reports: per group and scale n, mean, SD, SE, t CI, percent, favourable share.

:func:`summarise` scores the responses once (vectorised, :func:`mes.score`), sums
every additive quantity per finest cell of the grouping (a sparse indicator
matrix times the respondents' values), adds cells up to every published level,
and only then derives the statistics, so a report over 200,000 respondents costs
little more than scoring them.

Small groups are suppressed before anything leaves this module
(:mod:`mes.groups.suppression`): a hidden cell of a :class:`GroupReport` holds no
statistic and no exact n, so serialising a report (``to_dict``, ``to_frame``)
cannot leak one.
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd
from scipy import sparse, stats

from mes.errors import MesError
from mes.groups.aggregation import ICCResult, icc_from_summaries
from mes.groups.suppression import _check_threshold, equations_for_levels, suppression_mask
from mes.instrument import Instrument
from mes.responses import (
    BLOCK_ROWS,
    RESPONDENT_COLUMN,
    Errors,
    keyed_answers,
    response_matrix,
)
from mes.scoring import score_matrix

__all__ = [
    "DEFAULT_BINS",
    "DEFAULT_QUANTILES",
    "MISSING_LABEL",
    "SUPPRESSED_NOTE",
    "GroupReport",
    "GroupSummary",
    "GroupingError",
    "ScaleSummary",
    "summarise",
]

MISSING_LABEL = "(missing)"
"""Label of respondents whose attribute value is missing: they form a group of their own."""

DEFAULT_QUANTILES = (0.25, 0.5, 0.75)
DEFAULT_BINS = (0.0, 20.0, 40.0, 60.0, 80.0, 100.0)
SUPPRESSED_NOTE = (
    "suppressed: fewer than {k} respondents, or hidden so that a smaller group cannot be "
    "worked out by subtraction"
)


class GroupingError(MesError, ValueError):
    """The attributes or options of a group report are unusable (the message says how)."""


# ----- result objects ---------------------------------------------------------------------


def _num(x: float) -> float | None:
    return float(x) if x is not None and math.isfinite(x) else None


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
        (``{"from": 0, "to": 20, "percent": ...}``), for the distribution scales.
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
    histogram: list[dict[str, float | None]] | None = None

    def to_dict(self) -> dict[str, Any]:
        """JSON-safe dict (no NaN)."""
        out: dict[str, Any] = {
            "suppressed": self.suppressed,
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
        return out


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
    """

    key: dict[str, str]
    suppressed: bool
    n: int | None
    headcount: int | None
    response_rate: float | None
    scales: dict[str, ScaleSummary]

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
            "n": self.n,
            "headcount": self.headcount,
            "response_rate": self.response_rate,
            "scales": {s: v.to_dict() for s, v in self.scales.items()},
        }
        if self.suppressed and min_group_size is not None:
            out["note"] = SUPPRESSED_NOTE.format(k=min_group_size)
        return out


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
                level: {s: r.to_dict() for s, r in per_scale.items()}
                for level, per_scale in self.aggregation.items()
            },
            "invalid_answers": self.invalid_answers,
        }

    def to_frame(self) -> pd.DataFrame:
        """One row per group and scale (long format), for CSV export.

        Columns: ``level`` ("overall" or the attributes joined by ``|``), one
        column per attribute of ``by`` (empty where the row is aggregated over
        it), ``scale``, ``suppressed``, ``group_n``, ``headcount``,
        ``response_rate``, ``n``, ``mean``, ``sd``, ``se``, ``ci_low``,
        ``ci_high``, ``mean_percent``, ``percent_favourable``, then the
        quantiles (``p25`` ...) and histogram shares (``pct_0_20`` ...) of the
        distribution scales. Suppressed cells are empty.
        """
        q_cols = [_qname(q) for q in self.quantiles]
        h_cols = [f"pct_{_edge(a)}_{_edge(b)}" for a, b in itertools.pairwise(self.bins)]
        rows = []
        for g in self.groups:
            base: dict[str, Any] = {"level": "|".join(g.key) or "overall"}
            for a in self.by:
                base[a] = g.key.get(a)
            base.update(suppressed_group=g.suppressed, group_n=g.n, headcount=g.headcount,
                        response_rate=g.response_rate)
            for s, v in g.scales.items():
                row = dict(base, scale=s, suppressed=v.suppressed, n=v.n, mean=v.mean, sd=v.sd,
                           se=v.se, ci_low=v.ci_low, ci_high=v.ci_high,
                           mean_percent=v.mean_percent,
                           percent_favourable=v.percent_favourable)
                for c in q_cols:
                    row[c] = (v.quantiles or {}).get(c)
                shares = [h["percent"] for h in v.histogram] if v.histogram else []
                for k, c in enumerate(h_cols):
                    row[c] = shares[k] if shares else None
                rows.append(row)
        columns = ["level", *self.by, "scale", "suppressed_group", "suppressed", "group_n",
                   "headcount", "response_rate", "n", "mean", "sd", "se", "ci_low", "ci_high",
                   "mean_percent", "percent_favourable", *q_cols, *h_cols]
        frame = pd.DataFrame(rows, columns=columns)
        for c in ("group_n", "headcount", "n"):
            frame[c] = frame[c].astype("Int64")
        return frame


def _qname(q: float) -> str:
    return f"p{round(q * 100, 6):g}"


def _edge(x: float) -> str:
    return f"{x:g}".replace(".", "p")


# ----- preparation ------------------------------------------------------------------------


@dataclass(frozen=True)
class _Prepared:
    """Per-respondent arrays behind a report (never exposed: they are unsuppressed)."""

    instrument: Instrument
    scales: tuple[str, ...]  # every scale of the instrument (suppression needs them all)
    reported: tuple[str, ...]  # the scales the report shows
    scores: np.ndarray  # (n, S)
    percent: np.ndarray  # (n, S)
    favourable: np.ndarray | None  # (n, S) count of favourable answers
    answered: np.ndarray  # (n, S) int
    codes: np.ndarray  # (n, A) int64
    labels: tuple[tuple[str, ...], ...]
    invalid: int

    @property
    def n(self) -> int:
        return int(self.scores.shape[0])


def _attribute_frame(responses: Any, attributes: Any, by: Sequence[str], n: int) -> pd.DataFrame:
    if attributes is None:
        if not by:
            return pd.DataFrame(index=pd.RangeIndex(n))
        if not isinstance(responses, pd.DataFrame):
            raise GroupingError(
                "attributes: pass the attribute columns (a DataFrame or a mapping of attribute "
                "-> values, one per respondent), or give responses as a DataFrame that holds them"
            )
        frame = responses
    elif isinstance(attributes, pd.DataFrame):
        frame = attributes
    elif isinstance(attributes, Mapping):
        try:
            frame = pd.DataFrame({str(k): list(v) for k, v in attributes.items()})
        except ValueError as exc:
            raise GroupingError(f"attributes: every attribute needs one value per respondent "
                                f"({exc})") from None
    else:
        raise GroupingError(
            f"attributes must be a DataFrame or a mapping of attribute -> values, got "
            f"{type(attributes).__name__}"
        )
    missing = [a for a in by if a not in frame.columns]
    if missing:
        known = [str(c) for c in frame.columns]
        raise GroupingError(
            f"by: no attribute column(s) {', '.join(map(repr, missing))}; columns available: "
            f"{', '.join(known[:20]) or '-'}"
        )
    if len(frame) != n:
        raise GroupingError(
            f"attributes: {len(frame)} rows for {n} respondents; give one row per respondent, "
            "in the same order"
        )
    return frame


def _label(value: Any) -> str:
    # A numeric attribute read with gaps becomes float: show 2, not 2.0.
    if isinstance(value, (float, np.floating)) and float(value).is_integer():
        return str(int(value))
    return str(value).strip()


def _natural(label: str) -> tuple[int, float, str]:
    """Numbers in numeric order first (2 before 10), then text."""
    try:
        number = float(label)
    except ValueError:
        return (1, 0.0, label)
    return (0, number, label) if math.isfinite(number) else (1, 0.0, label)


def _codes(column: pd.Series) -> tuple[np.ndarray, tuple[str, ...]]:
    """Integer codes of an attribute, labels as sorted text, missing -> MISSING_LABEL."""
    raw_codes, uniques = pd.factorize(column, use_na_sentinel=True)
    text = [_label(u) for u in np.asarray(uniques, dtype=object)]
    text = [t if t else MISSING_LABEL for t in text]
    has_missing = bool((raw_codes < 0).any()) or MISSING_LABEL in text
    labels = sorted(set(text) - {MISSING_LABEL}, key=_natural) + (
        [MISSING_LABEL] if has_missing else [])
    position = {label: i for i, label in enumerate(labels)}
    remap = np.array([position[t] for t in text] + [position.get(MISSING_LABEL, 0)],
                     dtype=np.int64)
    # raw code -1 (missing) indexes the last element of remap.
    return remap[raw_codes], tuple(labels)


def _favourable_counts(instrument: Instrument, values: np.ndarray, fav_min: float) -> np.ndarray:
    """Per respondent and scale: answered items keyed at or above ``fav_min``."""
    membership = instrument.membership.astype(np.float32)
    out = np.empty((values.shape[0], membership.shape[1]))
    reverse = instrument.reverse_mask.any()
    with np.errstate(invalid="ignore"):
        for start in range(0, values.shape[0], BLOCK_ROWS):
            block = values[start : start + BLOCK_ROWS]
            if reverse:
                block = keyed_answers(instrument, block)
            # NaN compares False; float32 is exact for counts and halves the traffic.
            out[start : start + block.shape[0]] = (block >= fav_min).astype(np.float32) @ membership
    return out


def _prepare(
    instrument: Instrument,
    responses: Any,
    attributes: Any,
    by: Sequence[str],
    scales: Sequence[str] | None,
    errors: Errors,
) -> _Prepared:
    matrix = response_matrix(instrument, responses, errors=errors)
    table = score_matrix(instrument, matrix)
    all_scales = instrument.scale_ids
    if scales is None:
        chosen = tuple(all_scales)
    else:
        unknown = [s for s in scales if s not in all_scales]
        if unknown:
            raise GroupingError(
                f"scales: {', '.join(map(repr, unknown))} not in instrument {instrument.id!r}; "
                f"scales: {', '.join(all_scales)}"
            )
        chosen = tuple(dict.fromkeys(scales))
    fav_min = instrument.response_scale.favourable_min
    favourable = None if fav_min is None else _favourable_counts(instrument, matrix.values,
                                                                  fav_min)
    n = len(table)
    frame = _attribute_frame(responses, attributes, by, n)
    codes = np.zeros((n, len(by)), dtype=np.int64)
    labels = []
    for j, attribute in enumerate(by):
        codes[:, j], lab = _codes(frame[attribute].reset_index(drop=True))
        labels.append(lab)
    return _Prepared(
        instrument=instrument,
        scales=tuple(all_scales),
        reported=chosen,
        scores=table.score_matrix,
        percent=table.percent_matrix,
        favourable=favourable,
        answered=table.answered_matrix,
        codes=codes,
        labels=tuple(labels),
        invalid=len(matrix.invalid),
    )


# ----- grouping -----------------------------------------------------------------------------


@dataclass(frozen=True)
class _Grouping:
    levels: tuple[tuple[int, ...], ...]
    keys: list[tuple[tuple[str, str], ...]]  # one per node
    node_level: np.ndarray  # level index of each node
    cell_of_resp: np.ndarray
    cell_to_node: list[np.ndarray]  # per level: node index of each cell
    n_cells: int

    def node_of_resp(self, level: int) -> np.ndarray:
        return self.cell_to_node[level][self.cell_of_resp]


def _levels(n_attr: int, margins: bool) -> tuple[tuple[int, ...], ...]:
    if margins:
        return tuple(c for r in range(n_attr + 1) for c in itertools.combinations(range(n_attr), r))
    return tuple(tuple(range(r)) for r in range(n_attr + 1))


def _group(prep: _Prepared, by: Sequence[str], margins: bool) -> _Grouping:
    n, n_attr = prep.n, len(by)
    sizes = [len(lab) for lab in prep.labels]
    if n_attr:
        combined = np.zeros(n, dtype=np.int64)
        for j in range(n_attr):
            combined = combined * sizes[j] + prep.codes[:, j]
        cells, cell_of_resp = np.unique(combined, return_inverse=True)
        cell_codes = np.zeros((cells.size, n_attr), dtype=np.int64)
        rest = cells.copy()
        for j in reversed(range(n_attr)):
            cell_codes[:, j] = rest % sizes[j]
            rest //= sizes[j]
    else:
        cells = np.zeros(1 if n else 0, dtype=np.int64)
        cell_of_resp = np.zeros(n, dtype=np.int64)
        cell_codes = np.zeros((cells.size, 0), dtype=np.int64)
    levels = _levels(n_attr, margins)
    keys: list[tuple[tuple[str, str], ...]] = []
    node_level: list[int] = []
    cell_to_node: list[np.ndarray] = []
    for li, level in enumerate(levels):
        if not level:
            keys.append(())
            node_level.append(li)
            cell_to_node.append(np.zeros(cells.size, dtype=np.int64) + len(keys) - 1)
            continue
        proj = cell_codes[:, list(level)]
        uniq, inverse = np.unique(proj, axis=0, return_inverse=True)
        offset = len(keys)
        for row in uniq:
            keys.append(tuple((by[a], prep.labels[a][c]) for a, c in zip(level, row, strict=True)))
            node_level.append(li)
        cell_to_node.append(offset + inverse.reshape(-1))
    return _Grouping(levels, keys, np.array(node_level), cell_of_resp.reshape(-1), cell_to_node,
                     int(cells.size))


def _cell_sums(
    prep: _Prepared, grouping: _Grouping, bins: np.ndarray, distribution: Sequence[int]
) -> dict[str, np.ndarray]:
    """Additive per-cell sums: (cells, S) arrays, and (cells, D, B) histogram counts.

    Every respondent's contribution is added to their cell by a sparse (cells x
    respondents) indicator matrix times the respondents' (zero-filled) values, block by
    block so that the temporaries stay in cache; that is about three times quicker than
    one weighted ``np.bincount`` per quantity. The histogram counts only the
    ``distribution`` columns (the scales whose distribution is reported).
    """
    c, s_count = grouping.n_cells, len(prep.scales)
    cell = grouping.cell_of_resp
    inst = prep.instrument
    items = inst.membership.sum(axis=0)[[inst.scale_ids.index(s) for s in prep.scales]]
    rs = inst.response_scale
    # Scores are centred on the scale midpoint, so that the sums of squares keep their
    # precision (the variance is taken from them in one pass).
    centre = np.broadcast_to(
        (rs.min + rs.max) / 2.0 * (items if inst.scoring.method == "sum" else 1.0), (s_count,)
    ).astype(np.float64)
    names = ["n", "sum", "sumsq", "answered"] + (["favourable"] if prep.favourable is not None
                                                 else [])
    totals = {name: np.zeros((c, s_count)) for name in names}
    for start in range(0, prep.n, BLOCK_ROWS):
        rows = slice(start, start + BLOCK_ROWS)
        m = cell[rows].size
        to_cells = sparse.csc_array((np.ones(m), cell[rows], np.arange(m + 1)), shape=(c, m))
        scores = prep.scores[rows]
        missing = np.isnan(scores)
        scored = (~missing).astype(np.float64)
        dev = scores - centre
        dev[missing] = 0.0
        per_respondent = {"n": scored, "sum": dev, "sumsq": dev * dev,
                          "answered": prep.answered[rows] * scored}
        if prep.favourable is not None:
            per_respondent["favourable"] = prep.favourable[rows] * scored
        for name, values in per_respondent.items():
            totals[name] += np.asarray(to_cells @ values)
    out: dict[str, np.ndarray] = {
        "respondents": np.bincount(cell, minlength=c).astype(np.float64),
        **totals,
        "centre": centre,
        "items": items,
    }
    n_bins = len(bins) - 1
    percent = prep.percent[:, list(distribution)]
    widths = np.diff(bins)
    with np.errstate(invalid="ignore"):
        if np.allclose(widths, widths[0]):  # equal bins: arithmetic instead of a search
            raw = np.floor((np.nan_to_num(percent, nan=bins[0]) - bins[0]) / widths[0])
            which = np.clip(raw, 0, n_bins - 1).astype(np.int64)
        else:
            which = np.clip(np.searchsorted(bins[1:-1], percent, side="right"), 0, n_bins - 1)
    d_count = len(distribution)
    slot = (cell[:, None] * d_count + np.arange(d_count)) * n_bins + which
    out["hist"] = np.bincount(
        slot.ravel(), weights=(~np.isnan(percent)).ravel().astype(np.float64),
        minlength=c * d_count * n_bins,
    ).reshape(c, d_count, n_bins)
    return out


def _to_nodes(cell_values: np.ndarray, grouping: _Grouping) -> np.ndarray:
    n_nodes = len(grouping.keys)
    out = np.zeros((n_nodes, *cell_values.shape[1:]), dtype=np.float64)
    for mapping in grouping.cell_to_node:
        np.add.at(out, mapping, cell_values)
    return out


def _group_quantiles(
    values: np.ndarray, node: np.ndarray, n_nodes: int, probs: Sequence[float]
) -> np.ndarray:
    """Quantiles (numpy's default 'linear' rule) of ``values`` within each node.

    ``values`` are the scored respondents' values in ascending order (no NaN) and
    ``node`` their nodes, so that sorting by node alone - a stable radix sort of small
    integers - leaves every node's values in order. One sort of the values then serves
    every level of a report.
    """
    out = np.full((n_nodes, len(probs)), np.nan)
    if not values.size:
        return out
    key = node.astype(np.uint16) if n_nodes < 2**16 else node
    order = np.argsort(key, kind="stable")
    v = values[order]
    counts = np.bincount(node, minlength=n_nodes)
    starts = np.concatenate(([0], np.cumsum(counts)[:-1]))
    have = counts > 0
    for j, q in enumerate(probs):
        h = (counts[have] - 1) * q
        lo = np.floor(h).astype(np.int64)
        hi = np.minimum(lo + 1, counts[have] - 1)
        a = v[starts[have] + lo]
        b = v[starts[have] + hi]
        out[have, j] = a + (h - lo) * (b - a)
    return out


# ----- headcounts -------------------------------------------------------------------------


def _headcounts(headcounts: Any, by: Sequence[str], keys: Sequence[Any]) -> np.ndarray:
    out = np.full(len(keys), np.nan)
    if headcounts is None:
        return out
    if isinstance(headcounts, (int, np.integer)) and not isinstance(headcounts, bool):
        frame = pd.DataFrame({"headcount": [int(headcounts)]})
    elif isinstance(headcounts, pd.DataFrame):
        frame = headcounts
    elif isinstance(headcounts, Sequence) and not isinstance(headcounts, (str, bytes)):
        frame = pd.DataFrame.from_records(list(headcounts))
    else:
        raise GroupingError(
            "headcounts must be an int (overall), a DataFrame or a sequence of mappings with "
            f"attribute columns and a 'headcount' column; got {type(headcounts).__name__}"
        )
    if "headcount" not in frame.columns:
        raise GroupingError("headcounts: needs a 'headcount' column")
    unknown = [str(c) for c in frame.columns if c != "headcount" and c not in by]
    if unknown:
        raise GroupingError(
            f"headcounts: column(s) {', '.join(map(repr, unknown))} are not attributes of this "
            f"report (by = {', '.join(by) or 'nothing'})"
        )
    index = {key: i for i, key in enumerate(keys)}
    attrs = [a for a in by if a in frame.columns]
    for record in frame.to_dict("records"):
        value = record["headcount"]
        key = tuple((a, _label(record[a])) for a in attrs if not pd.isna(record[a]))
        try:
            number = float(value)
        except (TypeError, ValueError):
            number = math.nan
        if not math.isfinite(number) or number < 0 or not number.is_integer():
            raise GroupingError(
                f"headcounts: the headcount of {_describe(key)} must be a whole number >= 0, "
                f"got {value!r}"
            )
        i = index.get(key)
        if i is not None:
            out[i] = number
    return out


def _describe(key: Sequence[tuple[str, str]]) -> str:
    return ", ".join(f"{a}={v!r}" for a, v in key) or "the overall group"


# ----- the report ---------------------------------------------------------------------------


def summarise(
    instrument: Instrument,
    responses: Any,
    attributes: Any = None,
    by: Sequence[str] = (),
    *,
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
    """Summarise scale scores per group, with small groups suppressed.

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
    min_group_size : int, default 10
        Groups (and scale cells) with fewer respondents show no statistics and
        no exact n; complementary suppression protects them from subtraction.
    headcounts : int, DataFrame or sequence of mappings, optional
        Staff in post per group, for response rates: a ``headcount`` column
        plus the attribute columns of the group (left empty for levels above;
        all empty, or an int, for the overall group).
    scales : sequence of str, optional
        Scales to report (default: all, in definition order).
    ci : float, default 0.95
        Confidence level of the t intervals.
    margins : bool, default False
        False: nested levels (overall, ``by[0]``, ``by[0] x by[1]``, ...).
        True: every combination of the attributes (each attribute's own
        margin as well).
    distribution_scales : sequence of str, optional
        Scales whose distribution of individual scores is reported (quantiles
        and histogram). Default: the broadest scale (most items; the MES
        ``index``).
    quantiles : sequence of float, default (0.25, 0.5, 0.75)
    bins : sequence of float, default (0, 20, 40, 60, 80, 100)
        Histogram edges on the percent metric (0-100).
    errors : {"raise", "missing"}
        Invalid answers: raise, or score them as missing (as :func:`mes.score`).

    Returns
    -------
    GroupReport

    Raises
    ------
    GroupingError
        Unknown attribute or scale, misaligned attributes, bad headcounts.
    mes.InvalidResponsesError
        Invalid answers (with ``errors="raise"``).

    Notes
    -----
    For the scored respondents :math:`x_1..x_n` of a group on a scale:

    .. math::

        \\bar x = \\frac{1}{n} \\sum x_i, \\quad
        s = \\sqrt{\\frac{\\sum (x_i - \\bar x)^2}{n - 1}}, \\quad
        SE = s / \\sqrt{n}, \\quad
        CI = \\bar x \\pm t_{(1 + ci)/2,\\, n - 1} \\, SE.

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

    Suppression works on three levels: groups (respondents), scale cells
    (respondents with a score; a visible group can hide one scale), and across
    scales within a group (a composite's mean follows from its sub-scales'
    with complete answers, so a lone hidden sub-scale hides the composite).
    Each report is protected on its own; two reports of the same data with
    different ``by`` are not protected against each other (publish one
    grouping per audience, or use ``margins=True`` to publish them together).

    Sums are accumulated per finest cell by a sparse (cells x respondents)
    indicator matrix (scores centred on the scale midpoint, so the sum of squares
    keeps its precision) and added up to each level, so the cost is one pass over
    the respondents.

    References
    ----------
    Student (1908). The probable error of a mean. Biometrika 6:1-25.
    Hundepool A et al. (2012). Statistical Disclosure Control. Wiley
    (suppression; see :func:`mes.groups.suppress_small_groups`).
    Bliese PD (2000) for the ICCs in ``aggregation``
    (:mod:`mes.groups.aggregation`).

    Examples
    --------
    >>> import mes
    >>> from mes.groups import summarise
    >>> inst = mes.load_instrument("uwes9")
    >>> answers = {f"uwes{i}": [4, 5, 6, 2, 3] * 6 for i in range(1, 10)}
    >>> grade = ["consultant"] * 24 + ["sas"] * 6
    >>> report = summarise(inst, answers, {"grade": grade}, by=["grade"])
    >>> report.overall.n, report.group(grade="consultant").n, report.group(grade="sas").n
    (30, None, None)
    >>> round(report.overall.scales["total"].mean, 2)
    4.0
    """
    return _summarise(
        instrument, responses, attributes, by, min_group_size=min_group_size,
        headcounts=headcounts, scales=scales, ci=ci, margins=margins,
        distribution_scales=distribution_scales, quantiles=quantiles, bins=bins, errors=errors,
    )[0]


def _summarise(
    instrument: Instrument,
    responses: Any,
    attributes: Any,
    by: Sequence[str],
    *,
    min_group_size: int = 10,
    headcounts: Any = None,
    scales: Sequence[str] | None = None,
    ci: float = 0.95,
    margins: bool = False,
    distribution_scales: Sequence[str] | None = None,
    quantiles: Sequence[float] = DEFAULT_QUANTILES,
    bins: Sequence[float] = DEFAULT_BINS,
    errors: Errors = "raise",
) -> tuple[GroupReport, _Prepared, _Grouping]:
    """:func:`summarise`, also returning the unsuppressed arrays (module-private use only)."""
    threshold = _check_threshold(min_group_size)
    by = [str(b) for b in ([by] if isinstance(by, str) else by)]
    if len(set(by)) != len(by):
        raise GroupingError(f"by: an attribute is named twice ({', '.join(by)})")
    if RESPONDENT_COLUMN in by:
        raise GroupingError("by: cannot group by respondent (every group would have one person)")
    if not 0 < ci < 1:
        raise GroupingError(f"ci must be between 0 and 1 (e.g. 0.95), got {ci!r}")
    probs = tuple(float(q) for q in quantiles)
    if any(not 0 <= q <= 1 for q in probs):
        raise GroupingError(f"quantiles must lie in [0, 1], got {list(quantiles)}")
    edges = np.asarray(bins, dtype=np.float64)
    if edges.ndim != 1 or edges.size < 2 or np.any(np.diff(edges) <= 0):
        raise GroupingError(f"bins must be at least two increasing edges, got {list(bins)}")

    prep = _prepare(instrument, responses, attributes, by, scales, errors)
    dist = _distribution_scales(instrument, prep.reported, distribution_scales)
    grouping = _group(prep, by, margins)
    sums = _cell_sums(prep, grouping, edges, [prep.scales.index(s) for s in dist])
    keys = grouping.keys
    n_nodes = len(keys)
    shared = ("centre", "items")
    node = {name: _to_nodes(v, grouping) for name, v in sums.items() if name not in shared}

    # Suppression: groups by respondents, then each scale by its own n.
    equations = equations_for_levels(keys)
    respondents = node["respondents"].astype(np.int64)
    hidden_group = suppression_mask(respondents, equations, threshold)
    scale_n = node["n"].astype(np.int64)
    hidden = _suppress_scales(instrument, prep.scales, scale_n, equations, threshold,
                              hidden_group)

    # Statistics (computed for all, published only where visible).
    centre = sums["centre"]
    with np.errstate(invalid="ignore", divide="ignore"):
        n = node["n"]
        mean_dev = node["sum"] / n
        mean = centre + mean_dev
        var = (node["sumsq"] - node["sum"] * mean_dev) / (n - 1)
        var = np.where(n > 1, np.maximum(var, 0.0), np.nan)
        sd = np.sqrt(var)
        se = sd / np.sqrt(n)
        tcrit = stats.t.ppf(0.5 + ci / 2, np.where(n > 1, n - 1, np.nan))
        lo, hi = mean - tcrit * se, mean + tcrit * se
        # The percent metric is linear in the score: (score / k - min) / (max - min) * 100,
        # with k the number of items for method "sum" (1 for "mean").
        rs = instrument.response_scale
        per_item = mean / sums["items"] if instrument.scoring.method == "sum" else mean
        mean_pct = (per_item - rs.min) * (100.0 / (rs.max - rs.min))
        fav = (100.0 * node["favourable"] / node["answered"] if "favourable" in node
               else np.full_like(n, np.nan))
        hist = 100.0 * node["hist"] / n[:, [prep.scales.index(s) for s in dist], None]

    heads = _headcounts(headcounts, by, keys)
    # Only shown groups are checked: for a hidden group even "more respondents than
    # the headcount" would say something about its n (its rate is not shown anyway).
    over = np.flatnonzero(~np.isnan(heads) & (heads < respondents) & ~hidden_group)
    if over.size:
        raise GroupingError(
            f"headcounts: the headcount of {_describe(keys[over[0]])} ({int(heads[over[0]])}) is "
            "smaller than the number of respondents in that group; check the headcounts file"
        )

    quant: dict[str, np.ndarray] = {}
    for s in dist:
        j = prep.scales.index(s)
        per_level = np.full((n_nodes, len(probs)), np.nan)
        column = prep.scores[:, j]
        scored = np.flatnonzero(~np.isnan(column))
        by_value = scored[np.argsort(column[scored])]  # ties are interchangeable
        sorted_scores, cell_of_sorted = column[by_value], grouping.cell_of_resp[by_value]
        for li, cell_to_node in enumerate(grouping.cell_to_node):
            at_level = grouping.node_level == li
            q = _group_quantiles(sorted_scores, cell_to_node[cell_of_sorted], n_nodes, probs)
            per_level[at_level] = q[at_level]
        quant[s] = per_level

    groups: list[GroupSummary] = []
    bin_pairs = list(itertools.pairwise(edges.tolist()))
    for i, key in enumerate(keys):
        cells: dict[str, ScaleSummary] = {}
        for s in prep.reported:
            j = prep.scales.index(s)
            if hidden[i, j]:
                cells[s] = ScaleSummary(scale=s, suppressed=True)
                continue
            qd = hd = None
            if s in quant:
                qd = {_qname(q): _num(quant[s][i, k]) for k, q in enumerate(probs)}
                d = dist.index(s)
                hd = [{"from": a, "to": b, "percent": _num(hist[i, d, k])}
                      for k, (a, b) in enumerate(bin_pairs)]
            cells[s] = ScaleSummary(
                scale=s, suppressed=False, n=int(n[i, j]), mean=_num(mean[i, j]),
                sd=_num(sd[i, j]), se=_num(se[i, j]), ci_low=_num(lo[i, j]),
                ci_high=_num(hi[i, j]), mean_percent=_num(mean_pct[i, j]),
                percent_favourable=_num(fav[i, j]), quantiles=qd, histogram=hd,
            )
        head = None if np.isnan(heads[i]) else int(heads[i])
        shown = not hidden_group[i]
        rate = (100.0 * respondents[i] / head) if shown and head else None
        groups.append(GroupSummary(
            key=dict(key), suppressed=not shown, n=int(respondents[i]) if shown else None,
            headcount=head, response_rate=rate, scales=cells,
        ))

    aggregation: dict[str, dict[str, ICCResult]] = {}
    for li, level in enumerate(grouping.levels):
        if not level:
            continue
        at_level = np.flatnonzero(grouping.node_level == li)
        name = "|".join(by[a] for a in level)
        aggregation[name] = {}
        for s in prep.reported:
            j = prep.scales.index(s)
            shown_nodes = at_level[~hidden[at_level, j]]
            aggregation[name][s] = icc_from_summaries(
                n[shown_nodes, j], mean[shown_nodes, j], var[shown_nodes, j])

    report = GroupReport(
        instrument_id=instrument.id,
        instrument_version=instrument.version,
        by=tuple(by),
        levels=tuple(tuple(by[a] for a in level) for level in grouping.levels),
        min_group_size=threshold,
        ci=float(ci),
        scales=prep.reported,
        distribution_scales=dist,
        quantiles=probs,
        bins=tuple(edges.tolist()),
        groups=groups,
        aggregation=aggregation,
        invalid_answers=prep.invalid,
    )
    return report, prep, grouping


def _suppress_scales(
    instrument: Instrument,
    scales: tuple[str, ...],
    scale_n: np.ndarray,
    equations: list[tuple[int, np.ndarray]],
    threshold: int,
    hidden_group: np.ndarray,
) -> np.ndarray:
    """Hidden (group, scale) cells: across groups per scale, and across scales per group.

    Across groups: :func:`~mes.groups.suppression.suppression_mask` on each scale's
    n, starting from the hidden groups. Across scales: a composite scale's score
    is (with complete answers) a weighted mean of its sub-scales', so within a
    group the composite and its direct sub-scales must have no hidden cell or at
    least two; a lone hidden sub-scale hides the composite, a lone hidden
    composite hides its sub-scale with the fewest scores. Both rules repeat until
    neither adds a cell. Every scale of the instrument takes part, reported or
    not, so a report of a few scales hides exactly what the full report hides
    for them.
    """
    n_nodes, n_scales = scale_n.shape
    hidden = np.zeros((n_nodes, n_scales), dtype=bool)
    position = {s: j for j, s in enumerate(scales)}
    relations = []
    for j, s in enumerate(scales):
        children = instrument.scale(s).scales
        if children:
            reported = np.array([position[c] for c in children if c in position], dtype=np.int64)
            relations.append((j, reported, len(children) - reported.size))
    dirty = set(range(n_scales))
    # The protection depends on the pattern of hidden cells only, so scales whose
    # primary pattern is the same share one (already protected) result.
    done: dict[bytes, np.ndarray] = {}
    while dirty:
        for j in sorted(dirty):
            start = hidden_group | hidden[:, j]
            primary = start | ((scale_n[:, j] > 0) & (scale_n[:, j] < threshold))
            key = primary.tobytes()
            if key not in done:
                done[key] = suppression_mask(scale_n[:, j], equations, threshold, initial=start)
            hidden[:, j] = done[key]
        dirty = set()
        for j, kids, unreported in relations:
            unknown = hidden[:, j].astype(np.int64) + hidden[:, kids].sum(axis=1) + unreported
            for i in np.flatnonzero(unknown == 1):
                if hidden[i, j]:
                    visible = kids[~hidden[i, kids]]
                    k = int(visible[np.argmin(scale_n[i, visible])])
                else:
                    k = j
                hidden[i, k] = True
                dirty.add(k)
    return hidden


def _distribution_scales(
    instrument: Instrument, chosen: tuple[str, ...], requested: Sequence[str] | None
) -> tuple[str, ...]:
    if requested is None:
        if not chosen:
            return ()
        widest = max(len(instrument.leaf_items(s)) for s in chosen)
        return tuple(s for s in chosen if len(instrument.leaf_items(s)) == widest)[-1:]
    unknown = [s for s in requested if s not in chosen]
    if unknown:
        raise GroupingError(
            f"distribution_scales: {', '.join(map(repr, unknown))} not among the reported "
            f"scales ({', '.join(chosen)})"
        )
    return tuple(dict.fromkeys(requested))
