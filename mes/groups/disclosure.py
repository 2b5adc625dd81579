"""Disclosure audit: can any combination of published totals pin down a few respondents?

A group report publishes, for a set of cells (groups of respondents), additive totals:
the number of respondents, sums of scores, sums of squares, favourable answers,
histogram counts. Each cell is a union of *atoms*, the finest cells of every attribute
the reports are broken down by. An attacker who collects every published total of
every report can solve the linear system they form: whatever lies in the row space of
the published cells' indicator vectors (over the atoms) is known to them exactly.

The audit refuses any published combination that involves only *small* groups
(fewer than ``k`` respondents each):

- a set of 1 to ``k - 1`` respondents whose total follows by subtraction (a cell
  hidden as too small, two published cells that nest with a difference of a few
  respondents, a cell minus a union of others, a histogram bin of a group minus the
  same bin of its subgroups);
- the difference of two small groups' totals (site N minus grade t is N/c minus S/t
  when the table has both margins). On its own it pins nobody down, but scores are
  bounded: a difference equal to the whole score range gives both groups' scores
  exactly, and a member of one group who knows their own answers learns the other's.

:func:`find_disclosure` decides this exactly:

1. Atoms with no respondents are dropped (their totals are zero whatever the
   attacker assumes).
2. Atoms that belong to exactly the same published cells are merged into *blocks*:
   every vector of the row space is constant on a block, so whatever the attacker
   learns is a combination of block totals, and a block of ``k`` or more respondents
   is a group the promise allows to be described.
3. The combinations of small blocks alone that the published rows determine form a
   space of dimension ``rank(P) - rank(P_big)`` (``P`` over the blocks, ``P_big`` its
   columns of big blocks): when the two ranks are equal nothing is disclosed;
   otherwise any combination of the rows orthogonal to every big block is a
   disclosure (see :func:`find_disclosure`).

The answer is exact up to floating-point tolerance (``1e-9`` on 0/1 matrices).
:func:`protect` wraps the audit in the loop a report needs: hide the smallest
published cell that takes part in a disclosure, repeat until none is left.

References
----------
Hundepool A et al. (2012). Statistical Disclosure Control. Wiley, sections 4.2
(sensitivity rules) and 5.4 (auditing a suppression pattern by linear algebra).
Fellegi IP (1972). On the question of statistical confidentiality. JASA 67:7-18.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

__all__ = ["Disclosure", "find_disclosure", "protect"]

_TOL = 1e-9


@dataclass(frozen=True)
class Disclosure:
    """A combination of small groups' totals that the published cells determine.

    Attributes
    ----------
    vector : ndarray of float, shape (atoms,)
        The combination, per atom (constant on each block; 0 off its support).
    atoms : ndarray of bool, shape (atoms,)
        Its support: the respondents it describes.
    count : int
        Respondents in the support.
    rows : ndarray of int
        Published rows that take part in determining it (non-zero coefficients of the
        smallest-norm combination), the candidates to hide.
    """

    vector: np.ndarray
    atoms: np.ndarray
    count: int
    rows: np.ndarray


def _rank_of_gram(values: np.ndarray) -> np.ndarray:
    """Which eigenvalues of a Gram matrix are not zero (they are squared singular values;
    0/1 matrices have none near the cut)."""
    return values > 1e-9 * max(1.0, float(values.max(initial=0.0)))


def _column_patterns(matrix: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The distinct columns of a 0/1 matrix (as rows, sorted) and each column's index
    among them: ``np.unique(matrix.T, axis=0, return_inverse=True)``."""
    if matrix.shape[0] <= 62:
        # Each column as one integer, the first row its highest bit, so that integer order
        # is np.unique's lexicographic order: a 1-D unique instead of a row-wise one.
        weights = np.int64(1) << np.arange(matrix.shape[0] - 1, -1, -1, dtype=np.int64)
        codes = (matrix.T != 0).astype(np.int64) @ weights
        _, first, block_of = np.unique(codes, return_index=True, return_inverse=True)
        return (matrix.T[first] != 0).astype(matrix.dtype), block_of.reshape(-1)
    patterns, block_of = np.unique(matrix.T, axis=0, return_inverse=True)
    return patterns, block_of.reshape(-1)


