"""Scoring rules (mes/scoring.py), each on a case worked by hand."""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd
import pytest

import mes
from mes.instrument import instrument_from_mapping

NAN = np.nan


def make(**overrides: Any) -> mes.Instrument:
    data: dict[str, Any] = {
        "id": "hand",
        "version": "1",
        "title": "Worked by hand",
        "licence": "CC0",
        "response_scale": {"min": 1, "max": 5, "codes": {"SD": 1, "D": 2, "N": 3, "A": 4,
                                                           "SA": 5}},
        "items": [{"id": "a"}, {"id": "b", "reverse": True}, {"id": "c"}, {"id": "d"}],
        "scales": [
            {"id": "ab", "items": ["a", "b"]},
            {"id": "bcd", "items": ["b", "c", "d"]},
            {"id": "all", "scales": ["ab", "bcd"]},
        ],
    }
    data.update(overrides)
    return instrument_from_mapping(data)


ROWS = [
    {"a": 5, "b": 1, "c": 4, "d": 2},        # b keyed 5
    {"a": 1, "b": None, "c": 3, "d": NAN},   # b, d missing
    {"a": "", "b": 2, "c": None, "d": None}, # only b (keyed 4)
]
# Hand-worked keyed means (b -> 6 - b):
#   row 0: ab = (5+5)/2 = 5; bcd = (5+4+2)/3 = 11/3; all = (5+5+4+2)/4 = 4   (union: b once)
#   row 1: ab = 1 (1 of 2 answered: ceil(.5*2)=1 ok); bcd = 3 (1 of 3 < 2: NaN); all = 2 (2 of 4)
#   row 2: ab = 4; bcd: 1 of 3 -> NaN; all: 1 of 4 < 2 -> NaN
EXPECTED = {
    "ab": [5.0, 1.0, 4.0],
    "bcd": [11 / 3, NAN, NAN],
    "all": [4.0, 2.0, NAN],
}


def test_hand_worked_scores_answered_and_percent() -> None:
    table = mes.score(make(), ROWS)
    for scale, expected in EXPECTED.items():
        np.testing.assert_allclose(table.scores[scale], expected, rtol=0, atol=1e-12)
        np.testing.assert_allclose(table.percent[scale], (np.array(expected) - 1) / 4 * 100)
    assert table.answered["ab"].tolist() == [2, 1, 1]
    assert table.answered["bcd"].tolist() == [3, 1, 1]
    assert table.answered["all"].tolist() == [4, 2, 1]
    assert table.answered["all"].dtype == np.int64


@pytest.mark.parametrize("shape", ["frame", "mapping", "records", "array", "list"])
def test_every_input_shape_gives_the_same_scores(shape: str) -> None:
    frame = pd.DataFrame(ROWS).replace("", None).astype(float)
    given: Any = {
        "frame": frame,
        "mapping": {c: frame[c].tolist() for c in frame},
        "records": frame.to_dict("records"),
        "array": frame.to_numpy(),
        "list": frame.to_numpy().tolist(),
    }[shape]
    table = mes.score(make(), given)
    for scale, expected in EXPECTED.items():
        np.testing.assert_allclose(table.scores[scale], expected)


def test_coded_answers_and_numeric_text_are_translated() -> None:
    coded = [{"a": "SA", "b": "SD", "c": "4", "d": " D "}, {"a": 1, "b": "", "c": "N", "d": None}]
    table = mes.score(make(), coded)
    np.testing.assert_allclose(table.scores["all"], [4.0, 2.0])


def test_every_invalid_answer_is_listed_with_row_item_and_value() -> None:
    rows = [
        {"a": 6, "b": 1, "c": 2.5, "d": 1},
        {"a": 1, "b": "XX", "c": 1, "d": True},
        {"a": 0, "b": 1, "c": float("inf"), "d": 1},
    ]
    with pytest.raises(mes.InvalidResponsesError) as info:
        mes.score(make(), rows)
    found = [(p.row, p.item, p.value) for p in info.value.problems]
    assert found[:4] == [(0, "a", 6), (0, "c", 2.5), (1, "b", "XX"), (1, "d", True)]
    assert found[4][:2] == (2, "a")
    assert found[5][:2] == (2, "c")
    assert len(found) == 6
    messages = {(p.row, p.item): p.message for p in info.value.problems}
    assert messages[(0, "a")].startswith("outside the response scale 1..5")
    assert messages[(0, "c")].startswith("not a whole number")
    assert "known code" in messages[(1, "b")]
    assert "errors='missing'" in str(info.value)


