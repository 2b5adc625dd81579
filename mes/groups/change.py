"""Change between two survey waves: difference of means, Welch CI, Hedges' g.

For each group and scale shown in *both* waves (each wave is suppressed on its
own, with complementary suppression, exactly as :func:`mes.groups.summarise`
would publish it), the change is ``mean_after - mean_before`` with

.. math::

    SE = \\sqrt{s_1^2 / n_1 + s_2^2 / n_2}, \\quad
    \\nu = \\frac{SE^4}{\\frac{(s_1^2/n_1)^2}{n_1 - 1} + \\frac{(s_2^2/n_2)^2}{n_2 - 1}},
    \\quad CI = \\Delta \\pm t_{(1 + ci)/2,\\, \\nu} \\, SE

(Welch 1947), and the standardised change Hedges' g (Hedges 1981): Cohen's d with
the pooled SD, times the small-sample correction :math:`1 - 3 / (4 (n_1 + n_2) - 9)`,
as ``pingouin.compute_effsize(after, before, eftype="hedges")`` computes it. Every
figure comes from the two waves' published summaries (n, mean, SD of the cells that
are shown), so a comparison reveals nothing that the two reports did not, and two
stored reports can be compared (:func:`compare_reports`) without the answers.

The two waves are treated as independent samples (anonymous surveys cannot
pair respondents). The plain-language reading leads with the size of the
effect (Cohen 1988: |g| < 0.2 negligible, < 0.5 small, < 0.8 medium, else large).
The result types, :class:`~mes.groups.wave_report.WaveComparison` and its
:class:`~mes.groups.wave_report.ChangeCell`, are in :mod:`mes.groups.wave_report`.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

from mes.distributions import t_quantile
from mes.docstrings import shared_parameters
from mes.groups.grouping import GroupingError
from mes.groups.report import GroupReport
from mes.groups.summary import summarise
from mes.groups.wave_report import ChangeCell, WaveComparison
from mes.instrument import Instrument
from mes.responses import Errors

__all__ = [
    "ChangeCell",
    "WaveComparison",
    "compare_reports",
    "compare_waves",
    "hedges_g",
    "read_change",
    "welch_interval",
]


def welch_interval(
    mean1: float, sd1: float, n1: int, mean2: float, sd2: float, n2: int, ci: float = 0.95
) -> tuple[float, float, float, float]:
    """Difference ``mean2 - mean1`` with its Welch confidence interval.

    Parameters
    ----------
    mean1, sd1, n1 : float, float, int
        First sample (before): mean, SD (ddof = 1), size.
    mean2, sd2, n2 : float, float, int
        Second sample (after).
    ci : float, default 0.95

    Returns
    -------
    (difference, low, high, df) : tuple of float
        NaN when a sample has fewer than two values or both SDs are zero.

    References
    ----------
    Welch BL (1947). The generalization of "Student's" problem when several
    different population variances are involved. Biometrika 34:28-35.

    Examples
    --------
    >>> from mes.groups.change import welch_interval
    >>> d, lo, hi, df = welch_interval(3.0, 1.0, 20, 3.5, 1.0, 20)
    >>> round(d, 2), round(lo, 2), round(hi, 2), round(df, 1)
    (0.5, -0.14, 1.14, 38.0)
    """
    diff = mean2 - mean1
    if n1 < 2 or n2 < 2:
        return diff, math.nan, math.nan, math.nan
    a, b = sd1 * sd1 / n1, sd2 * sd2 / n2
    se2 = a + b
    if se2 <= 0:
        return diff, math.nan, math.nan, math.nan
    df = se2 * se2 / (a * a / (n1 - 1) + b * b / (n2 - 1))
    half = float(t_quantile(0.5 + ci / 2, df)) * math.sqrt(se2)
    return diff, diff - half, diff + half, df


_DECIMALS = 9  # far below what is shown, far above the noise of summation order


def read_change(
    g: float | None, diff: float, low: float | None, high: float | None,
    before: float, after: float, ci: float = 0.95,
) -> str:
    """A plain-language reading of a change, leading with the effect size.

    Every number is first rounded to 9 decimals: a sum over respondents in another
    order (rows read back from a database) moves a mean in its last binary digit, and
    that must not turn "0.83" into "0.84" at a tie, nor an unchanged mean into a rise.

    Examples
    --------
    >>> from mes.groups.change import read_change
    >>> read_change(0.35, 0.3, 0.1, 0.5, 3.4, 3.7)
    "Small increase (Hedges' g = 0.35): the mean rose by 0.30 points, from 3.40 to 3.70 \
(95% CI of the change 0.10 to 0.50)."
    """
    g, low, high = (None if x is None else round(x, _DECIMALS) for x in (g, low, high))
    diff, before, after = (round(x, _DECIMALS) for x in (diff, before, after))
    if g is None or not math.isfinite(g):
        size = "Change of unknown size"
    else:
        magnitude = abs(g)
        size = ("Negligible" if magnitude < 0.2 else "Small" if magnitude < 0.5
                else "Medium" if magnitude < 0.8 else "Large")
        size += " increase" if diff > 0 else " decrease" if diff < 0 else " change"
        size += f" (Hedges' g = {g:.2f})"
    verb = "rose" if diff > 0 else "fell" if diff < 0 else "changed"
    text = f"{size}: the mean {verb} by {abs(diff):.2f} points, from {before:.2f} to {after:.2f}"
    if low is not None and high is not None and math.isfinite(low) and math.isfinite(high):
        text += f" ({ci * 100:g}% CI of the change {low:.2f} to {high:.2f})"
        if low <= 0 <= high:
            text += ". The interval includes no change, so it may be chance"
    return text + "."


@shared_parameters
def compare_waves(
    instrument: Instrument,
    before: Any,
    after: Any,
    by: Sequence[str] = (),
    *,
    attributes_before: Any = None,
    attributes_after: Any = None,
    min_group_size: int = 10,
    scales: Sequence[str] | None = None,
    ci: float = 0.95,
    margins: bool = False,
    errors: Errors = "raise",
) -> WaveComparison:
    """Change of each group's mean between two waves of the same instrument.

    Parameters
    ----------
    instrument : Instrument
    before, after : responses
        The two waves, in any shape :func:`mes.score` accepts (DataFrames
        holding the attribute columns, or pass the attributes separately).
    by : sequence of str
        Grouping attributes, as for :func:`mes.groups.summarise`.
    attributes_before, attributes_after : DataFrame or mapping, optional
        Attributes of each wave when not columns of ``before`` / ``after``.
    min_group_size : int, default 10
        Suppression threshold, applied to each wave (with complementary
        suppression); a cell is compared only where it is shown in both.
    scales : sequence of str, optional
    ci : float, default 0.95
    margins : bool, default False
    {errors}

    Returns
    -------
    WaveComparison

    Notes
    -----
    Formulas in the module docstring. Edge cases: a group present in one wave
    only has status "not in both waves"; a group of one or with zero variance
    in both waves has no CI and no g (None); the reading then says the size is
    unknown.

    References
    ----------
    Welch BL (1947), Biometrika 34:28-35. Hedges LV (1981). Distribution theory
    for Glass's estimator of effect size and related estimators. Journal of
    Educational Statistics 6:107-128. Cohen J (1988). Statistical Power Analysis
    for the Behavioral Sciences, 2nd ed.

    Examples
    --------
    >>> import mes
    >>> from mes.groups import compare_waves
    >>> inst = mes.load_instrument("uwes9")
    >>> w1 = {f"uwes{i}": [3, 4, 5, 2] * 5 for i in range(1, 10)}
    >>> w2 = {f"uwes{i}": [4, 5, 6, 3] * 5 for i in range(1, 10)}
    >>> c = compare_waves(inst, w1, w2).cell("total")
    >>> c.difference, round(c.hedges_g, 2)
    (1.0, 0.85)
    >>> c.reading.split(":")[0]
    "Large increase (Hedges' g = 0.85)"
    """
    opts: dict[str, Any] = {"min_group_size": min_group_size, "scales": scales, "ci": ci,
                            "margins": margins, "errors": errors}
    rep1 = summarise(instrument, before, attributes_before, by, **opts)
    rep2 = summarise(instrument, after, attributes_after, by, **opts)
    return compare_reports(rep1, rep2, ci=ci)


def hedges_g(mean1: float, sd1: float, n1: int, mean2: float, sd2: float, n2: int) -> float:
    """Hedges' g of ``mean2 - mean1`` from two samples' summaries (NaN when undefined).

    .. math::

        g = \\frac{\\bar x_2 - \\bar x_1}{s_p}
            \\left(1 - \\frac{3}{4 (n_1 + n_2) - 9}\\right), \\quad
        s_p = \\sqrt{\\frac{(n_1 - 1) s_1^2 + (n_2 - 1) s_2^2}{n_1 + n_2 - 2}}

    Examples
    --------
    The same as ``pingouin.compute_effsize([4, 5, 6, 3] * 5, [3, 4, 5, 2] * 5,
    eftype="hedges")`` (0.85446):

    >>> import numpy as np
    >>> from mes.groups.change import hedges_g
    >>> x1, x2 = np.array([3, 4, 5, 2] * 5), np.array([4, 5, 6, 3] * 5)
    >>> round(float(hedges_g(x1.mean(), x1.std(ddof=1), 20, x2.mean(), x2.std(ddof=1), 20)), 5)
    0.85446
    """
    if n1 < 2 or n2 < 2 or not (math.isfinite(sd1) and math.isfinite(sd2)):
        return math.nan
    pooled = ((n1 - 1) * sd1 * sd1 + (n2 - 1) * sd2 * sd2) / (n1 + n2 - 2)
    if pooled <= 0:
        return math.nan
    d = (mean2 - mean1) / math.sqrt(pooled)
    return d * (1 - 3 / (4 * (n1 + n2) - 9))


def compare_reports(before: GroupReport, after: GroupReport, *, ci: float = 0.95) -> WaveComparison:
    """The change between two published reports of the same breakdown and instrument.

    Parameters
    ----------
    before, after : GroupReport
        Each as published (suppressed on its own); a cell is compared only where
        both show it.
    ci : float, default 0.95

    Returns
    -------
    WaveComparison

    Raises
    ------
    GroupingError
        When the reports cover different scales or breakdowns.
    """
    if before.scales != after.scales:
        raise GroupingError("the two waves report different scales")
    if before.by != after.by:
        raise GroupingError(
            f"the two waves are broken down differently ({', '.join(before.by) or 'overall'} "
            f"and {', '.join(after.by) or 'overall'})"
        )
    index1 = {tuple(g.key.items()): g for g in before.groups}
    index2 = {tuple(g.key.items()): g for g in after.groups}
    ordered = list(index1) + [k for k in index2 if k not in index1]
    out = []
    for key in ordered:
        g1, g2 = index1.get(key), index2.get(key)
        cells: dict[str, ChangeCell] = {}
        for s in before.scales:
            if g1 is None or g2 is None:
                cells[s] = ChangeCell(scale=s, status="not in both waves")
                continue
            a, b = g1.scales[s], g2.scales[s]
            if a.suppressed or b.suppressed or a.mean is None or b.mean is None:
                cells[s] = ChangeCell(scale=s, status="suppressed")
                continue
            n1, n2 = int(a.n or 0), int(b.n or 0)
            sd1 = a.sd if a.sd is not None else math.nan
            sd2 = b.sd if b.sd is not None else math.nan
            diff, lo, hi, df = welch_interval(a.mean, sd1, n1, b.mean, sd2, n2, ci)
            g = hedges_g(a.mean, sd1, n1, b.mean, sd2, n2)
            clean = [None if not math.isfinite(v) else float(v) for v in (lo, hi, df, g)]
            cells[s] = ChangeCell(
                scale=s, status="compared", n_before=a.n, n_after=b.n,
                mean_before=a.mean, mean_after=b.mean, difference=float(diff),
                ci_low=clean[0], ci_high=clean[1], df=clean[2], hedges_g=clean[3],
                reading=read_change(clean[3], diff, clean[0], clean[1], a.mean, b.mean, ci),
            )
        out.append((dict(key), cells))
    return WaveComparison(by=after.by, min_group_size=max(before.min_group_size,
                                                          after.min_group_size),
                          ci=float(ci), scales=after.scales, groups=out, before=before,
                          after=after)
