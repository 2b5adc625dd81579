"""Trends over several waves: every figure checked against an independent computation
(pandas means, scipy's t and Welch intervals, pingouin's Hedges' g, compare_waves of each
step), and nothing of a group a wave hides shown in that wave or in a step touching it."""

from __future__ import annotations

import io
import json
import math
from typing import Any

import numpy as np
import pandas as pd
import pingouin as pg
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from scipy import stats

import mes
from mes.groups import (
    GroupingError,
    compare_series,
    compare_waves,
    raise_threshold,
    summarise,
    trend_from_reports,
)
from mes.groups.trends import ABSENT, SHOWN, SUPPRESSED, Trend
from mes.io.formula_escape import write_csv

ITEMS = list("abcd")
STEP_STATS = ("n_before", "n_after", "mean_before", "mean_after", "difference", "ci_low",
              "ci_high", "df", "hedges_g", "reading")


def _wave(sizes: dict[str, int], seed: int, shift: float = 0.0) -> pd.DataFrame:
    """Answers around a level of each respondent's own, ``shift`` higher; one row per
    respondent with their grade."""
    rng = np.random.default_rng(seed)
    n = sum(sizes.values())
    level = rng.normal(3 + shift, 0.9, size=(n, 1))
    answers = np.clip(np.rint(level + rng.normal(0, 0.7, size=(n, 4))), 1, 5)
    frame = pd.DataFrame(answers, columns=ITEMS)
    frame["b"] = 6 - frame["b"]  # b is reverse-keyed in the fixture instrument
    frame["grade"] = np.repeat(list(sizes), list(sizes.values()))
    return frame


WAVES = [
    _wave({"consultant": 60, "sas": 14, "trainee": 50}, 1),
    _wave({"consultant": 55, "sas": 4, "trainee": 48}, 2, 0.2),  # SAS hidden in wave 2
    _wave({"consultant": 70, "sas": 16, "trainee": 52}, 3, 0.4),
]
LABELS = ["2022", "2024", "2026"]


@pytest.fixture(scope="module")
def trend(small_instrument: mes.Instrument) -> Trend:
    return compare_series(small_instrument, WAVES, ["grade"], labels=LABELS)


def test_each_step_is_compare_waves_of_its_two_waves(small_instrument: mes.Instrument,
                                                     trend: Trend) -> None:
    for i in range(len(WAVES) - 1):
        step = compare_waves(small_instrument, WAVES[i], WAVES[i + 1], ["grade"])
        for key, cells in step.groups:
            for scale, cell in cells.items():
                assert trend.cell(scale, **key).steps[i] == cell, (i, key, scale)


def test_wave_means_and_intervals_match_pandas_and_scipy(small_instrument: mes.Instrument,
                                                         trend: Trend) -> None:
    scored = []
    for wave in WAVES:
        frame = mes.score(small_instrument, wave[ITEMS]).scores.copy()
        frame["grade"] = wave["grade"].to_numpy()
        scored.append(frame)
    checked = 0
    for w, frame in enumerate(scored):
        means = frame.groupby("grade")["total"].mean()
        for grade in ("consultant", "sas", "trainee"):
            point = trend.cell("total", grade=grade).points[w]
            if point.status != SHOWN:  # hidden by the wave's own report (tested below)
                continue
            checked += 1
            values = frame.loc[frame["grade"] == grade, "total"].dropna().to_numpy()
            assert point.n == values.size
            assert point.mean == pytest.approx(means[grade], rel=1e-12)
            low, high = stats.t.interval(0.95, values.size - 1, loc=values.mean(),
                                         scale=stats.sem(values))
            assert (point.ci_low, point.ci_high) == (pytest.approx(low), pytest.approx(high))
        overall = trend.cell("total").points[w]
        assert overall.mean == pytest.approx(frame["total"].mean(), rel=1e-12)
    assert checked >= 6
    compared = 0
    for i in range(len(WAVES) - 1):
        for grade in ("consultant", "sas", "trainee"):
            x1 = scored[i].loc[scored[i]["grade"] == grade, "total"].dropna().to_numpy()
            x2 = scored[i + 1].loc[scored[i + 1]["grade"] == grade, "total"].dropna().to_numpy()
            step = trend.cell("total", grade=grade).steps[i]
            if step.status != "compared":
                continue
            compared += 1
            ref = stats.ttest_ind(x2, x1, equal_var=False)
            ci = ref.confidence_interval(0.95)
            assert step.difference == pytest.approx(x2.mean() - x1.mean())
            assert (step.ci_low, step.ci_high) == (pytest.approx(ci.low), pytest.approx(ci.high))
            assert step.df == pytest.approx(ref.df)
            assert step.hedges_g == pytest.approx(pg.compute_effsize(x2, x1, eftype="hedges"))
    assert compared >= 2


