"""How exports write numbers: one rule for every CSV and JSON the library and the service give.

CSV is read by people, in spreadsheets and with R's ``read.csv``; JSON is read by
programs that may compute further. So the two differ:

CSV: rounded to what each kind of figure warrants
    ====================  ==========================================  ==========
    kind                  columns                                     written as
    ====================  ==========================================  ==========
    ``"count"``           ``n``, ``n_*``, ``*_n``, ``headcount``,     ``240``
                          ``k``, ``*_answered``
    ``"percent"``         names holding ``percent``, ``pct_*``,       ``62.5``
                          ``*_pct``, ``*_rate`` (percent metric,
                          percent favourable, response rate,
                          histogram shares, percentile ranks)
    ``"statistic"``       every other number: scores, means, SDs,     ``3.499``
                          SEs, confidence limits, quantiles,
                          differences, effect sizes, df
    ====================  ==========================================  ==========

    Counts are whole numbers, percentages have :data:`PERCENT_DECIMALS` (1)
    decimal and other statistics :data:`STATISTIC_DECIMALS` (3), always that
    many (``3.500``: the precision is stated, not implied), never a negative
    zero, rounded to the nearest as C's ``printf`` and R's ``sprintf`` round
    (a tie of an exactly representable value goes to the even digit: 81.25 is
    81.2). A count that is not a whole number is written as a statistic rather
    than rounded away. Booleans are ``true`` / ``false`` (what R's
    ``read.csv`` and pandas read as logicals); a missing value is an empty
    cell. Rounding happens only here, on the way out: statistics are computed
    from unrounded values.
JSON: full precision, without binary noise
    Every float is given to :data:`SIGNIFICANT_DIGITS` (15) significant digits
    (:func:`clean_float`), the most that survive a round trip through decimal
    text and what R writes by default. Arithmetic on binary floats leaves
    noise in the last one or two of the 17 digits Python would print
    (``(4.4 - 1) * 25`` is ``85.00000000000001``): that noise is dropped, and
    nothing a client could compute with is lost.

Examples
--------
>>> [format_number(x, column_kind(c)) for x, c in
...  [(240.0, "n"), (85.00000000000001, "mean_percent"), (3.0020000000000002, "mean"),
...   (-0.0001, "difference")]]
['240', '85.0', '3.002', '0.000']
>>> csv_text(True, "statistic"), csv_text(None, "count"), clean_float(0.1 + 0.2)
('true', '', 0.3)
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping
from typing import Any, Literal

import numpy as np
import pandas as pd

__all__ = [
    "MOST_DECIMALS",
    "PERCENT_DECIMALS",
    "SIGNIFICANT_DIGITS",
    "STATISTIC_DECIMALS",
    "Kind",
    "clean_float",
    "clean_numbers",
    "column_kind",
    "csv_text",
    "decimals_against",
    "format_number",
    "frame_for_csv",
    "score_column_kinds",
]

Kind = Literal["count", "percent", "statistic"]
"""What a number is, which sets how many decimals a CSV gives it."""

PERCENT_DECIMALS = 1
"""Decimals of a percentage in CSV: 62.5 (a tenth of a point is finer than any survey's
sampling error)."""
STATISTIC_DECIMALS = 3
"""Decimals of a score, mean, SD, SE, CI limit, difference or effect size in CSV."""
SIGNIFICANT_DIGITS = 15
"""Significant digits of a float in JSON: all that survive a decimal round trip."""

_DECIMALS: dict[Kind, int] = {"count": 0, "percent": PERCENT_DECIMALS,
                              "statistic": STATISTIC_DECIMALS}
_COUNTS = frozenset({"n", "k", "headcount", "answered"})


def column_kind(name: str) -> Kind:
    """The kind of the numbers in an export column, from its name.

    Parameters
    ----------
    name : str
        The column's name, as the library's tables name their columns.

    Returns
    -------
    {"count", "percent", "statistic"}

    Examples
    --------
    >>> [column_kind(c) for c in ("group_n", "n_before", "index_answered", "response_rate",
    ...                           "pct_0_20", "index_pct", "percent_favourable", "ci_low")]
    ['count', 'count', 'count', 'percent', 'percent', 'percent', 'percent', 'statistic']
    """
    if (name in _COUNTS or name.startswith("n_") or name.endswith("_n")
            or name.endswith("_answered")):
        return "count"
    if ("percent" in name or name.startswith("pct_") or name.endswith("_pct")
            or name.endswith("_rate")):
        return "percent"
    return "statistic"


def format_number(value: float, kind: Kind) -> str:
    """A finite number as CSV text of its kind (see the module docstring).

    Parameters
    ----------
    value : float or int
        Finite.
    kind : {"count", "percent", "statistic"}

    Returns
    -------
    str

    Raises
    ------
    ValueError
        When ``value`` is NaN or infinite (a missing value is written by
        :func:`csv_text`, as an empty cell), or ``kind`` is unknown.

    Examples
    --------
    >>> format_number(12.0, "count"), format_number(12.5, "count"), format_number(-1e-9, "percent")
    ('12', '12.500', '0.0')
    """
    if kind not in _DECIMALS:
        raise ValueError(f"kind must be one of {', '.join(_DECIMALS)}, got {kind!r}")
    number = float(value)
    if not math.isfinite(number):
        raise ValueError(f"value must be a finite number, got {value!r}")
    if kind == "count":
        if number.is_integer():
            return str(int(number))
        kind = "statistic"  # not a whole number after all: keep what it says
    text = f"{number:.{_DECIMALS[kind]}f}"
    if text.startswith("-") and not text.strip("-0."):
        return text[1:]  # a negative zero says nothing a zero does not
    return text


def csv_text(value: Any, kind: Kind) -> Any:
    """One value as a CSV cell: numbers by :func:`format_number`, booleans ``true`` /
    ``false``, missing values (None, NaN, ``pd.NA``) empty, anything else unchanged.

    Examples
    --------
    >>> [csv_text(v, "percent") for v in (50, 49.99, float("nan"), False, "North")]
    ['50', '50.0', '', 'false', 'North']
    """
    if value is None or value is pd.NA:
        return ""
    if isinstance(value, bool | np.bool_):
        return "true" if value else "false"
    if isinstance(value, int | np.integer):
        return str(int(value))
    if isinstance(value, float | np.floating):
        return "" if not math.isfinite(value) else format_number(float(value), kind)
    return value


def frame_for_csv(frame: pd.DataFrame, kinds: Mapping[str, Kind] | None = None) -> pd.DataFrame:
    """A copy of ``frame`` with every number and boolean as its CSV text; text cells unchanged.

    Parameters
    ----------
    frame : pandas.DataFrame
    kinds : mapping of column name -> kind, optional
        The kind of a column whose name does not say it (:func:`column_kind`
        decides for the others).

    Examples
    --------
    >>> frame = pd.DataFrame({"site": ["North", "South"], "suppressed": [False, True],
    ...                       "n": pd.array([12, None], dtype="Int64"),
    ...                       "mean": [3.0020000000000002, None]})
    >>> for name, cells in frame_for_csv(frame).to_dict("list").items():
    ...     print(name, cells)
    site ['North', 'South']
    suppressed ['false', 'true']
    n ['12', '']
    mean ['3.002', '']
    """
    out = frame.copy(deep=False)
    for i, name in enumerate(frame.columns):
        column = frame.iloc[:, i]
        if isinstance(column.dtype, pd.StringDtype) or (
            column.dtype == object and not _has_numbers(column)
        ):
            continue  # text as written (escaping against formulas is the writer's job)
        kind = (kinds or {}).get(name) if isinstance(name, str) else None
        kind = kind or (column_kind(name) if isinstance(name, str) else "statistic")
        out.isetitem(i, column.astype(object).map(lambda v, k=kind: csv_text(v, k)).array)
    return out


def score_column_kinds(scale_ids: Iterable[str]) -> dict[str, Kind]:
    """The kinds of the columns of a scores table (``<scale>``, ``<scale>_pct``,
    ``<scale>_answered``), said outright: a scale's id could look like another kind's
    column name (a scale called ``response_rate``).

    Examples
    --------
    >>> score_column_kinds(["vigour"])
    {'vigour': 'statistic', 'vigour_pct': 'percent', 'vigour_answered': 'count'}
    """
    kinds: dict[str, Kind] = {}
    for scale_id in scale_ids:
        kinds.update({scale_id: "statistic", f"{scale_id}_pct": "percent",
                      f"{scale_id}_answered": "count"})
    return kinds


def _has_numbers(column: pd.Series) -> bool:
    """Whether an object column holds numbers or booleans (a column of floats and None,
    or of None only, comes as object dtype), not only text and missing values."""
    return any(
        isinstance(v, bool | int | float | np.number | np.bool_) and v == v  # NaN: missing
        for v in column.array
    )


def clean_float(value: float) -> float:
    """``value`` to :data:`SIGNIFICANT_DIGITS` significant digits: arithmetic noise dropped.

    Idempotent, and NaN and infinities are returned as they are.

    Examples
    --------
    >>> clean_float((4.4 - 1) * 25), clean_float(2 / 3), clean_float(1e-20 / 3)
    (85.0, 0.666666666666667, 3.33333333333333e-21)
    """
    number = float(value)
    if not math.isfinite(number):
        return number
    return float(f"{number:.{SIGNIFICANT_DIGITS}g}")


def clean_numbers(data: Any) -> Any:
    """JSON-shaped data (dicts, lists, tuples) with every float through :func:`clean_float`.

    Booleans and integers are left alone; tuples come back as lists (JSON has no tuple).

    Examples
    --------
    >>> clean_numbers({"mean": 3.0020000000000002, "n": 12, "ci": (0.1 + 0.2, None)})
    {'mean': 3.002, 'n': 12, 'ci': [0.3, None]}
    """
    if isinstance(data, dict):
        return {k: clean_numbers(v) for k, v in data.items()}
    if isinstance(data, list | tuple):
        return [clean_numbers(v) for v in data]
    if isinstance(data, float | np.floating):
        return clean_float(float(data))
    return data


MOST_DECIMALS = 6
"""No threshold needs more decimals than this to show which side a figure is on."""


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
    >>> from mes.io.numbers import decimals_against
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
    while d < MOST_DECIMALS and not agrees(d):
        d += 1
    return d
