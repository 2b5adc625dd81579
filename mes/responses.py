"""Turn responses in any accepted shape into one validated answer matrix.

This is the one edge where input is converted (statsmodels' habit): everything
after it computes on a float64 ndarray of shape (respondents, items) in the
instrument's item order, NaN meaning "not answered".

Accepted shapes: a pandas DataFrame, a mapping of item id
-> sequence, a sequence of mappings (one per respondent), or a 2-D array whose
columns follow the instrument's item order. Missing answers: None, NaN, "".
Coded answers are translated through ``response_scale.codes``.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Literal

import numpy as np
import pandas as pd

from mes.docstrings import shared_parameters
from mes.errors import InvalidResponsesError, ResponseColumnsError, ResponseProblem
from mes.instrument import Instrument
from mes.item_names import item_like_columns

__all__ = [
    "RESPONDENT_COLUMN",
    "ResponseMatrix",
    "attribute_frame",
    "keyed_answers",
    "response_matrix",
]

RESPONDENT_COLUMN = "respondent"
"""A column of this name carries respondent ids; it is never an item or an unknown column."""

Errors = Literal["raise", "missing"]


@dataclass(frozen=True)
class ResponseMatrix:
    """Validated raw answers.

    Attributes
    ----------
    values : ndarray of float64, shape (n_respondents, n_items)
        Answers as given (not yet reverse-keyed), NaN where missing or invalid.
    index : pandas.Index
        Respondent labels: the ``respondent`` column if there is one, else the
        DataFrame index, else 0..n-1.
    invalid : tuple of ResponseProblem
        Cells treated as missing because they were invalid (``errors="missing"``).
    """

    values: np.ndarray
    index: pd.Index
    invalid: tuple[ResponseProblem, ...] = ()


@shared_parameters
def response_matrix(
    instrument: Instrument,
    responses: Any,
    *,
    errors: Errors = "raise",
    strict: bool = False,
) -> ResponseMatrix:
    """Validate responses against an instrument and return the raw answer matrix.

    Parameters
    ----------
    instrument : Instrument
    responses : DataFrame, mapping, sequence of mappings or 2-D array
        See the module docstring.
    {errors}
    {strict}

    Returns
    -------
    ResponseMatrix

    Examples
    --------
    >>> import mes
    >>> from mes.responses import response_matrix
    >>> inst = mes.load_instrument("uwes9")
    >>> m = response_matrix(inst, [{f"uwes{i}": 3 for i in range(1, 10)}])
    >>> m.values.shape
    (1, 9)
    """
    if errors not in ("raise", "missing"):
        raise ValueError(f"errors must be 'raise' or 'missing', got {errors!r}")
    columns, index = _columns(instrument, responses, strict=strict)
    rs = instrument.response_scale
    codes = rs.codes or {}
    if isinstance(columns, np.ndarray):  # numeric fast path: the whole matrix at once
        values, bad = _check_range(columns, rs.min, rs.max)
        # Report invalid answers as given (7, not 7.0) when an object array was converted.
        given = isinstance(responses, np.ndarray) and responses.dtype == object
        columns_for_messages: list[Any] | np.ndarray = responses if given else columns
    else:
        values = np.empty((len(index), len(instrument.items)), dtype=np.float64)
        bad = None
        for j, column in enumerate(columns):
            values[:, j], column_bad = _convert_column(column, codes)
            if column_bad is not None:
                bad = np.zeros(values.shape, dtype=bool) if bad is None else bad
                bad[:, j] = column_bad
        range_values, range_bad = _check_range(values, rs.min, rs.max)
        if range_bad is not None:
            values = range_values
            bad = range_bad if bad is None else bad | range_bad
        columns_for_messages = columns
    problems: list[ResponseProblem] = []
    if bad is not None:
        problems = _describe(instrument, columns_for_messages, bad)
        if errors == "raise":
            raise InvalidResponsesError(problems)
    return ResponseMatrix(values=values, index=index, invalid=tuple(problems))


def keyed_answers(instrument: Instrument, values: np.ndarray) -> np.ndarray:
    """Reverse-key answers: reverse items become ``min + max - x``; a new array.

    Examples
    --------
    >>> import numpy as np, mes
    >>> from mes.instrument import instrument_from_mapping
    >>> inst = instrument_from_mapping({"id": "t", "version": "1", "title": "T",
    ...     "licence": "CC0", "response_scale": {"min": 1, "max": 5},
    ...     "items": [{"id": "a"}, {"id": "b", "reverse": True}],
    ...     "scales": [{"id": "s", "items": ["a", "b"]}]})
    >>> keyed_answers(inst, np.array([[1.0, 1.0]]))
    array([[1., 5.]])
    """
    out = np.array(values, dtype=np.float64, copy=True)
    rev = instrument.reverse_mask
    if rev.any():
        rs = instrument.response_scale
        out[:, rev] = (rs.min + rs.max) - out[:, rev]
    return out


# ----- shapes -> list of columns ----------------------------------------------------------


def _columns(
    instrument: Instrument, responses: Any, *, strict: bool
) -> tuple[np.ndarray | list[Any], pd.Index]:
    """Item columns in item order: one numeric 2-D array when possible, else a list."""
    items = instrument.item_ids
    if isinstance(responses, np.ndarray) or _is_2d_list(responses):
        array = np.asarray(responses)
        if array.ndim != 2 or array.shape[1] != len(items):
            raise ValueError(
                f"responses: a 2-D array needs one column per item ({len(items)} for "
                f"{instrument.id!r}, in the order {', '.join(items[:3])}, ...); got shape "
                f"{array.shape}"
            )
        index: pd.Index = pd.RangeIndex(array.shape[0])
        if array.dtype.kind in "iuf":
            return array, index
        if array.dtype == object and _only_numbers(array.ravel()):
            return array.astype(np.float64), index  # None becomes NaN
        return [array[:, j] for j in range(len(items))], index
    if isinstance(responses, pd.DataFrame):
        frame = responses
    elif isinstance(responses, Mapping):
        frame = _frame_from_mapping(responses)
    elif isinstance(responses, Sequence) and not isinstance(responses, (str, bytes)):
        if not all(isinstance(row, Mapping) for row in responses):
            raise TypeError(
                "responses: a sequence must hold one mapping (item id -> answer) per respondent"
            )
        frame = pd.DataFrame.from_records(list(responses))
    else:
        raise TypeError(
            "responses must be a pandas DataFrame, a mapping of item id -> answers, a sequence "
            f"of mappings or a 2-D array; got {type(responses).__name__}"
        )
    names = [str(c) for c in frame.columns]
    if len(set(names)) != len(names):
        dup = sorted({c for c in names if names.count(c) > 1})
        raise ValueError(f"responses: duplicate column(s) {', '.join(map(repr, dup))}")
    missing = [i for i in items if i not in names]
    others = [c for c in names if c not in items and c != RESPONDENT_COLUMN]
    unknown = item_like_columns(items, others) if strict else []
    if missing or unknown:
        raise ResponseColumnsError(missing=missing, unknown=unknown, others=others, items=items)
    position = {c: k for k, c in enumerate(names)}
    if RESPONDENT_COLUMN in position:
        index = pd.Index(frame.iloc[:, position[RESPONDENT_COLUMN]], name=RESPONDENT_COLUMN)
    else:
        index = frame.index
    selected = frame.iloc[:, [position[i] for i in items]]
    if all(_is_numeric(dtype) for dtype in selected.dtypes):
        return selected.to_numpy(dtype=np.float64, na_value=np.nan), index
    return [selected.iloc[:, j] for j in range(len(items))], index


def attribute_frame(instrument: Instrument, responses: Any) -> pd.DataFrame | None:
    """The columns of ``responses`` that are neither items nor ``respondent``.

    Parameters
    ----------
    instrument : Instrument
    responses : DataFrame, mapping, sequence of mappings or 2-D array
        As for :func:`response_matrix`.

    Returns
    -------
    DataFrame or None
        Indexed like :attr:`ResponseMatrix.index` (by respondent where a
        ``respondent`` column is given); None for an array, which has no names.

    Examples
    --------
    >>> import mes
    >>> from mes.responses import attribute_frame
    >>> inst = mes.load_instrument("uwes9")
    >>> rows = [{"respondent": "r1", "site": "North", **{f"uwes{i}": 3 for i in range(1, 10)}}]
    >>> attribute_frame(inst, rows).to_dict("index")
    {'r1': {'site': 'North'}}
    """
    if isinstance(responses, pd.DataFrame):
        frame = responses
    elif isinstance(responses, Mapping):
        frame = _frame_from_mapping(responses)
    elif (isinstance(responses, Sequence) and not isinstance(responses, (str, bytes))
          and not _is_2d_list(responses) and all(isinstance(r, Mapping) for r in responses)):
        frame = pd.DataFrame.from_records(list(responses))
    else:
        return None
    items = set(instrument.item_ids)
    names = [str(c) for c in frame.columns]
    keep = [j for j, c in enumerate(names) if c not in items and c != RESPONDENT_COLUMN]
    attributes = frame.iloc[:, keep].copy()
    attributes.columns = [names[j] for j in keep]
    if RESPONDENT_COLUMN in names:
        attributes.index = pd.Index(frame.iloc[:, names.index(RESPONDENT_COLUMN)],
                                    name=RESPONDENT_COLUMN)
    return attributes


def _is_numeric(dtype: Any) -> bool:
    return bool(pd.api.types.is_numeric_dtype(dtype) and not pd.api.types.is_bool_dtype(dtype))


def _is_2d_list(obj: Any) -> bool:
    return (
        isinstance(obj, (list, tuple))
        and len(obj) > 0
        and all(isinstance(row, (list, tuple)) for row in obj)
    )


def _frame_from_mapping(mapping: Mapping[Any, Any]) -> pd.DataFrame:
    lengths = {str(k): len(v) for k, v in mapping.items()}
    if len(set(lengths.values())) > 1:
        detail = ", ".join(f"{k}: {n}" for k, n in lengths.items())
        raise ValueError(f"responses: every column needs the same number of answers ({detail})")
    return pd.DataFrame({str(k): v for k, v in mapping.items()})


# ----- columns -> float64 ---------------------------------------------------------------

BLOCK_ROWS = 16_384
"""Rows (respondents) a vectorised pass over answers takes at a time, here, in scoring and
in group reports: a block's temporaries stay in the CPU cache."""
_NUMBER_KINDS = frozenset({"integer", "floating", "mixed-integer-float", "integer-na", "empty"})


