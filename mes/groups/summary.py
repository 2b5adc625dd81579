"""Group reports: per group and scale n, mean, SD, SE, t CI, percent, favourable share.

:func:`summarise` scores the responses once (vectorised, :func:`mes.score`), sums
every additive quantity per finest cell of the grouping (a sparse indicator
matrix times the respondents' values), adds cells up to every published level,
and only then derives the statistics, so a report over 200,000 respondents costs
little more than scoring them.

Every cell of every breakdown of the reporting plan (:mod:`mes.groups.plan`) is
protected at once before anything leaves this module (:mod:`mes.groups.protection`):
a hidden cell of a :class:`~mes.groups.report.GroupReport` holds no statistic and no
exact n, so serialising a report (``to_dict``, ``to_frame``) cannot leak one, and no
combination of the plan's reports pins down a small group.
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from mes.distributions import t_quantile
from mes.errors import MesError
from mes.groups.aggregation import ICCResult, icc_from_summaries
from mes.groups.plan import (
    Breakdown,
    allowed_breakdowns,
    check_breakdown,
    default_plan,
    normalise_plan,
    plan_attributes,
    plan_levels,
    report_levels,
)
from mes.groups.protection import Composite, Protection, protect_table, quantiles_shown
from mes.groups.report import GroupReport, GroupSummary, ScaleSummary, quantile_name
from mes.groups.suppression import check_threshold, equations_for_levels
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
    "GroupingError",
    "summarise",
    "summarise_plan",
]

MISSING_LABEL = "(missing)"
"""Label of respondents whose attribute value is missing: they form a group of their own."""

DEFAULT_QUANTILES = (0.25, 0.5, 0.75)
DEFAULT_BINS = (0.0, 20.0, 40.0, 60.0, 80.0, 100.0)


class GroupingError(MesError, ValueError):
    """The attributes or options of a group report are unusable (the message says how)."""


def _num(x: float) -> float | None:
    return float(x) if x is not None and math.isfinite(x) else None


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
    levels: tuple[tuple[int, ...], ...]  # attribute indices of each level, overall first
    keys: list[tuple[tuple[str, str], ...]]  # one per node, attributes in plan order
    node_level: np.ndarray  # level index of each node
    node_codes: np.ndarray  # (nodes, attributes) value code, -1 where not in the level
    cell_of_resp: np.ndarray
    cell_to_node: list[np.ndarray]  # per level: node index of each cell
    n_cells: int

    def membership(self) -> np.ndarray:
        """(nodes, cells) 0/1: which finest cells each node is the union of."""
        out = np.zeros((len(self.keys), self.n_cells))
        for mapping in self.cell_to_node:
            out[mapping, np.arange(self.n_cells)] = 1.0
        return out


def _group(prep: _Prepared, attrs: Sequence[str], levels: Sequence[tuple[int, ...]]) -> _Grouping:
    n, n_attr = prep.n, len(attrs)
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
    keys: list[tuple[tuple[str, str], ...]] = []
    node_level: list[int] = []
    node_codes: list[np.ndarray] = []
    cell_to_node: list[np.ndarray] = []
    for li, level in enumerate(levels):
        if not level:
            keys.append(())
            node_level.append(li)
            node_codes.append(np.full(n_attr, -1))
            cell_to_node.append(np.zeros(cells.size, dtype=np.int64) + len(keys) - 1)
            continue
        proj = cell_codes[:, list(level)]
        uniq, inverse = np.unique(proj, axis=0, return_inverse=True)
        offset = len(keys)
        for row in uniq:
            keys.append(tuple((attrs[a], prep.labels[a][c])
                              for a, c in zip(level, row, strict=True)))
            node_level.append(li)
            codes = np.full(n_attr, -1)
            codes[list(level)] = row
            node_codes.append(codes)
        cell_to_node.append(offset + inverse.reshape(-1))
    return _Grouping(tuple(levels), keys, np.array(node_level),
                     np.array(node_codes).reshape(len(keys), n_attr),
                     cell_of_resp.reshape(-1), cell_to_node, int(cells.size))


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
    from scipy.sparse import csc_array  # on first use: import mes stays light

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
        to_cells = csc_array((np.ones(m), cell[rows], np.arange(m + 1)), shape=(c, m))
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


@dataclass(frozen=True)
class _Table:
    """Every node of a plan with its statistics (unsuppressed) and its protection."""

    prep: _Prepared
    grouping: _Grouping
    attrs: tuple[str, ...]
    plan: tuple[Breakdown, ...]
    threshold: int
    ci: float
    probs: tuple[float, ...]
    edges: np.ndarray
    dist: tuple[str, ...]
    respondents: np.ndarray  # (nodes,)
    stats: dict[str, np.ndarray]  # name -> (nodes, S)
    hist: np.ndarray  # (nodes, D, B) percent
    quant: dict[str, np.ndarray]  # distribution scale -> (nodes, Q)
    heads: np.ndarray  # (nodes,)
    protection: Protection


def _check_options(ci: float, quantiles: Sequence[float], bins: Sequence[float]) -> tuple[
        tuple[float, ...], np.ndarray]:
    if not 0 < ci < 1:
        raise GroupingError(f"ci must be between 0 and 1 (e.g. 0.95), got {ci!r}")
    probs = tuple(float(q) for q in quantiles)
    if any(not 0 <= q <= 1 for q in probs):
        raise GroupingError(f"quantiles must lie in [0, 1], got {list(quantiles)}")
    edges = np.asarray(bins, dtype=np.float64)
    if edges.ndim != 1 or edges.size < 2 or np.any(np.diff(edges) <= 0):
        raise GroupingError(f"bins must be at least two increasing edges, got {list(bins)}")
    return probs, edges


def _composites(instrument: Instrument, scales: tuple[str, ...]) -> list[Composite]:
    position = {s: j for j, s in enumerate(scales)}
    out: list[Composite] = []
    for j, s in enumerate(scales):
        children = instrument.scale(s).scales
        if children:
            kids = np.array([position[c] for c in children if c in position], dtype=np.int64)
            out.append((j, kids, len(children) - kids.size))
    return out


def _table(
    instrument: Instrument,
    responses: Any,
    attributes: Any,
    plan: tuple[Breakdown, ...],
    *,
    min_group_size: int,
    headcounts: Any,
    scales: Sequence[str] | None,
    ci: float,
    distribution_scales: Sequence[str] | None,
    quantiles: Sequence[float],
    bins: Sequence[float],
    errors: Errors,
) -> _Table:
    """Score, group by every level of the plan, sum, protect: what every report reads."""
    threshold = check_threshold(min_group_size)
    probs, edges = _check_options(ci, quantiles, bins)
    attrs = plan_attributes(plan)
    if RESPONDENT_COLUMN in attrs:
        raise GroupingError("by: cannot group by respondent (every group would have one person)")
    prep = _prepare(instrument, responses, attributes, attrs, scales, errors)
    dist = _distribution_scales(instrument, prep.reported, distribution_scales)
    levels = [tuple(sorted(attrs.index(a) for a in level)) for level in plan_levels(plan)]
    grouping = _group(prep, attrs, levels)
    dist_index = [prep.scales.index(s) for s in dist]
    sums = _cell_sums(prep, grouping, edges, dist_index)
    node = {name: _to_nodes(v, grouping) for name, v in sums.items()
            if name not in ("centre", "items")}
    protection = protect_table(
        grouping.membership(), sums["respondents"], sums["n"],
        equations_for_levels(grouping.keys), threshold,
        composites=_composites(instrument, prep.scales),
        cell_bins={j: sums["hist"][:, d, :] for d, j in enumerate(dist_index)},
    )
    respondents = node["respondents"].astype(np.int64)

    # Statistics (computed for all, published only where shown).
    centre = sums["centre"]
    with np.errstate(invalid="ignore", divide="ignore"):
        n = node["n"]
        mean_dev = node["sum"] / n
        mean = centre + mean_dev
        var = (node["sumsq"] - node["sum"] * mean_dev) / (n - 1)
        var = np.where(n > 1, np.maximum(var, 0.0), np.nan)
        sd = np.sqrt(var)
        se = sd / np.sqrt(n)
        tcrit = t_quantile(0.5 + ci / 2, np.where(n > 1, n - 1, np.nan))
        # The percent metric is linear in the score: (score / k - min) / (max - min) * 100,
        # with k the number of items for method "sum" (1 for "mean").
        rs = instrument.response_scale
        per_item = mean / sums["items"] if instrument.scoring.method == "sum" else mean
        fav = (100.0 * node["favourable"] / node["answered"] if "favourable" in node
               else np.full_like(n, np.nan))
        hist = 100.0 * node["hist"] / n[:, dist_index, None]
    statistics = {
        "n": n, "mean": mean, "var": var, "sd": sd, "se": se,
        "ci_low": mean - tcrit * se, "ci_high": mean + tcrit * se,
        "mean_percent": (per_item - rs.min) * (100.0 / (rs.max - rs.min)),
        "percent_favourable": fav,
    }

    heads = _headcounts(headcounts, attrs, grouping.keys)
    # Only shown groups are checked: for a hidden group even "more respondents than
    # the headcount" would say something about its n (its rate is not shown anyway).
    over = np.flatnonzero(~np.isnan(heads) & (heads < respondents) & ~protection.hidden_group)
    if over.size:
        raise GroupingError(
            f"headcounts: the headcount of {_describe(grouping.keys[over[0]])} "
            f"({int(heads[over[0]])}) is smaller than the number of respondents in that group; "
            "check the headcounts file"
        )

    n_nodes = len(grouping.keys)
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
        # A quantile with fewer than k respondents on either side is not shown.
        per_level[~quantiles_shown(n[:, j], probs, threshold)] = np.nan
        quant[s] = per_level
    return _Table(prep, grouping, attrs, plan, threshold, float(ci), probs, edges, dist,
                  respondents, statistics, hist, quant, heads, protection)


def _report(table: _Table, by: Breakdown, margins: bool) -> GroupReport:
    """The report of one breakdown of the plan: its levels' nodes, in the order of ``by``."""
    prep, grouping, protection = table.prep, table.grouping, table.protection
    st = table.stats
    level_of = {frozenset(table.attrs[a] for a in level): li
                for li, level in enumerate(grouping.levels)}
    bin_pairs = list(itertools.pairwise(table.edges.tolist()))
    groups: list[GroupSummary] = []
    aggregation: dict[str, dict[str, ICCResult]] = {}
    levels = report_levels(by, margins=margins)
    for level in levels:
        li = level_of[frozenset(level)]
        nodes = np.flatnonzero(grouping.node_level == li)
        columns = [table.attrs.index(a) for a in level]
        if columns:
            order = np.lexsort(tuple(grouping.node_codes[nodes][:, c] for c in reversed(columns)))
            nodes = nodes[order]
        for i in nodes:
            groups.append(_group_summary(table, int(i), level, bin_pairs))
        if level:
            name = "|".join(level)
            aggregation[name] = {}
            for s in prep.reported:
                j = prep.scales.index(s)
                shown = nodes[~protection.hidden[nodes, j]]
                aggregation[name][s] = icc_from_summaries(
                    st["n"][shown, j], st["mean"][shown, j], st["var"][shown, j])
    return GroupReport(
        instrument_id=prep.instrument.id,
        instrument_version=prep.instrument.version,
        by=tuple(by),
        levels=tuple(levels),
        min_group_size=table.threshold,
        ci=table.ci,
        scales=prep.reported,
        distribution_scales=table.dist,
        quantiles=table.probs,
        bins=tuple(table.edges.tolist()),
        groups=groups,
        aggregation=aggregation,
        invalid_answers=prep.invalid,
        plan=table.plan,
    )


