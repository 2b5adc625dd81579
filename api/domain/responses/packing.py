"""Answers packed for reading: one small binary value per row, decoded in one call.

Every stored row keeps its answers as submitted (JSON, for exports) and, next
to them, the validated answers in the instrument's item order as bytes: each
answer ``x`` is stored as ``x - min + 1`` (0 = not answered) in one byte when
the response scale spans at most 255 values (every Likert scale), in two bytes
(little-endian) up to 65,535 values. A report then reads one short column per
respondent and turns all of them into the float matrix :mod:`mes` takes with a
single :func:`numpy.frombuffer`, instead of parsing a JSON object per row.

Coded answers (``"SA"``) are packed as the value their code stands for; the
item order of a survey never changes, because a survey pins one instrument id
and version and a definition is never edited.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

import mes

__all__ = ["pack", "packed_dtype", "unpack", "unpack_joined"]


def packed_dtype(instrument: mes.Instrument) -> np.dtype | None:
    """The storage type of one packed answer, None when the scale is too wide to pack.

    Examples
    --------
    >>> import mes
    >>> packed_dtype(mes.load_instrument("mes"))
    dtype('uint8')
    """
    rs = instrument.response_scale
    span = rs.max - rs.min + 1  # codes 1..span, 0 = missing
    if span <= np.iinfo(np.uint8).max:
        return np.dtype(np.uint8)
    if span <= np.iinfo(np.uint16).max:
        return np.dtype("<u2")
    return None


def pack(instrument: mes.Instrument, values: np.ndarray) -> list[bytes] | None:
    """One ``bytes`` per row of a validated answer matrix (NaN = missing).

    Parameters
    ----------
    instrument : mes.Instrument
        The survey's instrument; ``values`` has one column per item, in its order.
    values : ndarray of float, shape (n, k)
        Whole numbers within the response scale, or NaN; as returned by
        :func:`mes.responses.response_matrix`.

    Returns
    -------
    list of bytes or None
        None when the scale is too wide to pack (rows are then read from JSON).

    Examples
    --------
    >>> import numpy as np, mes
    >>> inst = mes.load_instrument("uwes9")   # answers 0..6
    >>> pack(inst, np.array([[0, 6, np.nan, 1, 2, 3, 4, 5, 6]]))
    [b'\\x01\\x07\\x00\\x02\\x03\\x04\\x05\\x06\\x07']
    """
    dtype = packed_dtype(instrument)
    if dtype is None:
        return None
    missing = np.isnan(values)
    codes = np.where(missing, 0, values - instrument.response_scale.min + 1).astype(dtype)
    width = codes.shape[1] * dtype.itemsize
    buffer = np.ascontiguousarray(codes).tobytes()
    return [buffer[start : start + width] for start in range(0, len(buffer), width)]


def unpack(instrument: mes.Instrument, blobs: Sequence[bytes]) -> np.ndarray:
    """The float answer matrix (NaN = missing) of packed rows, in item order.

    Raises
    ------
    ValueError
        When a row's length does not match the instrument (a row packed for
        another instrument: the stored data would be corrupt).

    Examples
    --------
    >>> import numpy as np, mes
    >>> inst = mes.load_instrument("uwes9")
    >>> row = np.array([[0, 6, np.nan, 1, 2, 3, 4, 5, 6]])
    >>> np.array_equal(unpack(inst, pack(inst, row)), row, equal_nan=True)
    True
    """
    dtype, width = _row_format(instrument)
    if set(map(len, blobs)) - {width}:  # a C loop; find the culprit only when there is one
        bad = next(i for i, blob in enumerate(blobs) if len(blob) != width)
        raise ValueError(
            f"packed row {bad} has {len(blobs[bad])} bytes; instrument {instrument.id!r} "
            f"version {instrument.version!r} needs {width} ({len(instrument.item_ids)} items)"
        )
    return _decode(instrument, b"".join(blobs), dtype)


def unpack_joined(
    instrument: mes.Instrument, joined: Sequence[bytes], rows: Sequence[int]
) -> np.ndarray:
    """:func:`unpack` for rows the database has already concatenated, part by part.

    Parameters
    ----------
    joined : sequence of bytes
        Each the packed rows of one part, end to end (PostgreSQL's
        ``string_agg(packed, '')``, one per group of a ``GROUP BY``).
    rows : sequence of int
        How many rows each part holds.

    Raises
    ------
    ValueError
        When a part's length is not ``rows`` packed rows of this instrument.

    Examples
    --------
    >>> import numpy as np, mes
    >>> inst = mes.load_instrument("uwes9")
    >>> a, b = np.full((2, 9), 3.0), np.full((1, 9), 6.0)
    >>> values = unpack_joined(inst, [b"".join(pack(inst, a)), pack(inst, b)[0]], [2, 1])
    >>> values[:, 0].tolist()
    [3.0, 3.0, 6.0]
    """
    dtype, width = _row_format(instrument)
    for part, (data, n) in enumerate(zip(joined, rows, strict=True)):
        if len(data) != n * width:
            raise ValueError(
                f"packed part {part} has {len(data)} bytes for {n} rows; instrument "
                f"{instrument.id!r} version {instrument.version!r} needs {width} a row "
                f"({len(instrument.item_ids)} items)"
            )
    return _decode(instrument, b"".join(joined), dtype)


def _row_format(instrument: mes.Instrument) -> tuple[np.dtype, int]:
    """The storage type of one answer and the bytes of one packed row."""
    dtype = packed_dtype(instrument)
    if dtype is None:
        raise ValueError(f"instrument {instrument.id!r} has a response scale too wide to pack")
    return dtype, len(instrument.item_ids) * dtype.itemsize


def _decode(instrument: mes.Instrument, data: bytes, dtype: np.dtype) -> np.ndarray:
    codes = np.frombuffer(data, dtype=dtype).reshape(-1, len(instrument.item_ids))
    values = codes.astype(np.float64) + (instrument.response_scale.min - 1)
    values[codes == 0] = np.nan
    return values
