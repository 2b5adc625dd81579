"""Property-based tests of scoring (mes.scoring), driven by mes.testing.

Every property is checked over random instruments (varied response scales,
reverse keying, nested composites, mean/sum, min-answered rules, missing-data
policies) and random answers with missing cells. The reference computation
below is written independently of :mod:`mes.scoring`: pandas, one scale at a
time, straight from the scoring rules (mes/scoring.py).
"""

from __future__ import annotations

import importlib
import math
import sys
from typing import Any

import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, assume, given, note, settings
from hypothesis import strategies as st
from hypothesis.errors import InvalidArgument

import mes
from mes.instrument import Instrument, instrument_from_mapping
from mes.testing import instruments, responses

FAST = settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])


# ----- helpers ------------------------------------------------------------------------------


def with_answers(
    inst_strategy: st.SearchStrategy[Instrument], **response_kwargs: Any
) -> st.SearchStrategy[tuple[Instrument, pd.DataFrame]]:
    return inst_strategy.flatmap(
        lambda inst: responses(inst, **response_kwargs).map(lambda frame: (inst, frame))
    )


def show(inst: Instrument, frame: pd.DataFrame) -> None:
    """Print the drawn case when a property fails (hypothesis shows notes of failures)."""
    note(f"instrument = {inst.model_dump_json(exclude_none=True)}")
    note(f"frame = pd.DataFrame({frame.to_dict('list')!r})")


def redefine(inst: Instrument, **changes: Any) -> Instrument:
    """The same definition with top-level fields replaced (validated again)."""
    data = inst.model_dump(exclude_none=True)
    data.update(changes)
    return instrument_from_mapping(data)


def scoring_with(inst: Instrument, **changes: Any) -> Instrument:
    rules = inst.scoring.model_dump()
    rules.update(changes)
    return redefine(inst, scoring=rules)


def numeric_answers(inst: Instrument, frame: pd.DataFrame) -> pd.DataFrame:
    """Raw answers as floats: codes and text resolved, None/""/NaN as NaN."""
    codes = inst.response_scale.codes or {}

    def convert(value: Any) -> float:
        if value is None or (isinstance(value, float) and math.isnan(value)) or value == "":
            return math.nan
        if isinstance(value, str):
            return float(codes[value]) if value in codes else float(value)
        return float(value)

    return frame[list(inst.item_ids)].map(convert).astype(float)


def needed(inst: Instrument, scale_id: str) -> int:
    scale = inst.scale(scale_id)
    fraction = scale.min_answered if scale.min_answered is not None else inst.scoring.min_answered
    k = len(inst.leaf_items(scale_id))
    # ceil(min_answered * k), after rounding away float noise at 9 decimals as documented
    # (0.6 * 5 is 3.0000000000000004, and must need 3 answers, not 4).
    return math.ceil(round(fraction * k, 9))


def reference(inst: Instrument, frame: pd.DataFrame) -> dict[str, dict[str, np.ndarray]]:
    """Scores computed from the written rules, one scale at a time, with pandas."""
    lo, hi = inst.response_scale.min, inst.response_scale.max
    raw = numeric_answers(inst, frame)
    keyed = raw.copy()
    for item in inst.items:
        if item.reverse:
            keyed[item.id] = (lo + hi) - raw[item.id]
    policy = inst.scoring.missing
    if policy == "median":
        filled = keyed.fillna(keyed.median())
    elif policy == "mean":
        filled = keyed.fillna(keyed.mean())
    else:
        filled = keyed
    out: dict[str, dict[str, np.ndarray]] = {}
    for scale_id in inst.scale_ids:
        cols = list(inst.leaf_items(scale_id))
        answered = raw[cols].notna().sum(axis=1).to_numpy()
        mean = filled[cols].mean(axis=1).to_numpy(dtype=float, copy=True)
        mean[answered < needed(inst, scale_id)] = np.nan
        score = mean * len(cols) if inst.scoring.method == "sum" else mean
        out[scale_id] = {
            "scores": score,
            "percent": (mean - lo) / (hi - lo) * 100.0,
            "answered": answered,
        }
    return out


def assert_tables_equal(
    got: mes.ScoreTable,
    want: mes.ScoreTable | dict[str, dict[str, np.ndarray]],
    rows: Any = slice(None),
) -> None:
    for scale_id in got.instrument.scale_ids:
        for what in ("scores", "percent", "answered"):
            actual = getattr(got, what)[scale_id]
            expected = (
                want[scale_id][what] if isinstance(want, dict) else getattr(want, what)[scale_id]
            )
            np.testing.assert_allclose(
                actual,
                np.asarray(expected)[rows],
                rtol=1e-12,
                atol=1e-12,
                equal_nan=True,
                err_msg=f"{what} of scale {scale_id!r}",
            )


