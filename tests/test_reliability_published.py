"""mes.reliability against published output of R psych and pingouin on real data sets.

Sources (every expected number below is copied from one of them):

[PSYCH-BFI]  psych::alpha on the bfi Agreeableness items with A1 reverse-keyed (7 - A1),
             2,800 respondents with missing answers, and psych::describe on the same items.
             Published in the notebook "Wk5_Reliability_demonstration.ipynb" of the course
             repository github.com/CaseyGio/Psyc6263 (commit 9e857e3c), cells "alpha(AgreeItems)",
             "describe(bfiClean)" and "AlphaOutput$alpha.drop %>% select(std.alpha) %>% round(3)";
             R psych as installed from CRAN in 2025 (tidyverse 2.0.0 session).
             Data: tests/data/reliability/bfi_agreeableness.csv (see README.md there).
[PG-DOC]     pingouin.cronbach_alpha docstring / documentation examples (pingouin 0.5.x - 0.7.0,
             https://pingouin-stats.org/build/html/generated/pingouin.cronbach_alpha.html), on
             the data sets "cronbach_wide_missing" (12 x 11 binary answers with missing
             values; the docstring notes "In R: psych:alpha(data, use='pairwise')") and
             "cronbach_alpha" (15 respondents x 10 items, 1-7), which ship with pingouin.

psych prints 2 decimals by default; figures are compared at the printed rounding
(``round(ours, d) == published``), full-precision figures to 1e-12.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pingouin as pg
import pytest

import mes
from mes.instrument import instrument_from_mapping
from mes.reliability import reliability
from mes.reliability.alpha import alpha_stats, duhachek_ase
from mes.reliability.covariance import cov2cor, item_moments

DATA = Path(__file__).parent / "data" / "reliability"
ITEMS = ["A1", "A2", "A3", "A4", "A5"]


@pytest.fixture(scope="module")
def agreeableness(bfi: pd.DataFrame) -> tuple[mes.Instrument, pd.DataFrame]:
    inst = mes.load_instrument(DATA / "bfi_agreeableness.yaml")
    return inst, bfi[["respondent", *ITEMS]]


def _instrument(items: list[str], lo: int, hi: int) -> mes.Instrument:
    return instrument_from_mapping({
        "id": "published", "version": "1", "title": "Published data", "licence": "test data",
        "response_scale": {"min": lo, "max": hi},
        "items": [{"id": i} for i in items],
        "scales": [{"id": "total", "items": items}],
    })


# ----- [PSYCH-BFI] -------------------------------------------------------------------------

def test_bfi_describe_item_n_mean_sd(agreeableness):
    # [PSYCH-BFI] describe(bfiClean): n, mean, sd (A1 already reversed as 7 - A1).
    published = {
        "A1": (2784, 4.586566, 1.4077372), "A2": (2773, 4.802380, 1.1720199),
        "A3": (2774, 4.603821, 1.3018336), "A4": (2781, 4.699748, 1.4796327),
        "A5": (2784, 4.560345, 1.2585121),
    }
    report = reliability(*agreeableness)["agreeableness"]
    for item, (n, mean, sd) in published.items():
        stats = report.items[item]
        assert stats.n == n
        assert round(stats.mean, 6) == mean
        assert round(stats.sd, 7) == sd


@pytest.mark.parametrize("correlations", ["cov2cor", "pairwise"])
def test_bfi_scale_statistics(agreeableness, correlations):
    # [PSYCH-BFI] alpha(AgreeItems):
    #   raw_alpha std.alpha G6(smc) average_r S/N   ase mean  sd median_r
    #        0.7      0.71    0.68      0.33 2.5 0.009  4.7 0.9     0.34
    # describe(): Total n 2800, mean 4.652095, sd 0.8984019 (the same person means).
    r = reliability(*agreeableness, correlations=correlations)["agreeableness"]
    assert r.n == 2800
    assert r.k == 5
    assert round(r.alpha, 2) == 0.70
    assert round(r.std_alpha, 2) == 0.71
    assert round(r.g6, 2) == 0.68
    assert round(r.average_r, 2) == 0.33
    assert round(r.signal_noise, 1) == 2.5
    assert round(r.ase, 3) == 0.009
    assert round(r.mean, 6) == 4.652095
    assert round(r.sd, 7) == 0.8984019
    assert round(r.median_r, 2) == 0.34


def test_bfi_confidence_boundaries(agreeableness):
    # [PSYCH-BFI] 95% confidence boundaries
    #          lower alpha upper
    # Feldt     0.69   0.7  0.72
    # Duhachek  0.69   0.7  0.72      (alpha -/+ qnorm(0.975) * ase)
    r = reliability(*agreeableness)["agreeableness"]
    assert [round(x, 2) for x in r.alpha_ci] == [0.69, 0.72]
    z = 1.959963984540054
    assert [round(r.alpha - z * r.ase, 2), round(r.alpha + z * r.ase, 2)] == [0.69, 0.72]


def test_bfi_item_statistics(agreeableness):
    # [PSYCH-BFI] Item statistics
    #       n raw.r std.r r.cor r.drop mean  sd
    # A1 2784  0.58  0.57  0.38   0.31  4.6 1.4
    # A2 2773  0.73  0.75  0.67   0.56  4.8 1.2
    # A3 2774  0.76  0.77  0.71   0.59  4.6 1.3
    # A4 2781  0.65  0.63  0.47   0.39  4.7 1.5
    # A5 2784  0.69  0.70  0.59   0.49  4.6 1.3
    published = {
        "A1": (0.58, 0.57, 0.31), "A2": (0.73, 0.75, 0.56), "A3": (0.76, 0.77, 0.59),
        "A4": (0.65, 0.63, 0.39), "A5": (0.69, 0.70, 0.49),
    }
    r = reliability(*agreeableness)["agreeableness"]
    for item, (raw_r, std_r, r_drop) in published.items():
        stats = r.items[item]
        assert (round(stats.raw_r, 2), round(stats.std_r, 2), round(stats.r_drop, 2)) == (
            raw_r, std_r, r_drop), item


def test_bfi_alpha_if_dropped(agreeableness):
    # [PSYCH-BFI] Reliability if an item is dropped: raw_alpha column
    #    A1 0.72  A2 0.62  A3 0.60  A4 0.69  A5 0.64
    published = {"A1": 0.72, "A2": 0.62, "A3": 0.60, "A4": 0.69, "A5": 0.64}
    r = reliability(*agreeableness)["agreeableness"]
    assert {i: round(s.alpha_if_dropped, 2) for i, s in r.items.items()} == published


def test_bfi_std_alpha_if_dropped_current_psych(agreeableness):
    # [PSYCH-BFI] AlphaOutput$alpha.drop %>% select(std.alpha) %>% round(3):
    #    A1 0.725  A2 0.625  A3 0.613  A4 0.693  A5 0.655
    # These (and the 2-decimal std.alpha column 0.72 0.63 0.61 0.69 0.66) are reproduced with
    # correlations computed pair by pair (correlations="pairwise"). The contract's default
    # (cov2cor of the pairwise covariances, psych's code until 2023) gives 0.726 for A1.
    published = {"A1": 0.725, "A2": 0.625, "A3": 0.613, "A4": 0.693, "A5": 0.655}
    r = reliability(*agreeableness, correlations="pairwise")["agreeableness"]
    assert {i: round(s.std_alpha_if_dropped, 3) for i, s in r.items.items()} == published
    two_dp = {"A1": 0.72, "A2": 0.63, "A3": 0.61, "A4": 0.69, "A5": 0.66}
    assert {i: round(s.std_alpha_if_dropped, 2) for i, s in r.items.items()} == two_dp
    default = reliability(*agreeableness)["agreeableness"]
    assert round(default.items["A1"].std_alpha_if_dropped, 3) == 0.726


def test_bfi_dropped_g6_average_r_sn_and_ase_from_our_functions(agreeableness):
    # [PSYCH-BFI] Reliability if an item is dropped:
    #    raw_alpha std.alpha G6(smc) average_r S/N alpha se  var.r med.r
    # A1      0.72      0.72    0.67      0.40 2.6   0.0087 0.0065  0.38
    # A2      0.62      0.63    0.58      0.29 1.7   0.0119 0.0168  0.29
    # A3      0.60      0.61    0.56      0.28 1.6   0.0124 0.0094  0.32
    # A4      0.69      0.69    0.65      0.36 2.3   0.0098 0.0157  0.37
    # A5      0.64      0.66    0.60      0.32 1.9   0.0111 0.0125  0.34
    # (psych's "alpha se" uses all 2800 rows.) Checked through mes.reliability.alpha on the
    # covariance matrix without each item and the pairwise correlations.
    published = {
        "A1": (0.67, 0.40, 2.6, 0.0087, 0.38), "A2": (0.58, 0.29, 1.7, 0.0119, 0.29),
        "A3": (0.56, 0.28, 1.6, 0.0124, 0.32), "A4": (0.65, 0.36, 2.3, 0.0098, 0.37),
        "A5": (0.60, 0.32, 1.9, 0.0111, 0.34),
    }
    _inst, frame = agreeableness
    keyed = frame[ITEMS].to_numpy(dtype=float, copy=True)
    keyed[:, 0] = 7 - keyed[:, 0]
    moments = item_moments(keyed, np.ones((5, 1)))
    for i, item in enumerate(ITEMS):
        keep = [j for j in range(5) if j != i]
        C = moments.cov[np.ix_(keep, keep)]
        R = moments.cor[np.ix_(keep, keep)]
        s = alpha_stats(C, R)
        g6, av_r, sn, ase, med_r = published[item]
        assert round(s.g6, 2) == g6, item
        assert round(s.average_r, 2) == av_r, item
        assert round(s.signal_noise, 1) == sn, item
        assert round(duhachek_ase(C, 2800), 4) == ase, item
        assert round(s.median_r, 2) == med_r, item
    # With correlations rescaled from C instead (the contract's default), G6 without A5 would
    # print 0.61, not psych's 0.60: current psych correlates pair by pair.
    C5 = moments.cov[:4, :4]
    assert round(alpha_stats(C5, cov2cor(C5)).g6, 2) == 0.61


def test_bfi_response_frequencies(agreeableness):
    # [PSYCH-BFI] Non missing response frequency for each item
    #       1    2    3    4    5    6 miss
    # A1 0.03 0.08 0.12 0.14 0.29 0.33 0.01
    # A2 0.02 0.05 0.05 0.20 0.37 0.31 0.01
    # A3 0.03 0.06 0.07 0.20 0.36 0.27 0.01
    # A4 0.05 0.08 0.07 0.16 0.24 0.41 0.01
    # A5 0.02 0.07 0.09 0.22 0.35 0.25 0.01
    published = {
        "A1": [0.03, 0.08, 0.12, 0.14, 0.29, 0.33, 0.01],
        "A2": [0.02, 0.05, 0.05, 0.20, 0.37, 0.31, 0.01],
        "A3": [0.03, 0.06, 0.07, 0.20, 0.36, 0.27, 0.01],
        "A4": [0.05, 0.08, 0.07, 0.16, 0.24, 0.41, 0.01],
        "A5": [0.02, 0.07, 0.09, 0.22, 0.35, 0.25, 0.01],
    }
    r = reliability(*agreeableness)["agreeableness"]
    for item, expected in published.items():
        stats = r.items[item]
        ours = [round(stats.response_freq[v], 2) for v in range(1, 7)]
        assert [*ours, round(stats.missing_share, 2)] == expected, item


def test_bfi_alpha_equals_pingouin_pairwise_and_listwise(agreeableness):
    inst, frame = agreeableness
    keyed = frame[ITEMS].copy()
    keyed["A1"] = 7 - keyed["A1"]
    for policy in ("pairwise", "listwise"):
        ours = reliability(inst, frame, nan_policy=policy)["agreeableness"]
        theirs, _ = pg.cronbach_alpha(keyed, nan_policy=policy)
        assert ours.alpha == pytest.approx(theirs, rel=1e-12, abs=1e-12)


def test_bfi_listwise_uses_complete_cases(agreeableness):
    inst, frame = agreeableness
    complete = frame[ITEMS].dropna()
    r = reliability(inst, frame, nan_policy="listwise")["agreeableness"]
    assert r.n == len(complete) == 2709
    assert all(s.n == 2709 for s in r.items.values())
    keyed = complete.copy()
    keyed["A1"] = 7 - keyed["A1"]
    # pingouin on the complete cases alone uses n = 2709 in its Feldt interval (3 decimals).
    _, ci = pg.cronbach_alpha(keyed)
    assert [round(x, 3) for x in r.alpha_ci] == list(ci)


# ----- [PG-DOC] ----------------------------------------------------------------------------

@pytest.fixture(scope="module")
def wide_missing() -> tuple[mes.Instrument, pd.DataFrame]:
    data = pg.read_dataset("cronbach_wide_missing")
    return _instrument(list(data.columns), 0, 1), data


def test_pingouin_wide_missing_pairwise(wide_missing):
    # [PG-DOC] pg.cronbach_alpha(data=data)  ->  (0.732660835214447, array([0.435, 0.909]))
    inst, data = wide_missing
    r = reliability(inst, data)["total"]
    assert r.alpha == pytest.approx(0.732660835214447, abs=1e-12)
    assert r.n == 12
    assert [round(x, 3) for x in r.alpha_ci] == [0.435, 0.909]


def test_pingouin_wide_missing_listwise_alpha_but_not_its_ci(wide_missing):
    # [PG-DOC] pg.cronbach_alpha(data=data, nan_policy="listwise")
    #          -> (0.8016949152542373, array([0.581, 0.933]))
    # pingouin's interval uses the 12 rows before deletion; ours uses the 9 complete cases,
    # so it must be wider and must not equal the published one.
    inst, data = wide_missing
    r = reliability(inst, data, nan_policy="listwise")["total"]
    assert r.alpha == pytest.approx(0.8016949152542373, abs=1e-12)
    assert r.n == 9
    assert [round(x, 3) for x in r.alpha_ci] != [0.581, 0.933]
    assert r.alpha_ci[0] < 0.581
    assert r.alpha_ci[1] > 0.933
    _, ci_complete = pg.cronbach_alpha(data.dropna())
    assert [round(x, 3) for x in r.alpha_ci] == list(ci_complete)


def test_pingouin_wide_missing_median_imputed(wide_missing):
    # [PG-DOC] pg.cronbach_alpha(data=data.fillna(data.median()))
    #          -> (0.7380191693290734, array([0.447, 0.911]))
    inst, data = wide_missing
    r = reliability(inst, data.fillna(data.median()))["total"]
    assert r.alpha == pytest.approx(0.7380191693290734, abs=1e-12)
    assert [round(x, 3) for x in r.alpha_ci] == [0.447, 0.911]


def test_pingouin_long_format_likert():
    # [PG-DOC] pg.cronbach_alpha(data=data, items="Items", scores="Scores", subject="Subj")
    #          -> (0.5917188485995826, array([0.195, 0.84 ]))
    data = pg.read_dataset("cronbach_alpha")
    wide = data.pivot(index="Subj", columns="Items", values="Scores")
    wide.columns = [str(c) for c in wide.columns]
    inst = _instrument(list(wide.columns), 1, 7)
    r = reliability(inst, wide)["total"]
    assert r.alpha == pytest.approx(0.5917188485995826, abs=1e-12)
    assert [round(x, 3) for x in r.alpha_ci] == [0.195, 0.84]
    assert "low_alpha" in r.flag_codes()
    assert "too_few_respondents" in r.flag_codes()


# ----- [PSYCH-FAQ] full precision ----------------------------------------------------------
# Revelle W, "Alpha - standardized or non-standardized", psych FAQ,
# https://personality-project.org/r/tutorials/faq/Comparing.alpha.html
#   a1 <- alpha(bfi[16:20]); print(a1$total, digits=6)
#   raw_alpha std.alpha  G6(smc) average_r     S/N       ase    mean      sd
#    0.813963  0.814675 0.799126  0.467854 4.39592 0.0056071 3.16227 1.19633
# psych derives the correlations behind std.alpha, G6 and average_r from the pairwise
# covariance matrix (cov2cor): our default. The 2025 output above ([PSYCH-BFI]) instead
# matches correlations computed pair by pair (correlations="pairwise").


def test_bfi_neuroticism_matches_psych_faq_to_six_digits(bfi):
    items = [f"N{i}" for i in range(1, 6)]
    inst = _instrument(items, 1, 6)
    r = reliability(inst, bfi[items])["total"]
    printed = {"alpha": 0.813963, "std_alpha": 0.814675, "g6": 0.799126,
               "average_r": 0.467854, "signal_noise": 4.39592, "ase": 0.0056071,
               "mean": 3.16227, "sd": 1.19633}
    for name, value in printed.items():
        # print(digits = 6): six significant digits, so half a unit in the sixth.
        tolerance = 0.5 * 10 ** (np.floor(np.log10(abs(value))) - 5)
        assert getattr(r, name) == pytest.approx(value, abs=tolerance), name
    pairwise = reliability(inst, bfi[items], correlations="pairwise")["total"]
    assert abs(pairwise.std_alpha - printed["std_alpha"]) > 1e-4  # the FAQ used cov2cor
