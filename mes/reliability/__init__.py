"""Reliability of scale scores, matching R ``psych::alpha``.

>>> import mes
>>> inst = mes.load_instrument("uwes9")
>>> answers = {f"uwes{i}": [0, 2, 3, 5, 6, 4] for i in range(1, 10)}
>>> from mes.reliability import reliability
>>> round(reliability(inst, answers)["total"].alpha, 6)
1.0

Modules: :mod:`~mes.reliability.covariance` (pairwise covariances and scale
totals from the raw answers), :mod:`~mes.reliability.alpha` (coefficients from a
covariance matrix), :mod:`~mes.reliability.omega` (one-factor omega total),
:mod:`~mes.reliability.flags` (plain-language warnings),
:mod:`~mes.reliability.report` (result types), :mod:`~mes.reliability.analysis`
(:func:`reliability`), :mod:`~mes.reliability.intercorrelation` (correlations
between scale scores, raw and corrected for attenuation:
:func:`scale_intercorrelations`).
"""

from mes.reliability.analysis import NAN_POLICIES, reliability
from mes.reliability.intercorrelation import (
    CorrelationFlag,
    ScaleCorrelations,
    scale_intercorrelations,
)
from mes.reliability.report import Flag, ItemReliability, ScaleReliability

__all__ = [
    "NAN_POLICIES",
    "CorrelationFlag",
    "Flag",
    "ItemReliability",
    "ScaleCorrelations",
    "ScaleReliability",
    "reliability",
    "scale_intercorrelations",
]
