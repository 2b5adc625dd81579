"""Hypothesis properties of mes.reliability ."""

from __future__ import annotations

import json
import math

import numpy as np
import pandas as pd
import pingouin as pg
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from mes.instrument import Instrument, instrument_from_mapping
from mes.reliability import reliability

LO, HI = 1, 5
SETTINGS = settings(max_examples=30, deadline=None,
                    suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much])


def _instrument(items: list[str], reverse: frozenset[str] = frozenset()) -> Instrument:
    return instrument_from_mapping({
        "id": "prop", "version": "1", "title": "Property", "licence": "test",
        "response_scale": {"min": LO, "max": HI},
        "items": [{"id": i, "reverse": i in reverse} for i in items],
        "scales": [{"id": "s", "items": items}],
    })


@st.composite
def answers(draw: st.DrawFn, min_items: int = 2, max_items: int = 6,
            missing: bool = True) -> np.ndarray:
    k = draw(st.integers(min_items, max_items))
    n = draw(st.integers(3, 40))
    cells = st.integers(LO, HI).map(float)
    if missing:
        cells = st.one_of(cells, st.just(math.nan)) if draw(st.booleans()) else cells
    flat = draw(st.lists(cells, min_size=n * k, max_size=n * k))
    return np.array(flat, dtype=float).reshape(n, k)


def _items(k: int) -> list[str]:
    return [f"q{j}" for j in range(k)]


def _same(a: float, b: float) -> bool:
    return (math.isnan(a) and math.isnan(b)) or math.isclose(a, b, rel_tol=1e-9, abs_tol=1e-9)


@SETTINGS
@given(data=answers(), seed=st.integers(0, 2**32 - 1))
def test_alpha_unchanged_by_permuting_respondents(data, seed):
    items = _items(data.shape[1])
    inst = _instrument(items)
    perm = np.random.default_rng(seed).permutation(data.shape[0])
    for policy in ("pairwise", "listwise"):
        a = reliability(inst, data, nan_policy=policy)["s"]
        b = reliability(inst, data[perm], nan_policy=policy)["s"]
        for field in ("alpha", "std_alpha", "g6", "average_r", "mean", "sd"):
            assert _same(getattr(a, field), getattr(b, field)), (policy, field)
        assert a.n == b.n


@SETTINGS
@given(data=answers(), seed=st.integers(0, 2**32 - 1))
def test_alpha_unchanged_by_permuting_items(data, seed):
    k = data.shape[1]
    items = _items(k)
    perm = np.random.default_rng(seed).permutation(k)
    a = reliability(_instrument(items), data)["s"]
    permuted_items = [items[j] for j in perm]
    b = reliability(_instrument(permuted_items), data[:, perm])["s"]
    for field in ("alpha", "std_alpha", "g6", "average_r", "median_r", "omega_total"):
        assert _same(getattr(a, field), getattr(b, field)), field
    for item in items:
        assert _same(a.items[item].r_drop, b.items[item].r_drop)
        assert _same(a.items[item].alpha_if_dropped, b.items[item].alpha_if_dropped)


@SETTINGS
@given(column=st.lists(st.integers(LO, HI), min_size=2, max_size=50), k=st.integers(2, 8))
def test_alpha_of_identical_items_is_one(column, k):
    assume(len(set(column)) > 1)  # the item must vary
    data = np.repeat(np.array(column, dtype=float)[:, None], k, axis=1)
    r = reliability(_instrument(_items(k)), data)["s"]
    assert math.isclose(r.alpha, 1.0, abs_tol=1e-12)
    assert math.isclose(r.std_alpha, 1.0, abs_tol=1e-12)
    assert math.isclose(r.g6, 1.0, abs_tol=1e-12)
    assert math.isclose(r.average_r, 1.0, abs_tol=1e-12)


@SETTINGS
@given(data=answers(min_items=2, max_items=8))
def test_std_alpha_is_spearman_brown_of_average_r(data):
    for correlations in ("cov2cor", "pairwise"):
        r = reliability(_instrument(_items(data.shape[1])), data,
                        correlations=correlations)["s"]
        assume(math.isfinite(r.std_alpha))
        k, rbar = r.k, r.average_r
        assert math.isclose(r.std_alpha, k * rbar / (1 + (k - 1) * rbar),
                            rel_tol=1e-9, abs_tol=1e-9)


@SETTINGS
@given(data=answers(min_items=2, max_items=2))
def test_two_item_scale_alpha_if_dropped_is_undefined_not_a_crash(data):
    r = reliability(_instrument(_items(2)), data)["s"]
    for stats in r.items.values():
        assert math.isnan(stats.alpha_if_dropped)
        assert math.isnan(stats.std_alpha_if_dropped)
    if r.k == 2:
        assert "alpha_if_dropped_undefined" in r.flag_codes()
    json.dumps(r.to_dict(), allow_nan=False)


@SETTINGS
@given(data=answers(min_items=2, max_items=6))
def test_alpha_equals_pingouin(data):
    frame = pd.DataFrame(data, columns=_items(data.shape[1]))
    inst = _instrument(list(frame.columns))
    for policy in ("pairwise", "listwise"):
        used = frame.dropna() if policy == "listwise" else frame
        assume(len(used) >= 2)
        # pingouin sums a covariance matrix with pandas (NaN skipped): only compare when every
        # pair of items has a covariance and every item varies.
        cov = used.cov()
        assume(not cov.isna().any().any() and (np.diag(cov) > 0).all())
        ours = reliability(inst, frame, nan_policy=policy)["s"]
        theirs, _ = pg.cronbach_alpha(frame, nan_policy=policy)
        if math.isfinite(theirs):
            assert math.isclose(ours.alpha, theirs, rel_tol=1e-9, abs_tol=1e-9), policy


@SETTINGS
@given(data=answers(min_items=3, max_items=6))
def test_reverse_keying_an_item_is_the_same_as_recoding_its_answers(data):
    items = _items(data.shape[1])
    recoded = data.copy()
    recoded[:, 0] = LO + HI - recoded[:, 0]
    a = reliability(_instrument(items, reverse=frozenset({items[0]})), data)["s"]
    b = reliability(_instrument(items), recoded)["s"]
    assert _same(a.alpha, b.alpha)
    assert _same(a.items[items[0]].r_drop, b.items[items[0]].r_drop)
    assert (a.items[items[0]].to_dict()["response_freq"]
            == b.items[items[0]].to_dict()["response_freq"])


@SETTINGS
@given(data=answers(min_items=2, max_items=6))
def test_report_is_always_json_safe(data):
    for policy in ("pairwise", "listwise"):
        r = reliability(_instrument(_items(data.shape[1])), data, nan_policy=policy)["s"]
        text = json.dumps(r.to_dict(), allow_nan=False)
        assert json.loads(text)["scale"] == "s"
