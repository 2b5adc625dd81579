"""Aggregation check: ICC(1) and ICC(2) from a one-way ANOVA (Bliese 2000).

Comparing group means (directorates, specialties, trusts) assumes that the
groups differ and that a group's mean is a reliable estimate of that group.
Two intraclass correlations answer that (Bliese 2000; LeBreton & Senter 2008):

* ICC(1), the share of the variance of individual scores that lies between
  groups: :math:`(MSB - MSW) / (MSB + (k - 1) MSW)`;
* ICC(2), the reliability of the group means:
  :math:`(MSB - MSW) / MSB`, the Spearman-Brown step-up of ICC(1) to groups of
  size *k*.

*MSB* and *MSW* are the between- and within-group mean squares of a one-way
ANOVA and *k* the group size; with unequal groups *k* is the mean group size
N / J, as in Bliese's ``multilevel`` R package. For equal groups these are
Shrout & Fleiss's (1979) ICC(1,1) and ICC(1,k).

Usual reading (LeBreton & Senter 2008, after Murphy & Myors 1998; Klein et al.
2000): ICC(1) of .01 is a small, .10 a medium and .25 a large group effect;
ICC(2) of .70 or more means the group means are reliable enough to compare
units, .50 to .70 marginal, below .50 unreliable.
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass
from typing import Any

import numpy as np
import pandas as pd

from mes.distributions import f_survival

__all__ = ["ICCResult", "icc", "icc_from_summaries", "read_icc"]


@dataclass(frozen=True)
class ICCResult:
    """ICC(1) and ICC(2) of one variable across groups.

    Attributes
    ----------
    icc1, icc2 : float or None
        None where undefined (fewer than two groups, no within-group degrees of
        freedom, or no variance at all).
    msb, msw : float or None
        Between- and within-group mean squares.
    f, p : float or None
        ``MSB / MSW`` and its p value on (J - 1, N - J) degrees of freedom.
    n_groups, n : int
        Groups (J) and individuals (N) used.
    mean_group_size : float or None
        k = N / J.
    reading : str
        The usual reading, in words.

    Examples
    --------
    >>> from mes.groups import icc
    >>> icc([1, 2, 3, 3, 4, 5], list("aaabbb")).to_dict()["n_groups"]
    2
    """

    icc1: float | None
    icc2: float | None
    msb: float | None
    msw: float | None
    f: float | None
    p: float | None
    n_groups: int
    n: int
    mean_group_size: float | None
    reading: str

    def to_dict(self) -> dict[str, Any]:
        """JSON-safe dict (NaN never appears; undefined values are None)."""
        return asdict(self)


def _clean(x: float) -> float | None:
    return None if x is None or not math.isfinite(x) else float(x)


def read_icc(icc1: float | None, icc2: float | None, n_groups: int) -> str:
    """The usual reading of ICC(1) and ICC(2), in words.

    Parameters
    ----------
    icc1, icc2 : float or None
    n_groups : int

    Returns
    -------
    str

    Notes
    -----
    ICC(1) bands .01 / .10 / .25 (small / medium / large; LeBreton & Senter
    2008); ICC(2) bands .50 / .70 (unreliable / marginal / reliable; Klein et
    al. 2000; LeBreton & Senter 2008).

    Examples
    --------
    >>> from mes.groups.aggregation import read_icc
    >>> read_icc(0.12, 0.81, 8)[:47]
    'ICC(1) = 0.12: a medium share of the variance l'
    """
    if icc1 is None or icc2 is None:
        if n_groups < 2:
            return "Not computed: an ICC needs at least two groups with scores."
        return "Not computed: the groups have no variance to split (or too few respondents)."
    if icc1 <= 0:
        return (f"ICC(1) = {icc1:.2f}, ICC(2) = {icc2:.2f}: the groups differ no more than chance "
                "would make them; their means cannot be told apart reliably.")
    if icc1 < 0.01:
        size = "almost none of the variance lies between groups"
    elif icc1 < 0.10:
        size = "a small share of the variance lies between groups"
    elif icc1 < 0.25:
        size = "a medium share of the variance lies between groups"
    else:
        size = "a large share of the variance lies between groups"
    if icc2 >= 0.70:
        use = "group means are reliable enough to compare groups"
    elif icc2 >= 0.50:
        use = "group means are only marginally reliable: compare groups with caution"
    else:
        use = "group means are not reliable enough to compare groups"
    return f"ICC(1) = {icc1:.2f}: {size}. ICC(2) = {icc2:.2f}: {use}."


def icc_from_summaries(n: np.ndarray, mean: np.ndarray, var: np.ndarray) -> ICCResult:
    """ICC(1) and ICC(2) from each group's size, mean and variance.

    Parameters
    ----------
    n : array of int
        Group sizes n_j (groups with n_j = 0 are ignored).
    mean : array of float
        Group means.
    var : array of float
        Group variances (ddof = 1; NaN for a group of one, which adds nothing
        within).

    Returns
    -------
    ICCResult

    Notes
    -----
    With :math:`N = \\sum n_j`, grand mean :math:`\\bar x = \\sum n_j \\bar x_j / N`,

    .. math::

        MSB = \\frac{\\sum_j n_j (\\bar x_j - \\bar x)^2}{J - 1}, \\quad
        MSW = \\frac{\\sum_j (n_j - 1) s_j^2}{N - J},

        ICC(1) = \\frac{MSB - MSW}{MSB + (k - 1) MSW}, \\quad
        ICC(2) = \\frac{MSB - MSW}{MSB}, \\quad k = N / J.

    Both can be negative (less between-group variance than chance gives).

    References
    ----------
    Bliese PD (2000). Within-group agreement, non-independence, and
    reliability. In Klein KJ, Kozlowski SWJ (eds), Multilevel Theory, Research,
    and Methods in Organizations, 349-381. Jossey-Bass.

    Examples
    --------
    >>> import numpy as np
    >>> from mes.groups.aggregation import icc_from_summaries
    >>> r = icc_from_summaries(np.array([3, 3]), np.array([2.0, 4.0]), np.array([1.0, 1.0]))
    >>> round(r.icc1, 3), round(r.icc2, 3)
    (0.625, 0.833)
    """
    n = np.asarray(n, dtype=np.float64)
    mean = np.asarray(mean, dtype=np.float64)
    var = np.asarray(var, dtype=np.float64)
    keep = n > 0
    n, mean, var = n[keep], mean[keep], var[keep]
    groups, total = int(n.size), int(n.sum())
    if groups < 2 or total - groups < 1:
        return ICCResult(None, None, None, None, None, None, groups, total,
                         total / groups if groups else None, read_icc(None, None, groups))
    grand = float((n * mean).sum() / total)
    ssb = float((n * (mean - grand) ** 2).sum())
    ssw = float(np.nansum((n - 1) * var))
    msb = ssb / (groups - 1)
    msw = ssw / (total - groups)
    k = total / groups
    with np.errstate(divide="ignore", invalid="ignore"):
        icc1 = (msb - msw) / (msb + (k - 1) * msw) if msb + (k - 1) * msw > 0 else math.nan
        icc2 = (msb - msw) / msb if msb > 0 else math.nan
        f = msb / msw if msw > 0 else math.nan
    p = float(f_survival(f, groups - 1, total - groups)) if math.isfinite(f) else math.nan
    c1, c2 = _clean(icc1), _clean(icc2)
    return ICCResult(c1, c2, _clean(msb), _clean(msw), _clean(f), _clean(p), groups, total, k,
                     read_icc(c1, c2, groups))


def icc(values: Any, groups: Any) -> ICCResult:
    """ICC(1) and ICC(2) of individual values across groups.

    Parameters
    ----------
    values : array-like of float
        One value per individual (a scale score); NaN values are left out.
    groups : array-like
        Group label of each individual (same length); missing labels are left out.

    Returns
    -------
    ICCResult

    Notes
    -----
    Formulas in :func:`icc_from_summaries`. For equal group sizes ICC(1) and
    ICC(2) equal Shrout & Fleiss's (1979) ICC(1,1) and ICC(1,k) with the groups
    as targets; the test suite checks them against Shrout & Fleiss's worked
    example (their Table 2 data; ICC(1,1) = .17 and ICC(1,4) = .44).

    References
    ----------
    Bliese PD (2000), see :func:`icc_from_summaries`.
    Shrout PE, Fleiss JL (1979). Intraclass correlations: uses in assessing
    rater reliability. Psychological Bulletin 86(2):420-428.

    Examples
    --------
    >>> from mes.groups import icc
    >>> r = icc([1, 2, 3, 3, 4, 5], ["a", "a", "a", "b", "b", "b"])
    >>> round(r.icc1, 3), round(r.icc2, 3)
    (0.625, 0.833)
    """
    x = np.asarray(values, dtype=np.float64)
    labels = pd.Series(np.asarray(groups, dtype=object))
    if x.ndim != 1 or len(labels) != x.size:
        raise ValueError(
            f"values and groups must be 1-D and of the same length; got {x.shape} and "
            f"{len(labels)}"
        )
    codes, _ = pd.factorize(labels, use_na_sentinel=True)
    keep = (codes >= 0) & ~np.isnan(x)
    codes, x = codes[keep], x[keep]
    if not x.size:
        return icc_from_summaries(np.zeros(0), np.zeros(0), np.zeros(0))
    m = int(codes.max()) + 1
    n = np.bincount(codes, minlength=m).astype(np.float64)
    sums = np.bincount(codes, weights=x, minlength=m)
    with np.errstate(invalid="ignore", divide="ignore"):
        mean = sums / n
        dev = x - mean[codes]
        var = np.bincount(codes, weights=dev * dev, minlength=m) / (n - 1)
    return icc_from_summaries(n, mean, var)
