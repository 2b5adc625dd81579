"""Numbers as the report prints them: one rounding rule for tables, flags and readings.

A table that shows alpha 0.70 next to a warning that alpha is "below 0.70"
contradicts itself. The rule (:func:`mes.io.numbers.decimals_against`, shared with the
reliability flags) is: two decimals, unless two
decimals would put the number on the other side of a threshold the report
judges it against; then as many more decimals as it takes to show which side
it is on (0.697, not 0.70, for an alpha below 0.70). The reader sees the same
figure in the table and in the warning, and the figure agrees with the verdict.
"""

from __future__ import annotations

import math
from collections.abc import Iterable

from mes.io.numbers import decimals_against

__all__ = ["decimals_against", "num", "num_against", "ordinal"]

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