# ----- agreement with the written rules -----------------------------------------------------


@FAST
@given(with_answers(instruments(), max_size=12, missing=0.3, coded=0.3, text=0.2))
def test_scores_match_independent_reference(case: tuple[Instrument, pd.DataFrame]) -> None:
    inst, frame = case
    show(inst, frame)
    assert_tables_equal(mes.score(inst, frame), reference(inst, frame))


@FAST
@given(with_answers(instruments(missing=("median", "mean")), min_size=2, max_size=15, missing=0.5))
def test_median_and_mean_imputation_match_reference(
    case: tuple[Instrument, pd.DataFrame],
) -> None:
    inst, frame = case
    show(inst, frame)
    table = mes.score(inst, frame)
    assert_tables_equal(table, reference(inst, frame))


def test_median_imputation_example_worked_by_hand() -> None:
    # Item b has answers 1, 3, 4 (median 3, mean 8/3); respondent 3 skipped it.
    inst = instrument_from_mapping(
        {
            "id": "t",
            "version": "1",
            "title": "T",
            "licence": "CC0",
            "response_scale": {"min": 1, "max": 5},
            "scoring": {"missing": "median", "min_answered": 0.5},
            "items": [{"id": "a"}, {"id": "b", "reverse": True}],
            "scales": [{"id": "s", "items": ["a", "b"]}],
        }
    )
    frame = pd.DataFrame({"a": [2, 4, 5, 1], "b": [5, 3, 2, None]})
    # keyed b: 1, 3, 4, missing -> median 3
    np.testing.assert_array_equal(mes.score(inst, frame).scores["s"], [1.5, 3.5, 4.5, 2.0])
    as_mean = scoring_with(inst, missing="mean")
    np.testing.assert_allclose(mes.score(as_mean, frame).scores["s"][3], (1 + 8 / 3) / 2)


# ----- order and subsets --------------------------------------------------------------------


@FAST
@given(st.data())
def test_permuting_respondents_permutes_the_result(data: st.DataObject) -> None:
    inst, frame = data.draw(with_answers(instruments(), max_size=12, missing=0.3))
    perm = np.array(data.draw(st.permutations(range(len(frame)))), dtype=int)
    table = mes.score(inst, frame)
    shuffled = mes.score(inst, frame.iloc[perm])
    assert list(shuffled.index) == list(frame.index[perm])
    assert_tables_equal(shuffled, table, rows=perm)


@FAST
@given(st.data())
def test_scoring_a_subset_gives_the_subsets_rows(data: st.DataObject) -> None:
    inst, frame = data.draw(
        with_answers(instruments(missing=("available",)), max_size=12, missing=0.3)
    )
    rows = np.array(
        data.draw(st.lists(st.integers(0, len(frame) - 1), unique=True, min_size=1)), dtype=int
    )
    assert_tables_equal(mes.score(inst, frame.iloc[rows]), mes.score(inst, frame), rows=rows)


# ----- ranges -------------------------------------------------------------------------------


@FAST
@given(with_answers(instruments(), max_size=12, missing=0.3))
def test_scores_within_scale_and_percent_within_0_100(
    case: tuple[Instrument, pd.DataFrame],
) -> None:
    inst, frame = case
    show(inst, frame)
    lo, hi = inst.response_scale.min, inst.response_scale.max
    table = mes.score(inst, frame)
    for scale_id in inst.scale_ids:
        k = len(inst.leaf_items(scale_id))
        factor = k if inst.scoring.method == "sum" else 1
        scores, pct = table.scores[scale_id], table.percent[scale_id]
        assert scores.dtype == np.float64
        assert np.array_equal(np.isnan(scores), np.isnan(pct))
        ok = ~np.isnan(scores)
        assert (scores[ok] >= lo * factor - 1e-9).all()
        assert (scores[ok] <= hi * factor + 1e-9).all()
        assert (pct[ok] >= -1e-9).all()
        assert (pct[ok] <= 100 + 1e-9).all()


