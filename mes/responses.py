"""Turn responses in any accepted shape into one validated answer matrix.

This is the one edge where input is converted (statsmodels' habit): everything
after it computes on a float64 ndarray of shape (respondents, items) in the
instrument's item order, NaN meaning "not answered".

Accepted shapes (DESIGN.md section 3): a pandas DataFrame, a mapping of item id
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

from mes.errors import InvalidResponsesError, ResponseColumnsError, ResponseProblem
from mes.instrument import Instrument

__all__ = ["RESPONDENT_COLUMN", "ResponseMatrix", "keyed_answers", "response_matrix"]

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
    errors : {"raise", "missing"}
        ``"raise"``: an :class:`~mes.InvalidResponsesError` listing every
        invalid cell. ``"missing"``: invalid cells become missing and are listed
        in ``ResponseMatrix.invalid``.
    strict : bool
        Raise :class:`~mes.ResponseColumnsError` on columns that are neither
        items nor ``respondent`` (otherwise they are ignored).

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
    n = len(index)
    values = np.empty((n, len(instrument.items)), dtype=np.float64)
    problems: list[ResponseProblem] = []
    for j, item_id in enumerate(instrument.item_ids):
        values[:, j], bad = _convert_column(columns[j], rs.min, rs.max, rs.codes or {})
        if bad is not None:
            problems.extend(_describe(item_id, columns[j], bad, rs.min, rs.max, rs.codes or {}))
    if problems:
        problems.sort(key=lambda p: (p.row, instrument.item_ids.index(p.item)))
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


def _columns(instrument: Instrument, responses: Any, *, strict: bool) -> tuple[list[Any], pd.Index]:
    items = instrument.item_ids
    if isinstance(responses, np.ndarray) or _is_2d_list(responses):
        array = np.asarray(responses)
        if array.ndim != 2 or array.shape[1] != len(items):
            raise ValueError(
                f"responses: a 2-D array needs one column per item ({len(items)} for "
                f"{instrument.id!r}, in the order {', '.join(items[:3])}, ...); got shape "
                f"{array.shape}"
            )
        return [array[:, j] for j in range(len(items))], pd.RangeIndex(array.shape[0])
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
    unknown = [c for c in names if c not in items and c != RESPONDENT_COLUMN] if strict else []
    if missing or unknown:
        raise ResponseColumnsError(missing=missing, unknown=unknown)
    position = {c: k for k, c in enumerate(names)}
    columns = [frame.iloc[:, position[i]] for i in items]
    if RESPONDENT_COLUMN in position:
        index = pd.Index(frame.iloc[:, position[RESPONDENT_COLUMN]], name=RESPONDENT_COLUMN)
    else:
        index = frame.index
    return columns, index


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


# ----- one column -> float64 ------------------------------------------------------------


def _convert_column(
    column: Any, lo: int, hi: int, codes: Mapping[str, int]
) -> tuple[np.ndarray, np.ndarray | None]:
    """Return (values with NaN for missing and invalid, boolean mask of invalid or None)."""
    if isinstance(column, pd.Series):
        dtype = column.dtype
        if pd.api.types.is_numeric_dtype(dtype) and not pd.api.types.is_bool_dtype(dtype):
            values = column.to_numpy(dtype=np.float64, na_value=np.nan)
        else:
            values, bad = _convert_objects(column, codes)
            return _check_range(values, lo, hi, bad)
    else:
        array = np.asarray(column)
        if array.dtype.kind in "iuf":
            values = array.astype(np.float64, copy=False)
        else:
            values, bad = _convert_objects(pd.Series(array, dtype=object), codes)
            return _check_range(values, lo, hi, bad)
    return _check_range(values, lo, hi, None)


def _convert_objects(column: pd.Series, codes: Mapping[str, int]) -> tuple[np.ndarray, np.ndarray]:
    obj = column.astype(object)
    is_bool = obj.map(type).isin([bool, np.bool_]).to_numpy()
    text = obj.astype(str).str.strip()
    missing = obj.isna().to_numpy() | (text == "").to_numpy()
    coded = text.map(dict(codes)).to_numpy(dtype=np.float64, na_value=np.nan) if codes else None
    numeric = pd.to_numeric(text, errors="coerce").to_numpy(dtype=np.float64, na_value=np.nan)
    values = numeric if coded is None else np.where(np.isnan(coded), numeric, coded)
    bad = ~missing & (np.isnan(values) | is_bool)
    values[missing | bad] = np.nan
    return values, bad


def _check_range(
    values: np.ndarray, lo: int, hi: int, bad: np.ndarray | None
) -> tuple[np.ndarray, np.ndarray | None]:
    # NaN compares False everywhere, so missing cells never count as invalid here.
    with np.errstate(invalid="ignore"):
        out_of_scale = (values < lo) | (values > hi) | (np.floor(values) != values)
    out_of_scale &= ~np.isnan(values)
    if bad is not None:
        out_of_scale |= bad
    if not out_of_scale.any():
        return values, None
    values = values.copy() if not values.flags.writeable or bad is None else values
    values[out_of_scale] = np.nan
    return values, out_of_scale


def _describe(
    item_id: str, column: Any, bad: np.ndarray, lo: int, hi: int, codes: Mapping[str, int]
) -> list[ResponseProblem]:
    raw = column.to_numpy(dtype=object) if isinstance(column, pd.Series) else np.asarray(column)
    allowed = f"a whole number from {lo} to {hi}"
    if codes:
        allowed += f" or a code ({', '.join(codes)})"
    problems = []
    for row in np.flatnonzero(bad):
        value = raw[row]
        value = value.item() if isinstance(value, np.generic) else value
        if isinstance(value, bool) or isinstance(value, str):
            why = "not a number or a known code" if codes else "not a number"
        elif isinstance(value, float) and not np.isfinite(value):
            why = "not a finite number"
        elif float(value) != int(value):
            why = "not a whole number"
        else:
            why = f"outside the response scale {lo}..{hi}"
        problems.append(ResponseProblem(int(row), item_id, value, f"{why}; expected {allowed}"))
    return problems
