"""Numbers as the report prints them: one rounding rule for tables, flags and readings.

A table that shows alpha 0.70 next to a warning that alpha is "below 0.70"
contradicts itself. The rule here, shared with the reliability flags
(:func:`mes.reliability.flags.scale_flags`), is: two decimals, unless two
decimals would put the number on the other side of a threshold the report
judges it against; then as many more decimals as it takes to show which side
it is on (0.697, not 0.70, for an alpha below 0.70). The reader sees the same
figure in the table and in the warning, and the figure agrees with the verdict.
"""

from __future__ import annotations

import math
from collections.abc import Iterable

__all__ = ["decimals_against", "num", "num_against", "ordinal"]

_MOST_DECIMALS = 6


def num(x: float | None, digits: int = 2) -> str:
    """``x`` with ``digits`` decimals; an en dash for a missing or undefined value.

    Examples
    --------
    >>> num(0.1234), num(None), num(float("nan")), num(62.04, 1)
    ('0.12', '&ndash;', '&ndash;', '62.0')
    """
    if x is None or not math.isfinite(x):
        return "&ndash;"
    return f"{x:.{digits}f}"


def decimals_against(x: float, thresholds: Iterable[float], digits: int = 2, *,
                     above: Iterable[float] = ()) -> int:
    """Fewest decimals (at least ``digits``) that keep ``x`` on its side of every threshold.

    For a threshold ``t`` of ``thresholds`` (read as "below ``t``", like alpha
    below 0.70) the shown value is below ``t`` exactly when ``x`` is; for one of
    ``above`` (read as "more than ``t``", like a correlation beyond 1) it is more
    than ``t`` exactly when ``x`` is.

    Parameters
    ----------
    x : float
    thresholds : iterable of float
        Cut-offs the report reads as "below" (0.70 for alpha).
    digits : int
        Decimals used when no threshold is crossed.
    above : iterable of float
        Cut-offs the report reads as "more than".

    Returns
    -------
    int

    Examples
    --------
    >>> decimals_against(0.697, [0.70]), decimals_against(0.6996, [0.70])
    (3, 4)
    >>> decimals_against(0.705, [0.70]), decimals_against(0.68, [0.70])
    (2, 2)
    >>> decimals_against(1.0004, [], above=[1.0])
    4
    """
    below, over = list(thresholds), list(above)

    def agrees(d: int) -> bool:
        shown = float(f"{x:.{d}f}")
        return (all((shown < t) == (x < t) for t in below)
                and all((shown > t) == (x > t) for t in over))

    d = digits
    while d < _MOST_DECIMALS and not agrees(d):
        d += 1
    return d


def num_against(x: float | None, thresholds: Iterable[float], digits: int = 2, *,
                above: Iterable[float] = ()) -> str:
    """``x`` rounded by :func:`decimals_against`; an en dash when missing.

    Examples
    --------
    >>> num_against(0.697, [0.70]), num_against(0.82, [0.5, 0.7]), num_against(None, [0.7])
    ('0.697', '0.82', '&ndash;')
    >>> num_against(0.004, [0.01], above=[0.0])
    '0.004'
    """
    if x is None or not math.isfinite(x):
        return "&ndash;"
    return f"{x:.{decimals_against(x, thresholds, digits, above=above)}f}"


def ordinal(n: int) -> str:
    """``1st``, ``2nd``, ``3rd``, ``11th``, ``22nd`` ...

    Examples
    --------
    >>> [ordinal(n) for n in (1, 2, 3, 4, 11, 12, 13, 21, 52, 100)]
    ['1st', '2nd', '3rd', '4th', '11th', '12th', '13th', '21st', '52nd', '100th']
    """
    if 10 <= n % 100 <= 20:
        return f"{n}th"
    suffix = {1: "st", 2: "nd", 3: "rd"}.get(n % 10, "th")
    return f"{n}{suffix}"
