"""Plain-language warnings about a scale's reliability.

Thresholds follow common practice: alpha of at least 0.70 for scores used to
compare groups (Nunnally, 1978), and at least 30 respondents before alpha is
read as more than a rough indication (its Feldt interval is then still about
+/-0.1 wide for a typical five-item scale; Feldt, Woodruff & Salih, 1987).
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np

from mes.io.numbers import decimals_against
from mes.reliability.report import Flag

__all__ = ["LOW_ALPHA", "MIN_RESPONDENTS", "degenerate_flags", "item_flags", "scale_flags"]

LOW_ALPHA = 0.70
"""Alpha below this is flagged ``low_alpha``."""

MIN_RESPONDENTS = 30
"""Fewer respondents than this are flagged ``too_few_respondents``."""


def _fmt(x: float) -> str:
    return "undefined" if not math.isfinite(x) else f"{x:.2f}"


def scale_flags(
    *,
    scale: str,
    alpha: float,
    alpha_ci: tuple[float, float],
    ci: float,
    n: int,
    k: int,
    k_defined: int,
) -> list[Flag]:
    """Scale-level flags: too few items, too few respondents, low alpha.

    Parameters
    ----------
    scale : str
        Scale id (named in messages).
    alpha : float
    alpha_ci : (float, float)
    ci : float
    n : int
        Respondents analysed.
    k : int
        Items analysed (after leaving out items without variance).
    k_defined : int
        Items in the scale definition.

    Returns
    -------
    list of Flag

    Examples
    --------
    >>> from mes.reliability.flags import scale_flags
    >>> [f.code for f in scale_flags(scale="s", alpha=0.6, alpha_ci=(0.5, 0.7), ci=0.95,
    ...                              n=200, k=5, k_defined=5)]
    ['low_alpha']
    """
    flags: list[Flag] = []
    if k < 2:
        left_out = k_defined - k
        why = (f" ({left_out} of its {k_defined} items had no variation and were left out)"
               if left_out else "")
        flags.append(Flag(
            "too_few_items",
            f"Scale '{scale}' has {k} usable item(s){why}; alpha needs at least two items "
            "that vary, so no reliability can be given.",
        ))
    if n < MIN_RESPONDENTS:
        span = ""
        if math.isfinite(alpha_ci[0]) and math.isfinite(alpha_ci[1]):
            span = (f" The {ci:.0%} confidence interval runs from {_fmt(alpha_ci[0])} to "
                    f"{_fmt(alpha_ci[1])}.")
        flags.append(Flag(
            "too_few_respondents",
            f"Only {n} respondent(s) answered scale '{scale}'; alpha from fewer than "
            f"{MIN_RESPONDENTS} is not a stable estimate.{span}",
        ))
    if math.isfinite(alpha) and alpha < LOW_ALPHA:
        # Never "0.70, below the usual 0.70": the rule the report's tables round by.
        shown = f"{alpha:.{decimals_against(alpha, [LOW_ALPHA])}f}"
        flags.append(Flag(
            "low_alpha",
            f"Cronbach's alpha of '{scale}' is {shown}, below the usual {LOW_ALPHA:.2f}: "
            "its items do not agree closely enough for the scale score to be relied on when "
            "comparing groups.",
        ))
    return flags


def item_flags(
    *,
    items: Sequence[str],
    r_drop: np.ndarray,
    alpha: float,
    reversed_alpha: np.ndarray,
) -> list[Flag]:
    """Item-level flags: an item that correlates negatively with the rest of the scale.

    The message names the item and the alpha the scale would have with that
    item reverse-keyed.

    Parameters
    ----------
    items : sequence of str
        Item ids, in the order of the arrays.
    r_drop : ndarray
        Item-rest correlations (:func:`mes.reliability.alpha.dropped_stats`).
    alpha : float
        The scale's alpha as it stands.
    reversed_alpha : ndarray
        Alpha with each item reverse-keyed (:func:`mes.reliability.alpha.reversed_alpha`).

    Returns
    -------
    list of Flag

    Examples
    --------
    >>> import numpy as np
    >>> from mes.reliability.flags import item_flags
    >>> f = item_flags(items=["q1", "q2"], r_drop=np.array([-0.3, 0.4]), alpha=0.2,
    ...                reversed_alpha=np.array([0.71, 0.1]))
    >>> f[0].code, f[0].item
    ('negative_r_drop', 'q1')
    """
    flags = []
    for j, item in enumerate(items):
        r = float(r_drop[j])
        if math.isfinite(r) and r < 0:
            flags.append(Flag(
                "negative_r_drop",
                f"Item '{item}' goes against the rest of the scale (item-rest correlation "
                f"{r:.2f}); it is probably keyed the wrong way. Reverse-keying it would give "
                f"alpha {_fmt(float(reversed_alpha[j]))} instead of {_fmt(alpha)}.",
                item=item,
            ))
    return flags


def degenerate_flags(
    *,
    scale: str,
    items: Sequence[str],
    pair_counts: np.ndarray,
    smc: np.ndarray,
    heywood: np.ndarray,
    omega_converged: bool,
) -> list[Flag]:
    """Flags for data on which the coefficients are undefined or the models strained.

    Parameters
    ----------
    scale : str
        Scale id (named in messages).
    items : sequence of str
        Ids of the items analysed, in the order of the arrays.
    pair_counts : ndarray of int, shape (k, k)
        Respondents who answered both items of each pair.
    smc : ndarray, shape (k,)
        Squared multiple correlations (:func:`mes.reliability.alpha.smc`).
    heywood : ndarray of bool, shape (k,)
        Items held at a loading of 1 (:class:`mes.reliability.omega.OneFactorFit`).
    omega_converged : bool
        Whether the one-factor fit behind omega converged.

    Returns
    -------
    list of Flag
        ``no_shared_respondents`` (scale level, naming the first such pair),
        ``redundant_item`` and ``heywood_case`` (item level),
        ``omega_not_converged`` (scale level).

    Examples
    --------
    >>> import numpy as np
    >>> from mes.reliability.flags import degenerate_flags
    >>> counts = np.array([[5, 0, 4], [0, 6, 5], [4, 5, 9]])
    >>> flags = degenerate_flags(scale="s", items=["a", "b", "c"], pair_counts=counts,
    ...                          smc=np.full(3, np.nan), heywood=np.zeros(3, bool),
    ...                          omega_converged=False)
    >>> [f.code for f in flags]
    ['no_shared_respondents']
    """
    flags: list[Flag] = []
    k = len(items)
    apart = [(i, j) for i in range(k) for j in range(i + 1, k) if pair_counts[i, j] < 2]
    if apart:
        i, j = apart[0]
        more = f" (and {len(apart) - 1} more pair(s))" if len(apart) > 1 else ""
        flags.append(Flag(
            "no_shared_respondents",
            f"Items '{items[i]}' and '{items[j]}' of scale '{scale}'{more} were answered "
            f"together by {int(pair_counts[i, j])} respondent(s), fewer than the two a "
            "correlation needs, so alpha and the other coefficients of the scale cannot be "
            "computed. Analyse the scale once more respondents have answered all its items.",
        ))
        # Every coefficient is NaN: the model flags below would say nothing more.
        return flags
    for j, item in enumerate(items):
        if math.isfinite(float(smc[j])) and smc[j] >= 1.0 - 1e-9:
            flags.append(Flag(
                "redundant_item",
                f"Item '{item}' is fully predicted by the other items of scale '{scale}' "
                "(for example, it is a copy of another item): it adds nothing they do not "
                "already measure and makes alpha look higher than the items warrant.",
                item=item,
            ))
    for item in (items[int(j)] for j in np.flatnonzero(heywood)):
        flags.append(Flag(
            "heywood_case",
            f"In the one-factor model behind omega, item '{item}' of scale '{scale}' "
            "would need a loading above 1 (a Heywood case: more than all of its variance "
            "shared with the others). Its loading is held at 1; the model fits this scale "
            "poorly, which usually means too few respondents or items that are near copies.",
            item=item,
        ))
    if not omega_converged:
        flags.append(Flag(
            "omega_not_converged",
            f"The one-factor model behind omega did not converge for scale '{scale}', so "
            "omega is not given.",
        ))
    return flags
