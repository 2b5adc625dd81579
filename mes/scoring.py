"""Scale scores for every respondent, vectorised over respondents.

The rules agree with R psych: answers are
reverse-keyed to ``min + max - x``, optionally imputed with the item median or
mean (``psych::scoreItems(impute = "median")``, the default there), and a scale
score is the mean of the scale's items (``psych::alpha``'s person scores, which
are ``rowMeans(keyed items, na.rm = TRUE)``).
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass, field, replace
from typing import Any

import numpy as np
import pandas as pd

from mes.docstrings import shared_parameters
from mes.errors import ResponseProblem
from mes.instrument import Instrument
from mes.responses import (
    BLOCK_ROWS,
    Errors,
    ResponseMatrix,
    attribute_frame,
    keyed_answers,
    response_matrix,
)

__all__ = ["ScoreTable", "impute_missing", "score", "score_matrix"]


@dataclass(frozen=True)
class ScoreTable:
    """Scores of every respondent on every scale of an instrument.

    Attributes
    ----------
    instrument : Instrument
    index : pandas.Index
        Respondent labels (the ``respondent`` column), in input order.
    scores : DataFrame
        One row per respondent (indexed by :attr:`index`), one column per scale
        id: the scale score (mean of items, or prorated sum); NaN where not
        scorable. ``table.scores["index"]`` is a Series indexed by respondent.
    percent : DataFrame
        ``(mean - min) / (max - min) * 100``, same shape.
    answered : DataFrame
        Items of each scale the respondent answered (imputed answers not counted).
    attributes : DataFrame or None
        The other columns of a DataFrame, mapping or records input (``site``,
        ``grade``, ...), indexed by respondent; None for an array.
    invalid : tuple of ResponseProblem
        Invalid answers scored as missing (only with ``errors="missing"``).
    score_matrix, percent_matrix, answered_matrix : ndarray
        The same numbers as plain (respondents x scales) arrays, for numerical
        code.

    Notes
    -----
    The frames share memory with the arrays and are read-only: assigning to a
    cell raises ``ValueError``; take ``.copy()`` to change them.
    """

    instrument: Instrument
    index: pd.Index
    score_matrix: np.ndarray = field(repr=False)
    percent_matrix: np.ndarray = field(repr=False)
    answered_matrix: np.ndarray = field(repr=False)
    invalid: tuple[ResponseProblem, ...] = ()
    attributes: pd.DataFrame | None = field(default=None, repr=False)

    def __repr__(self) -> str:
        """One line: the instrument, how many respondents and scales, invalid answers.

        Examples
        --------
        >>> import mes
        >>> mes.score(mes.load_instrument("uwes9"), {f"uwes{i}": [6, 0] for i in range(1, 10)})
        ScoreTable(instrument='uwes9' version '1', respondents=2, scales=['vigour', \
'dedication', 'absorption', 'total'], invalid=0)
        """
        return (
            f"ScoreTable(instrument={self.instrument.id!r} version "
            f"{self.instrument.version!r}, respondents={len(self)}, "
            f"scales={list(self.scale_ids)}, invalid={len(self.invalid)})"
        )

    @property
    def scale_ids(self) -> tuple[str, ...]:
        return self.instrument.scale_ids

    @property
    def scores(self) -> pd.DataFrame:
        return self._frame(self.score_matrix)

    @property
    def percent(self) -> pd.DataFrame:
        return self._frame(self.percent_matrix)

    @property
    def answered(self) -> pd.DataFrame:
        return self._frame(self.answered_matrix)

    def _frame(self, matrix: np.ndarray) -> pd.DataFrame:
        view = matrix.view()
        view.flags.writeable = False
        return pd.DataFrame(view, index=self.index, columns=list(self.scale_ids), copy=False)

    def __len__(self) -> int:
        return int(self.score_matrix.shape[0])

    def to_frame(self, *, attributes: bool = True) -> pd.DataFrame:
        """One row per respondent: attributes, then ``<scale>``, ``_pct`` and ``_answered`` columns.

        Parameters
        ----------
        attributes : bool, default True
            Put the input's attribute columns first (when there are any).

        Returns
        -------
        DataFrame
            Indexed by respondent.

        Raises
        ------
        ValueError
            If an attribute column has the name of a score column (pass
            ``attributes=False``, or rename the attribute).

        Examples
        --------
        >>> import mes
        >>> inst = mes.load_instrument("uwes9")
        >>> answers = {f"uwes{i}": [6, 0] for i in range(1, 10)}
        >>> answers |= {"respondent": ["r1", "r2"], "site": ["North", "South"]}
        >>> frame = mes.score(inst, answers).to_frame()
        >>> frame[["site", "total", "total_pct"]].to_dict("index")
        {'r1': {'site': 'North', 'total': 6.0, 'total_pct': 100.0}, \
'r2': {'site': 'South', 'total': 0.0, 'total_pct': 0.0}}
        """
        data: dict[str, np.ndarray] = {}
        for j, scale_id in enumerate(self.scale_ids):
            data[scale_id] = self.score_matrix[:, j]
            data[f"{scale_id}_pct"] = self.percent_matrix[:, j]
            data[f"{scale_id}_answered"] = self.answered_matrix[:, j]
        scores = pd.DataFrame(data, index=self.index)
        if not attributes or self.attributes is None or self.attributes.empty:
            return scores
        clash = [c for c in self.attributes.columns if c in data]
        if clash:
            raise ValueError(
                f"attribute column(s) {', '.join(map(repr, clash))} have the name of a score "
                "column: rename them, or call to_frame(attributes=False)"
            )
        return pd.concat([self.attributes, scores], axis=1)


def impute_missing(keyed: np.ndarray, how: str) -> np.ndarray:
    """Replace missing answers by the item median or mean of the data given.

    Parameters
    ----------
    keyed : ndarray, shape (n, k)
        Keyed answers, NaN where missing. Not modified.
    how : {"available", "median", "mean"}
        ``"available"`` returns ``keyed`` itself.

    Returns
    -------
    ndarray
        Items with no answer at all stay missing.

    Notes
    -----
    Matches ``psych::scoreItems(impute = "median" | "mean")``, which replaces
    every missing answer by the item's statistic over all respondents scored.
    """
    if how == "available":
        return keyed
    missing = np.isnan(keyed)
    if not missing.any():
        return keyed
    with np.errstate(invalid="ignore"), warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)  # all-NaN items: their fill stays NaN
        fill = np.nanmedian(keyed, axis=0) if how == "median" else np.nanmean(keyed, axis=0)
    return np.where(missing, fill, keyed)


def _scale_sums(
    instrument: Instrument, raw: np.ndarray
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Per respondent and scale: sum of keyed (imputed) answers, items in that sum, items answered.

    Works through the respondents in blocks; each block is reverse-keyed, imputed and
    multiplied by the (items x scales) membership matrix. The caller's array is not modified.
    """
    n = raw.shape[0]
    membership = instrument.membership
    fill = None
    if instrument.scoring.missing != "available" and np.isnan(raw).any():
        fill = impute_missing(keyed_answers(instrument, raw), instrument.scoring.missing)
    shape = (n, membership.shape[1])
    sums, present, answered = np.empty(shape), np.empty(shape), np.empty(shape)
    rev = instrument.reverse_mask
    flip = instrument.response_scale.min + instrument.response_scale.max
    for start in range(0, n, BLOCK_ROWS):
        rows = slice(start, start + BLOCK_ROWS)
        if fill is not None:
            block = fill[rows].copy()  # keyed and imputed already
            answered[rows] = (~np.isnan(raw[rows])).astype(np.float64) @ membership
        else:
            block = np.array(raw[rows], dtype=np.float64, copy=True)
            if rev.any():
                block[:, rev] = flip - block[:, rev]
        gaps = np.isnan(block)
        present[rows] = (~gaps).astype(np.float64) @ membership
        if fill is None:
            answered[rows] = present[rows]
        block[gaps] = 0.0
        sums[rows] = block @ membership
    return sums, present, answered


