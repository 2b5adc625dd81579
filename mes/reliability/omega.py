"""McDonald's omega total from a one-factor model of the item correlations."""

from __future__ import annotations

import numpy as np

from mes.reliability.alpha import smc

__all__ = ["omega_total", "one_factor_loadings"]


def one_factor_loadings(R: np.ndarray, *, max_iter: int = 1000, tol: float = 1e-10) -> np.ndarray:
    """Loadings of a single common factor fitted by minimum residual (unweighted least squares).

    Iterated principal axes: starting from the squared multiple correlations as
    communalities :math:`h^2`, repeat
    :math:`\\lambda = \\sqrt{\\ell_1}\\, v_1` of :math:`R - \\mathrm{diag}(1 - h^2)`
    (first eigenpair) and :math:`h^2 = \\lambda^2` until the communalities
    change by less than ``tol``. The fixed point minimises the squared
    off-diagonal residuals :math:`\\sum_{i \\ne j} (r_{ij} - \\lambda_i\\lambda_j)^2`,
    the ``fm = "minres"`` criterion of ``psych::fa``. Communalities are capped
    at 1 (a Heywood case is reported as a loading of 1). The sign is chosen so
    that the loadings sum to a positive number.

    Parameters
    ----------
    R : ndarray, shape (k, k)
        Correlation matrix.

    Returns
    -------
    ndarray, shape (k,)
        NaN if ``R`` holds NaN or ``k < 2``.

    References
    ----------
    Harman HH, Jones WH (1966). Factor analysis by minimizing residuals
    (minres). Psychometrika 31, 351-368.

    Examples
    --------
    >>> import numpy as np
    >>> from mes.reliability.omega import one_factor_loadings
    >>> lam = np.array([0.8, 0.7, 0.6, 0.5])
    >>> R = np.outer(lam, lam); np.fill_diagonal(R, 1.0)
    >>> one_factor_loadings(R).round(6).tolist()
    [0.8, 0.7, 0.6, 0.5]
    """
    k = R.shape[0]
    if k < 2 or not np.isfinite(R).all():
        return np.full(k, np.nan)
    h2 = smc(R)
    loadings = np.sqrt(h2)
    for _ in range(max_iter):
        reduced = R.copy()
        np.fill_diagonal(reduced, h2)
        values, vectors = np.linalg.eigh(reduced)
        loadings = vectors[:, -1] * np.sqrt(max(values[-1], 0.0))
        new_h2 = np.minimum(loadings**2, 1.0)
        if np.max(np.abs(new_h2 - h2)) < tol:
            h2 = new_h2
            break
        h2 = new_h2
    if loadings.sum() < 0:
        loadings = -loadings
    return np.clip(loadings, -1.0, 1.0)


def omega_total(R: np.ndarray) -> float:
    """McDonald's omega total of a one-factor (congeneric) model on standardised items.

    .. math::

        \\omega_t = \\frac{(\\sum_i \\lambda_i)^2}
                         {(\\sum_i \\lambda_i)^2 + \\sum_i (1 - \\lambda_i^2)}

    with :math:`\\lambda` from :func:`one_factor_loadings`. For a scale that is
    truly one-dimensional with equal loadings it equals standardised alpha; it
    exceeds alpha when loadings differ (Revelle & Condon, 2019). With two items
    the one-factor model is not identified; the iteration settles on equal
    loadings :math:`\\sqrt{r_{12}}`, so omega equals standardised alpha.

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
    >>> import numpy as np
    >>> from mes.reliability.omega import omega_total
    >>> R = np.full((4, 4), 0.36); np.fill_diagonal(R, 1.0)
    >>> round(omega_total(R), 4)   # equal loadings 0.6: equals standardised alpha
    0.6923
    """
    lam = one_factor_loadings(R)
    if not np.isfinite(lam).all():
        return float("nan")
    common = float(lam.sum()) ** 2
    unique = float((1.0 - lam**2).sum())
    total = common + unique
    return common / total if total > 0 else float("nan")