@FAST
@given(with_answers(instruments(methods=("sum",)), max_size=12, missing=0.3))
def test_sum_is_mean_times_number_of_items(case: tuple[Instrument, pd.DataFrame]) -> None:
    inst, frame = case
    show(inst, frame)
    as_sum = mes.score(inst, frame)
    as_mean = mes.score(scoring_with(inst, method="mean"), frame)
    for scale_id in inst.scale_ids:
        k = len(inst.leaf_items(scale_id))
        np.testing.assert_allclose(
            as_sum.scores[scale_id], as_mean.scores[scale_id] * k, rtol=1e-12, equal_nan=True
        )
        np.testing.assert_array_equal(as_sum.percent[scale_id], as_mean.percent[scale_id])


# ----- keying -------------------------------------------------------------------------------


@FAST
@given(with_answers(instruments(), max_size=12, missing=0.3))
def test_reversing_every_key_and_every_answer_changes_nothing(
    case: tuple[Instrument, pd.DataFrame],
) -> None:
    inst, frame = case
    show(inst, frame)
    lo, hi = inst.response_scale.min, inst.response_scale.max
    flipped = redefine(
        inst,
        items=[
            {**item.model_dump(exclude_none=True), "reverse": not item.reverse}
            for item in inst.items
        ],
    )
    mirrored = (lo + hi) - frame[list(inst.item_ids)]
    assert_tables_equal(mes.score(flipped, mirrored), mes.score(inst, frame))


@FAST
@given(st.data())
def test_raising_one_answer_never_lowers_its_leaf_scales(data: st.DataObject) -> None:
    inst, frame = data.draw(with_answers(instruments(), max_size=10, missing=0.3))
    hi = inst.response_scale.max
    row = data.draw(st.integers(0, len(frame) - 1))
    col = data.draw(st.sampled_from(inst.item_ids))
    answers = frame.to_numpy(dtype=float, copy=True)
    j = inst.item_ids.index(col)
    before = answers[row, j]
    assume(not np.isnan(before) and before < hi)
    answers[row, j] = data.draw(st.integers(int(before) + 1, hi))
    raised = pd.DataFrame(answers, columns=frame.columns)
    old, new = mes.score(inst, frame), mes.score(inst, raised)
    reverse = inst.item(col).reverse
    leaves = [s for s in inst.scale_ids if inst.scale(s).items is not None]
    for scale_id in leaves:
        if col not in inst.leaf_items(scale_id):
            continue
        a, b = old.scores[scale_id][row], new.scores[scale_id][row]
        assert np.isnan(a) == np.isnan(b)
        if not np.isnan(a):
            assert (b <= a + 1e-12) if reverse else (b >= a - 1e-12), (scale_id, a, b)


def test_raising_a_reverse_keyed_answer_lowers_the_scale() -> None:
    inst = instrument_from_mapping(
        {
            "id": "t",
            "version": "1",
            "title": "T",
            "licence": "CC0",
            "response_scale": {"min": 0, "max": 4},
            "items": [{"id": "a"}, {"id": "b", "reverse": True}],
            "scales": [{"id": "s", "items": ["a", "b"]}],
        }
    )
    scores = mes.score(inst, {"a": [2, 2], "b": [1, 3]}).scores["s"]
    np.testing.assert_array_equal(scores, [2.5, 1.5])  # (2 + 3) / 2, (2 + 1) / 2


# ----- the min-answered rule ----------------------------------------------------------------


@FAST
@given(with_answers(instruments(), max_size=12, missing=0.5))
def test_score_is_missing_exactly_below_the_min_answered_threshold(
    case: tuple[Instrument, pd.DataFrame],
) -> None:
    inst, frame = case
    show(inst, frame)
    table = mes.score(inst, frame)
    raw = numeric_answers(inst, frame)
    imputing = inst.scoring.missing != "available"
    for scale_id in inst.scale_ids:
        cols = list(inst.leaf_items(scale_id))
        answered = raw[cols].notna().sum(axis=1).to_numpy()
        np.testing.assert_array_equal(table.answered[scale_id], answered)
        assert table.answered[scale_id].dtype == np.int64
        # A value exists for a cell when answered, or imputed from an item that has answers.
        has_value = raw[cols].notna().to_numpy(copy=True)
        if imputing:
            has_value |= raw[cols].notna().any(axis=0).to_numpy()[None, :]
        expect_missing = (answered < needed(inst, scale_id)) | ~has_value.any(axis=1)
        np.testing.assert_array_equal(
            np.isnan(table.scores[scale_id]), expect_missing, err_msg=scale_id
        )