def test_a_group_hidden_in_one_wave_shows_nothing_there_nor_in_its_steps(
    small_instrument: mes.Instrument, trend: Trend
) -> None:
    sas = trend.cell("total", grade="sas")
    assert [p.status for p in sas.points] == [SHOWN, SUPPRESSED, SHOWN]
    hidden = sas.points[1]
    assert (hidden.n, hidden.mean, hidden.ci_low, hidden.ci_high) == (None,) * 4
    assert hidden.reason == "too_few_responses"
    for step in sas.steps:  # both steps touch the hidden wave
        assert step.status == "suppressed"
        assert all(getattr(step, k) is None for k in STEP_STATS)
    # Wave 2's own report hides a partner too (else overall minus the others gives SAS).
    report = summarise(small_instrument, WAVES[1], by=["grade"])
    partners = [g.key["grade"] for g in report.groups if g.suppressed and g.key]
    assert len(partners) >= 2
    for grade in partners:
        point = trend.cell("total", grade=grade).points[1]
        assert point.status == SUPPRESSED
        assert point.mean is None
    assert trend.cell("total").points[1].status == SHOWN
    # The serialised forms carry no figure of the hidden wave.
    body = trend.to_dict()
    [cell] = [g["scales"]["total"] for g in body["groups"] if g["group"] == {"grade": "sas"}]
    assert cell["waves"][1] == {"wave": "2024", "status": "suppressed", "n": None,
                                "mean": None, "ci": None,
                                "suppressed_reason": "too_few_responses",
                                "note": "fewer than 10 responses"}
    assert [s["from"] for s in cell["steps"]] == ["2022", "2024"]
    assert all(s[k] is None for s in cell["steps"] for k in STEP_STATS)
    frame = trend.to_frame()
    rows = frame[(frame["grade"] == "sas") & (frame["wave"] == "2024")]
    assert not rows.empty
    assert rows[["n", "mean", "ci_low", "ci_high", "difference", "change_ci_low",
                 "change_ci_high", "hedges_g"]].isna().all().all()
    after = frame[(frame["grade"] == "sas") & (frame["wave"] == "2026")]
    assert after[["difference", "hedges_g"]].isna().all().all()


def test_to_dict_and_to_frame(trend: Trend) -> None:
    body = trend.to_dict()
    json.dumps(body, allow_nan=False)
    assert body["waves"] == LABELS
    assert body["min_group_size"] == 10
    assert [g["group"] for g in body["groups"]] == [
        {}, {"grade": "consultant"}, {"grade": "sas"}, {"grade": "trainee"}]
    overall = body["groups"][0]["scales"]["total"]
    assert len(overall["waves"]) == 3
    assert len(overall["steps"]) == 2
    assert overall["steps"][1]["status"] == "compared"
    assert overall["steps"][1]["reading"].split()[1] in ("increase", "decrease", "change")
    frame = trend.to_frame()
    assert len(frame) == len(trend.groups) * len(trend.scales) * 3
    assert list(frame.columns[:6]) == ["level", "grade", "scale", "wave", "status",
                                       "suppressed_reason"]
    first = frame[frame["wave"] == "2022"]
    assert first["change_from"].isna().all()
    assert set(frame[frame["wave"] == "2026"]["change_from"]) == {"2024"}
    # CSV: counts whole, statistics to 3 decimals (mes.io.numbers).
    buffer = io.StringIO()
    write_csv(frame, buffer)
    rows = pd.read_csv(io.StringIO(buffer.getvalue()), dtype=str, keep_default_na=False)
    row = rows[(rows["level"] == "overall") & (rows["scale"] == "total")
               & (rows["wave"] == "2026")].iloc[0]
    assert row["n"].isdigit()
    assert len(row["mean"].split(".")[1]) == 3
    assert len(row["difference"].split(".")[1]) == 3


