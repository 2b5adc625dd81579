"""Quantiles and tail probabilities of the t and F distributions, loaded on first use.

Confidence intervals (group means, wave-on-wave change, Feldt's interval for alpha)
and the ICC's F test need three numbers from two distributions. They come from
:mod:`scipy.special`, the same routines :mod:`scipy.stats` calls for
``t.ppf``, ``f.ppf`` and ``f.sf`` (identical values), imported when first
needed: ``scipy.stats`` alone takes longer to import than numpy, pandas,
pydantic and PyYAML together, and ``import mes`` should not pay for it.

Examples
--------
>>> from mes.distributions import f_quantile, f_survival, t_quantile
>>> round(float(t_quantile(0.975, 10)), 6), round(float(f_quantile(0.025, 3, 50)), 6)
(2.228139, 0.071378)
>>> round(float(f_survival(2.5, 3, 50)), 6)
0.070116
"""

from __future__ import annotations

from typing import Any

__all__ = ["f_quantile", "f_survival", "t_quantile"]


def t_quantile(p: Any, df: Any) -> Any:
    """The ``p`` quantile of Student's t with ``df`` degrees of freedom (``stats.t.ppf``);
    NaN where ``df`` is NaN. Broadcasts like numpy."""
    from scipy import special

    return special.stdtrit(df, p)


def f_quantile(p: Any, dfn: Any, dfd: Any) -> Any:
    """The ``p`` quantile of the F distribution (``stats.f.ppf(p, dfn, dfd)``)."""
    from scipy import special

    return special.fdtri(dfn, dfd, p)


def f_survival(x: Any, dfn: Any, dfd: Any) -> Any:
    """P(F > x) for the F distribution (``stats.f.sf(x, dfn, dfd)``)."""
    from scipy import special

    return special.fdtrc(dfn, dfd, x)
