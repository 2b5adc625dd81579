"""Hypothesis strategies: random instrument definitions and answers to them.

Use them to check, in your own test suite, that scoring keeps the properties
you rely on: that a licensed instrument definition you load scores within the
response scale, that your pipeline is order-independent, that reverse keying
is applied where you expect, and so on. Every instrument drawn is valid under
:func:`mes.instrument.check_instrument`, and every answer drawn is valid for
its instrument, so :func:`mes.score` never raises on what they produce.

Install with the optional extra: ``pip install 'medical-engagement-scale[testing]'``.

References
----------
MacIver DR, Hatfield-Dodds Z, et al. (2019). Hypothesis: A new approach to
property-based testing. Journal of Open Source Software 4(43):1891.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
import pandas as pd
from hypothesis import strategies as st
from hypothesis.errors import InvalidArgument
from hypothesis.extra import numpy as hnp

from mes.instrument import Instrument, instrument_from_mapping
from mes.responses import RESPONDENT_COLUMN

__all__ = ["instruments", "responses"]

_METHODS = ("mean", "sum")
_MISSING_POLICIES = ("available", "median", "mean")

# Fractions users actually configure, plus arbitrary ones (ceil(f * k) edge cases).
_FRACTIONS = st.one_of(
    st.sampled_from([0.0, 0.2, 0.25, 1 / 3, 0.5, 0.6, 2 / 3, 0.75, 0.8, 1.0]),
    st.floats(min_value=0.0, max_value=1.0, allow_nan=False),
)


def _check_choices(name: str, given: Sequence[str], allowed: tuple[str, ...]) -> tuple[str, ...]:
    if isinstance(given, str):
        given = (given,)
    chosen = tuple(given)
    if not chosen:
        raise InvalidArgument(f"{name} must name at least one of {', '.join(allowed)}; got none")
    unknown = [c for c in chosen if c not in allowed]
    if unknown:
        raise InvalidArgument(
            f"{name}: unknown value(s) {', '.join(map(repr, unknown))}; "
            f"choose from {', '.join(allowed)}"
        )
    return chosen


def instruments(
    *,
    min_items: int = 2,
    max_items: int = 8,
    max_points: int = 11,
    methods: Sequence[str] = _METHODS,
    missing: Sequence[str] = _MISSING_POLICIES,
    reverse_keyed: bool = True,
    composites: bool = True,
    codes: bool = True,
) -> st.SearchStrategy[Instrument]:
    """Strategy for valid instrument definitions.

    Each instrument drawn has a response scale of integers ``min..max`` (``min``
    anywhere from -5 to 10, often 0 or 1), optional labels, optional ``codes``
    and ``favourable_min``; items of which some may be reverse-keyed; leaf
    scales that together cover every item (at least two items each, possibly
    overlapping); optionally composite scales over leaf and other composite
    scales (nested, never cyclic, listed in any order); per-scale
    ``min_answered`` overrides; and scoring defaults drawn from ``methods`` and
    ``missing``.

    Parameters
    ----------
    min_items, max_items : int, default 2 and 8
        Bounds on the number of items.
    max_points : int, default 11
        Most answer options on the response scale (``max - min + 1``); at least 2.
    methods : sequence of {"mean", "sum"}, default both
        Scoring methods to draw from.
    missing : sequence of {"available", "median", "mean"}, default all three
        Missing-data policies to draw from. Pass ``("available",)`` for
        properties that hold only without imputation (e.g. scoring a subset of
        respondents gives the subset's rows).
    reverse_keyed : bool, default True
        Allow reverse-keyed items.
    composites : bool, default True
        Allow composite scales (including composites of composites).
    codes : bool, default True
        Allow ``response_scale.codes`` (coded answers such as ``"c4"``).

    Returns
    -------
    hypothesis.strategies.SearchStrategy of Instrument

    Raises
    ------
    hypothesis.errors.InvalidArgument
        When the bounds are impossible or a method or policy is unknown.

    Examples
    --------
    Check a property over many random definitions:

    >>> from hypothesis import given, settings
    >>> from mes.testing import instruments
    >>> @settings(max_examples=30, deadline=None)
    ... @given(instruments(methods=("sum",), missing=("available",)))
    ... def test_every_item_is_scored(inst):
    ...     assert inst.scoring.method == "sum"
    ...     scored = {i for s in inst.scale_ids for i in inst.leaf_items(s)}
    ...     assert scored == set(inst.item_ids)
    >>> test_every_item_is_scored()
    """
    if min_items < 2:
        raise InvalidArgument(f"min_items must be at least 2 (a scale needs two); got {min_items}")
    if max_items < min_items:
        raise InvalidArgument(f"max_items ({max_items}) must be >= min_items ({min_items})")
    if max_points < 2:
        raise InvalidArgument(f"max_points must be at least 2; got {max_points}")
    chosen_methods = _check_choices("methods", methods, _METHODS)
    chosen_missing = _check_choices("missing", missing, _MISSING_POLICIES)

    @st.composite
    def draw_instrument(draw: st.DrawFn) -> Instrument:
        lo = draw(st.one_of(st.sampled_from([0, 1]), st.integers(-5, 10)))
        hi = lo + draw(st.integers(1, max_points - 1))
        response_scale: dict[str, Any] = {"min": lo, "max": hi}
        if draw(st.booleans()):
            response_scale["labels"] = {v: f"option {v}" for v in range(lo, hi + 1)}
        if codes and draw(st.booleans()):
            coded = draw(st.lists(st.integers(lo, hi), min_size=1, unique=True))
            response_scale["codes"] = {_code_for(v): v for v in sorted(coded)}
        if draw(st.booleans()):
            response_scale["favourable_min"] = draw(st.integers(lo, hi))

        n = draw(st.integers(min_items, max_items))
        item_ids = [f"q{j + 1}" for j in range(n)]
        flags = draw(st.lists(st.booleans(), min_size=n, max_size=n)) if reverse_keyed else []
        items = [
            {"id": item_id, "reverse": bool(flags[j]) if flags else False}
            for j, item_id in enumerate(item_ids)
        ]

        # Leaf scales: a random partition of the items into groups of >= 2 ...
        n_leaves = draw(st.integers(1, n // 2))
        order = draw(st.permutations(range(n)))
        sizes = [2] * n_leaves
        for _ in range(n - 2 * n_leaves):
            sizes[draw(st.integers(0, n_leaves - 1))] += 1
        scales: list[dict[str, Any]] = []
        start = 0
        for size in sizes:
            members = [item_ids[j] for j in order[start : start + size]]
            start += size
            scales.append({"id": f"s{len(scales) + 1}", "items": members})
        # ... plus, sometimes, a leaf scale that overlaps the others.
        if draw(st.booleans()):
            extra = draw(st.lists(st.sampled_from(item_ids), min_size=2, unique=True))
            scales.append({"id": f"s{len(scales) + 1}", "items": extra})
        if composites:
            for _ in range(draw(st.integers(0, 3))):
                known = [scale["id"] for scale in scales]
                children = draw(
                    st.lists(st.sampled_from(known), min_size=1, max_size=4, unique=True)
                )
                scales.append({"id": f"s{len(scales) + 1}", "scales": children})
        for scale in scales:
            if draw(st.booleans()):
                scale["min_answered"] = draw(_FRACTIONS)
        scales = [scales[j] for j in draw(st.permutations(range(len(scales))))]

        definition = {
            "id": "generated",
            "version": "1",
            "title": "Instrument drawn by mes.testing.instruments()",
            "licence": "CC0-1.0 (generated for tests)",
            "response_scale": response_scale,
            "scoring": {
                "method": draw(st.sampled_from(chosen_methods)),
                "min_answered": draw(_FRACTIONS),
                "missing": draw(st.sampled_from(chosen_missing)),
            },
            "items": items,
            "scales": scales,
        }
        return instrument_from_mapping(definition, source="<mes.testing.instruments>")

    return draw_instrument()


def _code_for(value: int) -> str:
    """A code that never parses as a number: ``c4``, ``c_m2`` for -2."""
    return f"c{value}" if value >= 0 else f"c_m{-value}"


def responses(
    instrument: Instrument,
    *,
    min_size: int = 1,
    max_size: int = 20,
    missing: float = 0.2,
    coded: float = 0.0,
    text: float = 0.0,
    respondent_ids: bool = False,
) -> st.SearchStrategy[pd.DataFrame]:
    """Strategy for a DataFrame of valid answers to ``instrument``.

    One row per respondent and one column per item, in the instrument's item
    order. Answers are whole numbers within the response scale; missing cells
    are NaN in numeric columns and ``None``, ``""`` or NaN in coded (object)
    columns. When ``missing`` is positive, some respondents and sometimes an
    item are left entirely blank, the edge cases of the min-answered rule and
    of imputation. Hypothesis shrinks failing examples towards fewer
    respondents, fewer missing cells and answers nearer the scale minimum.

    Parameters
    ----------
    instrument : Instrument
        The instrument answered, e.g. drawn from :func:`instruments` or loaded
        with :func:`mes.load_instrument`.
    min_size, max_size : int, default 1 and 20
        Bounds on the number of respondents (rows).
    missing : float, default 0.2
        Rough share of cells left missing, from 0 (none) to 1 (all). Hypothesis
        deliberately over-samples edge cases, so the realised share varies.
    coded : float, default 0.0
        Rough share of answers written as their code from
        ``response_scale.codes`` (where the value has one). With a positive
        share, item columns hold Python objects (codes and integers mixed).
    text : float, default 0.0
        Rough share of the other answers written as text (``"4"``, as read
        from a CSV file without type inference). With a positive share, item
        columns hold Python objects.
    respondent_ids : bool, default False
        Add a ``respondent`` column of unique ids (``"r0"``, ``"r1"``, ...).

    Returns
    -------
    hypothesis.strategies.SearchStrategy of pandas.DataFrame

    Raises
    ------
    hypothesis.errors.InvalidArgument
        When the sizes or shares are out of range.

    Examples
    --------
    Scoring answers to the bundled MES never leaves the response scale:

    >>> import numpy as np
    >>> import mes
    >>> from hypothesis import given, settings
    >>> from mes.testing import responses
    >>> MES = mes.load_instrument("mes")
    >>> @settings(max_examples=25, deadline=None)
    ... @given(responses(MES, max_size=50, missing=0.1))
    ... def test_index_within_scale(frame):
    ...     index = mes.score(MES, frame).scores["index"]
    ...     index = index[~np.isnan(index)]
    ...     assert ((index >= 1) & (index <= 5)).all()
    >>> test_index_within_scale()
    """
    if not isinstance(instrument, Instrument):
        raise InvalidArgument(
            f"instrument must be a mes.Instrument (see mes.load_instrument); "
            f"got {type(instrument).__name__}"
        )
    if min_size < 0 or max_size < min_size:
        raise InvalidArgument(
            f"need 0 <= min_size <= max_size; got min_size={min_size}, max_size={max_size}"
        )
    for name, share in (("missing", missing), ("coded", coded), ("text", text)):
        if not 0.0 <= share <= 1.0:
            raise InvalidArgument(f"{name} must be a share between 0 and 1; got {share}")

    rs = instrument.response_scale
    item_ids = list(instrument.item_ids)
    k = len(item_ids)
    code_of: dict[int, str] = {}
    for code, value in (rs.codes or {}).items():
        code_of.setdefault(value, code)

    def threshold(share: float) -> int:
        # A cell is affected when its uniform draw in 0..999 is >= this; draws
        # shrink towards 0, so failing examples shrink towards "unaffected".
        return round(1000 * (1.0 - share))

    @st.composite
    def draw_frame(draw: st.DrawFn) -> pd.DataFrame:
        n = draw(st.integers(min_size, max_size))
        values = draw(
            hnp.arrays(np.int64, (n, k), elements=st.integers(rs.min, rs.max), fill=st.nothing())
        )
        gone = np.zeros((n, k), dtype=bool)
        if missing > 0 and n > 0:
            gone |= _mask(draw, (n, k), threshold(missing))
            # Whole blank respondents and items: the edge cases of min_answered and imputation.
            blank_rows = draw(st.sets(st.integers(0, n - 1), max_size=max(1, n // 4)))
            gone[sorted(blank_rows), :] = True
            blank_items = draw(st.sets(st.integers(0, k - 1), max_size=1))
            gone[:, sorted(blank_items)] = True
        use_code = (
            _mask(draw, (n, k), threshold(coded))
            if coded > 0 and code_of
            else np.zeros((n, k), bool)
        )
        as_text = _mask(draw, (n, k), threshold(text)) if text > 0 else np.zeros((n, k), bool)
        if use_code.any() or as_text.any():
            marker = draw(st.sampled_from([None, "", float("nan")]))
            cells = values.astype(object)
            for row, col in zip(*np.nonzero(as_text), strict=True):
                cells[row, col] = str(values[row, col])
            for row, col in zip(*np.nonzero(use_code), strict=True):
                code = code_of.get(int(values[row, col]))
                if code is not None:
                    cells[row, col] = code
            cells[gone] = marker
            frame = pd.DataFrame(cells, columns=item_ids, dtype=object)
        else:
            floats = values.astype(np.float64)
            floats[gone] = np.nan
            frame = pd.DataFrame(floats, columns=item_ids)
        if respondent_ids:
            frame.insert(0, RESPONDENT_COLUMN, [f"r{i}" for i in range(n)])
        return frame

    return draw_frame()


def _mask(draw: st.DrawFn, shape: tuple[int, int], cut: int) -> np.ndarray:
    uniform = draw(hnp.arrays(np.int64, shape, elements=st.integers(0, 999), fill=st.nothing()))
    return np.asarray(uniform >= cut, dtype=bool)
