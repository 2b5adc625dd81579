"""The options of a group report, as one frozen value checked when it is made.

:func:`mes.groups.summarise` and :func:`mes.groups.summarise_plan` take their options as
keyword arguments (the public signatures); they gather them into one
:class:`SummaryOptions` that the rest of the computation (:mod:`mes.groups.table`) reads,
instead of passing each argument on by hand.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from mes.docstrings import shared_parameters
from mes.groups.grouping import GroupingError
from mes.groups.suppression import check_threshold
from mes.responses import Errors

__all__ = ["DEFAULT_BINS", "DEFAULT_QUANTILES", "SummaryOptions"]

DEFAULT_QUANTILES = (0.25, 0.5, 0.75)
DEFAULT_BINS = (0.0, 20.0, 40.0, 60.0, 80.0, 100.0)


@shared_parameters
@dataclass(frozen=True, init=False)
class SummaryOptions:
    """How a report's figures are computed and protected (the documented options of
    :func:`mes.groups.summarise`, with the same names and defaults).

    Making one checks, in this order, ``min_group_size``, ``ci``, ``quantiles`` and
    ``bins`` (each error names its argument) and keeps them normalised. The other
    options are checked where the data they refer to are known: ``scales`` and
    ``errors`` when the responses are scored, ``distribution_scales`` against the
    reported scales, ``headcounts`` against the groups.

    Attributes
    ----------
    min_group_size : int
        The threshold ``k`` (:func:`mes.groups.suppression.check_threshold`).
    ci : float
        Confidence level of the t intervals, strictly between 0 and 1, as given: the
        intervals are computed with this very number (a ``numpy.float32`` stays one);
        a report records it as a float.
    quantiles : tuple of float
        Probabilities in [0, 1].
    bins : tuple of float
        Histogram edges on the percent metric, at least two, increasing.
    scales, distribution_scales : sequence of str, optional
        As given.
    headcounts : optional
        As given.
    {errors}

    Raises
    ------
    TypeError, ValueError
        ``min_group_size`` not a whole number, or below 1.
    GroupingError
        ``ci``, ``quantiles`` or ``bins`` out of range.

    Examples
    --------
    >>> from mes.groups.options import SummaryOptions
    >>> SummaryOptions(quantiles=[0.5], bins=[0, 50, 100]).bins
    (0.0, 50.0, 100.0)
    >>> SummaryOptions(ci=95)
    Traceback (most recent call last):
    ...
    mes.groups.grouping.GroupingError: ci must be between 0 and 1 (e.g. 0.95), got 95
    """

    min_group_size: int
    ci: float
    quantiles: tuple[float, ...]
    bins: tuple[float, ...]
    scales: Sequence[str] | None
    distribution_scales: Sequence[str] | None
    headcounts: Any
    errors: Errors

    def __init__(
        self,
        *,
        min_group_size: int = 10,
        ci: float = 0.95,
        quantiles: Sequence[float] = DEFAULT_QUANTILES,
        bins: Sequence[float] = DEFAULT_BINS,
        scales: Sequence[str] | None = None,
        distribution_scales: Sequence[str] | None = None,
        headcounts: Any = None,
        errors: Errors = "raise",
    ) -> None:
        threshold = check_threshold(min_group_size)
        if not 0 < ci < 1:
            raise GroupingError(f"ci must be between 0 and 1 (e.g. 0.95), got {ci!r}")
        probs = tuple(float(q) for q in quantiles)
        if any(not 0 <= q <= 1 for q in probs):
            raise GroupingError(f"quantiles must lie in [0, 1], got {list(quantiles)}")
        edges = np.asarray(bins, dtype=np.float64)
        if edges.ndim != 1 or edges.size < 2 or np.any(np.diff(edges) <= 0):
            raise GroupingError(f"bins must be at least two increasing edges, got {list(bins)}")
        set_field = object.__setattr__  # the dataclass is frozen
        set_field(self, "min_group_size", threshold)
        set_field(self, "ci", ci)
        set_field(self, "quantiles", probs)
        set_field(self, "bins", tuple(edges.tolist()))
        set_field(self, "scales", scales)
        set_field(self, "distribution_scales", distribution_scales)
        set_field(self, "headcounts", headcounts)
        set_field(self, "errors", errors)

    @property
    def edges(self) -> np.ndarray:
        """The histogram edges as a float array."""
        return np.asarray(self.bins, dtype=np.float64)