def test_errors_missing_scores_invalid_cells_as_missing_and_counts_them() -> None:
    rows = [{"a": 9, "b": 1, "c": 4, "d": 2}]
    table = mes.score(make(), rows, errors="missing")
    assert [(p.row, p.item, p.value) for p in table.invalid] == [(0, "a", 9)]
    assert table.scores["ab"].tolist() == [5.0]  # only b (keyed 5)
    assert table.answered["ab"].tolist() == [1]


def test_strict_refuses_item_like_columns_and_keeps_attributes() -> None:
    rows = [{"a": 1, "b": 1, "c": 1, "d": 1, "site": "North", "respondent": "r1"}]
    assert mes.score(make(), rows).index.tolist() == ["r1"]
    # Attribute columns every real file has are not what strict is about.
    assert mes.score(make(), rows, strict=True).attributes["site"].tolist() == ["North"]
    typo = [{**rows[0], "A": 2, "B": 3}]
    with pytest.raises(mes.ResponseColumnsError, match="'A', 'B' look like item ids") as info:
        mes.score(make(), typo, strict=True)
    assert info.value.unknown == ["A", "B"]  # 'respondent' and 'site' are never item-like
    assert "strict=False" not in str(info.value)
    assert "'B' meant to be 'b'" in str(info.value)
    assert mes.score(make(), typo).index.tolist() == ["r1"]


def test_scores_are_frames_indexed_by_respondent_and_to_frame_keeps_attributes() -> None:
    rows = [{"a": 1, "b": 2, "c": 3, "d": 4, "site": "North", "respondent": "r1"},
            {"a": 5, "b": 5, "c": 1, "d": 1, "site": "South", "respondent": "r2"}]
    table = mes.score(make(), rows)
    assert table.scores["ab"].index.tolist() == ["r1", "r2"]
    assert table.scores.loc["r2"].tolist() == table.score_matrix[1].tolist()
    frame = table.to_frame()
    assert frame.columns[0] == "site"
    assert frame.loc["r1", "site"] == "North"
    with pytest.raises(ValueError, match="read-only"):
        table.scores.iloc[0, 0] = 99.0
    assert "site" not in table.to_frame(attributes=False).columns


def test_percent_is_exact_for_whole_answers() -> None:
    # Mean 4.4 on 1-5 is 85 percent; (4.4 - 1) * 25 in floating point is 85.00000000000001.
    inst = mes.load_instrument("mes")
    pattern = [5, 5, 4, 4, 4]
    table = mes.score(inst, {f"mes{i:02d}": [pattern[i % 5]] for i in range(1, 31)})
    assert table.scores["index"].tolist() == [4.4]
    assert table.percent["index"].tolist() == [85.0]


def test_a_missing_item_column_is_an_error_naming_it() -> None:
    with pytest.raises(mes.ResponseColumnsError, match="'c', 'd'"):
        mes.score(make(), [{"a": 1, "b": 2}], errors="missing")


def test_array_with_wrong_number_of_columns_says_what_is_expected() -> None:
    with pytest.raises(ValueError, match=r"one column per item \(4 for 'hand'"):
        mes.score(make(), np.ones((2, 3)))


def test_median_imputation_uses_the_item_median_of_the_data_scored() -> None:
    inst = make(scoring={"missing": "median", "min_answered": 0.0})
    frame = pd.DataFrame({"a": [1, 2, 4, NAN], "b": [1, 1, 2, 5], "c": [5, 5, 1, 2],
                          "d": [NAN, NAN, NAN, NAN]})
    table = mes.score(inst, frame)
    # a's median over answered rows = 2; d has no answer at all and stays missing.
    # row 3: a -> 2, b keyed 1 => ab = 1.5; bcd = (1 + 2) / 2 = 1.5 (d still missing)
    assert table.scores["ab"][3] == pytest.approx(1.5)
    assert table.scores["bcd"][3] == pytest.approx(1.5)
    assert table.answered["ab"][3] == 1  # imputed answers are not counted as answered


