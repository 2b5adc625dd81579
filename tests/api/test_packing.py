"""Packed answers round-trip for any response scale (api/domain/responses/packing.py)."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from api.domain.responses.packing import pack, packed_dtype, unpack, unpack_joined
from mes.instrument import instrument_from_mapping


def _instrument(lo: int, hi: int, k: int = 4) -> object:
    return instrument_from_mapping(
        {
            "id": "t",
            "version": "1",
            "title": "T",
            "licence": "CC0",
            "response_scale": {"min": lo, "max": hi},
            "items": [{"id": f"i{j}"} for j in range(k)],
            "scales": [{"id": "s", "items": [f"i{j}" for j in range(k)]}],
        }
    )


@settings(max_examples=150, deadline=None)
@given(
    lo=st.integers(-300, 300),
    span=st.sampled_from([1, 2, 4, 6, 254, 255, 256, 1000, 65_534]),
    k=st.integers(2, 6),
    data=st.data(),
)
def test_pack_unpack_round_trips(lo: int, span: int, k: int, data: st.DataObject) -> None:
    hi = lo + span
    inst = _instrument(lo, hi, k)
    n = data.draw(st.integers(0, 12))
    cells = st.one_of(st.none(), st.integers(lo, hi))
    raw = data.draw(st.lists(st.lists(cells, min_size=k, max_size=k), min_size=n, max_size=n))
    values = np.array(raw, dtype=float).reshape(n, k)
    blobs = pack(inst, values)
    assert blobs is not None
    assert len(blobs) == n
    width = k * (1 if span + 1 <= 255 else 2)
    assert all(len(b) == width for b in blobs)
    assert np.array_equal(unpack(inst, blobs), values, equal_nan=True)
    # What PostgreSQL's string_agg hands back per group: the rows end to end, in parts.
    cut = data.draw(st.integers(0, n))
    parts = [b"".join(blobs[:cut]), b"".join(blobs[cut:])]
    joined = unpack_joined(inst, parts, [cut, n - cut])
    assert np.array_equal(joined, values, equal_nan=True)


def test_width_follows_the_scale() -> None:
    assert packed_dtype(_instrument(1, 5)) == np.uint8
    assert packed_dtype(_instrument(0, 254)) == np.uint8  # 255 values + "missing" fit a byte
    assert packed_dtype(_instrument(0, 255)) == np.dtype("<u2")
    assert packed_dtype(_instrument(0, 70_000)) is None
    assert pack(_instrument(0, 70_000), np.zeros((1, 4))) is None


def test_a_row_of_the_wrong_length_is_refused_by_name() -> None:
    inst = _instrument(1, 5, k=4)
    with pytest.raises(ValueError, match=r"packed row 1 has 3 bytes; .* needs 4 \(4 items\)"):
        unpack(inst, [b"\x01\x02\x03\x04", b"\x01\x02\x03"])


def test_a_joined_part_of_the_wrong_length_is_refused_by_name() -> None:
    inst = _instrument(1, 5, k=4)
    with pytest.raises(ValueError, match=r"packed part 1 has 7 bytes for 2 rows; .* needs 4 a row"):
        unpack_joined(inst, [b"\x01" * 4, b"\x01" * 7], [1, 2])
