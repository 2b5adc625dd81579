"""Edge cases, argument validation, flags and composites of mes.reliability."""

from __future__ import annotations

import json
import math

import numpy as np
import pandas as pd
import pingouin as pg
import pytest

import mes
from mes.instrument import instrument_from_mapping
from mes.reliability import Flag, ItemReliability, ScaleReliability, reliability
from mes.reliability.covariance import item_moments, pairwise_cov
from mes.reliability.omega import omega_total, one_factor_loadings


def _instrument(items, reverse=(), lo=1, hi=5, scales=None):
    return instrument_from_mapping({
        "id": "edge", "version": "1", "title": "Edge", "licence": "test",
        "response_scale": {"min": lo, "max": hi},
        "items": [{"id": i, "reverse": i in reverse} for i in items],
        "scales": scales or [{"id": "s", "items": list(items)}],
    })


def _simulated(n, k, seed=0, loading=0.7):
    rng = np.random.default_rng(seed)
    factor = rng.normal(size=(n, 1))
    latent = loading * factor + math.sqrt(1 - loading**2) * rng.normal(size=(n, k))
    return np.clip(np.round(3 + 1.2 * latent), 1, 5)


# ----- covariance engine vs pandas -------------------------------------------------------

def test_pairwise_cov_and_cor_equal_pandas_with_missing():
    rng = np.random.default_rng(3)
    x = rng.integers(1, 6, size=(300, 6)).astype(float)
    x[rng.random(x.shape) < 0.2] = np.nan
    frame = pd.DataFrame(x)
    cov, counts = pairwise_cov(x)
    np.testing.assert_allclose(cov, frame.cov().to_numpy(), rtol=1e-12, atol=1e-14)
    np.testing.assert_array_equal(counts, frame.notna().T.astype(int) @ frame.notna().astype(int))
    moments = item_moments(x, np.ones((6, 1)))
    np.testing.assert_allclose(moments.cor, frame.corr().to_numpy(), rtol=1e-12, atol=1e-14)
    total = frame.mean(axis=1)
    expected_r = [total.corr(frame[j]) for j in range(6)]
    np.testing.assert_allclose(moments.item_total_r[:, 0], expected_r, rtol=1e-12)


def test_no_missing_path_equals_np_cov():
    x = _simulated(500, 5)
    cov, counts = pairwise_cov(x)
    np.testing.assert_allclose(cov, np.cov(x, rowvar=False), rtol=1e-12)
    assert (counts == 500).all()


# ----- argument validation -----------------------------------------------------------------

@pytest.fixture
def small():
    return _instrument(["a", "b", "c"]), _simulated(50, 3)


@pytest.mark.parametrize(("kwargs", "exc", "word"), [
    ({"nan_policy": "complete"}, ValueError, "nan_policy"),
    ({"ci": 1.5}, ValueError, "ci"),
    ({"ci": 0}, ValueError, "ci"),
    ({"ci": "0.95"}, TypeError, "ci"),
    ({"ci": True}, TypeError, "ci"),
    ({"scales": ["nope"]}, ValueError, "nope"),
    ({"scales": []}, ValueError, "scales"),
    ({"correlations": "spearman"}, ValueError, "correlations"),
])
def test_bad_arguments_raise_naming_the_argument(small, kwargs, exc, word):
    inst, data = small
    with pytest.raises(exc, match=word):
        reliability(inst, data, **kwargs)


def test_instrument_must_be_an_instrument(small):
    _, data = small
    with pytest.raises(TypeError, match="instrument"):
        reliability("mes", data)  # type: ignore[arg-type]


def test_invalid_answers_raise_or_become_missing(small):
    inst, data = small
    bad = data.copy()
    bad[0, 0] = 9
    with pytest.raises(mes.InvalidResponsesError):
        reliability(inst, bad)
    r = reliability(inst, bad, errors="missing")["s"]
    assert r.items["a"].n == 49


def test_scales_accepts_a_single_id_and_keeps_order():
    inst = mes.load_instrument("uwes9")
    data = _simulated(60, 9)
    assert list(reliability(inst, data, scales="total")) == ["total"]
    assert list(reliability(inst, data, scales=["absorption", "vigour"])) == [
        "absorption", "vigour"]
    assert list(reliability(inst, data)) == list(inst.scale_ids)


# ----- edge cases ----------------------------------------------------------------------------