def test_a_group_new_in_a_later_wave(small_instrument: mes.Instrument) -> None:
    waves = [_wave({"consultant": 30, "trainee": 30}, 4),
             _wave({"consultant": 30, "trainee": 30, "sas": 20}, 5)]
    result = compare_series(small_instrument, waves, ["grade"])
    sas = result.cell("one", grade="sas")
    assert [p.status for p in sas.points] == [ABSENT, SHOWN]
    assert sas.steps[0].status == "not in both waves"
    assert result.waves == ("wave 1", "wave 2")
    assert [k for k, _ in result.groups][-1] == {"grade": "sas"}


def test_a_published_report_can_be_a_wave(small_instrument: mes.Instrument,
                                          trend: Trend) -> None:
    stored = summarise(small_instrument, WAVES[0], by=["grade"]).to_dict()  # last year's
    mixed = compare_series(small_instrument,
                           [mes.groups.GroupReport.from_dict(stored), *WAVES[1:]], ["grade"],
                           labels=LABELS)
    # The same trend, to the 15 significant digits a stored report keeps.
    pd.testing.assert_frame_equal(mixed.to_frame(), trend.to_frame(), rtol=1e-12)


def test_reports_at_several_thresholds_are_shown_at_the_highest(
    small_instrument: mes.Instrument
) -> None:
    reports = [summarise(small_instrument, w, by=["grade"], min_group_size=k)
               for w, k in zip(WAVES, (5, 10, 15), strict=True)]
    result = trend_from_reports(reports, LABELS)
    assert result.min_group_size == 15
    # SAS (14) in the first wave is below 15: hidden there although its own report shows it.
    assert result.cell("total", grade="sas").points[0].status == SUPPRESSED
    assert reports[0].group(grade="sas").scales["total"].mean is not None
    assert trend_from_reports(reports, LABELS, min_group_size=61).cell(
        "total", grade="consultant").points[0].status == SUPPRESSED


def test_arguments_are_checked_naming_them(small_instrument: mes.Instrument) -> None:
    with pytest.raises(GroupingError, match=r"waves: a trend needs at least 2 waves.*got 1"):
        compare_series(small_instrument, WAVES[:1], ["grade"])
    with pytest.raises(TypeError, match="waves must be a sequence of waves"):
        compare_series(small_instrument, WAVES[0], ["grade"])
    with pytest.raises(GroupingError, match=r"labels: .*'2022' appears more than once"):
        compare_series(small_instrument, WAVES, ["grade"], labels=["2022", "2022", "2026"])
    with pytest.raises(GroupingError, match=r"labels: give one label per wave \(3 waves\)"):
        compare_series(small_instrument, WAVES, ["grade"], labels=["2022", "2024"])
    with pytest.raises(GroupingError, match=r"labels\[1\] must be a non-blank text"):
        compare_series(small_instrument, WAVES, ["grade"], labels=["2022", " ", "2026"])
    with pytest.raises(GroupingError, match="attributes: give one attribute table per wave"):
        compare_series(small_instrument, WAVES, ["grade"], attributes=[{"grade": []}])
    with pytest.raises(GroupingError, match=r"waves\[1\] \(2024\): by: no attribute"):
        compare_series(small_instrument, [WAVES[0], WAVES[1].drop(columns="grade")],
                       ["grade"], labels=LABELS[:2])
    bad = WAVES[2].copy()
    bad.loc[0, "a"] = 9
    with pytest.raises(mes.InvalidResponsesError) as caught:
        compare_series(small_instrument, [WAVES[0], bad], ["grade"], labels=["2022", "2026"])
    assert "in waves[1] (2026)" in caught.value.__notes__
    uwes = mes.load_instrument("uwes9")
    other = summarise(uwes, {f"uwes{i}": [3, 4] * 6 for i in range(1, 10)})
    with pytest.raises(GroupingError, match=r"waves\[0\] \(2022\) is a report of instrument "
                       r"uwes9 version 1, not of small version 1"):
        compare_series(small_instrument, [other, WAVES[1]], labels=LABELS[:2])
    mine = summarise(small_instrument, WAVES[0])
    with pytest.raises(GroupingError, match=r"waves\[0\] \(wave 1\) is a report by overall "
                       "only, not by grade"):
        compare_series(small_instrument, [mine, WAVES[1]], ["grade"])
    with pytest.raises(GroupingError, match=r"reports\[1\] \(wave 2\) uses instrument uwes9"):
        trend_from_reports([mine, other])
    with pytest.raises(GroupingError, match=r"reports\[1\] .* another breakdown"):
        trend_from_reports([mine, summarise(small_instrument, WAVES[1], by=["grade"])])
    with pytest.raises(TypeError, match=r"reports\[0\] must be a GroupReport"):
        trend_from_reports([mine.to_dict(), mine])  # type: ignore[list-item]
    with pytest.raises(ValueError, match="min_group_size must be at least 1"):
        trend_from_reports([mine, mine], min_group_size=0)


