"""Escape CSV cells so that a spreadsheet never runs them as formulas, reversibly.

A spreadsheet that opens a CSV file runs a cell starting with ``=``, ``+``,
``-`` or ``@`` as a formula, and a leading tab or carriage return can hide such
a start; a formula can fetch URLs, start programs (DDE) or send data away. The
defence of OWASP "CSV Injection" is to write such a cell with a leading ``'``,
which spreadsheets show as text and do not evaluate. A cell that is a plain
number (``-1``, ``-0.5``, ``1e3``) is left alone: it is read as a number, never
as a formula.

So that the escaping can be undone exactly (an export that is uploaded again
must give back the same data), a cell that already starts with ``'`` followed by
one of those characters or by another ``'`` gets a leading ``'`` as well.
:func:`unescape_cell` removes exactly the ``'`` that :func:`escape_cell` adds,
so ``unescape_cell(escape_cell(x)) == x`` for every text ``x``.

References
----------
OWASP Foundation, "CSV Injection".
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import IO, overload

import pandas as pd

from mes.io.numbers import Kind, frame_for_csv

__all__ = [
    "TRIGGERS",
    "escape_cell",
    "escape_frame",
    "is_plain_number",
    "unescape_cell",
    "unescape_frame",
    "write_csv",
]

TRIGGERS = ("=", "+", "-", "@", "\t", "\r")
"""First characters that make a spreadsheet read a cell as a formula (OWASP)."""

_NUMBER = re.compile(r"[+-]?(?:[0-9]+(?:\.[0-9]*)?|\.[0-9]+)(?:[eE][+-]?[0-9]+)?")
_AFTER_QUOTE = (*TRIGGERS, "'")


def is_plain_number(text: str) -> bool:
    """Whether ``text`` is a decimal number as exporters write it (``-1``, ``-0.5``, ``1e3``).

    ASCII digits only, no spaces, no ``inf`` or ``nan``: what a spreadsheet reads
    as a number and not as a formula.

    Examples
    --------
    >>> [is_plain_number(t) for t in ("-1", "+0.5", "-.5", "1e-05", "-inf", "-1-1", " 1")]
    [True, True, True, True, False, False, False]
    """
    return _NUMBER.fullmatch(text) is not None


def _needs_quote(text: str) -> bool:
    if not text:
        return False
    if text[0] in TRIGGERS:
        return not is_plain_number(text)
    return text[0] == "'" and len(text) > 1 and text[1] in _AFTER_QUOTE


def escape_cell(text: str) -> str:
    """A text cell (or header) as written to CSV: a leading ``'`` where a spreadsheet
    would run it, or where it is needed to undo the escaping.

    Parameters
    ----------
    text : str
        The cell's text as stored.

    Returns
    -------
    str
        ``"'" + text`` when ``text`` starts with ``=``, ``+``, ``-``, ``@``, tab or
        carriage return and is not a plain number (:func:`is_plain_number`), or
        starts with ``'`` followed by one of those or by another ``'``;
        otherwise ``text`` unchanged.

    See Also
    --------
    unescape_cell : the inverse, for reading.

    Examples
    --------
    >>> [escape_cell(t) for t in ("=1+1", "@home", "-5 years", "-1", "1e3", "Surgery")]
    ["'=1+1", "'@home", "'-5 years", '-1', '1e3', 'Surgery']
    >>> [escape_cell(t) for t in ("'quoted", "'=x", "''x", "\\tx")]
    ["'quoted", "''=x", "'''x", "'\\tx"]
    """
    return "'" + text if _needs_quote(text) else text


def unescape_cell(text: str) -> str:
    """A CSV cell as it was before :func:`escape_cell`: exactly one leading ``'``
    removed where the escaping would have added it.

    Parameters
    ----------
    text : str
        The cell's text as read from the file.

    Returns
    -------
    str
        ``text[1:]`` when ``text`` is ``"'" + x`` and :func:`escape_cell` would
        quote ``x``; otherwise ``text`` unchanged (so a file that was never
        escaped, with a raw ``=x`` or ``'quoted``, reads as written).

    Examples
    --------
    >>> [unescape_cell(t) for t in ("'=1+1", "''=x", "'''x", "'quoted", "'-1", "=x", "-1")]
    ['=1+1', "'=x", "''x", "'quoted", "'-1", '=x', '-1']
    """
    if len(text) > 1 and text[0] == "'" and _needs_quote(text[1:]):
        return text[1:]
    return text


def _map_text(frame: pd.DataFrame, cell: Callable[[str], str]) -> pd.DataFrame:
    out = frame.copy(deep=False)
    out.columns = pd.Index(
        [cell(c) if isinstance(c, str) else c for c in frame.columns], dtype=object
    )
    for i in range(out.shape[1]):
        column = out.iloc[:, i]
        if column.dtype == object or pd.api.types.is_string_dtype(column.dtype):
            out.isetitem(i, column.map(lambda v: cell(v) if isinstance(v, str) else v).array)
    return out


def escape_frame(frame: pd.DataFrame) -> pd.DataFrame:
    """A copy of ``frame`` to write as CSV: every text cell and column name escaped.

    Numeric columns are left as they are (a number is never a formula).

    Examples
    --------
    >>> frame = pd.DataFrame({"=site": ["@home", "North", None], "mean": [-0.5, 1.0, 2.0]})
    >>> print(escape_frame(frame).to_csv(index=False), end="")
    '=site,mean
    '@home,-0.5
    North,1.0
    ,2.0
    """
    return _map_text(frame, escape_cell)


def unescape_frame(frame: pd.DataFrame) -> pd.DataFrame:
    """A frame read from CSV with every text cell and column name unescaped
    (:func:`unescape_cell`); the inverse of :func:`escape_frame` for text.

    Examples
    --------
    >>> frame = unescape_frame(pd.DataFrame({"'=site": ["'@home", "''=x", "'quoted"]}))
    >>> list(frame.columns), frame["=site"].tolist()
    (['=site'], ['@home', "'=x", "'quoted"])
    """
    return _map_text(frame, unescape_cell)


@overload
def write_csv(
    frame: pd.DataFrame, target: None = None, *, kinds: Mapping[str, Kind] | None = None
) -> str: ...


@overload
def write_csv(
    frame: pd.DataFrame, target: str | Path | IO[str], *, kinds: Mapping[str, Kind] | None = None
) -> None: ...


def write_csv(
    frame: pd.DataFrame,
    target: str | Path | IO[str] | None = None,
    *,
    kinds: Mapping[str, Kind] | None = None,
) -> str | None:
    r"""Write ``frame`` (no index) as CSV for people: safe to open in a spreadsheet, with
    numbers rounded by kind.

    Numbers and booleans are written by the library's one rule for CSV
    (:mod:`mes.io.numbers`: counts whole, percentages to 1 decimal, other
    statistics to 3, ``true`` / ``false``); text cells and column names are
    escaped (:func:`escape_frame`); lines end in CRLF (RFC 4180), so that a cell
    holding a carriage return is quoted and cannot start a row of its own.

    Parameters
    ----------
    frame : pandas.DataFrame
    target : str, pathlib.Path or text file, optional
        Where to write; ``None`` returns the text.
    kinds : mapping of column name -> {"count", "percent", "statistic"}, optional
        The kind of a column whose name does not say it
        (:func:`mes.io.numbers.column_kind` decides for the others).

    Returns
    -------
    str or None
        The CSV text when ``target`` is ``None``.

    Examples
    --------
    >>> frame = pd.DataFrame({"=site": ["@home", "\r=1+1"], "change": [-0.5, 1.0],
    ...                       "shown": [True, False]})
    >>> write_csv(frame).split("\r\n")
    ["'=site,change,shown", "'@home,-0.500,true", '"\'\r=1+1",1.000,false', '']
    """
    text = escape_frame(frame_for_csv(frame, kinds))
    return text.to_csv(target, index=False, lineterminator="\r\n")