def test_no_respondents_gives_nan_and_a_flag_not_a_crash(small):
    inst, _ = small
    empty = pd.DataFrame({"a": [], "b": [], "c": []})
    r = reliability(inst, empty)["s"]
    assert r.n == 0
    assert math.isnan(r.alpha)
    assert math.isnan(r.mean)
    assert r.alpha_ci[0] != r.alpha_ci[0]  # NaN
    assert "too_few_respondents" in r.flag_codes()
    assert "Only 0 respondent(s)" in r.flags[[f.code for f in r.flags].index(
        "too_few_respondents")].message
    json.dumps(r.to_dict(), allow_nan=False)


def test_one_respondent(small):
    inst, _ = small
    r = reliability(inst, [{"a": 1, "b": 2, "c": 3}])["s"]
    assert r.n == 1
    assert math.isnan(r.alpha)
    assert r.mean == 2.0
    assert math.isnan(r.sd)
    assert "too_few_respondents" in r.flag_codes()


def test_constant_item_is_left_out_like_psych_and_flagged():
    data = _simulated(200, 4)
    data[:, 3] = 4.0
    inst = _instrument(["a", "b", "c", "d"])
    r = reliability(inst, data)["s"]
    assert r.k == 3
    expected, _ = pg.cronbach_alpha(pd.DataFrame(data[:, :3]))
    assert r.alpha == pytest.approx(expected, rel=1e-12)
    zero = [f for f in r.flags if f.code == "zero_variance"]
    assert len(zero) == 1
    assert zero[0].item == "d"
    assert "same answer" in zero[0].message
    assert r.items["d"].sd == 0.0
    assert math.isnan(r.items["d"].r_drop)
    # it still counts in the respondents' scale means, as in mes.score
    assert r.mean == pytest.approx(np.mean(data.mean(axis=1)))


def test_unanswered_item_and_too_few_items():
    inst = _instrument(["a", "b", "c"])
    data = _simulated(100, 3)
    data[:, 1] = np.nan
    data[:, 2] = 2.0
    r = reliability(inst, data)["s"]
    assert r.k == 1
    assert math.isnan(r.alpha)
    codes = r.flag_codes()
    assert {"unanswered_item", "zero_variance", "too_few_items"} <= set(codes)
    assert r.items["b"].n == 0
    assert math.isnan(r.items["b"].mean)


def test_two_item_scale_flags_alpha_if_dropped_undefined():
    inst = _instrument(["a", "b"])
    r = reliability(inst, _simulated(100, 2))["s"]
    assert math.isfinite(r.alpha)
    assert all(math.isnan(s.alpha_if_dropped) for s in r.items.values())
    assert "alpha_if_dropped_undefined" in r.flag_codes()
    assert r.to_dict()["items"]["a"]["alpha_if_dropped"] is None


def test_items_that_never_overlap_give_nan_not_an_error():
    inst = _instrument(["a", "b"])
    data = np.array([[1, np.nan], [2, np.nan], [np.nan, 3], [np.nan, 4]], dtype=float)
    r = reliability(inst, data)["s"]
    assert math.isnan(r.alpha)
    assert r.n == 4
    assert r.items["a"].n == 2
    assert r.items["a"].mean == 1.5


def test_miskeyed_item_is_named_with_the_alpha_reversing_would_give():
    data = _simulated(400, 5, seed=7)
    data[:, 2] = 6 - data[:, 2]  # answered the other way round, but not declared reverse
    wrong = reliability(_instrument(list("abcde")), data)["s"]
    fixed = reliability(_instrument(list("abcde"), reverse=("c",)), data)["s"]
    flags = [f for f in wrong.flags if f.code == "negative_r_drop"]
    assert [f.item for f in flags] == ["c"]
    assert wrong.items["c"].r_drop < 0
    assert f"alpha {fixed.alpha:.2f} instead of {wrong.alpha:.2f}" in flags[0].message
    assert "'c'" in flags[0].message
    assert "negative_r_drop" not in fixed.flag_codes()


def test_low_alpha_message_is_plain_language():
    rng = np.random.default_rng(1)
    data = rng.integers(1, 6, size=(300, 4)).astype(float)
    r = reliability(_instrument(list("abcd")), data)["s"]
    flag = next(f for f in r.flags if f.code == "low_alpha")
    assert f"{r.alpha:.2f}" in flag.message
    assert "0.70" in flag.message
    assert "too_few_respondents" not in r.flag_codes()