def _only_numbers(values: Any) -> bool:
    """True when a 1-D object array holds only Python numbers and gaps (None, NaN).

    JSON answers and stored rows look like this; they are then converted in C with no
    text handling. ``infer_dtype`` scans in Cython and tells booleans and strings
    (``"4"``, ``"nan"``, codes) apart from numbers, so those still take the text path.
    """
    return pd.api.types.infer_dtype(values, skipna=True) in _NUMBER_KINDS


def _convert_column(column: Any, codes: Mapping[str, int]) -> tuple[np.ndarray, np.ndarray | None]:
    """One non-numeric column: (values, NaN where missing or not a number/code; mask of those)."""
    if isinstance(column, pd.Series) and _is_numeric(column.dtype):
        return column.to_numpy(dtype=np.float64, na_value=np.nan), None
    array = column if isinstance(column, pd.Series) else np.asarray(column)
    if not isinstance(array, pd.Series) and array.dtype.kind in "iuf":
        return array.astype(np.float64), None
    obj = pd.Series(array, dtype=object)
    if _only_numbers(obj):
        return obj.to_numpy(dtype=np.float64, na_value=np.nan), None
    is_bool = obj.map(type).isin([bool, np.bool_]).to_numpy()
    text = obj.astype(str).str.strip()
    missing = obj.isna().to_numpy() | (text == "").to_numpy()
    numeric = pd.to_numeric(text, errors="coerce").to_numpy(
        dtype=np.float64, na_value=np.nan, copy=True  # a read-only view under copy-on-write
    )
    if codes:
        coded = text.map(dict(codes)).to_numpy(dtype=np.float64, na_value=np.nan)
        numeric = np.where(np.isnan(coded), numeric, coded)
    bad = ~missing & (np.isnan(numeric) | is_bool)
    numeric[missing | bad] = np.nan
    return numeric, (bad if bad.any() else None)