@pytest.mark.parametrize(
    ("fraction", "k", "need"),
    [(0.5, 5, 3), (0.6, 5, 3), (0.5, 4, 2), (1 / 3, 3, 1), (0.0, 4, 0), (1.0, 3, 3), (0.7, 10, 7)],
)
def test_min_answered_counts_use_ceil(fraction: float, k: int, need: int) -> None:
    inst = instrument_from_mapping(
        {
            "id": "t",
            "version": "1",
            "title": "T",
            "licence": "CC0",
            "response_scale": {"min": 1, "max": 5},
            "scoring": {"min_answered": fraction},
            "items": [{"id": f"i{j}"} for j in range(k)],
            "scales": [{"id": "s", "items": [f"i{j}" for j in range(k)]}],
        }
    )
    # Respondent r answers the first r items.
    answers = {f"i{j}": [3 if j < r else None for r in range(k + 1)] for j in range(k)}
    scores = mes.score(inst, answers).scores["s"]
    scored = ~np.isnan(scores)
    expected = [r >= need and r > 0 for r in range(k + 1)]
    assert scored.tolist() == expected


# ----- input forms the strategies produce ---------------------------------------------------


@FAST
@given(
    with_answers(instruments(), max_size=10, missing=0.2, coded=0.5, text=0.3, respondent_ids=True)
)
def test_coded_and_text_answers_score_like_their_values(
    case: tuple[Instrument, pd.DataFrame],
) -> None:
    inst, frame = case
    show(inst, frame)
    numeric = numeric_answers(inst, frame)
    table = mes.score(inst, frame)
    assert list(table.index) == list(frame["respondent"])
    assert_tables_equal(table, mes.score(inst, numeric))


def test_text_answers_with_blank_cells_score_like_numbers() -> None:
    # Text as read from a CSV without type inference: "3", and "" or None for no answer.
    inst = mes.load_instrument("uwes9")
    for blank in ("", None):
        answers = {f"uwes{i}": ["3", blank] for i in range(1, 10)}
        np.testing.assert_array_equal(mes.score(inst, answers).scores["total"], [3.0, np.nan])


# ----- the strategies themselves ------------------------------------------------------------


# Collect what many draws cover (no shrinking, unlike hypothesis.find); derandomized: no flakes.
SURVEY = settings(max_examples=300, deadline=None, database=None, derandomize=True)

FEATURES: dict[str, Any] = {
    "a scale starting at 0": lambda i: i.response_scale.min == 0,
    "a negative scale minimum": lambda i: i.response_scale.min < 0,
    "a reverse-keyed item": lambda i: bool(i.reverse_mask.any()),
    "codes": lambda i: bool(i.response_scale.codes),
    "favourable_min": lambda i: i.response_scale.favourable_min is not None,
    "method sum": lambda i: i.scoring.method == "sum",
    "median imputation": lambda i: i.scoring.missing == "median",
    "mean imputation": lambda i: i.scoring.missing == "mean",
    "a min_answered override": lambda i: any(s.min_answered is not None for s in i.scales),
    "a composite of a composite": lambda i: any(
        i.scale(child).scales is not None for s in i.scales if s.scales for child in s.scales
    ),
    "overlapping leaf scales": lambda i: sum(len(s.items or []) for s in i.scales) > len(i.items),
}


def test_instruments_strategy_reaches_every_feature() -> None:
    seen: set[str] = set()

    @SURVEY
    @given(instruments())
    def survey(inst: Instrument) -> None:
        seen.update(name for name, has in FEATURES.items() if has(inst))

    survey()
    assert seen == set(FEATURES), f"never drawn: {set(FEATURES) - seen}"


def test_instruments_strategy_honours_its_options() -> None:
    @settings(max_examples=40, deadline=None)
    @given(
        instruments(
            min_items=3,
            max_items=4,
            max_points=3,
            methods=["sum"],
            missing=["available"],
            reverse_keyed=False,
            composites=False,
            codes=False,
        )
    )
    def check(inst: Instrument) -> None:
        assert 3 <= len(inst.items) <= 4
        assert inst.response_scale.max - inst.response_scale.min <= 2
        assert inst.scoring.method == "sum"
        assert inst.scoring.missing == "available"
        assert not inst.reverse_mask.any()
        assert not inst.response_scale.codes
        assert all(s.items is not None for s in inst.scales)

    check()