@shared_parameters
def score(
    instrument: Instrument,
    responses: Any,
    *,
    errors: Errors = "raise",
    strict: bool = False,
) -> ScoreTable:
    """Score every respondent on every scale of an instrument.

    Parameters
    ----------
    instrument : Instrument
        From :func:`mes.load_instrument`.
    responses : DataFrame, mapping, sequence of mappings or 2-D array
        Item columns by item id (array columns in the instrument's item order).
        Missing answers: None, NaN or "". Coded answers go through
        ``response_scale.codes``. A ``respondent`` column labels the rows.
    {errors}
    {strict}

    Returns
    -------
    ScoreTable

    Notes
    -----
    For respondent *i* and scale *s* with leaf items *S* (the union of its
    sub-scales' items for a composite), after reverse keying ``x -> min + max - x``
    and imputation:

    .. math:: \\bar{x}_{is} = \\frac{1}{|A_{is}|} \\sum_{j \\in A_{is}} x_{ij}

    where :math:`A_{is}` are the answered (or imputed) items of *S*. The score is
    NaN when fewer than ``ceil(min_answered * |S|)`` items were answered (imputed
    answers do not count towards that threshold). ``method: sum`` reports
    :math:`|S| \\bar{x}_{is}` (a prorated sum). Percent is
    :math:`100 (\\bar{x}_{is} - min) / (max - min)`.

    The computation is two matrix products of the (respondents x items) answer
    matrix with the (items x scales) membership matrix: no loop over respondents.
    With ``missing: available`` a respondent's scores depend on their own
    answers only; with ``median`` or ``mean`` imputation they depend on the
    data passed, as in psych.

    References
    ----------
    Revelle W (2024). psych: Procedures for Psychological, Psychometric, and
    Personality Research. R package, functions ``scoreItems`` and ``alpha``.

    Examples
    --------
    >>> import mes
    >>> inst = mes.load_instrument("mes")
    >>> answers = {f"mes{i:02d}": [5, 4, None] for i in range(1, 31)}
    >>> table = mes.score(inst, answers)
    >>> table.scores["index"].tolist()
    [5.0, 4.0, nan]
    >>> table.percent["index"].tolist()
    [100.0, 75.0, nan]
    """
    table = score_matrix(
        instrument, response_matrix(instrument, responses, errors=errors, strict=strict))
    return replace(table, attributes=attribute_frame(instrument, responses))