def _check_range(values: np.ndarray, lo: int, hi: int) -> tuple[np.ndarray, np.ndarray | None]:
    """Find answers outside lo..hi or not whole numbers; return values with them as NaN.

    ``values`` is returned unchanged (not copied) when every answer is valid.
    """
    n = values.shape[0]
    bad_blocks: dict[int, np.ndarray] = {}
    # A whole number in lo..hi survives a round trip through the smallest integer type
    # that holds lo..hi; anything else (fractions, out of range, inf) comes back unequal.
    # Casting is one pass, and the range test then runs on 1-byte integers: about half
    # the cost of comparing floats with floor and both bounds.
    whole: type[np.signedinteger[Any]] = np.int8 if lo >= -128 and hi <= 127 else np.int64
    with np.errstate(invalid="ignore"):  # casting NaN or inf warns; those are judged below
        for start in range(0, n, BLOCK_ROWS):
            block = values[start : start + BLOCK_ROWS]
            as_whole = block.astype(whole)
            bad = as_whole != block
            bad |= as_whole < lo
            bad |= as_whole > hi
            bad &= ~np.isnan(block)  # missing answers are never invalid
            if bad.any():
                bad_blocks[start] = bad
    if not bad_blocks:
        return values, None
    mask = np.zeros(values.shape, dtype=bool)
    for start, bad in bad_blocks.items():
        mask[start : start + bad.shape[0]] = bad
    cleaned = np.array(values, dtype=np.float64, copy=True)
    cleaned[mask] = np.nan
    return cleaned, mask


def _describe(
    instrument: Instrument, columns: list[Any] | np.ndarray, bad: np.ndarray
) -> list[ResponseProblem]:
    """One ResponseProblem per invalid cell, in row then item order."""
    rs = instrument.response_scale
    codes = rs.codes or {}
    allowed = f"a whole number from {rs.min} to {rs.max}"
    if codes:
        allowed += f" or a code ({', '.join(codes)})"
    problems = []
    rows, cols = np.nonzero(bad)
    for row, j in zip(rows.tolist(), cols.tolist(), strict=True):
        column = columns[:, j] if isinstance(columns, np.ndarray) else columns[j]
        value = column.iloc[row] if isinstance(column, pd.Series) else column[row]
        value = value.item() if isinstance(value, np.generic) else value
        if isinstance(value, (bool, str)):
            why = "not a number or a known code" if codes else "not a number"
        elif isinstance(value, float) and not np.isfinite(value):
            why = "not a finite number"
        elif float(value) != int(value):
            why = "not a whole number"
        else:
            why = f"outside the response scale {rs.min}..{rs.max}"
        item_id = instrument.item_ids[j]
        problems.append(ResponseProblem(row, item_id, value, f"{why}; expected {allowed}"))
    return problems