def test_responses_strategy_reaches_blank_rows_blank_items_and_codes() -> None:
    inst = mes.load_instrument("uwes9")
    rs = {**inst.response_scale.model_dump(exclude_none=True), "codes": {"never": 0, "always": 6}}
    coded = redefine(inst, response_scale=rs)
    seen: set[str] = set()

    @SURVEY
    @given(responses(coded, missing=0.3, coded=0.8))
    def survey(frame: pd.DataFrame) -> None:
        blank = frame.isna() | (frame == "")
        if blank.all(axis=1).any():
            seen.add("blank row")
        if blank.all(axis=0).any():
            seen.add("blank item")
        strings = {v for v in frame.to_numpy().ravel() if isinstance(v, str) and v}
        assert strings <= {"never", "always"}
        if strings:
            seen.add("codes")

    survey()
    assert seen == {"blank row", "blank item", "codes"}


@FAST
@given(st.data())
def test_responses_are_valid_answers(data: st.DataObject) -> None:
    inst = data.draw(instruments())
    frame = data.draw(responses(inst, min_size=2, max_size=5, missing=0.0))
    lo, hi = inst.response_scale.min, inst.response_scale.max
    assert list(frame.columns) == list(inst.item_ids)
    assert 2 <= len(frame) <= 5
    values = frame.to_numpy()
    assert not np.isnan(values).any()
    assert ((values >= lo) & (values <= hi) & (values == np.floor(values))).all()


@FAST
@given(
    bounds=st.sampled_from([(1, 5), (0, 6), (-3, 3), (-128, 127), (0, 200), (-1000, 1000)]),
    answers=st.lists(
        st.one_of(
            st.integers(-1100, 1100).map(float),
            st.floats(allow_nan=True, allow_infinity=True),
            st.sampled_from([-0.0, 0.5, 127.0, 128.0, 255.0, 256.0, -129.0, 2.0**63, 1e300]),
        ),
        min_size=1, max_size=40,
    ),
)
def test_an_answer_is_invalid_exactly_when_not_a_whole_number_on_the_scale(
    bounds: tuple[int, int], answers: list[float]
) -> None:
    # The range check casts to a small integer type (mes.responses._check_range); the
    # reference here is the rule itself, in floats: NaN is missing, anything else must be
    # a whole number from min to max (the scoring rules).
    lo, hi = bounds
    inst = instrument_from_mapping({
        "id": "t", "version": "1", "title": "T", "licence": "CC0",
        "response_scale": {"min": lo, "max": hi},
        "items": [{"id": "a"}, {"id": "b"}], "scales": [{"id": "s", "items": ["a", "b"]}],
    })
    values = np.column_stack([answers, answers[::-1]]).astype(np.float64)
    matrix = mes.responses.response_matrix(inst, values, errors="missing")
    with np.errstate(invalid="ignore"):
        expected = ~np.isnan(values) & ~((values >= lo) & (values <= hi)
                                         & (np.floor(values) == values))
    rows, cols = np.nonzero(expected)
    assert [(p.row, p.item) for p in matrix.invalid] == [
        (int(r), "ab"[c]) for r, c in zip(rows, cols, strict=True)]
    kept = ~expected & ~np.isnan(values)
    assert np.array_equal(matrix.values[kept], values[kept])
    assert np.isnan(matrix.values[expected]).all()


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"min_items": 1}, "min_items"),
        ({"min_items": 5, "max_items": 3}, "max_items"),
        ({"max_points": 1}, "max_points"),
        ({"methods": ()}, "methods"),
        ({"missing": ("pairwise",)}, "pairwise"),
    ],
)
def test_instruments_strategy_rejects_bad_arguments(kwargs: dict[str, Any], message: str) -> None:
    with pytest.raises(InvalidArgument, match=message):
        instruments(**kwargs)


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"missing": 1.5}, "missing"),
        ({"coded": -0.1}, "coded"),
        ({"min_size": 3, "max_size": 2}, "min_size"),
    ],
)
def test_responses_strategy_rejects_bad_arguments(kwargs: dict[str, Any], message: str) -> None:
    with pytest.raises(InvalidArgument, match=message):
        responses(mes.load_instrument("uwes9"), **kwargs)
    with pytest.raises(InvalidArgument, match=r"mes\.Instrument"):
        responses("uwes9")  # type: ignore[arg-type]


def test_importing_mes_testing_without_hypothesis_names_the_extra(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    for name in [m for m in sys.modules if m == "mes.testing" or m.startswith("mes.testing.")]:
        monkeypatch.delitem(sys.modules, name)
    monkeypatch.setitem(sys.modules, "hypothesis", None)  # import hypothesis -> ImportError
    with pytest.raises(ImportError, match=r"pip install 'medical-engagement-scale\[testing\]'"):
        importlib.import_module("mes.testing")
