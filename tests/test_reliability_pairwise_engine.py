"""The blocked pairwise engine of mes.reliability.covariance against pandas.

``item_moments`` with missing answers reads the rows in blocks; answers that are small
whole numbers are summed in float32 (exact), anything else in float64 after centring.
Every figure is checked here against pandas' pairwise ``cov``/``corr`` and against scale
totals computed row by row, on data spanning several blocks (with a partial last one),
including the awkward cases: a column with all but one answer missing, a row with every
answer missing, a column nobody answered, items never answered together and a constant
item.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

import mes
from mes.instrument import instrument_from_mapping
from mes.reliability import reliability
from mes.reliability.covariance import item_moments, pairwise_cov

N_ROWS = 2_600  # more than two blocks of rows, the last one partial
RTOL, ATOL = 1e-12, 1e-13


def _factor_answers(n: int, k: int, seed: int) -> np.ndarray:
    """Answers 1-5 with a common factor (so that covariances are not ~0)."""
    rng = np.random.default_rng(seed)
    latent = 0.7 * rng.standard_normal((n, 1)) + 0.7 * rng.standard_normal((n, k))
    return np.clip(np.rint(3.0 + latent), 1, 5)


def _with_awkward_cases(x: np.ndarray, seed: int) -> np.ndarray:
    rng = np.random.default_rng(seed)
    x = x.copy()
    x[rng.random(x.shape) < 0.1] = np.nan
    x[:, 0] = np.nan
    x[1_500, 0] = 3.0  # one answer only
    x[:, 1] = np.nan  # nobody answered
    x[: N_ROWS // 2, 2] = np.nan  # items 2 and 3 never answered together
    x[N_ROWS // 2 :, 3] = np.nan
    x[:, 4] = 2.0  # constant where answered
    x[rng.random(N_ROWS) < 0.1, 4] = np.nan
    x[7] = np.nan  # a respondent who answered nothing
    x[-1] = np.nan  # ... in the last, partial block too
    return x


def _cases() -> dict[str, np.ndarray]:
    k = 9
    whole = _with_awkward_cases(_factor_answers(N_ROWS, k, seed=11), seed=12)
    fractional = _with_awkward_cases(_factor_answers(N_ROWS, k, seed=13), seed=14)
    fractional[:, 5:] += np.random.default_rng(15).normal(0, 0.3, size=(N_ROWS, k - 5))
    late_fraction = whole.copy()
    late_fraction[2_100, 6] = 2.5  # whole numbers until the third block
    # Whole numbers at the edge of the float32-exact range (int8): sums of squares over
    # the rows pass 2**24, so only sums over small enough blocks stay exact in float32.
    codes = np.array([np.nan, -128.0, -120.0, 3.0, 120.0, 127.0])
    extreme = _with_awkward_cases(codes[_factor_answers(N_ROWS, k, seed=16).astype(int)],
                                  seed=17)
    # Whole numbers too large for the float32 path: centred and summed in float64.
    large = _with_awkward_cases(_factor_answers(N_ROWS, k, seed=18) + 1e6, seed=19)
    return {"whole": whole, "fractional": fractional, "late_fraction": late_fraction,
            "extreme": extreme, "large": large}


CASES = _cases()
# pandas loses digits on answers near 1e6 (the "large" case): its references are computed
# on the answers less this offset (covariances and correlations do not change).
OFFSET = {"large": 1e6}
MEMBERSHIP = np.zeros((9, 4))
MEMBERSHIP[[0, 2, 5, 6], 0] = 1.0
MEMBERSHIP[[3, 4, 7, 8], 1] = 1.0
MEMBERSHIP[[1], 2] = 1.0  # a scale whose only item nobody answered
MEMBERSHIP[:, 3] = 1.0


def _assert_close(got: np.ndarray, expected: np.ndarray, *, scale: float = 1.0) -> None:
    np.testing.assert_array_equal(np.isnan(got), np.isnan(expected))
    np.testing.assert_allclose(got, expected, rtol=RTOL, atol=ATOL * scale)


@pytest.mark.parametrize("name", sorted(CASES))
def test_covariances_counts_and_correlations_equal_pandas(name):
    x = CASES[name]
    offset = OFFSET.get(name, 0.0)
    frame = pd.DataFrame(x - offset)
    scale = float(np.nanmax(np.abs(x))) ** 2  # absolute tolerance in units of the answers
    cov, counts = pairwise_cov(x)
    answered = frame.notna().to_numpy().astype(np.int64)
    np.testing.assert_array_equal(counts, answered.T @ answered)
    _assert_close(cov, frame.cov().to_numpy(), scale=scale)
    moments = item_moments(x, MEMBERSHIP)
    np.testing.assert_array_equal(moments.counts, counts)
    _assert_close(moments.cov, cov, scale=scale)
    _assert_close(moments.cor, frame.corr().to_numpy())
    _assert_close(moments.means, frame.mean().to_numpy() + offset, scale=scale)
    assert moments.n_rows == N_ROWS


@pytest.mark.parametrize("name", sorted(CASES))
def test_scale_totals_and_item_total_correlations_equal_row_by_row(name):
    x = CASES[name]
    offset = OFFSET.get(name, 0.0)
    frame = pd.DataFrame(x - offset)
    moments = item_moments(x, MEMBERSHIP)
    for s in range(MEMBERSHIP.shape[1]):
        items = np.flatnonzero(MEMBERSHIP[:, s])
        total = frame[items].mean(axis=1)  # each respondent's mean of answered items
        assert moments.scale_n[s] == total.notna().sum()
        _assert_close(moments.total_mean[s : s + 1], np.array([total.mean() + offset]),
                      scale=float(np.nanmax(np.abs(x))))
        _assert_close(moments.total_sd[s : s + 1], np.array([total.std()]),
                      scale=float(np.nanmax(np.abs(x))))
        expected = np.full(x.shape[1], np.nan)
        expected[items] = [frame[i].corr(total) for i in items]
        _assert_close(moments.item_total_r[:, s], expected)


def test_awkward_cases_give_nan_not_numbers():
    moments = item_moments(CASES["whole"], MEMBERSHIP)
    assert moments.counts[0, 0] == 1  # one answer: no variance
    assert np.isnan(moments.cov[0, 0])
    assert moments.counts[1, 1] == 0  # nobody answered
    assert np.isnan(moments.means[1])
    assert moments.counts[2, 3] == 0  # never answered together
    assert np.isnan(moments.cov[2, 3])
    assert np.isnan(moments.cor[2, 3])
    assert moments.cov[4, 4] == 0.0  # constant
    assert np.isnan(moments.cor[4, 5])
    assert np.isnan(moments.item_total_r[4, 1])
    assert moments.scale_n[2] == 0  # its only item nobody answered
    assert np.isnan(moments.total_mean[2])
    assert np.isnan(moments.total_sd[2])
    assert moments.scale_n[3] == N_ROWS - 2  # the two respondents who answered nothing


def test_report_from_several_blocks_equals_pandas():
    items = [f"q{j}" for j in range(6)]
    inst = instrument_from_mapping({
        "id": "blocks", "version": "1", "title": "Blocks", "licence": "test",
        "response_scale": {"min": 1, "max": 5},
        "items": [{"id": i} for i in items],
        "scales": [{"id": "s", "items": items}],
    })
    x = _factor_answers(N_ROWS, 6, seed=21)
    x[np.random.default_rng(22).random(x.shape) < 0.15] = np.nan
    frame = pd.DataFrame(x, columns=items)
    report = reliability(inst, frame)["s"]
    total = frame.mean(axis=1)
    assert report.n == total.notna().sum()
    assert report.mean == pytest.approx(total.mean(), rel=1e-12)
    assert report.sd == pytest.approx(total.std(), rel=1e-12)
    cov = frame.cov().to_numpy()
    k = len(items)
    alpha = k / (k - 1) * (1 - np.trace(cov) / cov.sum())
    assert report.alpha == pytest.approx(alpha, rel=1e-12)
    for item in items:
        got = report.items[item]
        answered = frame[item].dropna()
        assert got.n == answered.size
        assert got.mean == pytest.approx(answered.mean(), rel=1e-12)
        assert got.raw_r == pytest.approx(frame[item].corr(total), rel=1e-12)
        shares = answered.value_counts(normalize=True)
        assert got.response_freq == pytest.approx(
            {v: float(shares.get(float(v), 0.0)) for v in range(1, 6)}, rel=1e-12)
        assert got.missing_share == pytest.approx(1 - answered.size / report.n, rel=1e-12)


def test_pairwise_bench_size_is_exact_for_likert_answers():
    """MES-shaped answers over many blocks: the float32 sums must stay exact."""
    inst = mes.load_instrument("mes")
    x = _factor_answers(30_000, len(inst.items), seed=31)
    x[np.random.default_rng(32).random(x.shape) < 0.05] = np.nan
    frame = pd.DataFrame(x)
    cov, counts = pairwise_cov(x)
    np.testing.assert_allclose(cov, frame.cov().to_numpy(), rtol=1e-12, atol=1e-14)
    answered = frame.notna().to_numpy().astype(np.int64)
    np.testing.assert_array_equal(counts, answered.T @ answered)


def test_item_moments_rejects_mismatched_shapes():
    with pytest.raises(ValueError, match="membership"):
        item_moments(np.ones((3, 2)), np.ones((3, 1)))
    with pytest.raises(ValueError, match="respondents, items"):
        item_moments(np.ones(3), np.ones((3, 1)))
