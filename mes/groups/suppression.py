"""Small-group suppression with complementary suppression.

A group report publishes, for every group, additive quantities: the number of
respondents, the sum of their scores (mean x n), the sum of squares (through the
standard deviation), favourable counts. A parent group is the sum of its
children, so hiding a small child is not enough: if every sibling is visible,
``parent - sum(visible siblings)`` gives the hidden child back. Statistical
agencies call the fix *complementary* (secondary) suppression (Hundepool et al.
2012, chapter 5; Cox 1980).

The rule implemented here:

1. *Primary suppression*: a cell whose count is below ``min_group_size`` (and
   above zero: an empty cell identifies nobody).
2. *Complementary suppression*: every additivity equation ``parent = sum of
   children`` (one per published group and attribute it is broken down by) must
   have either no hidden member or at least two. An equation with exactly one
   hidden member gets its smallest visible child hidden too (the parent when it
   has no visible child). This repeats until nothing changes.
3. *Exact check* (tables with margins in several directions only; for nested
   levels, a tree of equations, rule 2 is already exact): two hidden cells per
   equation is not always enough when a
   table has margins in several directions (a hidden cell can be the bridge
   between two cycles of hidden cells and so still be determined). The hidden
   cells are therefore tested with linear algebra: a hidden cell is
   recoverable exactly when its unit vector lies in the row space of the
   equations restricted to the hidden cells, i.e. when every vector of the
   null space is zero there. Any recoverable cell gets a visible partner in one
   of its equations hidden, and the loop starts again.

The result never lets a hidden cell be recovered by any linear combination of
the published equations (the strongest form of "by subtraction").
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
import pandas as pd

__all__ = [
    "Equation",
    "check_threshold",
    "equations_for_levels",
    "suppress_small_groups",
    "suppression_mask",
]

Equation = tuple[int, np.ndarray]
"""``(parent index, children indices)``: the parent's totals are the sum of the children's."""


def check_threshold(min_group_size: Any) -> int:
    """``min_group_size`` as an int, or a TypeError/ValueError naming it."""
    if isinstance(min_group_size, bool) or not isinstance(min_group_size, (int, np.integer)):
        raise TypeError(
            f"min_group_size must be a whole number of respondents, got {min_group_size!r}"
        )
    if min_group_size < 1:
        raise ValueError(
            f"min_group_size must be at least 1 (1 disables suppression), got {min_group_size}"
        )
    return int(min_group_size)


def suppression_mask(
    counts: np.ndarray,
    equations: Sequence[Equation],
    min_group_size: int,
    *,
    initial: np.ndarray | None = None,
) -> np.ndarray:
    """Which cells to hide: primary plus complementary suppression.

    Parameters
    ----------
    counts : ndarray of int, shape (m,)
        Respondents in each cell.
    equations : sequence of (int, ndarray of int)
        Additivity relations ``parent = sum(children)`` between the cells.
    min_group_size : int
        Cells with fewer respondents are hidden (primary suppression).
    initial : ndarray of bool, optional
        Cells hidden already (for example whole groups, when suppressing the
        cells of one scale).

    Returns
    -------
    ndarray of bool, shape (m,)
        True for every hidden cell.

    Notes
    -----
    See the module docstring for the rule. A cell with a count of zero is not
    primarily suppressed: it has no statistics, and nobody can be identified in
    it (zeros are not sensitive cells in disclosure control). With no equations
    only primary suppression applies. The loop only ever adds hidden cells, so
    it ends.

    Examples
    --------
    >>> import numpy as np
    >>> from mes.groups.suppression import suppression_mask
    >>> counts = np.array([40, 3, 15, 22])           # overall, then three groups
    >>> eq = [(0, np.array([1, 2, 3]))]
    >>> suppression_mask(counts, eq, 10).tolist()    # 15 is hidden to protect 3
    [False, True, True, False]
    """
    threshold = check_threshold(min_group_size)
    counts = np.asarray(counts)
    hidden = (counts > 0) & (counts < threshold)
    if initial is not None:
        hidden |= np.asarray(initial, dtype=bool)
    if not hidden.any():
        return hidden
    tree = _is_tree(equations, len(counts))
    while True:
        _sibling_rule(counts, equations, hidden)
        if tree:
            # Nested levels: every cell is the child of at most one equation, and then
            # two hidden cells per equation already leave each hidden cell free (a
            # perturbation can be routed down and up the tree), so no exact check.
            return hidden
        determined = _determined_cells(hidden, equations, len(counts))
        if not determined.size:
            return hidden
        for cell in determined:
            if not _hide_partner(int(cell), counts, equations, hidden):
                # Nothing left to hide around it: the cell equals published totals by
                # construction (cannot happen with counts > 0); hide its parents' rows.
                hidden[:] = True
                return hidden


def _is_tree(equations: Sequence[Equation], m: int) -> bool:
    seen = np.zeros(m, dtype=np.int64)
    for _, children in equations:
        seen[children] += 1
    return bool((seen <= 1).all())


def _sibling_rule(counts: np.ndarray, equations: Sequence[Equation], hidden: np.ndarray) -> None:
    changed = True
    while changed:
        changed = False
        for parent, children in equations:
            child_hidden = hidden[children]
            unknown = int(hidden[parent]) + int(child_hidden.sum())
            if unknown != 1:
                continue
            visible = children[~child_hidden]
            if visible.size:
                hidden[visible[np.argmin(counts[visible])]] = True
            else:
                hidden[parent] = True
            changed = True


def _determined_cells(
    hidden: np.ndarray, equations: Sequence[Equation], m: int
) -> np.ndarray:
    unknown = np.flatnonzero(hidden)
    if not unknown.size or not equations:
        return np.empty(0, dtype=np.int64)
    position = np.full(m, -1)
    position[unknown] = np.arange(unknown.size)
    rows = []
    for parent, children in equations:
        row = np.zeros(unknown.size)
        touched = False
        if hidden[parent]:
            row[position[parent]] = 1.0
            touched = True
        hid = children[hidden[children]]
        if hid.size:
            row[position[hid]] = -1.0
            touched = True
        if touched:
            rows.append(row)
    if not rows:
        return np.empty(0, dtype=np.int64)
    matrix = np.vstack(rows)
    _, singular, vt = np.linalg.svd(matrix, full_matrices=True)
    rank = int((singular > 1e-9 * max(1.0, singular.max(initial=0.0))).sum())
    null = vt[rank:]  # rows span the null space
    if null.shape[0] == 0:
        return unknown
    free = np.abs(null).max(axis=0) > 1e-9
    return unknown[~free]


def _hide_partner(
    cell: int, counts: np.ndarray, equations: Sequence[Equation], hidden: np.ndarray
) -> bool:
    best: tuple[int, int] | None = None
    for parent, children in equations:
        if cell != parent and cell not in children:
            continue
        for candidate in [*children.tolist(), parent]:
            if not hidden[candidate] and (best is None or counts[candidate] < best[0]):
                best = (int(counts[candidate]), int(candidate))
    if best is None:
        return False
    hidden[best[1]] = True
    return True


def equations_for_levels(
    keys: Sequence[tuple[tuple[str, str], ...]],
) -> list[Equation]:
    """Additivity equations between groups identified by their keys.

    Parameters
    ----------
    keys : sequence of tuples of (attribute, value)
        One key per group; the empty key is the overall group. A group whose key
        extends another's by one attribute is its child.

    Returns
    -------
    list of (int, ndarray)
        For every group and every attribute it is broken down by in ``keys``:
        the group's index and its children's indices.

    Examples
    --------
    >>> from mes.groups.suppression import equations_for_levels
    >>> keys = [(), (("grade", "a"),), (("grade", "b"),)]
    >>> [(p, c.tolist()) for p, c in equations_for_levels(keys)]
    [(0, [1, 2])]
    """
    index = {key: i for i, key in enumerate(keys)}
    children: dict[tuple[int, str], list[int]] = {}
    for i, key in enumerate(keys):
        for j, (attribute, _) in enumerate(key):
            parent_key = key[:j] + key[j + 1 :]
            parent = index.get(parent_key)
            if parent is not None:
                children.setdefault((parent, attribute), []).append(i)
    return [(parent, np.array(kids)) for (parent, _), kids in children.items()]


def suppress_small_groups(
    table: pd.DataFrame,
    by: Sequence[str],
    min_group_size: int = 10,
    *,
    count: str = "n",
) -> pd.Series:
    """Flag the groups of a table to hide, primary and complementary.

    Parameters
    ----------
    table : pandas.DataFrame
        One row per published group: a column per attribute in ``by`` (None/NaN
        where the row is aggregated over that attribute; the overall row has
        None everywhere) and a ``count`` column.
    by : sequence of str
        The attribute columns.
    min_group_size : int, default 10
        Groups with fewer respondents are hidden.
    count : str, default "n"
        The column with the number of respondents.

    Returns
    -------
    pandas.Series of bool
        Aligned with ``table``: True where the row must be published without
        statistics and without its exact count.

    Notes
    -----
    Primary suppression hides every group below the threshold; complementary
    suppression then hides the next smallest sibling wherever a parent would
    give a hidden group back by subtraction, at every level, and a final exact
    check with linear algebra covers tables with margins in several directions
    (module docstring). Groups that are not in ``table`` are treated as known to
    be empty, so publish every non-empty group you report on.

    References
    ----------
    Hundepool A et al. (2012). Statistical Disclosure Control. Wiley, chapter 5
    (secondary cell suppression).

    Examples
    --------
    >>> import pandas as pd
    >>> from mes.groups import suppress_small_groups
    >>> t = pd.DataFrame({"grade": [None, "consultant", "sas", "trainee"],
    ...                   "n": [60, 30, 4, 26]})
    >>> suppress_small_groups(t, ["grade"]).tolist()
    [False, False, True, True]
    """
    missing = [c for c in [*by, count] if c not in table.columns]
    if missing:
        raise KeyError(f"table: missing column(s) {', '.join(map(repr, missing))}")
    keys = []
    for row in table[list(by)].itertuples(index=False):
        keys.append(tuple((a, str(v)) for a, v in zip(by, row, strict=True) if not pd.isna(v)))
    if len(set(keys)) != len(keys):
        raise ValueError("table: two rows describe the same group; give each group one row")
    counts = table[count].to_numpy(dtype=np.int64)
    mask = suppression_mask(counts, equations_for_levels(keys), min_group_size)
    return pd.Series(mask, index=table.index, name="suppressed")