def find_disclosure(
    published: np.ndarray, counts: np.ndarray, threshold: int
) -> Disclosure | None:
    """Find a published combination of the totals of groups smaller than ``threshold``.

    Parameters
    ----------
    published : ndarray of 0/1, shape (rows, atoms)
        One row per published cell: which atoms it is the union of.
    counts : ndarray of int, shape (atoms,)
        Respondents per atom.
    threshold : int
        The smallest group size that may be described (``k``).

    Returns
    -------
    Disclosure or None
        None when every combination the published cells determine involves a group
        of at least ``threshold`` respondents (see the module docstring).

    Notes
    -----
    With ``P`` the published rows over the blocks and ``P_big`` its columns of the
    blocks of ``k`` or more respondents, the combinations of small blocks alone in
    the row space of ``P`` form a space of dimension ``rank(P) - rank(P_big)``: a
    combination ``lambda @ P`` is zero on the big blocks exactly when ``lambda`` is
    orthogonal to the columns of ``P_big``. Both ranks, and such a ``lambda``, come
    from singular value decompositions with as many rows as there are published
    cells, whatever the number of atoms.

    Examples
    --------
    Overall 48, grade ``c`` 24 and site S's grade ``c`` 20 are published; the
    atoms are N/c (4), N/t (20), S/c (20), S/t (4). ``c - S/c`` is N/c:

    >>> import numpy as np
    >>> from mes.groups.disclosure import find_disclosure
    >>> counts = np.array([4, 20, 20, 4])
    >>> published = np.array([[1, 1, 1, 1], [1, 0, 1, 0], [0, 0, 1, 0]])
    >>> found = find_disclosure(published, counts, 10)
    >>> found.atoms.tolist(), found.count
    ([True, False, False, False], 4)

    Sites and grades as margins determine ``N/c - S/t``, a combination of two small
    groups alone; without the small cells (N/c and S/t of 12) nothing is found:

    >>> margins = np.array([[1, 1, 0, 0], [0, 0, 1, 1], [1, 0, 1, 0], [0, 1, 0, 1]])
    >>> find_disclosure(margins, counts, 10).atoms.tolist()
    [True, False, False, True]
    >>> find_disclosure(margins, np.array([12, 20, 20, 12]), 10) is None
    True
    """
    counts = np.asarray(counts, dtype=np.float64)
    occupied = np.flatnonzero(counts > 0)
    published = np.asarray(published, dtype=np.float64)
    if not occupied.size or not published.size or not (counts[occupied] < threshold).any():
        return None
    published = published.reshape(-1, counts.size)
    matrix = published[:, occupied]
    patterns, block_of = _column_patterns(matrix)
    block_counts = np.bincount(block_of, weights=counts[occupied])
    small = block_counts < threshold - 0.5
    if not small.any():
        return None
    blocks = patterns.T  # (rows, blocks)
    # Ranks and the rows' combinations from (rows x rows) Gram matrices: as cheap for ten
    # thousand atoms as for ten. The big blocks' Gram matrix is the whole one minus the
    # small blocks' (usually few) columns.
    gram = blocks @ blocks.T
    rank_all = int(_rank_of_gram(np.linalg.eigvalsh(gram)).sum())
    few = blocks[:, small]
    values, vectors = np.linalg.eigh(gram - few @ few.T)
    kept = _rank_of_gram(values)
    rank_big, weights = int(kept.sum()), vectors[:, ~kept]
    if rank_all == rank_big:
        return None
    # Combinations of the published rows that vanish on every big block span
    # ``weights``; some are non-zero on the small ones since rank_all > rank_big. Report
    # the one aimed at the most determined small block: the projection of its column
    # onto that span, whose rows are the cells that together give it away.
    reach = weights.T @ blocks[:, small]  # (d, small blocks)
    target = int(np.argmax(np.linalg.norm(reach, axis=0)))
    combination = weights @ reach[:, target]  # (rows,)
    per_block = np.zeros(block_counts.size)
    per_block[small] = combination @ blocks[:, small]
    per_block /= np.abs(per_block).max()
    per_block[np.abs(per_block) <= 1e-7] = 0.0
    vector = np.zeros(counts.size)
    vector[occupied] = per_block[block_of]
    atoms = vector != 0
    rows = np.flatnonzero(np.abs(combination) > 1e-7 * np.abs(combination).max())
    return Disclosure(vector=vector, atoms=atoms, count=round(float(counts[atoms].sum())),
                      rows=rows)


def protect(
    membership: np.ndarray,
    counts: np.ndarray,
    threshold: int,
    hidden: np.ndarray,
    *,
    sizes: np.ndarray,
    keep: Callable[[np.ndarray], np.ndarray] | None = None,
    last: int | None = None,
) -> np.ndarray:
    """Hide cells until no published combination pins down a small group.

    Parameters
    ----------
    membership : ndarray of 0/1, shape (cells, atoms)
        Every cell that could be published, as a union of atoms.
    counts : ndarray of int, shape (atoms,)
        Respondents per atom.
    threshold : int
    hidden : ndarray of bool, shape (cells,)
        Cells hidden already (not modified).
    sizes : ndarray, shape (cells,)
        Respondents per cell: the smallest taking part in a disclosure is hidden
        first.
    keep : callable, optional
        Applied to the hidden mask after every added cell (for example complementary
        suppression by additivity equations); returns the new mask.
    last : int, optional
        A cell to hide only when nothing else takes part (the overall group).

    Returns
    -------
    ndarray of bool
        The hidden cells: a superset of ``hidden``.
    """
    hidden = np.asarray(hidden, dtype=bool).copy()
    while True:
        visible = np.flatnonzero(~hidden)
        found = find_disclosure(membership[visible], counts, threshold)
        if found is None:
            return hidden
        candidates = visible[found.rows] if found.rows.size else visible
        preferred = candidates[candidates != last] if last is not None else candidates
        pool = preferred if preferred.size else candidates
        choice = pool[np.argmin(sizes[pool])]
        hidden[choice] = True
        if keep is not None:
            hidden = keep(hidden)
            if not hidden[choice]:  # the caller would not hide it: hide everything instead
                return np.ones_like(hidden)
