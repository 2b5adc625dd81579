"""Item covariances, scale totals and item-total correlations in a few matrix products.

Everything the reliability report needs from the raw data (respondents x items)
is gathered here in one pass per ``nan_policy``; the per-scale statistics in
:mod:`mes.reliability.alpha` then work on small (items x items) matrices only.

Pairwise deletion follows ``pandas.DataFrame.cov`` and R's
``cov(x, use = "pairwise")`` (the default of ``psych::alpha``): the covariance
of items *i* and *j* uses the respondents who answered both, with the means of
*i* and *j* taken over those same respondents.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

__all__ = ["ItemMoments", "cov2cor", "item_moments", "pairwise_cov"]


def pairwise_cov(values: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Covariance matrix with pairwise deletion of missing values.

    Parameters
    ----------
    values : ndarray, shape (n, k)
        Answers, NaN where missing.

    Returns
    -------
    cov : ndarray, shape (k, k)
        Sample covariances (denominator :math:`n_{ij} - 1`); NaN where fewer
        than two respondents answered both items.
    counts : ndarray of int64, shape (k, k)
        :math:`n_{ij}`, respondents who answered both items (``counts[i, i]``
        is the number who answered item *i*).

    Notes
    -----
    With :math:`M` the 0/1 answered mask and :math:`X_0` the (centred) answers
    with missing cells set to 0, matrix products give every pair at once
    (computed as one product of stacked matrices, see :func:`item_moments`):

    .. math::

        n_{ij} = (M^\\top M)_{ij}, \\quad S_{ij} = (X_0^\\top M)_{ij}
        = \\sum_{r:\\,i,j\\ \\mathrm{answered}} x_{ri}, \\quad
        P_{ij} = (X_0^\\top X_0)_{ij}

    .. math::

        \\mathrm{cov}_{ij} = \\frac{P_{ij} - S_{ij} S_{ji} / n_{ij}}{n_{ij} - 1}

    which is the covariance over the respondents who answered both *i* and *j*,
    each mean taken over those respondents (as ``pandas.DataFrame.cov``). Columns
    are centred on their overall mean first (covariance is shift invariant) to
    avoid cancellation. Without missing values this is one product.

    Examples
    --------
    >>> import numpy as np
    >>> from mes.reliability.covariance import pairwise_cov
    >>> x = np.array([[1.0, 2.0], [2.0, np.nan], [3.0, 5.0], [4.0, 4.0]])
    >>> cov, n = pairwise_cov(x)
    >>> round(float(cov[0, 1]), 6), int(n[0, 1])
    (1.833333, 3)
    """
    moments = item_moments(values, np.zeros((values.shape[1], 0)))
    return moments.cov, moments.counts


def cov2cor(cov: np.ndarray) -> np.ndarray:
    """Rescale a covariance matrix to a correlation matrix (R's ``cov2cor``).

    :math:`r_{ij} = c_{ij} / \\sqrt{c_{ii} c_{jj}}`, with the diagonal set to
    exactly 1. Items with zero or undefined variance give NaN rows.

    Examples
    --------
    >>> import numpy as np
    >>> from mes.reliability.covariance import cov2cor
    >>> cov2cor(np.array([[4.0, 2.0], [2.0, 9.0]])).round(4).tolist()
    [[1.0, 0.3333], [0.3333, 1.0]]
    """
    with np.errstate(invalid="ignore", divide="ignore"):
        sd = np.sqrt(np.diag(cov))
        cor = cov / np.outer(sd, sd)
    good = sd > 0
    idx = np.flatnonzero(good)
    cor[idx, idx] = 1.0
    return cor


@dataclass(frozen=True)
class ItemMoments:
    """What the reliability statistics need from one block of answers.

    Attributes
    ----------
    n_rows : int
        Respondents in the block.
    cov, counts : ndarray, shape (k, k)
        Pairwise covariance matrix and pair counts (see :func:`pairwise_cov`).
    cor : ndarray, shape (k, k)
        Pairwise correlations, each over the respondents who answered both items
        (R's ``cor(x, use = "pairwise")``); equal to ``cov2cor(cov)`` without
        missing answers.
    means : ndarray, shape (k,)
        Item means over each item's answers.
    total_mean, total_sd : ndarray, shape (s,)
        Mean and standard deviation (n - 1) over respondents of each one's mean
        of their answered items of each scale.
    scale_n : ndarray of int64, shape (s,)
        Respondents who answered at least one item of each scale.
    item_total_r : ndarray, shape (k, s)
        Correlation of item *i* with scale total *s* over the respondents who
        answered *i* (R's ``cor(total, x, use = "pairwise")``).
    """

    n_rows: int
    cov: np.ndarray
    cor: np.ndarray
    counts: np.ndarray
    means: np.ndarray
    total_mean: np.ndarray
    total_sd: np.ndarray
    scale_n: np.ndarray
    item_total_r: np.ndarray


