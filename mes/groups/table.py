"""The plan's table: every group of every breakdown of a plan, its statistics and protection.

:func:`build_table` is what every report of a plan reads (:mod:`mes.groups.summary`). It
scores once and sums per finest cell (:mod:`mes.groups.grouping`), adds the cells up to
every node (a group of one level of the plan), protects every node of the plan together
(:func:`mes.groups.protection.protect_table`), and derives each node's statistics from
its sums. The table itself holds unsuppressed figures: only the report built from it
(:class:`~mes.groups.report.GroupReport`) is published, and it leaves out whatever the
protection hides.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, replace
from typing import Any

import numpy as np
import pandas as pd

from mes.distributions import t_quantile
from mes.groups.grouping import (
    GroupedScores,
    Grouping,
    GroupingError,
    attribute_label,
    cell_sums,
    group_cells,
    node_quantiles,
    node_totals,
    prepare_scores,
)
from mes.groups.options import SummaryOptions
from mes.groups.plan import Breakdown, plan_attributes, plan_levels
from mes.groups.protection import Composite, Protection, protect_table, quantiles_shown
from mes.groups.suppression import equations_for_levels
from mes.instrument import Instrument
from mes.responses import RESPONDENT_COLUMN

__all__ = ["PlanTable", "build_table", "hide_more"]


@dataclass(frozen=True)
class PlanTable:
    """Every node of a plan with its statistics (unsuppressed) and its protection.

    Attributes
    ----------
    scores : GroupedScores
    grouping : Grouping
    attrs : tuple of str
        Every attribute of the plan, in plan order.
    plan : tuple of tuple of str
    options : SummaryOptions
    distribution : tuple of str
        The scales whose quantiles and histogram are reported.
    respondents : ndarray of int, shape (nodes,)
    stats : dict of str -> ndarray
        ``n``, ``mean``, ``var``, ``sd``, ``se``, ``ci_low``, ``ci_high``,
        ``mean_percent``, ``percent_favourable``, each (nodes, S).
    hist : ndarray, shape (nodes, D, B)
        Percent of each node's scored respondents per bin.
    quant : dict of str -> ndarray
        Per distribution scale, (nodes, Q) quantiles, NaN where not shown.
    heads : ndarray, shape (nodes,)
        Headcounts, NaN where none was given.
    protection : Protection
    cells : dict of str -> ndarray
        The per-cell sums everything above is added up from
        (:func:`mes.groups.grouping.cell_sums`).
    """

    scores: GroupedScores
    grouping: Grouping
    attrs: tuple[str, ...]
    plan: tuple[Breakdown, ...]
    options: SummaryOptions
    distribution: tuple[str, ...]
    respondents: np.ndarray
    stats: dict[str, np.ndarray]
    hist: np.ndarray
    quant: dict[str, np.ndarray]
    heads: np.ndarray
    protection: Protection
    cells: dict[str, np.ndarray]


def build_table(
    instrument: Instrument,
    responses: Any,
    attributes: Any,
    plan: tuple[Breakdown, ...],
    options: SummaryOptions,
) -> PlanTable:
    """Score, group by every level of the plan, sum, protect: what every report reads.

    Parameters
    ----------
    instrument, responses, attributes
        As for :func:`mes.groups.summarise`.
    plan : tuple of tuple of str
        A normalised plan (:func:`mes.groups.plan.normalise_plan`).
    options : SummaryOptions

    Returns
    -------
    PlanTable

    Raises
    ------
    GroupingError
        Grouping by respondent, unknown scales or attributes, bad headcounts.
    mes.InvalidResponsesError
        Invalid answers (with ``errors="raise"``).
    """
    attrs = plan_attributes(plan)
    if RESPONDENT_COLUMN in attrs:
        raise GroupingError("by: cannot group by respondent (every group would have one person)")
    scores = prepare_scores(instrument, responses, attributes, attrs, options.scales,
                            options.errors)
    dist = _distribution_scales(instrument, scores.reported, options.distribution_scales)
    levels = [tuple(sorted(attrs.index(a) for a in level)) for level in plan_levels(plan)]
    grouping = group_cells(scores, attrs, levels)
    dist_index = [scores.scales.index(s) for s in dist]
    sums = cell_sums(scores, grouping, options.edges, dist_index)
    node = {name: node_totals(v, grouping) for name, v in sums.items()
            if name not in ("centre", "items")}
    protection = _protect(scores, grouping, sums, dist_index, options.min_group_size)
    respondents = node["respondents"].astype(np.int64)
    statistics, hist = _node_statistics(instrument, sums, node, dist_index, options.ci)
    heads = _headcounts(options.headcounts, attrs, grouping.keys)
    _check_headcounts(heads, respondents, protection, grouping.keys)
    quant = _distribution_quantiles(scores, grouping, dist, statistics["n"], options)
    return PlanTable(scores, grouping, attrs, plan, options, dist, respondents, statistics,
                     hist, quant, heads, protection, sums)


def hide_more(
    table: PlanTable, groups: np.ndarray, histograms: dict[int, np.ndarray] | None = None
) -> PlanTable:
    """The table protected again with more hidden: what it hid, and more.

    Parameters
    ----------
    table : PlanTable
    groups : ndarray of bool, shape (nodes,)
        Groups to hide whole.
    histograms : dict of int -> ndarray of bool, shape (nodes,), optional
        Per distribution scale (its index in ``table.scores.scales``), groups whose
        histogram is to be hidden (every bin).

    Returns
    -------
    PlanTable
        Every cell and bin hidden before stays hidden, even where the new cells would make
        it unnecessary (whoever decided to hide more did so knowing what was hidden), and
        the protection goes on from the new cells (complementary cells, scales, bins).
    """
    before = table.protection
    bins = {j: mask.copy() for j, mask in before.hidden_bins.items()}
    for j, nodes in (histograms or {}).items():
        bins[j][nodes] = True
    protection = _protect(table.scores, table.grouping, table.cells,
                          [table.scores.scales.index(s) for s in table.distribution],
                          table.options.min_group_size, groups | before.hidden_group,
                          before.hidden, bins)
    return replace(table, protection=protection)


def _distribution_scales(
    instrument: Instrument, chosen: tuple[str, ...], requested: Sequence[str] | None
) -> tuple[str, ...]:
    """The scales whose distribution is reported: as requested, else the broadest one."""
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


def _composites(instrument: Instrument, scales: tuple[str, ...]) -> list[Composite]:
    """Each composite scale with the positions of its sub-scales among ``scales``."""
    position = {s: j for j, s in enumerate(scales)}
    out: list[Composite] = []
    for j, s in enumerate(scales):
        children = instrument.scale(s).scales
        if children:
            kids = np.array([position[c] for c in children if c in position], dtype=np.int64)
            out.append((j, kids, len(children) - kids.size))
    return out


def _protect(
    scores: GroupedScores, grouping: Grouping, sums: dict[str, np.ndarray],
    dist_index: Sequence[int], threshold: int, hidden_groups: np.ndarray | None = None,
    hidden_cells: np.ndarray | None = None, hidden_bins: dict[int, np.ndarray] | None = None,
) -> Protection:
    """Protect every node of the plan together: groups, scale cells and histogram bins."""
    return protect_table(
        grouping.membership(), sums["respondents"], sums["n"],
        equations_for_levels(grouping.keys), threshold,
        composites=_composites(scores.instrument, scores.scales),
        cell_bins={j: sums["hist"][:, d, :] for d, j in enumerate(dist_index)},
        hidden_groups=hidden_groups,
        hidden_cells=hidden_cells,
        hidden_bins=hidden_bins,
    )


def _node_statistics(
    instrument: Instrument, sums: dict[str, np.ndarray], node: dict[str, np.ndarray],
    dist_index: Sequence[int], ci: float,
) -> tuple[dict[str, np.ndarray], np.ndarray]:
    """Each node's statistics from its sums, and its histogram as percentages.

    Computed for every node; the report publishes them only where the node is shown.
    """
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
    return statistics, hist


def _headcounts(headcounts: Any, by: Sequence[str], keys: Sequence[Any]) -> np.ndarray:
    """The headcount of each node (NaN where none is given), read from any accepted form."""
    out = np.full(len(keys), np.nan)
    if headcounts is None:
        return out
    frame = _headcount_frame(headcounts)
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
        key = tuple((a, attribute_label(record[a])) for a in attrs if not pd.isna(record[a]))
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


def _headcount_frame(headcounts: Any) -> pd.DataFrame:
    """Headcounts given as an int (the overall group), a DataFrame or records, as a table."""
    if isinstance(headcounts, (int, np.integer)) and not isinstance(headcounts, bool):
        return pd.DataFrame({"headcount": [int(headcounts)]})
    if isinstance(headcounts, pd.DataFrame):
        return headcounts
    if isinstance(headcounts, Sequence) and not isinstance(headcounts, (str, bytes)):
        return pd.DataFrame.from_records(list(headcounts))
    raise GroupingError(
        "headcounts must be an int (overall), a DataFrame or a sequence of mappings with "
        f"attribute columns and a 'headcount' column; got {type(headcounts).__name__}"
    )


def _check_headcounts(
    heads: np.ndarray, respondents: np.ndarray, protection: Protection,
    keys: Sequence[tuple[tuple[str, str], ...]],
) -> None:
    """No shown group has more respondents than its headcount."""
    # Only shown groups are checked: for a hidden group even "more respondents than
    # the headcount" would say something about its n (its rate is not shown anyway).
    over = np.flatnonzero(~np.isnan(heads) & (heads < respondents) & ~protection.hidden_group)
    if over.size:
        raise GroupingError(
            f"headcounts: the headcount of {_describe(keys[over[0]])} "
            f"({int(heads[over[0]])}) is smaller than the number of respondents in that group; "
            "check the headcounts file"
        )


def _describe(key: Sequence[tuple[str, str]]) -> str:
    """A group's key as text for a message."""
    return ", ".join(f"{a}={v!r}" for a, v in key) or "the overall group"


