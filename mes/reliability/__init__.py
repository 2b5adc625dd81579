"""Reliability of scale scores, matching R ``psych::alpha``.

>>> import mes
>>> import numpy as np
>>> inst = mes.load_instrument("uwes9")      # 9 items answered 0-6, three sub-scales
>>> rng = np.random.default_rng(1)
>>> engagement = rng.normal(size=(200, 1))   # one common factor behind every item
>>> answers = np.clip(np.round(3.5 + engagement + rng.normal(size=(200, 9))), 0, 6)
>>> from mes.reliability import reliability
>>> report = reliability(inst, answers)
>>> table = report.to_frame()[["n", "k", "alpha", "omega_total"]].round(3)
>>> print(table.to_string(index_names=False))
              n  k  alpha  omega_total
vigour      200  3  0.653        0.656
dedication  200  3  0.710        0.726
absorption  200  3  0.726        0.729
total       200  9  0.872        0.873
>>> report["vigour"].flag_codes()
['low_alpha']

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
