"""What a group report may publish: every cell of a reporting plan, protected together.

The cells of a report are *nodes* (the overall group, each group of each level of
the plan), each the union of some *atoms* (the finest cells of every attribute of the
plan). :func:`protect_table` decides, for all of them at once:

1. **Groups.** A group with 1 to ``k - 1`` respondents is hidden (*too few
   responses*); complementary suppression along the additivity equations
   (:func:`mes.groups.suppression.suppression_mask`) hides partners so that it does
   not follow by subtraction; then the disclosure audit
   (:func:`mes.groups.disclosure.protect`) hides further groups until no combination
   of the published groups, across every breakdown of the plan, pins down a set of
   1 to ``k - 1`` respondents.
2. **Scales.** The same per scale, on the respondents with a score on it, starting
   from the hidden groups; within a group, a composite scale and its direct
   sub-scales have no hidden cell or at least two (a composite's mean follows from
   its sub-scales' with complete answers). Repeated until nothing changes.
3. **Histograms.** Each shown cell of a distribution scale publishes its respondents
   per bin. A bin with 1 to ``k - 1`` respondents is hidden, hidden bins together
   hold 0 or at least ``k`` respondents (else the smallest shown bin joins them), and
   the audit runs on (atom x bin) so that a bin of a group minus the same bin of its
   subgroups cannot describe a hidden few either.

Hidden cells say why: :data:`TOO_FEW` (the cell itself has fewer than ``k``) or
:data:`PROTECTS` (hidden so that another group cannot be worked out).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from mes.groups.disclosure import protect
from mes.groups.suppression import Equation, suppression_mask

__all__ = [
    "PROTECTS",
    "TOO_FEW",
    "Composite",
    "Protection",
    "protect_table",
    "quantiles_shown",
    "suppression_note",
]

TOO_FEW = "too_few_responses"
"""Reason code: the cell has fewer respondents than the threshold."""
PROTECTS = "protects_another_group"
"""Reason code: hidden so that a smaller group cannot be worked out from the others."""

Composite = tuple[int, np.ndarray, int]
"""``(composite scale index, its sub-scales' indices, sub-scales not in the table)``."""


def suppression_note(reason: str | None, threshold: int) -> str | None:
    """The words shown for a hidden cell.

    Examples
    --------
    >>> from mes.groups.protection import suppression_note, TOO_FEW, PROTECTS
    >>> suppression_note(TOO_FEW, 10)
    'fewer than 10 responses'
    >>> suppression_note(PROTECTS, 10)
    'hidden so that another group cannot be worked out'
    """
    if reason == TOO_FEW:
        return f"fewer than {threshold} responses"
    if reason == PROTECTS:
        return "hidden so that another group cannot be worked out"
    return None


@dataclass(frozen=True)
class Protection:
    """The hidden cells of a table and why.

    Attributes
    ----------
    hidden_group : ndarray of bool, shape (nodes,)
    group_reason : list of str or None, one per node
    hidden : ndarray of bool, shape (nodes, scales)
    cell_reason : list of list of str or None
    hidden_bins : dict of int -> ndarray of bool, shape (nodes, bins)
        Per distribution scale index.
    """

    hidden_group: np.ndarray
    group_reason: list[str | None]
    hidden: np.ndarray
    cell_reason: list[list[str | None]]
    hidden_bins: dict[int, np.ndarray]


def protect_table(
    membership: np.ndarray,
    cell_respondents: np.ndarray,
    cell_scored: np.ndarray,
    equations: Sequence[Equation],
    threshold: int,
    *,
    composites: Sequence[Composite] = (),
    cell_bins: dict[int, np.ndarray] | None = None,
    hidden_groups: np.ndarray | None = None,
    hidden_cells: np.ndarray | None = None,
    hidden_bins: dict[int, np.ndarray] | None = None,
) -> Protection:
    """Hide every cell that a plan's reports, read together, could disclose.

    Parameters
    ----------
    membership : ndarray of 0/1, shape (nodes, atoms)
        Which atoms each node (overall first) is the union of.
    cell_respondents : ndarray, shape (atoms,)
        Respondents per atom.
    cell_scored : ndarray, shape (atoms, scales)
        Respondents with a score on each scale, per atom.
    equations : sequence of (int, ndarray)
        Additivity equations between the nodes
        (:func:`mes.groups.suppression.equations_for_levels`).
    threshold : int
        ``k``: no published figure may describe 1 to ``k - 1`` respondents.
    composites : sequence of (int, ndarray, int)
        Composite scales and their sub-scales (see :data:`Composite`).
    cell_bins : dict of int -> ndarray, shape (atoms, bins)
        For each distribution scale, scored respondents per histogram bin and atom.
    hidden_groups : ndarray of bool, shape (nodes,), optional
        Groups to hide whatever their size (what other releases would otherwise give
        away, :mod:`mes.groups.overlap`); protection goes on from there.
    hidden_cells : ndarray of bool, shape (nodes, scales), optional
        Scale cells to hide from the start.
    hidden_bins : dict of int -> ndarray of bool, shape (nodes, bins), optional
        Per distribution scale, histogram bins to hide from the start.

    Returns
    -------
    Protection
    """
    membership = np.asarray(membership, dtype=np.float64)
    respondents = membership @ cell_respondents
    scored = membership @ cell_scored
    eqs = list(equations)

    def keep(hidden: np.ndarray) -> np.ndarray:
        return suppression_mask(respondents, eqs, threshold, initial=hidden)

    hidden_group = protect(membership, cell_respondents, threshold,
                           suppression_mask(respondents, eqs, threshold,
                                            initial=hidden_groups),
                           sizes=respondents, keep=keep, last=0)
    hidden = _protect_scales(membership, cell_scored, scored, eqs, threshold, hidden_group,
                             composites, hidden_cells)
    hidden_bins = {
        j: _protect_bins(membership, bins, threshold, hidden[:, j], (hidden_bins or {}).get(j))
        for j, bins in (cell_bins or {}).items()
    }
    group_reason: list[str | None] = [
        None if not h else TOO_FEW if 0 < respondents[i] < threshold else PROTECTS
        for i, h in enumerate(hidden_group)
    ]
    cell_reason = [
        [
            None if not hidden[i, j]
            else group_reason[i] if hidden_group[i]
            else TOO_FEW if 0 < scored[i, j] < threshold else PROTECTS
            for j in range(hidden.shape[1])
        ]
        for i in range(hidden.shape[0])
    ]
    return Protection(hidden_group, group_reason, hidden, cell_reason, hidden_bins)


def _protect_scales(
    membership: np.ndarray,
    cell_scored: np.ndarray,
    scored: np.ndarray,
    equations: list[Equation],
    threshold: int,
    hidden_group: np.ndarray,
    composites: Sequence[Composite],
    initial: np.ndarray | None = None,
) -> np.ndarray:
    n_scales = scored.shape[1]
    hidden = np.repeat(hidden_group[:, None], n_scales, axis=1)
    if initial is not None:
        hidden |= initial
    # The protection of a scale depends only on where it starts and on its counts, so
    # scales with the same counts (complete answers) share one result.
    done: dict[bytes, np.ndarray] = {}
    dirty = set(range(n_scales))
    while dirty:
        for j in sorted(dirty):
            start = hidden_group | hidden[:, j]
            key = start.tobytes() + np.ascontiguousarray(cell_scored[:, j]).tobytes()
            if key not in done:
                counts = scored[:, j]

                def keep(mask: np.ndarray, counts: np.ndarray = counts) -> np.ndarray:
                    return suppression_mask(counts, equations, threshold, initial=mask)

                done[key] = protect(membership, cell_scored[:, j], threshold, keep(start),
                                    sizes=counts, keep=keep, last=0)
            hidden[:, j] = done[key]
        dirty = set()
        for j, kids, unreported in composites:
            unknown = hidden[:, j].astype(np.int64) + hidden[:, kids].sum(axis=1) + unreported
            for i in np.flatnonzero(unknown == 1):
                if hidden[i, j]:
                    visible = kids[~hidden[i, kids]]
                    k = int(visible[np.argmin(scored[i, visible])])
                else:
                    k = j
                hidden[i, k] = True
                dirty.add(k)
    return hidden


def _bins_within(node_bins: np.ndarray, threshold: int, hidden: np.ndarray) -> np.ndarray:
    """Per node: small bins hidden, and hidden bins together 0 or at least ``k``."""
    hidden = hidden | ((node_bins > 0) & (node_bins < threshold))
    for i in range(node_bins.shape[0]):
        while 0 < node_bins[i, hidden[i]].sum() < threshold:
            shown = np.flatnonzero(~hidden[i] & (node_bins[i] > 0))
            if not shown.size:
                break
            hidden[i, shown[np.argmin(node_bins[i, shown])]] = True
    return hidden


def _protect_bins(
    membership: np.ndarray, cell_bins: np.ndarray, threshold: int, cell_hidden: np.ndarray,
    initial: np.ndarray | None = None,
) -> np.ndarray:
    n_nodes = membership.shape[0]
    n_cells, n_bins = cell_bins.shape
    node_bins = membership @ cell_bins
    hidden = np.zeros((n_nodes, n_bins), dtype=bool)
    hidden[cell_hidden] = True
    if initial is not None:
        hidden |= initial
    hidden = _bins_within(node_bins, threshold, hidden)
    counts = cell_bins.reshape(-1)  # atom (cell, bin) at cell * n_bins + bin
    if not ((counts > 0) & (counts < threshold)).any():
        return hidden
    shown_nodes = np.flatnonzero(~cell_hidden)
    # Rows: each shown node's total (all its bins), then each of its bins.
    totals = np.repeat(membership[shown_nodes], n_bins, axis=1)
    per_bin = (membership[shown_nodes][:, None, :, None] * np.eye(n_bins)[None, :, None, :]
               ).reshape(shown_nodes.size * n_bins, n_cells * n_bins)
    rows = np.vstack([totals, per_bin])
    bin_node = np.repeat(shown_nodes, n_bins)
    bin_index = np.tile(np.arange(n_bins), shown_nodes.size)
    sizes = np.concatenate([np.full(shown_nodes.size, np.inf),
                            node_bins[bin_node, bin_index]])

    def row_hidden() -> np.ndarray:
        return np.concatenate([np.zeros(shown_nodes.size, dtype=bool),
                               hidden[bin_node, bin_index]])

    def keep(mask: np.ndarray) -> np.ndarray:
        # A total is never hidden here (the scale's own audit cleared the totals); if
        # one is picked, its node's bins go instead.
        for i in np.flatnonzero(mask[: shown_nodes.size]):
            hidden[shown_nodes[i]] = True
        newly = np.flatnonzero(mask[shown_nodes.size:])
        hidden[bin_node[newly], bin_index[newly]] = True
        hidden[:] = _bins_within(node_bins, threshold, hidden)
        return row_hidden()

    keep(protect(rows, counts, threshold, row_hidden(), sizes=sizes, keep=keep))
    return hidden


def quantiles_shown(n: np.ndarray, probs: Sequence[float], threshold: int) -> np.ndarray:
    """Which quantiles describe at least ``k`` respondents on each side.

    numpy's default quantile of ``n`` sorted values at ``p`` interpolates the values
    at ranks ``floor(h)`` and ``ceil(h)`` (0-based), ``h = (n - 1) p``. It is shown
    only when at least ``k`` values lie at or below the lower one and at least ``k``
    at or above the upper one, so that it never describes a few extreme respondents.

    Examples
    --------
    >>> import numpy as np
    >>> from mes.groups.protection import quantiles_shown
    >>> quantiles_shown(np.array([20, 40]), (0.25, 0.5, 0.75), 10).tolist()
    [[False, True, False], [True, True, True]]
    """
    n = np.asarray(n, dtype=np.float64)[..., None]
    h = (n - 1) * np.asarray(probs, dtype=np.float64)
    below = np.floor(h + 1e-9) + 1
    above = n - np.ceil(h - 1e-9)
    return (n > 0) & (below >= threshold) & (above >= threshold)