def _group_summary(
    table: _Table, i: int, level: Breakdown, bin_pairs: list[tuple[float, float]]
) -> GroupSummary:
    prep, protection, st = table.prep, table.protection, table.stats
    key = dict(table.grouping.keys[i])
    cells: dict[str, ScaleSummary] = {}
    for s in prep.reported:
        j = prep.scales.index(s)
        if protection.hidden[i, j]:
            cells[s] = ScaleSummary(scale=s, suppressed=True, reason=protection.cell_reason[i][j])
            continue
        qd = hd = None
        if s in table.quant:
            qd = {quantile_name(q): _num(table.quant[s][i, k]) for k, q in enumerate(table.probs)}
            d = table.dist.index(s)
            hidden_bins = protection.hidden_bins[j][i]
            hd = [{"from": a, "to": b,
                   "percent": None if hidden_bins[k] else _num(table.hist[i, d, k]),
                   "suppressed": bool(hidden_bins[k])}
                  for k, (a, b) in enumerate(bin_pairs)]
        cells[s] = ScaleSummary(
            scale=s, suppressed=False, n=int(st["n"][i, j]), mean=_num(st["mean"][i, j]),
            sd=_num(st["sd"][i, j]), se=_num(st["se"][i, j]), ci_low=_num(st["ci_low"][i, j]),
            ci_high=_num(st["ci_high"][i, j]), mean_percent=_num(st["mean_percent"][i, j]),
            percent_favourable=_num(st["percent_favourable"][i, j]), quantiles=qd,
            histogram=hd,
        )
    head = None if np.isnan(table.heads[i]) else int(table.heads[i])
    shown = not protection.hidden_group[i]
    n = int(table.respondents[i])
    return GroupSummary(
        key={a: key[a] for a in level}, suppressed=not shown, n=n if shown else None,
        headcount=head, response_rate=(100.0 * n / head) if shown and head else None,
        scales=cells, reason=protection.group_reason[i],
    )


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
    errors : {"raise", "missing"}
        Invalid answers: raise, or score them as missing (as :func:`mes.score`).
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
    table = _table(instrument, responses, attributes, chosen, min_group_size=min_group_size,
                   headcounts=headcounts, scales=scales, ci=ci,
                   distribution_scales=distribution_scales, quantiles=quantiles, bins=bins,
                   errors=errors)
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
) -> dict[Breakdown, GroupReport]:
    """Every report a plan allows, protected together: what a service publishes.

    Parameters
    ----------
    instrument, responses, attributes
        As for :func:`summarise`.
    plan : sequence of sequences of str
        The breakdowns to publish (:mod:`mes.groups.plan`).
    {options}
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
    table = _table(instrument, responses, attributes, chosen, min_group_size=min_group_size,
                   headcounts=headcounts, scales=scales, ci=ci,
                   distribution_scales=distribution_scales, quantiles=quantiles, bins=bins,
                   errors=errors)
    return {b: _report(table, b, False) for b in allowed_breakdowns(chosen)}


summarise.__doc__ = (summarise.__doc__ or "").format(options=_OPTIONS_DOC.strip("\n") + "\n")
summarise_plan.__doc__ = (summarise_plan.__doc__ or "").format(
    options=_OPTIONS_DOC.strip("\n") + "\n")


def _breakdown(by: Any) -> Breakdown:
    names = tuple(str(b) for b in ([by] if isinstance(by, str) else by))
    if len(set(names)) != len(names):
        raise GroupingError(f"by: an attribute is named twice ({', '.join(names)})")
    if RESPONDENT_COLUMN in names:
        raise GroupingError("by: cannot group by respondent (every group would have one person)")
    return names


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