def test_mean_imputation_and_the_threshold_counts_real_answers_only() -> None:
    inst = make(scoring={"missing": "mean", "min_answered": 1.0})
    frame = pd.DataFrame({"a": [1, 2, NAN], "b": [5, 5, 5], "c": [1, 1, 1], "d": [1, 1, 1]})
    table = mes.score(inst, frame)
    assert np.isnan(table.scores["ab"][2])  # 1 of 2 answered < ceil(1.0 * 2)
    inst = make(scoring={"missing": "mean", "min_answered": 0.5})
    table = mes.score(inst, frame)
    assert table.scores["ab"][2] == pytest.approx((1.5 + 1) / 2)  # a -> mean(1, 2)


def test_sum_method_reports_prorated_sums_and_percent_from_the_mean() -> None:
    inst = make(scoring={"method": "sum"})
    table = mes.score(inst, ROWS)
    np.testing.assert_allclose(table.scores["bcd"], [11.0, NAN, NAN])
    np.testing.assert_allclose(table.scores["all"], [16.0, 8.0, NAN])  # 2.0 x 4 items
    np.testing.assert_allclose(table.percent["all"], [75.0, 25.0, NAN])


def test_min_answered_override_on_a_scale() -> None:
    data_scales = [
        {"id": "ab", "items": ["a", "b"], "min_answered": 1.0},
        {"id": "bcd", "items": ["b", "c", "d"], "min_answered": 0.0},
        {"id": "all", "scales": ["ab", "bcd"]},
    ]
    table = mes.score(make(scales=data_scales), ROWS)
    np.testing.assert_allclose(table.scores["ab"], [5.0, NAN, NAN])
    np.testing.assert_allclose(table.scores["bcd"], [11 / 3, 3.0, 4.0])


def test_percent_uses_the_instruments_own_range() -> None:
    table = mes.score(mes.load_instrument("uwes9"), {f"uwes{i}": [0, 3, 6] for i in range(1, 10)})
    assert table.percent["total"].tolist() == [0.0, 50.0, 100.0]


def test_input_is_not_modified_and_results_are_read_only() -> None:
    array = np.array([[5.0, 1.0, NAN, 2.0]])
    before = array.copy()
    table = mes.score(make(), array)
    np.testing.assert_array_equal(array, before)
    with pytest.raises(ValueError, match="read-only"):
        table.scores["ab"][0] = 0.0


def test_to_frame_has_score_percent_and_answered_per_scale() -> None:
    frame = mes.score(make(), ROWS).to_frame()
    assert list(frame.columns[:3]) == ["ab", "ab_pct", "ab_answered"]
    assert frame.shape == (3, 9)
    assert frame.loc[0, "all"] == 4.0


def test_unknown_scale_lookup_is_a_key_error_naming_it() -> None:
    # A pandas column lookup: the KeyError names the column asked for.
    with pytest.raises(KeyError, match="abc"):
        mes.score(make(), ROWS).scores["abc"]


def test_errors_argument_is_validated() -> None:
    with pytest.raises(ValueError, match="errors must be 'raise' or 'missing'"):
        mes.score(make(), ROWS, errors="ignore")  # type: ignore[arg-type]


def test_empty_responses_give_empty_tables() -> None:
    table = mes.score(make(), pd.DataFrame({"a": [], "b": [], "c": [], "d": []}))
    assert len(table) == 0
    assert table.scores["all"].shape == (0,)


def test_strict_names_item_like_typos_of_the_mes_and_what_they_probably_are() -> None:
    inst = mes.load_instrument("mes")
    answers = {f"mes{i:02d}": [3] for i in range(1, 31)}
    answers |= {"mes31": [2], "MES3": [4], "grade": ["F1"], "site": ["North"]}
    with pytest.raises(mes.ResponseColumnsError) as info:
        mes.score(inst, answers, strict=True)
    assert info.value.unknown == ["mes31", "MES3"]
    assert "'MES3' meant to be 'mes03'" in str(info.value)