def _distribution_quantiles(
    scores: GroupedScores, grouping: Grouping, dist: Sequence[str], n: np.ndarray,
    options: SummaryOptions,
) -> dict[str, np.ndarray]:
    """Per distribution scale, each node's quantiles of individual scores, NaN where hidden.

    One sort of a scale's scores serves every level (:func:`node_quantiles`).
    """
    probs, threshold = options.quantiles, options.min_group_size
    n_nodes = len(grouping.keys)
    quant: dict[str, np.ndarray] = {}
    for s in dist:
        j = scores.scales.index(s)
        per_level = np.full((n_nodes, len(probs)), np.nan)
        column = scores.scores[:, j]
        scored = np.flatnonzero(~np.isnan(column))
        by_value = scored[np.argsort(column[scored])]  # ties are interchangeable
        sorted_scores, cell_of_sorted = column[by_value], grouping.cell_of_resp[by_value]
        for li, cell_to_node in enumerate(grouping.cell_to_node):
            at_level = grouping.node_level == li
            q = node_quantiles(sorted_scores, cell_to_node[cell_of_sorted], n_nodes, probs)
            per_level[at_level] = q[at_level]
        # A quantile with fewer than k respondents on either side is not shown.
        per_level[~quantiles_shown(n[:, j], probs, threshold)] = np.nan
        quant[s] = per_level
    return quant