def score_matrix(instrument: Instrument, matrix: ResponseMatrix) -> ScoreTable:
    """:func:`score` for answers already validated by :func:`mes.responses.response_matrix`.

    Callers that need the validated answers themselves as well (group reports count
    favourable answers from them) validate once and score with this.

    Parameters
    ----------
    instrument : Instrument
        The instrument ``matrix`` was validated against.
    matrix : ResponseMatrix

    Returns
    -------
    ScoreTable
    """
    sums, present, answered = _scale_sums(instrument, matrix.values)
    with np.errstate(invalid="ignore", divide="ignore"):
        means = sums / present
    needed = np.array([instrument.min_answered_count(s) for s in instrument.scale_ids])
    means[(answered < needed) | (present == 0)] = np.nan

    rs = instrument.response_scale
    # From the sums, not the rounded mean: 17 points above the floor out of 20
    # is 85.0 exactly, where (4.4 - 1) * 25 gives 85.00000000000001.
    with np.errstate(invalid="ignore", divide="ignore"):
        percent = (sums - rs.min * present) * 100.0 / ((rs.max - rs.min) * present)
    percent[np.isnan(means)] = np.nan
    if instrument.scoring.method == "sum":
        scores = means * instrument.membership.sum(axis=0)
    else:
        scores = means
    return ScoreTable(
        instrument=instrument,
        index=matrix.index,
        score_matrix=scores,
        percent_matrix=percent,
        answered_matrix=answered.astype(np.int64),
        invalid=matrix.invalid,
    )
