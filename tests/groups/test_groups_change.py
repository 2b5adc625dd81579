"""Change between waves: Welch CI against scipy, Hedges' g against pingouin."""

from __future__ import annotations

import json
import math

import numpy as np
import pandas as pd
import pingouin as pg
import pytest
from scipy import stats

from mes.groups import compare_waves
from mes.groups.change import read_change, welch_interval


def test_welch_interval_matches_scipy() -> None:
    rng = np.random.default_rng(31)
    x1, x2 = rng.normal(3.2, 0.6, 25), rng.normal(3.5, 1.1, 41)
    diff, lo, hi, df = welch_interval(x1.mean(), x1.std(ddof=1), 25, x2.mean(),
                                      x2.std(ddof=1), 41)
    ref = stats.ttest_ind(x2, x1, equal_var=False)
    ci = ref.confidence_interval(0.95)
    assert diff == pytest.approx(x2.mean() - x1.mean())
    assert (lo, hi) == (pytest.approx(ci.low, rel=1e-10), pytest.approx(ci.high, rel=1e-10))
    assert df == pytest.approx(ref.df, rel=1e-10)
    ci90 = ref.confidence_interval(0.90)
    _, lo90, hi90, _ = welch_interval(x1.mean(), x1.std(ddof=1), 25, x2.mean(),
                                      x2.std(ddof=1), 41, ci=0.9)
    assert (lo90, hi90) == (pytest.approx(ci90.low), pytest.approx(ci90.high))
    assert math.isnan(welch_interval(3, 0, 1, 4, 1, 5)[1])


def _wave(n: int, seed: int, shift: float) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    base = rng.normal(3 + shift, 1.0, size=(n, 1))
    answers = np.clip(np.rint(base + rng.normal(0, 0.8, size=(n, 4))), 1, 5)
    frame = pd.DataFrame(answers, columns=list("abcd"))
    frame["b"] = 6 - frame["b"]  # b is reverse-keyed in the fixture instrument
    frame["grade"] = rng.choice(["consultant", "trainee"], n)
    return frame


def test_compare_waves_matches_scipy_and_pingouin_per_group(small_instrument) -> None:
    before, after = _wave(300, 1, 0.0), _wave(280, 2, 0.3)
    result = compare_waves(small_instrument, before, after, by=["grade"])
    from mes import score

    s1 = score(small_instrument, before[list("abcd")]).scores["total"]
    s2 = score(small_instrument, after[list("abcd")]).scores["total"]
    for grade in ("consultant", "trainee"):
        x1 = s1[(before["grade"] == grade).to_numpy()]
        x2 = s2[(after["grade"] == grade).to_numpy()]
        x1, x2 = x1[~np.isnan(x1)], x2[~np.isnan(x2)]
        cell = result.cell("total", grade=grade)
        assert cell.status == "compared"
        assert cell.difference == pytest.approx(x2.mean() - x1.mean())
        ci = stats.ttest_ind(x2, x1, equal_var=False).confidence_interval(0.95)
        assert cell.ci_low == pytest.approx(ci.low)
        assert cell.ci_high == pytest.approx(ci.high)
        g = pg.compute_effsize(x2, x1, paired=False, eftype="hedges")
        assert cell.hedges_g == pytest.approx(g)
        # Hedges (1981): d with pooled SD times 1 - 3 / (4 (n1 + n2) - 9)
        pooled = math.sqrt(((x1.size - 1) * x1.var(ddof=1) + (x2.size - 1) * x2.var(ddof=1))
                           / (x1.size + x2.size - 2))
        d = (x2.mean() - x1.mean()) / pooled
        assert cell.hedges_g == pytest.approx(d * (1 - 3 / (4 * (x1.size + x2.size) - 9)))
        assert cell.reading.startswith(("Small", "Medium", "Negligible", "Large"))
        assert "Hedges' g" in cell.reading.split(":")[0]
    json.dumps(result.to_dict(), allow_nan=False)


def test_suppression_applies_to_both_waves(small_instrument) -> None:
    before, after = _wave(200, 3, 0.0), _wave(200, 4, 0.2)
    before.loc[:3, "grade"] = "sas"  # 4 SAS doctors in wave one only
    after.loc[:40, "grade"] = "sas"  # 41 in wave two
    result = compare_waves(small_instrument, before, after, by=["grade"])
    sas = result.cell("total", grade="sas")
    assert sas.status == "suppressed"
    assert all(v is None for k, v in sas.to_dict().items() if k not in ("scale", "status"))
    # complementary suppression in wave one hides the next smallest grade as well
    statuses = {g: result.cell("total", grade=g).status for g in ("consultant", "trainee")}
    assert "suppressed" in statuses.values()
    assert result.cell("total").status == "compared"


def test_group_in_one_wave_only(small_instrument) -> None:
    before, after = _wave(100, 5, 0.0), _wave(100, 6, 0.0)
    after["grade"] = "consultant"
    result = compare_waves(small_instrument, before, after, by=["grade"])
    assert result.cell("one", grade="trainee").status == "not in both waves"
    frame = result.to_frame()
    assert set(frame["status"]) >= {"compared", "not in both waves"}


def test_reading_leads_with_the_effect_size() -> None:
    text = read_change(-0.62, -0.5, -0.8, -0.2, 3.6, 3.1)
    assert text.startswith("Medium decrease (Hedges' g = -0.62): the mean fell by 0.50")
    unsure = read_change(0.1, 0.08, -0.05, 0.21, 3.0, 3.08)
    assert unsure.startswith("Negligible increase")
    assert "may be chance" in unsure
    assert read_change(None, 0.0, None, None, 3.0, 3.0).startswith("Change of unknown size")


def test_reading_does_not_depend_on_the_last_binary_digit() -> None:
    # Means summed in another row order (as a database may return them) differ in the
    # last bit: at a tie of the shown decimals, or for an unchanged mean, the text must not.
    tie = 3.855 - 3.02  # 0.835 up to float error: shown as 0.83 or 0.84 by the raw value
    texts = {read_change(0.7, d, 0.31, 1.36, 3.02, 3.02 + d)
             for d in (tie, math.nextafter(tie, 1), math.nextafter(tie, 0))}
    assert len(texts) == 1
    same = read_change(1e-17, 1e-17, -0.1, 0.1, 3.4, 3.4 + 1e-16)
    assert same.startswith("Negligible change (Hedges' g = 0.00): the mean changed by 0.00")