def item_moments(values: np.ndarray, membership: np.ndarray) -> ItemMoments:
    """Pairwise covariances, scale totals and item-total correlations of a block.

    Parameters
    ----------
    values : ndarray, shape (n, k)
        Keyed answers, NaN where missing.
    membership : ndarray, shape (k, s)
        1.0 where item *i* belongs to scale *s* (leaf items of composites).

    Returns
    -------
    ItemMoments

    Notes
    -----
    Without missing answers: one (n x k x k) matrix product (see
    :func:`_complete_moments`). With missing answers: one product of
    :math:`[X_0 | M | X_0^2]` (n x 3k) with :math:`[X_0 | M]` for the
    covariances, pair counts and pairwise correlations, and two (n x 2k x 2s)
    products for the scale totals and the item-total correlations. There is
    no loop over respondents or scales.

    Examples
    --------
    >>> import numpy as np
    >>> from mes.reliability.covariance import item_moments
    >>> x = np.array([[1.0, 2.0], [2.0, 2.0], [3.0, 5.0]])
    >>> m = item_moments(x, np.ones((2, 1)))
    >>> float(m.total_mean[0]), int(m.scale_n[0])
    (2.5, 3)
    """
    x = np.asarray(values, dtype=np.float64)
    n, k = x.shape
    member = np.asarray(membership, dtype=np.float64)
    answered = ~np.isnan(x)
    if answered.all():
        return _complete_moments(x, member)
    counts_i = answered.sum(axis=0)
    # Work in one (n, 3k) array [x0 | mask | x0^2]: x0 and mask are views into it.
    z = np.empty((n, 3 * k))
    x0 = z[:, :k]
    mask = z[:, k : 2 * k]
    np.copyto(x0, x)
    np.copyto(x0, 0.0, where=~answered)
    np.copyto(mask, answered)
    with np.errstate(invalid="ignore", divide="ignore"):
        means = np.where(counts_i > 0, x0.sum(axis=0) / np.maximum(counts_i, 1), np.nan)
    centre = np.where(np.isnan(means), 0.0, means)
    x0 -= centre
    x0 *= mask  # missing cells back to exactly 0 after centring

    # Covariances and correlations, each over the respondents who answered both items:
    # one product of [x0 | mask | x0^2] with [x0 | mask] gives every block needed.
    np.multiply(x0, x0, out=z[:, 2 * k :])
    gram = z.T @ z[:, : 2 * k]
    prod = gram[:k, :k]
    sums = gram[:k, k : 2 * k]  # sums[i, j]: sum of centred x_i where i and j answered
    pair_n = gram[k : 2 * k, k : 2 * k]
    squares = gram[2 * k :, k : 2 * k]  # squares[i, j]: sum of x_i^2 where i, j answered
    with np.errstate(invalid="ignore", divide="ignore"):
        cross = prod - sums * sums.T / pair_n
        cov = cross / (pair_n - 1)
        ss = squares - sums * sums / pair_n  # (n_ij - 1) var of x_i over the pair
        cor = cross / np.sqrt(ss * ss.T)
    cov[pair_n < 2] = np.nan
    cor[(pair_n < 2) | ~(ss * ss.T > 0)] = np.nan  # a constant item within the pair: undefined
    cov = (cov + cov.T) / 2.0  # exact symmetry
    cor = (cor + cor.T) / 2.0
    good = np.flatnonzero(np.diag(cov) > 0)
    cor[good, good] = 1.0

    # Scale totals: mean of each respondent's answered items, from one product with
    # [[m, 0], [centre * m, m]] (numerators and item counts).
    s = member.shape[1]
    if s:
        weights = np.zeros((2 * k, 2 * s))
        weights[:k, :s] = member
        weights[k:, :s] = centre[:, None] * member
        weights[k:, s:] = member
        both = z[:, : 2 * k] @ weights
        n_items = both[:, s:]
        with np.errstate(invalid="ignore", divide="ignore"):
            totals = both[:, :s] / n_items
        has_total = n_items > 0
        scale_n = has_total.sum(axis=0).astype(np.int64)
        with np.errstate(invalid="ignore", divide="ignore"):
            t_mean = np.where(has_total, totals, 0.0).sum(axis=0) / scale_n
        t0 = totals - t_mean
        t0[~has_total] = 0.0
        tt = np.empty((n, 2 * s))
        tt[:, :s] = t0
        np.multiply(t0, t0, out=tt[:, s:])
        with np.errstate(invalid="ignore", divide="ignore"):
            total_sd = np.sqrt(tt[:, s:].sum(axis=0) / (scale_n - 1))
        total_sd[scale_n < 2] = np.nan
        # Item-total correlations over each item's answered rows.
        xt = z[:, : 2 * k].T @ tt
        sum_xt = xt[:k, :s]
        sum_t, sum_tt = xt[k:, :s], xt[k:, s:]
        sum_x = np.diag(sums)[:, None]
        sum_xx = np.diag(squares)[:, None]
        ni = counts_i[:, None].astype(np.float64)
        with np.errstate(invalid="ignore", divide="ignore"):
            cxt = sum_xt - sum_x * sum_t / ni
            vx = sum_xx - sum_x * sum_x / ni
            vt = sum_tt - sum_t * sum_t / ni
            item_total_r = cxt / np.sqrt(vx * vt)
        item_total_r[(ni < 2).repeat(s, axis=1)] = np.nan
    else:
        t_mean = total_sd = np.empty(0)
        scale_n = np.empty(0, dtype=np.int64)
        item_total_r = np.empty((k, 0))
    return ItemMoments(
        n_rows=n,
        cov=cov,
        cor=cor,
        counts=pair_n.astype(np.int64),
        means=means,
        total_mean=t_mean,
        total_sd=total_sd,
        scale_n=scale_n,
        item_total_r=item_total_r,
    )


