"""ICC(1) and ICC(2) (Bliese 2000) against a published worked example and references.

Published example: Shrout PE, Fleiss JL (1979). Intraclass correlations: uses in
assessing rater reliability. Psychological Bulletin 86(2):420-428. Table 2 gives
ratings of 6 targets by 4 judges; the one-way ANOVA (their Table 3) has
BMS = 11.24 and WMS = 6.26, and their Table 4 reports ICC(1,1) = .17 and
ICC(1,4) = .44. With the targets as groups of four, these are Bliese's ICC(1)
and ICC(2). The same data and ICC1 = 0.1657, ICC1k = 0.4428 are printed in the
reliability vignette of the SimplyAgree R package (Caldwell), function
``reli_stats``.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pingouin as pg
import pytest
from scipy import stats

from mes.groups import icc, icc_from_summaries

SHROUT_FLEISS_TABLE_2 = np.array(
    [[9, 2, 5, 8], [6, 1, 3, 2], [8, 4, 6, 8], [7, 1, 2, 6], [10, 5, 6, 9], [6, 2, 4, 7]],
    dtype=float,
)


def _sf_long() -> tuple[np.ndarray, np.ndarray]:
    groups = np.repeat([f"target{i}" for i in range(1, 7)], 4)
    return SHROUT_FLEISS_TABLE_2.ravel(), groups


def test_shrout_fleiss_published_values() -> None:
    values, groups = _sf_long()
    r = icc(values, groups)
    assert r.msb == pytest.approx(11.24, abs=0.005)  # Shrout & Fleiss Table 3, BMS
    assert r.msw == pytest.approx(6.26, abs=0.005)  # WMS
    assert round(r.icc1, 2) == 0.17  # Table 4, ICC(1,1)
    assert round(r.icc2, 2) == 0.44  # Table 4, ICC(1,k)
    assert r.icc1 == pytest.approx(0.1657, abs=5e-5)  # SimplyAgree vignette, ICC1
    assert r.icc2 == pytest.approx(0.4428, abs=5e-5)  # SimplyAgree vignette, ICC1k
    assert (r.n_groups, r.n, r.mean_group_size) == (6, 24, 4.0)


def test_agrees_with_pingouin_one_way_icc() -> None:
    values, groups = _sf_long()
    long = pd.DataFrame({"g": groups, "judge": np.tile(range(4), 6), "x": values})
    ref = pg.intraclass_corr(long, targets="g", raters="judge", ratings="x").set_index("Type")
    r = icc(values, groups)
    assert r.icc1 == pytest.approx(ref.loc["ICC(1,1)", "ICC"], rel=1e-12)
    assert r.icc2 == pytest.approx(ref.loc["ICC(1,k)", "ICC"], rel=1e-12)
    assert r.f == pytest.approx(ref.loc["ICC(1,1)", "F"], rel=1e-12)
    assert r.p == pytest.approx(ref.loc["ICC(1,1)", "pval"], rel=1e-9)


def test_unequal_groups_match_one_way_anova() -> None:
    rng = np.random.default_rng(7)
    sizes = [5, 12, 30, 8]
    values = np.concatenate([rng.normal(mu, 1.0, n) for mu, n in zip([0, 0.5, 1, 0.2], sizes,
                                                                        strict=True)])
    groups = np.repeat(list("abcd"), sizes)
    f, p = stats.f_oneway(*[values[groups == g] for g in "abcd"])
    k = len(values) / 4  # mean group size, as in Bliese's ICC1
    r = icc(values, groups)
    assert r.f == pytest.approx(f, rel=1e-10)
    assert r.p == pytest.approx(p, rel=1e-8)
    assert r.icc2 == pytest.approx(1 - 1 / f, rel=1e-10)
    assert r.icc1 == pytest.approx((f - 1) / (f - 1 + k), rel=1e-10)


def test_nan_values_and_labels_are_left_out() -> None:
    values, groups = _sf_long()
    noisy_v = np.concatenate([values, [np.nan, 100.0]])
    noisy_g = np.concatenate([groups, ["target1", None]])
    assert icc(noisy_v, noisy_g).icc1 == pytest.approx(icc(values, groups).icc1)


def test_edge_cases_give_none_with_a_reason() -> None:
    one = icc([1.0, 2.0, 3.0], ["a", "a", "a"])
    assert one.icc1 is None
    assert one.icc2 is None
    assert "two groups" in one.reading
    flat = icc([3.0] * 6, list("aabbcc"))
    assert flat.icc1 is None
    assert flat.icc2 is None
    singletons = icc([1.0, 2.0, 3.0], ["a", "b", "c"])  # no within-group df
    assert singletons.icc1 is None
    empty = icc_from_summaries(np.zeros(0), np.zeros(0), np.zeros(0))
    assert empty.n_groups == 0
    assert empty.icc1 is None
    with pytest.raises(ValueError, match="same length"):
        icc([1.0, 2.0], ["a"])


def test_reading_follows_the_usual_bands() -> None:
    values, groups = _sf_long()
    assert "not reliable enough" in icc(values, groups).reading
    rng = np.random.default_rng(1)
    strong_v = np.concatenate([rng.normal(mu, 1, 40) for mu in (0, 1, 2)])
    strong = icc(strong_v, np.repeat(list("abc"), 40))
    assert strong.icc2 > 0.7
    assert "reliable enough to compare" in strong.reading
    assert "large share" in strong.reading
    null = icc([1.0, 2.0, 3.0, 1.0, 2.0, 3.3, 0.9, 2.0, 3.0], np.repeat(list("abc"), 3))
    assert null.icc1 is not None
    assert null.icc1 < 0
    assert "no more than chance" in null.reading
    assert set(null.to_dict()) >= {"icc1", "icc2", "reading", "n_groups"}