# ----- property: nothing a wave hides is shown, and hiding more never shows more ----------

_SIZES = st.fixed_dictionaries({g: st.integers(0, 24) for g in ("consultant", "sas", "trainee")})


def _hidden(trend: Trend) -> tuple[set[Any], set[Any]]:
    """(wave, group, scale) points and (step, group, scale) steps without figures."""
    points, steps = set(), set()
    for key, cells in trend.groups:
        label = tuple(key.items())
        for scale, cell in cells.items():
            points |= {(w, label, scale) for w, p in enumerate(cell.points) if not p.shown}
            steps |= {(i, label, scale) for i, s in enumerate(cell.steps)
                      if s.status != "compared"}
    return points, steps


@settings(max_examples=40, deadline=None, derandomize=True,
          suppress_health_check=[HealthCheck.too_slow])
@given(sizes=st.lists(_SIZES, min_size=2, max_size=4), k=st.integers(1, 12),
       more=st.integers(0, 10), seed=st.integers(0, 1000))
def test_hiding_is_monotone_and_a_hidden_point_has_no_value_or_step(
    small_instrument: mes.Instrument, sizes: list[dict[str, int]], k: int, more: int,
    seed: int,
) -> None:
    sizes = [s if sum(s.values()) else {"consultant": 1} for s in sizes]
    waves = [_wave({g: n for g, n in s.items() if n}, seed + i) for i, s in enumerate(sizes)]
    reports = [summarise(small_instrument, w, by=["grade"], min_group_size=k) for w in waves]
    trend = trend_from_reports(reports)
    for key, cells in trend.groups:
        for scale, cell in cells.items():
            for w, point in enumerate(cell.points):
                found = [g for g in reports[w].groups if g.key == key]
                hidden = not found or found[0].suppressed or found[0].scales[scale].suppressed
                if not hidden:
                    published = found[0].scales[scale]
                    assert (point.n, point.mean, point.ci_low, point.ci_high) == (
                        published.n, published.mean, published.ci_low, published.ci_high)
                    continue
                assert (point.n, point.mean, point.ci_low, point.ci_high) == (None,) * 4
                for i in (w - 1, w):  # the steps into and out of the hidden wave
                    if 0 <= i < len(cell.steps):
                        assert cell.steps[i].status != "compared"
                        assert all(getattr(cell.steps[i], f) is None for f in STEP_STATS)
    # The serialised trend holds no figure for a hidden point or step.
    frame = trend.to_frame()
    shown = frame["status"] == SHOWN
    assert frame.loc[~shown, ["n", "mean", "ci_low", "ci_high"]].isna().all().all()
    assert frame.loc[frame["change_status"] != "compared",
                     ["difference", "change_ci_low", "change_ci_high",
                      "hedges_g"]].isna().all().all()
    for group in trend.to_dict()["groups"]:
        for cell in group["scales"].values():
            for point in cell["waves"]:
                if point["status"] != SHOWN:
                    assert (point["n"], point["mean"], point["ci"]) == (None, None, None)
    # Monotone: a higher threshold hides every point and step the lower one hid, and more.
    higher = trend_from_reports([raise_threshold(r, k + more) for r in reports])
    low_points, low_steps = _hidden(trend)
    high_points, high_steps = _hidden(higher)
    assert low_points <= high_points
    assert low_steps <= high_steps
    assert trend_from_reports(reports, min_group_size=k + more).to_dict() == higher.to_dict()


def test_points_are_never_nan() -> None:
    inst = mes.load_instrument("uwes9")
    one = {f"uwes{i}": [4] for i in range(1, 10)}  # a group of one: no SD, no interval
    result = compare_series(inst, [one, one], min_group_size=1)
    point = result.cell("total").points[0]
    assert point.status == SHOWN
    assert point.ci_low is None
    assert result.cell("total").steps[0].ci_low is None
    text = json.dumps(result.to_dict(), allow_nan=False)
    assert "NaN" not in text
    assert not any(isinstance(v, float) and math.isnan(v)
                   for v in result.to_frame()["mean"].dropna())
