"""Reliability of scale scores, matching R ``psych::alpha``.

>>> import mes
>>> inst = mes.load_instrument("uwes9")
>>> answers = {f"uwes{i}": [1, 2, 3, 4, 6, 5, 2][i % 3:] + [3] * (i % 3)
...            for i in range(1, 10)}
>>> from mes.reliability import reliability
>>> report = reliability(inst, answers)
>>> table = report.to_frame()[["n", "k", "alpha", "omega_total"]].round(3)
>>> print(table.to_string(index_names=False))
            n  k  alpha  omega_total
vigour      7  3  0.778        0.859
dedication  7  3  0.835        0.889
absorption  7  3  0.500        0.768
total       7  9  0.854        0.862
>>> report["absorption"].flag_codes()
['too_few_respondents', 'low_alpha', 'negative_r_drop']

(Every figure is checked against R ``psych::alpha`` on published data sets in
the test suite: ``tests/test_reliability_published.py``.)

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
from mes.reliability.report import Flag, ItemReliability, ReliabilityReport, ScaleReliability

__all__ = [
    "NAN_POLICIES",
    "CorrelationFlag",
    "Flag",
    "ItemReliability",
    "ReliabilityReport",
    "ScaleCorrelations",
    "ScaleReliability",
    "reliability",
    "scale_intercorrelations",
]
