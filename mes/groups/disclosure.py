"""Disclosure audit: can any combination of published totals pin down a small group?

A group report publishes, for a set of cells (groups of respondents), additive totals:
the number of respondents, sums of scores, sums of squares, favourable answers,
histogram counts. Each cell is a union of *atoms*, the finest cells of every attribute
the reports are broken down by. An attacker who collects every published total of
every report can solve the linear system they form: whatever lies in the row space of
the published cells' indicator vectors (over the atoms) is known to them exactly.

A small group is *pinned down* when some set of respondents with between 1 and
``k - 1`` members has its total in that row space: a cell hidden as too small that
follows by subtraction, two published cells that nest with a difference of a few
respondents, a cell minus a union of others, a histogram bin of a group minus the same
bin of its subgroups. :func:`find_disclosure` searches for any such set, exactly:

1. Atoms with no respondents are dropped (their totals are zero whatever the
   attacker assumes).
2. Atoms that belong to exactly the same published cells are merged into *blocks*:
   every vector of the row space is constant on a block, so a pinned-down set is a
   union of blocks, and a block with ``k`` or more respondents can never be part of
   one.
3. A vector ``u`` over the small blocks (fewer than ``k`` respondents each) lies in
   the row space when it is orthogonal to the null space of the published matrix.
   Those ``u`` form a subspace ``K``; when ``K = {0}`` (the usual case) nothing is
   pinned down. Otherwise ``K`` is brought to reduced row echelon form, whose pivot
   entries of a 0/1 vector are its free choices, so enumerating the ``2**dim(K)``
   pivot patterns finds every 0/1 vector of ``K`` and its count.

The answer is exact up to floating-point tolerance (``1e-9`` on 0/1 matrices). When
``K`` has more than :data:`MAX_ENUMERATED_DIMENSION` dimensions, the search reports a
small block in ``K``'s support as disclosed, which makes the caller hide more than
strictly needed, never less.

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

__all__ = ["MAX_ENUMERATED_DIMENSION", "Disclosure", "find_disclosure", "protect"]

MAX_ENUMERATED_DIMENSION = 16
"""Largest subspace of small-block combinations searched exhaustively (65,536 patterns)."""

_TOL = 1e-9


@dataclass(frozen=True)
class Disclosure:
    """A set of atoms whose total the published cells determine.

    Attributes
    ----------
    atoms : ndarray of bool, shape (atoms,)
        The pinned-down set.
    count : int
        Respondents in it (between 1 and ``k - 1``).
    rows : ndarray of int
        Published rows that take part in determining it (non-zero coefficients of the
        smallest-norm combination), the candidates to hide.
    """

    atoms: np.ndarray
    count: int
    rows: np.ndarray


def _rank(singular: np.ndarray) -> int:
    if not singular.size:
        return 0
    return int((singular > _TOL * max(1.0, float(singular.max()))).sum())


def _null_space(matrix: np.ndarray) -> np.ndarray:
    """Orthonormal basis of ``{x : matrix @ x = 0}`` as columns."""
    cols = matrix.shape[1]
    if matrix.shape[0] == 0:
        return np.eye(cols)
    _, singular, vt = np.linalg.svd(matrix, full_matrices=True)
    return vt[_rank(singular):].T


def _rref(basis: np.ndarray) -> np.ndarray:
    """Reduced row echelon form of the rows of ``basis`` (full row rank)."""
    rows = basis.astype(np.float64, copy=True)
    m, n = rows.shape
    pivot_row = 0
    for col in range(n):
        if pivot_row == m:
            break
        best = pivot_row + int(np.argmax(np.abs(rows[pivot_row:, col])))
        if abs(rows[best, col]) <= _TOL:
            continue
        rows[[pivot_row, best]] = rows[[best, pivot_row]]
        rows[pivot_row] /= rows[pivot_row, col]
        others = np.arange(m) != pivot_row
        rows[others] -= np.outer(rows[others, col], rows[pivot_row])
        pivot_row += 1
    return rows[:pivot_row]


def _zero_one_vectors(reduced: np.ndarray, counts: np.ndarray, threshold: int) -> np.ndarray | None:
    """A 0/1 vector in the row space of ``reduced`` (RREF) with a count in 1..k-1."""
    m = reduced.shape[0]
    weights = reduced @ counts
    bits = np.arange(m)
    for start in range(1, 2**m, 4096):  # pattern 0 is the empty set
        patterns = np.arange(start, min(start + 4096, 2**m))
        z = ((patterns[:, None] >> bits) & 1).astype(np.float64)
        total = z @ weights
        candidates = z[(total > 0.5) & (total < threshold - 0.5)]
        if not candidates.size:
            continue
        vectors = candidates @ reduced
        ok = (np.abs(vectors) <= _TOL) | (np.abs(vectors - 1.0) <= _TOL)
        good = np.flatnonzero(ok.all(axis=1))
        if good.size:
            return np.rint(vectors[good[0]])
    return None


def find_disclosure(
    published: np.ndarray, counts: np.ndarray, threshold: int
) -> Disclosure | None:
    """Find a group of 1 to ``threshold - 1`` respondents that the published cells pin down.

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
        None when no such group exists (see the module docstring for the method).

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

    Sites and grades alone (no crossing) determine only ``N/c - S/t``, never a small
    group on its own:

    >>> margins = np.array([[1, 1, 0, 0], [0, 0, 1, 1], [1, 0, 1, 0], [0, 1, 0, 1]])
    >>> find_disclosure(margins, counts, 10) is None
    True
    """
    counts = np.asarray(counts, dtype=np.float64)
    published = np.asarray(published, dtype=np.float64)
    occupied = np.flatnonzero(counts > 0)
    if not occupied.size or not ((counts[occupied] < threshold).any()):
        return None
    matrix = published[:, occupied]
    patterns, block_of = np.unique(matrix.T, axis=0, return_inverse=True)
    block_of = block_of.reshape(-1)
    block_counts = np.bincount(block_of, weights=counts[occupied])
    small = np.flatnonzero(block_counts < threshold - 0.5)
    if not small.size:
        return None
    blocks = patterns.T  # (rows, blocks)
    null = _null_space(blocks)  # (blocks, d)
    if null.shape[1] == 0:  # every block is determined: any small one is a disclosure
        chosen = np.zeros(block_counts.size)
        chosen[small[np.argmin(block_counts[small])]] = 1.0
    else:
        kernel = _null_space(null[small].T)  # combinations of small blocks in the row space
        if kernel.shape[1] == 0:
            return None
        reduced = _rref(kernel.T)
        if reduced.shape[0] > MAX_ENUMERATED_DIMENSION:
            # Too many to enumerate: treat the smallest block in K's support as disclosed.
            support = small[np.abs(kernel).max(axis=1) > _TOL]
            vector = np.zeros(small.size)
            vector[np.flatnonzero(np.isin(small, support[np.argmin(block_counts[support])]))] = 1
        else:
            found = _zero_one_vectors(reduced, block_counts[small], threshold)
            if found is None:
                return None
            vector = found
        chosen = np.zeros(block_counts.size)
        chosen[small] = vector
    atoms = np.zeros(counts.size, dtype=bool)
    atoms[occupied] = chosen[block_of] > 0.5
    coefficients = np.linalg.lstsq(blocks.T, chosen, rcond=None)[0]
    rows = np.flatnonzero(np.abs(coefficients) > 1e-7)
    return Disclosure(atoms=atoms, count=round(float(counts[atoms].sum())), rows=rows)


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