def _complete_moments(x: np.ndarray, member: np.ndarray) -> ItemMoments:
    """:func:`item_moments` without missing answers: one matrix product does it all.

    With centred answers :math:`X_c` and :math:`P = X_c^\\top X_c`, a scale's
    centred totals are :math:`X_c m / k_s`, so the item-total cross products
    are :math:`P m / k_s` and the totals' sum of squares is
    :math:`m^\\top P m / k_s^2`: nothing else touches the n rows.
    """
    n, k = x.shape
    s = member.shape[1]
    if n == 0:
        nan_kk = np.full((k, k), np.nan)
        return ItemMoments(0, nan_kk, nan_kk.copy(), np.zeros((k, k), dtype=np.int64),
                           np.full(k, np.nan), np.full(s, np.nan), np.full(s, np.nan),
                           np.zeros(s, dtype=np.int64), np.full((k, s), np.nan))
    means = x.mean(axis=0)
    xc = x - means
    prod = xc.T @ xc
    prod = (prod + prod.T) / 2.0
    with np.errstate(invalid="ignore", divide="ignore"):
        cov = prod / (n - 1) if n > 1 else np.full((k, k), np.nan)
    size = member.sum(axis=0)
    with np.errstate(invalid="ignore", divide="ignore"):
        weights = member / size  # each scale's total is x @ weights
        t_mean = means @ weights
        cross = prod @ weights  # (k, s): sum of centred x_i * centred total
        t_ss = np.einsum("is,ij,js->s", weights, prod, weights)
        total_sd = np.sqrt(t_ss / (n - 1)) if n > 1 else np.full(s, np.nan)
        item_total_r = cross / np.sqrt(np.diag(prod)[:, None] * t_ss[None, :])
    if n < 2:
        item_total_r[:] = np.nan
    scale_n = np.where(size > 0, n, 0).astype(np.int64)
    return ItemMoments(
        n_rows=n,
        cov=cov,
        cor=cov2cor(cov),
        counts=np.full((k, k), n, dtype=np.int64),
        means=means,
        total_mean=t_mean,
        total_sd=total_sd,
        scale_n=scale_n,
        item_total_r=item_total_r,
    )