def test_listwise_without_missing_equals_pairwise():
    inst = mes.load_instrument("uwes9")
    data = _simulated(300, 9, seed=2)
    a = reliability(inst, data)
    b = reliability(inst, data, nan_policy="listwise")
    for s in inst.scale_ids:
        assert a[s].alpha == b[s].alpha
        assert a[s].n == b[s].n == 300
        assert b[s].nan_policy == "listwise"


def test_listwise_analyses_each_scale_on_its_own_complete_cases():
    inst = mes.load_instrument("uwes9")
    data = _simulated(300, 9, seed=2)
    data[:10, 0] = np.nan  # uwes1: vigour only
    r = reliability(inst, data, nan_policy="listwise")
    assert r["vigour"].n == 290
    assert r["dedication"].n == 300
    assert r["total"].n == 290
    frame = pd.DataFrame(data, columns=inst.item_ids)
    vig = frame[["uwes1", "uwes2", "uwes5"]].dropna()
    assert r["vigour"].alpha == pytest.approx(pg.cronbach_alpha(vig)[0], rel=1e-12)
    assert r["vigour"].items["uwes2"].n == 290


def test_composite_scales_use_the_union_of_leaf_items():
    inst = mes.load_instrument("mes")
    data = _simulated(400, 30, seed=5)
    data[np.random.default_rng(5).random(data.shape) < 0.05] = np.nan
    frame = pd.DataFrame(data, columns=inst.item_ids)
    report = reliability(inst, frame)
    for scale_id in ("open_culture", "index"):
        items = list(inst.leaf_items(scale_id))
        r = report[scale_id]
        assert r.k == len(items)
        assert list(r.items) == items
        assert r.alpha == pytest.approx(pg.cronbach_alpha(frame[items])[0], rel=1e-12)
        means = frame[items].mean(axis=1)
        assert r.mean == pytest.approx(means.mean(), rel=1e-12)
        assert r.sd == pytest.approx(means.std(), rel=1e-12)
    sub = report["climate_for_positive_change"]
    assert sub.k == 5


def test_response_frequencies_are_of_keyed_answers():
    inst = _instrument(["a", "b", "c"], reverse=("a",))
    data = np.array([[1, 1, 2], [1, 2, 2], [2, 3, 3], [5, np.nan, 1]], dtype=float)
    r = reliability(inst, data)["s"]
    assert r.items["a"].response_freq == {1: 0.25, 2: 0.0, 3: 0.0, 4: 0.25, 5: 0.5}
    assert r.items["b"].missing_share == 0.25
    assert sum(r.items["b"].response_freq.values()) == pytest.approx(1.0)


def test_to_dict_is_json_safe_and_complete(small):
    inst, data = small
    r = reliability(inst, data)["s"]
    d = json.loads(json.dumps(r.to_dict(), allow_nan=False))
    assert set(d) >= {"alpha", "alpha_ci", "std_alpha", "g6", "average_r", "median_r",
                      "signal_noise", "ase", "n", "k", "mean", "sd", "omega_total", "items",
                      "flags"}
    assert set(d["items"]["a"]) >= {"n", "mean", "sd", "raw_r", "std_r", "r_drop",
                                    "alpha_if_dropped", "std_alpha_if_dropped",
                                    "response_freq"}
    assert isinstance(d["n"], int)
    assert isinstance(d["alpha"], float)
    assert list(d["items"]["a"]["response_freq"]) == ["1", "2", "3", "4", "5"]
    assert isinstance(r, ScaleReliability)
    assert isinstance(r.items["a"], ItemReliability)
    with pytest.raises(AttributeError):
        r.alpha = 0.0  # type: ignore[misc]
    assert Flag("low_alpha", "x").to_dict() == {"code": "low_alpha", "message": "x"}


# ----- omega ---------------------------------------------------------------------------------

def test_one_factor_loadings_recover_an_exact_one_factor_structure():
    lam = np.array([0.9, 0.75, 0.6, 0.45, 0.3])
    R = np.outer(lam, lam)
    np.fill_diagonal(R, 1.0)
    np.testing.assert_allclose(one_factor_loadings(R), lam, atol=1e-7)
    expected = lam.sum() ** 2 / (lam.sum() ** 2 + (1 - lam**2).sum())
    assert omega_total(R) == pytest.approx(expected, abs=1e-9)


def test_omega_is_at_least_std_alpha_for_congeneric_items():
    inst = _instrument(list("abcdef"))
    r = reliability(inst, _simulated(2000, 6, seed=11))["s"]
    assert r.omega_total >= r.std_alpha - 1e-3
    assert 0 < r.omega_total < 1
