"""Grouped scores: respondents scored once, coded by attribute, and summed per cell.

The core that every group report stands on (:func:`mes.groups.summarise`, and through it
:func:`mes.groups.compare_waves` and :func:`mes.groups.compare_series`):

1. :func:`prepare_scores` scores the responses once (:func:`mes.scoring.score_matrix`)
   and codes each respondent's attribute values (:class:`GroupedScores`);
2. :func:`group_cells` finds the finest cells (one per combination of attribute values
   that occurs) and the nodes of every level of a plan, each node a union of cells
   (:class:`Grouping`);
3. :func:`cell_sums` adds every additive quantity (counts, sums, sums of squares,
   answered and favourable items, histogram counts) per cell, and :func:`node_totals`
   adds cells up to the nodes.

Everything here is per respondent or per cell, unsuppressed: it never leaves the
package. The statistics and their protection are :mod:`mes.groups.table`'s job.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from mes.docstrings import shared_parameters
from mes.errors import MesError
from mes.instrument import Instrument
from mes.responses import BLOCK_ROWS, Errors, keyed_answers, response_matrix
from mes.scoring import score_matrix

__all__ = [
    "MISSING_LABEL",
    "GroupedScores",
    "Grouping",
    "GroupingError",
    "attribute_label",
    "bin_index",
    "cell_sums",
    "group_cells",
    "node_quantiles",
    "node_totals",
    "prepare_scores",
]

MISSING_LABEL = "(missing)"
"""Label of respondents whose attribute value is missing: they form a group of their own."""


class GroupingError(MesError, ValueError):
    """The attributes or options of a group report are unusable (the message says how)."""


# ----- scores and attribute codes ---------------------------------------------------------


@dataclass(frozen=True)
class GroupedScores:
    """Per-respondent arrays behind a report, with each respondent's attribute codes.

    Never published: these are individual, unsuppressed figures.

    Attributes
    ----------
    instrument : Instrument
    scales : tuple of str
        Every scale of the instrument: protection needs them all, composites and
        sub-scales together, whichever are reported.
    reported : tuple of str
        The scales the report shows, in the order asked for.
    scores, percent : ndarray, shape (n, S)
        Scale scores and the percent metric, NaN where not scored.
    favourable : ndarray of shape (n, S), or None
        Answered keyed items at or above ``favourable_min`` (None when the instrument
        defines none).
    answered : ndarray, shape (n, S)
        Answered items of each scale.
    codes : ndarray of int64, shape (n, A)
        Each respondent's value code per attribute, indexing ``labels``.
    labels : tuple of tuple of str
        Per attribute, its values as text in display order (``"(missing)"`` last).
    invalid : int
        Answers scored as missing because they were invalid.
    """

    instrument: Instrument
    scales: tuple[str, ...]
    reported: tuple[str, ...]
    scores: np.ndarray
    percent: np.ndarray
    favourable: np.ndarray | None
    answered: np.ndarray
    codes: np.ndarray
    labels: tuple[tuple[str, ...], ...]
    invalid: int

    @property
    def n(self) -> int:
        """Number of respondents."""
        return int(self.scores.shape[0])


@shared_parameters
def prepare_scores(
    instrument: Instrument,
    responses: Any,
    attributes: Any,
    by: Sequence[str],
    scales: Sequence[str] | None,
    errors: Errors,
) -> GroupedScores:
    """Score the responses once and code every respondent's values of ``by``.

    Parameters
    ----------
    instrument : Instrument
    responses, attributes
        As for :func:`mes.groups.summarise`.
    by : sequence of str
        Every attribute of the plan.
    scales : sequence of str, optional
        The scales to report (default: all, in definition order).
    {errors}

    Returns
    -------
    GroupedScores

    Raises
    ------
    GroupingError
        An unknown scale, an attribute that is not there, attributes of another length.
    mes.InvalidResponsesError
        Invalid answers (with ``errors="raise"``).
    """
    matrix = response_matrix(instrument, responses, errors=errors)
    table = score_matrix(instrument, matrix)
    chosen = _reported_scales(instrument, scales)
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
    return GroupedScores(
        instrument=instrument,
        scales=tuple(instrument.scale_ids),
        reported=chosen,
        scores=table.score_matrix,
        percent=table.percent_matrix,
        favourable=favourable,
        answered=table.answered_matrix,
        codes=codes,
        labels=tuple(labels),
        invalid=len(matrix.invalid),
    )


def _reported_scales(instrument: Instrument, scales: Sequence[str] | None) -> tuple[str, ...]:
    """The scales to report, each once: all of them by default, else those asked for."""
    all_scales = instrument.scale_ids
    if scales is None:
        return tuple(all_scales)
    unknown = [s for s in scales if s not in all_scales]
    if unknown:
        raise GroupingError(
            f"scales: {', '.join(map(repr, unknown))} not in instrument {instrument.id!r}; "
            f"scales: {', '.join(all_scales)}"
        )
    return tuple(dict.fromkeys(scales))


def _attribute_frame(responses: Any, attributes: Any, by: Sequence[str], n: int) -> pd.DataFrame:
    """The table holding the attribute columns of ``by``, one row per respondent."""
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


def attribute_label(value: Any) -> str:
    """An attribute value as the text that labels its group.

    Examples
    --------
    >>> from mes.groups.grouping import attribute_label
    >>> attribute_label(2.0), attribute_label(" North ")
    ('2', 'North')
    """
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
    text = [attribute_label(u) for u in np.asarray(uniques, dtype=object)]
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


# ----- cells and nodes ----------------------------------------------------------------------


@dataclass(frozen=True)
class Grouping:
    """The finest cells of the respondents and the nodes (groups) of every level.

    A *cell* is one combination of values of every attribute that occurs; a *node* is
    a group of one level (the overall group, a site, a site x grade), the union of
    the cells that agree with it on the level's attributes.

    Attributes
    ----------
    levels : tuple of tuple of int
        Attribute indices of each level, overall first.
    keys : list of tuple of (str, str)
        One per node: (attribute, value) pairs, attributes in plan order.
    node_level : ndarray of int
        The level index of each node.
    node_codes : ndarray of int, shape (nodes, attributes)
        Each node's value code per attribute, -1 where the attribute is not in its level.
    cell_of_resp : ndarray of int
        Each respondent's cell.
    cell_to_node : list of ndarray of int
        Per level: the node of each cell.
    n_cells : int
    """

    levels: tuple[tuple[int, ...], ...]
    keys: list[tuple[tuple[str, str], ...]]
    node_level: np.ndarray
    node_codes: np.ndarray
    cell_of_resp: np.ndarray
    cell_to_node: list[np.ndarray]
    n_cells: int

    def membership(self) -> np.ndarray:
        """(nodes, cells) 0/1: which finest cells each node is the union of."""
        out = np.zeros((len(self.keys), self.n_cells))
        for mapping in self.cell_to_node:
            out[mapping, np.arange(self.n_cells)] = 1.0
        return out


def group_cells(
    scores: GroupedScores, attrs: Sequence[str], levels: Sequence[tuple[int, ...]]
) -> Grouping:
    """The cells of the respondents and the nodes of every level.

    Parameters
    ----------
    scores : GroupedScores
        Coded by ``attrs``.
    attrs : sequence of str
        Every attribute of the plan, in the order of ``scores.codes``' columns.
    levels : sequence of tuple of int
        Each level as the indices of its attributes in ``attrs``.

    Returns
    -------
    Grouping
        Nodes level by level, and within a level in the order of their value codes.
    """
    n_attr = len(attrs)
    cell_of_resp, cell_codes = _finest_cells(scores)
    n_cells = cell_codes.shape[0]
    keys: list[tuple[tuple[str, str], ...]] = []
    node_level: list[int] = []
    node_codes: list[np.ndarray] = []
    cell_to_node: list[np.ndarray] = []
    for li, level in enumerate(levels):
        if not level:
            keys.append(())
            node_level.append(li)
            node_codes.append(np.full(n_attr, -1))
            cell_to_node.append(np.zeros(n_cells, dtype=np.int64) + len(keys) - 1)
            continue
        proj = cell_codes[:, list(level)]
        uniq, inverse = np.unique(proj, axis=0, return_inverse=True)
        offset = len(keys)
        for row in uniq:
            keys.append(tuple((attrs[a], scores.labels[a][c])
                              for a, c in zip(level, row, strict=True)))
            node_level.append(li)
            codes = np.full(n_attr, -1)
            codes[list(level)] = row
            node_codes.append(codes)
        cell_to_node.append(offset + inverse.reshape(-1))
    return Grouping(tuple(levels), keys, np.array(node_level),
                    np.array(node_codes).reshape(len(keys), n_attr),
                    cell_of_resp.reshape(-1), cell_to_node, int(n_cells))


def _finest_cells(scores: GroupedScores) -> tuple[np.ndarray, np.ndarray]:
    """Each respondent's cell, and each cell's value code per attribute (cells, A).

    Cells are numbered in the order of their codes, the first attribute slowest. With no
    attribute every respondent is in one cell (none when there are no respondents).
    """
    n, n_attr = scores.n, scores.codes.shape[1]
    if not n_attr:
        cells = np.zeros(1 if n else 0, dtype=np.int64)
        return np.zeros(n, dtype=np.int64), np.zeros((cells.size, 0), dtype=np.int64)
    sizes = [len(lab) for lab in scores.labels]
    combined = np.zeros(n, dtype=np.int64)
    for j in range(n_attr):
        combined = combined * sizes[j] + scores.codes[:, j]
    cells, cell_of_resp = np.unique(combined, return_inverse=True)
    cell_codes = np.zeros((cells.size, n_attr), dtype=np.int64)
    rest = cells.copy()
    for j in reversed(range(n_attr)):
        cell_codes[:, j] = rest % sizes[j]
        rest //= sizes[j]
    return cell_of_resp, cell_codes


# ----- sums -----------------------------------------------------------------------------------


def cell_sums(
    scores: GroupedScores, grouping: Grouping, bins: np.ndarray, distribution: Sequence[int]
) -> dict[str, np.ndarray]:
    """Additive per-cell sums: (cells, S) arrays, and (cells, D, B) histogram counts.

    Every respondent's contribution is added to their cell by a sparse (cells x
    respondents) indicator matrix times the respondents' (zero-filled) values, block by
    block so that the temporaries stay in cache; that is about three times quicker than
    one weighted ``np.bincount`` per quantity. The histogram counts only the
    ``distribution`` columns (the scales whose distribution is reported).

    Returns
    -------
    dict of str -> ndarray
        ``respondents`` (cells,); ``n``, ``sum``, ``sumsq``, ``answered`` and, when the
        instrument has ``favourable_min``, ``favourable`` (cells, S), with ``sum`` and
        ``sumsq`` of the scores less ``centre``; ``hist`` (cells, D, B); and, not per
        cell, ``centre`` and ``items`` (S,): each scale's midpoint and number of items.
    """
    from scipy.sparse import csc_array  # on first use: import mes stays light

    c, s_count = grouping.n_cells, len(scores.scales)
    cell = grouping.cell_of_resp
    inst = scores.instrument
    items = inst.membership.sum(axis=0)[[inst.scale_ids.index(s) for s in scores.scales]]
    rs = inst.response_scale
    # Scores are centred on the scale midpoint, so that the sums of squares keep their
    # precision (the variance is taken from them in one pass).
    centre = np.broadcast_to(
        (rs.min + rs.max) / 2.0 * (items if inst.scoring.method == "sum" else 1.0), (s_count,)
    ).astype(np.float64)
    names = ["n", "sum", "sumsq", "answered"] + (["favourable"] if scores.favourable is not None
                                                 else [])
    totals = {name: np.zeros((c, s_count)) for name in names}
    for start in range(0, scores.n, BLOCK_ROWS):
        rows = slice(start, start + BLOCK_ROWS)
        m = cell[rows].size
        to_cells = csc_array((np.ones(m), cell[rows], np.arange(m + 1)), shape=(c, m))
        block = scores.scores[rows]
        missing = np.isnan(block)
        scored = (~missing).astype(np.float64)
        dev = block - centre
        dev[missing] = 0.0
        per_respondent = {"n": scored, "sum": dev, "sumsq": dev * dev,
                          "answered": scores.answered[rows] * scored}
        if scores.favourable is not None:
            per_respondent["favourable"] = scores.favourable[rows] * scored
        for name, values in per_respondent.items():
            totals[name] += np.asarray(to_cells @ values)
    out: dict[str, np.ndarray] = {
        "respondents": np.bincount(cell, minlength=c).astype(np.float64),
        **totals,
        "centre": centre,
        "items": items,
    }
    out["hist"] = _histogram_counts(scores, cell, c, bins, distribution)
    return out


def _histogram_counts(
    scores: GroupedScores, cell: np.ndarray, n_cells: int, bins: np.ndarray,
    distribution: Sequence[int],
) -> np.ndarray:
    """(cells, D, B): scored respondents per cell whose percent score falls in each bin."""
    n_bins = len(bins) - 1
    percent = scores.percent[:, list(distribution)]
    which = bin_index(percent, bins)
    d_count = len(distribution)
    slot = (cell[:, None] * d_count + np.arange(d_count)) * n_bins + which
    return np.bincount(
        slot.ravel(), weights=(~np.isnan(percent)).ravel().astype(np.float64),
        minlength=n_cells * d_count * n_bins,
    ).reshape(n_cells, d_count, n_bins)


def bin_index(percent: np.ndarray, bins: Any) -> np.ndarray:
    """The histogram bin of each percent score: bins are closed on the left, the last one
    on both sides, and values outside the edges fall in the first or last bin.

    NaN (no score) gets bin 0; callers weight it out.

    Examples
    --------
    >>> import numpy as np
    >>> from mes.groups.grouping import bin_index
    >>> bin_index(np.array([0.0, 19.9, 20.0, 100.0, np.nan]), [0, 20, 40, 60, 80, 100]).tolist()
    [0, 0, 1, 4, 0]
    """
    bins = np.asarray(bins, dtype=np.float64)
    n_bins = len(bins) - 1
    widths = np.diff(bins)
    with np.errstate(invalid="ignore"):
        if np.allclose(widths, widths[0]):  # equal bins: arithmetic instead of a search
            raw = np.floor((np.nan_to_num(percent, nan=bins[0]) - bins[0]) / widths[0])
            return np.clip(raw, 0, n_bins - 1).astype(np.int64)
        which = np.searchsorted(bins[1:-1], np.nan_to_num(percent, nan=bins[0]), side="right")
        return np.clip(which, 0, n_bins - 1).astype(np.int64)


def node_totals(cell_values: np.ndarray, grouping: Grouping) -> np.ndarray:
    """Per-cell values added up to every node (a node is the sum of its cells)."""
    n_nodes = len(grouping.keys)
    out = np.zeros((n_nodes, *cell_values.shape[1:]), dtype=np.float64)
    for mapping in grouping.cell_to_node:
        np.add.at(out, mapping, cell_values)
    return out


def node_quantiles(
    values: np.ndarray, node: np.ndarray, n_nodes: int, probs: Sequence[float]
) -> np.ndarray:
    """Quantiles (numpy's default 'linear' rule) of ``values`` within each node.

    ``values`` are the scored respondents' values in ascending order (no NaN) and
    ``node`` their nodes, so that sorting by node alone - a stable radix sort of small
    integers - leaves every node's values in order. One sort of the values then serves
    every level of a report.

    Returns
    -------
    ndarray, shape (n_nodes, len(probs))
        NaN for a node without values.
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
