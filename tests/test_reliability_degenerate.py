"""Reliability on degenerate data: singular correlations, Heywood cases, items apart.

Each expected number comes from a computation independent of the code under test:

[OLS]    the in-sample R^2 of regressing each item on the others with an intercept, by
         ``numpy.linalg.lstsq`` on the raw answers (Guttman's lambda 6 is defined from these
         residual variances), not from the correlation matrix;
[SLSQP]  the bound-constrained minres problem solved by a different method
         (``scipy.optimize.minimize``, SLSQP, 40 random starts), keeping the best;
[PSYCH]  R psych 2.2.9 (Debian's r-cran-psych), run on the committed CSV files:
         ``alpha(x)$total`` and ``fa(cor(x), nfactors = 1, fm = "minres")$loadings``,
         printed with ``options(digits = 15)``; used where the documented choice agrees
         with psych, and to show where it deliberately does not.

Data: tests/data/reliability/heywood.csv and identical_items.csv (see README.md there).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

import mes
from mes.instrument import instrument_from_mapping
from mes.reliability import omega as omega_module
from mes.reliability import reliability
from mes.reliability.alpha import smc
from mes.reliability.omega import fit_one_factor, omega_from_loadings

DATA = Path(__file__).parent / "data" / "reliability"


def _instrument(items: str) -> mes.Instrument:
    return instrument_from_mapping({
        "id": "edge", "version": "1", "title": "Edge", "licence": "test",
        "response_scale": {"min": 1, "max": 5},
        "items": [{"id": i} for i in items],
        "scales": [{"id": "s", "items": list(items)}],
    })


def _answers(name: str) -> np.ndarray:
    return pd.read_csv(DATA / name).to_numpy(float)


def _in_sample_r2(x: np.ndarray) -> np.ndarray:
    """[OLS] R^2 of each column regressed on the others, with an intercept."""
    out = []
    for i in range(x.shape[1]):
        design = np.column_stack([np.ones(len(x)), np.delete(x, i, axis=1)])
        beta = np.linalg.lstsq(design, x[:, i], rcond=None)[0]
        residual = x[:, i] - design @ beta
        centred = x[:, i] - x[:, i].mean()
        out.append(1.0 - residual @ residual / (centred @ centred))
    return np.array(out)


def _constrained_minres(R: np.ndarray, starts: int = 40) -> np.ndarray:
    """[SLSQP] min sum_{i<j} (r_ij - l_i l_j)^2 with -1 <= l_i <= 1, best of many starts."""
    from scipy.optimize import minimize

    k = R.shape[0]
    rows, cols = np.triu_indices(k, 1)

    def objective(lam: np.ndarray) -> float:
        return float(((R[rows, cols] - lam[rows] * lam[cols]) ** 2).sum())

    rng = np.random.default_rng(0)
    best = min((minimize(objective, rng.uniform(-1, 1, k), method="SLSQP",
                         bounds=[(-1.0, 1.0)] * k, options={"ftol": 1e-16, "maxiter": 2000})
                for _ in range(starts)), key=lambda r: r.fun)
    return best.x * np.sign(best.x.sum())


# ----- identical items: a singular correlation matrix ---------------------------------------

def test_smc_of_a_singular_matrix_is_the_in_sample_r2():
    x = _answers("identical_items.csv")  # column b is a copy of column a
    R = np.corrcoef(x, rowvar=False)
    assert np.linalg.cond(R) > 1e12
    np.testing.assert_allclose(smc(R), _in_sample_r2(x), atol=1e-10)
    np.testing.assert_allclose(smc(R)[:2], [1.0, 1.0], atol=1e-12)


def test_g6_with_identical_items_is_exact_and_the_copies_are_flagged():
    x = _answers("identical_items.csv")
    result = reliability(_instrument("abcde"), x)["s"]
    R = np.corrcoef(x, rowvar=False)
    exact_g6 = 1.0 - (1.0 - _in_sample_r2(x)).sum() / R.sum()   # [OLS]
    assert result.g6 == pytest.approx(exact_g6, abs=1e-10)
    assert result.g6 == pytest.approx(0.8135359351781275, abs=1e-12)
    # psych smooths the singular matrix before inverting it and reports 0.659252013779913
    # [PSYCH]; alpha, standardised alpha and the loadings agree with psych.
    assert result.alpha == pytest.approx(0.770630307587018, abs=1e-12)
    assert result.std_alpha == pytest.approx(0.767862745630581, abs=1e-12)
    psych_loadings = [0.957258872377862, 0.957258872377607, 0.398894789063532,
                      0.397483475501442, 0.458932427898251]
    np.testing.assert_allclose(fit_one_factor(R).loadings, psych_loadings, atol=1e-6)
    redundant = [f.item for f in result.flags if f.code == "redundant_item"]
    assert redundant == ["a", "b"]
    assert "copy of another item" in next(f.message for f in result.flags
                                          if f.code == "redundant_item")


def test_a_well_conditioned_matrix_takes_the_inverse_and_agrees_with_ols():
    rng = np.random.default_rng(5)
    x = rng.normal(size=(200, 4)) + rng.normal(size=(200, 1))
    np.testing.assert_allclose(smc(np.corrcoef(x, rowvar=False)), _in_sample_r2(x), atol=1e-12)


# ----- Heywood case -----------------------------------------------------------------------

def test_heywood_case_is_the_constrained_least_squares_optimum():
    x = _answers("heywood.csv")
    R = np.corrcoef(x, rowvar=False)
    fit = fit_one_factor(R)
    independent = _constrained_minres(R)
    np.testing.assert_allclose(fit.loadings, independent, atol=1e-7)
    assert fit.loadings[0] == 1.0
    assert fit.heywood.tolist() == [True, False, False, False]
    assert fit.converged
    # psych reports an impossible loading above 1 here [PSYCH]: 1.009091508655251.
    assert omega_from_loadings(fit.loadings) == pytest.approx(
        omega_from_loadings(independent), abs=1e-9)


def test_capping_principal_axes_would_not_be_the_optimum():
    # The capped fixed point the fit starts from fits worse and gives another omega.
    R = np.corrcoef(_answers("heywood.csv"), rowvar=False)
    rows, cols = np.triu_indices(4, 1)

    def loss(lam: np.ndarray) -> float:
        return float(((R[rows, cols] - lam[rows] * lam[cols]) ** 2).sum())

    capped, settled = omega_module._principal_axes(R)
    assert not settled
    fitted = fit_one_factor(R).loadings
    assert loss(fitted) < loss(capped) - 1e-5
    assert omega_from_loadings(fitted) - omega_from_loadings(capped) > 1e-3


def test_heywood_case_is_flagged_in_the_report():
    result = reliability(_instrument("abcd"), _answers("heywood.csv"))["s"]
    flags = [f for f in result.flags if f.code == "heywood_case"]
    assert [f.item for f in flags] == ["a"]
    assert "loading above 1" in flags[0].message
    assert result.omega_total == pytest.approx(0.786519146492669, abs=1e-8)  # [SLSQP] optimum
    # Where psych agrees (no Heywood case) the report is psych's [PSYCH].
    assert result.alpha == pytest.approx(0.761257540791125, abs=1e-12)
    assert result.g6 == pytest.approx(0.766265041008596, abs=1e-12)


def test_a_fit_that_does_not_converge_gives_no_omega_and_says_so(monkeypatch):
    monkeypatch.setattr(omega_module, "_MAX_EVALUATIONS", 1)
    result = reliability(_instrument("abcd"), _answers("heywood.csv"))["s"]
    assert np.isnan(result.omega_total)
    assert "omega_not_converged" in result.flag_codes()
    assert np.isfinite(result.alpha)


def test_loadings_agree_with_psych_fa_on_bfi_agreeableness(bfi):
    # [PSYCH] fa(cor(A, use = "pairwise"), 1, fm = "minres") with A1 reversed (7 - A1),
    # omega from those loadings 0.723210628791; psych's optimiser stops near 1e-7.
    frame = bfi[["A1", "A2", "A3", "A4", "A5"]].copy()
    frame["A1"] = 7 - frame["A1"]
    fit = fit_one_factor(frame.corr().to_numpy())
    np.testing.assert_allclose(
        fit.loadings,
        [0.374176967274, 0.678673923020, 0.753789530601, 0.480336805190, 0.614755110691],
        atol=1e-6)
    assert omega_from_loadings(fit.loadings) == pytest.approx(0.723210628791, abs=1e-8)
    assert not fit.heywood.any()


# ----- items never answered together -------------------------------------------------------

def test_items_never_answered_together_are_named():
    data = np.array([[1, np.nan, 2], [2, np.nan, 3], [np.nan, 3, 4], [np.nan, 4, 1],
                     [3, np.nan, 5]], dtype=float)
    result = reliability(_instrument("abc"), data)["s"]
    assert np.isnan(result.alpha)
    flags = [f for f in result.flags if f.code == "no_shared_respondents"]
    assert len(flags) == 1
    assert "'a' and 'b'" in flags[0].message
    assert "0 respondent(s)" in flags[0].message
    assert "heywood_case" not in result.flag_codes()
    assert "omega_not_converged" not in result.flag_codes()


# ----- a total without variance -------------------------------------------------------------

def test_coefficients_of_a_total_without_variance_are_undefined_in_every_order():
    # b = 6 - a: a + b is constant, so alpha of {a, b} and c's item-rest correlation
    # divide by a variance that is 0 in exact arithmetic and ~1e-16 in floating point.
    # They are NaN whatever the order of the items (they were +-1e16 or -inf by order).
    a = np.array([1.0, 2, 4, 5, 3, 1, 5])
    x = np.column_stack([a, 6 - a, [2.0, 3, 3, 4, 2, 1, 5]])
    pair = reliability(_instrument("ab"), x[:, :2])["s"]
    assert np.isnan(pair.alpha)
    for order in ([0, 1, 2], [2, 1, 0], [1, 2, 0]):
        result = reliability(_instrument("".join("abc"[j] for j in order)), x[:, order])["s"]
        assert np.isnan(result.items["c"].r_drop)
        assert np.isnan(result.items["c"].alpha_if_dropped)
        assert result.alpha == pytest.approx(-4.973684210526316, abs=1e-12)
