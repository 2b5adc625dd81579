"""summarise(): statistics checked against scipy / numpy on the same numbers."""

from __future__ import annotations

import json
import math

import numpy as np
import pandas as pd
import pytest
from scipy import stats

import mes
from mes.groups import MISSING_LABEL, GroupingError, icc, summarise


def _keyed(frame: pd.DataFrame) -> pd.DataFrame:
    keyed = frame[list("abcd")].copy()
    keyed["b"] = 6 - keyed["b"]
    return keyed


def _reference_scores(frame: pd.DataFrame) -> pd.DataFrame:
    """Scores straight from the rules: mean of keyed items, needs ceil(0.5 k) answered."""
    keyed = _keyed(frame)
    out = {}
    for scale, items in {"one": "ab", "two": "cd", "total": "abcd"}.items():
        sub = keyed[list(items)]
        need = math.ceil(0.5 * len(items))
        out[scale] = sub.mean(axis=1).where(sub.notna().sum(axis=1) >= need)
    return pd.DataFrame(out)


def test_group_statistics_match_scipy(small_instrument, frames) -> None:
    frame = frames(600, seed=1)
    report = summarise(small_instrument, frame, by=["grade"], min_group_size=5)
    scores = _reference_scores(frame)
    keyed = _keyed(frame)
    for grade in ("consultant", "sas", "trainee"):
        g = report.group(grade=grade)
        rows = frame["grade"] == grade
        assert g.n == rows.sum()
        for scale, items in {"one": "ab", "two": "cd", "total": "abcd"}.items():
            x = scores.loc[rows, scale].dropna().to_numpy()
            cell = g.scales[scale]
            assert cell.n == x.size
            assert cell.mean == pytest.approx(x.mean(), rel=1e-12)
            assert cell.sd == pytest.approx(x.std(ddof=1), rel=1e-10)
            assert cell.se == pytest.approx(stats.sem(x), rel=1e-10)
            lo, hi = stats.t.interval(0.95, x.size - 1, loc=x.mean(), scale=stats.sem(x))
            assert (cell.ci_low, cell.ci_high) == (pytest.approx(lo), pytest.approx(hi))
            assert cell.mean_percent == pytest.approx((x.mean() - 1) / 4 * 100)
            # favourable: keyed answers >= 4 among answered items of scored respondents
            scored = rows & scores[scale].notna()
            answers = keyed.loc[scored, list(items)].to_numpy().ravel()
            answers = answers[~np.isnan(answers)]
            assert cell.percent_favourable == pytest.approx(100 * np.mean(answers >= 4))


def test_reverse_keying_reaches_percent_favourable(small_instrument) -> None:
    # Everyone answers 1 to the reverse-keyed item b: keyed 5, so favourable.
    frame = pd.DataFrame({"a": [1.0] * 12, "b": [1.0] * 12, "c": [1.0] * 12, "d": [1.0] * 12})
    report = summarise(small_instrument, frame)
    assert report.overall.scales["one"].percent_favourable == pytest.approx(50.0)
    assert report.overall.scales["two"].percent_favourable == 0.0


def test_other_ci_level(small_instrument, frames) -> None:
    frame = frames(200, seed=2)
    x = _reference_scores(frame)["total"].dropna().to_numpy()
    cell = summarise(small_instrument, frame, ci=0.9).overall.scales["total"]
    lo, hi = stats.t.interval(0.9, x.size - 1, loc=x.mean(), scale=stats.sem(x))
    assert cell.ci_low == pytest.approx(lo)
    assert cell.ci_high == pytest.approx(hi)


def test_overall_mean_is_the_weighted_mean_of_groups(small_instrument, frames) -> None:
    frame = frames(300, seed=3)
    report = summarise(small_instrument, frame, by=["grade", "site"], min_group_size=1)
    overall = report.overall.scales["total"]
    for level in report.levels[1:]:
        cells = [g.scales["total"] for g in report if g.level == level]
        weighted = sum(c.n * c.mean for c in cells) / sum(c.n for c in cells)
        assert weighted == pytest.approx(overall.mean, rel=1e-12)
        assert sum(c.n for c in cells) == overall.n


def test_nested_levels_and_margins(small_instrument, frames) -> None:
    frame = frames(400, seed=4)
    nested = summarise(small_instrument, frame, by=["grade", "site"], min_group_size=1)
    assert nested.levels == ((), ("grade",), ("grade", "site"))
    assert len(nested) == 1 + 3 + 12
    both = summarise(small_instrument, frame, by=["grade", "site"], min_group_size=1,
                     margins=True)
    assert both.levels == ((), ("grade",), ("site",), ("grade", "site"))
    assert both.group(site="East").n == (frame["site"] == "East").sum()


def test_quantiles_and_histogram_of_individual_scores(small_instrument, frames) -> None:
    frame = frames(500, seed=5)
    report = summarise(small_instrument, frame, by=["site"], min_group_size=1,
                       quantiles=(0.1, 0.5, 0.9))
    assert report.distribution_scales == ("total",)
    scores = _reference_scores(frame)
    for site in ("East", "North"):
        x = scores.loc[frame["site"] == site, "total"].dropna().to_numpy()
        cell = report.group(site=site).scales["total"]
        assert cell.quantiles == pytest.approx(
            {"p10": np.quantile(x, 0.1), "p50": np.median(x), "p90": np.quantile(x, 0.9)})
        pct = (x - 1) / 4 * 100
        expected = np.histogram(pct, bins=[0, 20, 40, 60, 80, 100])[0] / x.size * 100
        assert [h["percent"] for h in cell.histogram] == pytest.approx(expected.tolist())
    assert report.group(site="East").scales["one"].quantiles is None


def test_distributions_of_several_scales_with_unequal_bins_at_every_level(
    small_instrument, frames
) -> None:
    # Reference: numpy's quantile and histogram of each group's own scores (the report
    # sorts once per scale and sums the histogram per cell; a mix-up of scales or levels
    # shows here, where two scales and nested groups differ).
    frame = frames(600, seed=11)
    bins = [0, 10, 50, 90, 100]
    report = summarise(small_instrument, frame, by=["grade", "site"], min_group_size=1,
                       distribution_scales=["two", "one"], bins=bins, quantiles=(0.25, 0.75))
    assert report.distribution_scales == ("two", "one")
    scores = _reference_scores(frame)
    for group in report:
        members = np.ones(len(frame), dtype=bool)
        for attribute, value in group.key.items():
            members &= (frame[attribute] == value).to_numpy()
        for scale in ("one", "two"):
            x = scores.loc[members, scale].dropna().to_numpy()
            cell = group.scales[scale]
            assert cell.quantiles == pytest.approx(
                {"p25": np.quantile(x, 0.25), "p75": np.quantile(x, 0.75)}), group.label
            expected = np.histogram((x - 1) / 4 * 100, bins=bins)[0] / x.size * 100
            assert [h["percent"] for h in cell.histogram] == pytest.approx(expected.tolist())
        assert group.scales["total"].histogram is None


def test_headcounts_give_response_rates(small_instrument, frames) -> None:
    frame = frames(200, seed=6)
    n_cons = int((frame["grade"] == "consultant").sum())
    heads = [{"headcount": 400}, {"grade": "consultant", "headcount": 2 * n_cons}]
    report = summarise(small_instrument, frame, by=["grade"], headcounts=heads)
    assert report.overall.response_rate == pytest.approx(50.0)
    assert report.group(grade="consultant").response_rate == pytest.approx(50.0)
    assert report.group(grade="trainee").response_rate is None


def test_headcount_below_respondents_is_an_error_without_the_count(
    small_instrument, frames
) -> None:
    frame = frames(200, seed=6)
    n_cons = int((frame["grade"] == "consultant").sum())
    heads = pd.DataFrame({"grade": ["consultant"], "headcount": [n_cons - 1]})
    with pytest.raises(GroupingError, match="smaller than the number of respondents") as info:
        summarise(small_instrument, frame, by=["grade"], headcounts=heads)
    assert f"({n_cons - 1})" in str(info.value)
    assert str(n_cons) not in str(info.value).replace(f"({n_cons - 1})", "")
    # A suppressed group is never checked: the error would bound its n.
    frame.loc[:3, "grade"] = "locum"
    tiny = pd.DataFrame({"grade": ["locum"], "headcount": [1]})
    report = summarise(small_instrument, frame, by=["grade"], headcounts=tiny)
    assert report.group(grade="locum").response_rate is None
    with pytest.raises(GroupingError, match="whole number >= 0, got 'many'"):
        summarise(small_instrument, frame, by=["grade"], headcounts=[{"headcount": "many"}])
    with pytest.raises(GroupingError, match="not attributes"):
        summarise(small_instrument, frame, by=["grade"],
                  headcounts=[{"site": "North", "headcount": 9}])


def test_missing_attribute_values_form_their_own_group(small_instrument, frames) -> None:
    frame = frames(120, seed=7)
    frame.loc[:14, "grade"] = None
    frame.loc[15:19, "grade"] = ""
    report = summarise(small_instrument, frame, by=["grade"], min_group_size=1)
    assert report.group(grade=MISSING_LABEL).n == 20
    assert sum(g.n for g in report.groups[1:]) == 120
    frame["band"] = [float(i % 3) * 5 for i in range(120)]
    frame.loc[0, "band"] = np.nan
    banded = summarise(small_instrument, frame, by=["band"], min_group_size=1)
    assert [g.key.get("band") for g in banded] == [None, "0", "5", "10", MISSING_LABEL]


def test_attributes_given_separately_and_aligned(small_instrument, frames) -> None:
    frame = frames(50, seed=8)
    answers = frame[list("abcd")].to_numpy()
    report = summarise(small_instrument, answers, {"grade": frame["grade"].tolist()},
                       by=["grade"], min_group_size=1)
    assert report.group(grade="consultant").n == (frame["grade"] == "consultant").sum()
    with pytest.raises(GroupingError, match="rows for"):
        summarise(small_instrument, answers, frame[["grade"]].iloc[:10], by=["grade"])
    with pytest.raises(GroupingError, match="no attribute column"):
        summarise(small_instrument, frame, by=["specialty"])
    with pytest.raises(GroupingError, match="pass the attribute columns"):
        summarise(small_instrument, answers, by=["grade"])


def test_edge_cases_empty_single_all_suppressed_nan(small_instrument, frames) -> None:
    empty = summarise(small_instrument, pd.DataFrame(columns=[*"abcd", "grade"]), by=["grade"])
    assert len(empty) == 1
    assert empty.overall.n == 0
    assert all(c.mean is None and c.n == 0 for c in empty.overall.scales.values())

    one = summarise(small_instrument, frames(30, seed=9).assign(grade="x"), by=["grade"])
    assert one.group(grade="x").n == one.overall.n == 30
    assert one.aggregation["grade"]["total"].icc1 is None

    tiny = summarise(small_instrument, frames(8, seed=9), by=["grade", "site"])
    assert all(g.suppressed and g.n is None for g in tiny)
    assert all(c.mean is None for g in tiny for c in g.scales.values())

    unanswered = frames(20, seed=10)
    unanswered[["c", "d"]] = np.nan
    cell = summarise(small_instrument, unanswered).overall.scales["two"]
    assert not cell.suppressed
    assert cell.n == 0
    assert cell.mean is None
    single = summarise(small_instrument, frames(1, seed=1), min_group_size=1)
    assert single.overall.scales["total"].sd is None
    assert single.overall.scales["total"].ci_low is None


def test_scale_cell_with_few_scores_is_hidden_in_a_visible_group(small_instrument, frames) -> None:
    frame = frames(60, seed=11, p_missing=0.0)
    frame["grade"] = ["a"] * 30 + ["b"] * 30
    frame.loc[:25, ["c", "d"]] = np.nan  # group a: 4 scored on 'two'
    report = summarise(small_instrument, frame, by=["grade"])
    a, b = report.group(grade="a"), report.group(grade="b")
    assert not a.suppressed
    assert a.n == 30
    assert a.scales["two"].suppressed
    assert a.scales["two"].n is None
    # complementary: otherwise overall 'two' minus group b would give group a's cell
    assert b.scales["two"].suppressed
    assert not a.scales["one"].suppressed


def test_to_dict_is_json_safe_and_suppressed_cells_carry_nothing(small_instrument, frames) -> None:
    frame = frames(150, seed=12)
    report = summarise(small_instrument, frame, by=["grade", "site"])
    payload = report.to_dict()
    json.dumps(payload, allow_nan=False)
    hidden = [g for g in payload["groups"] if g["suppressed"]]
    assert hidden
    for g in hidden:
        assert g["n"] is None
        assert g["response_rate"] is None
        assert "note" in g
        for cell in g["scales"].values():
            said = {"suppressed_reason", "note"}  # why, never how many
            assert [k for k, v in cell.items() if v not in (None, True) and k not in said] == []
            assert cell["suppressed_reason"] in ("too_few_responses", "protects_another_group")
    frame_out = report.to_frame()
    hidden_rows = frame_out[frame_out["suppressed"]]
    assert hidden_rows[["n", "mean", "sd", "ci_low", "p50"]].isna().all().all()


def test_aggregation_uses_shown_groups_and_matches_icc(small_instrument, frames) -> None:
    frame = frames(800, seed=13)
    report = summarise(small_instrument, frame, by=["site"], min_group_size=1)
    scores = _reference_scores(frame)
    expected = icc(scores["total"], frame["site"])
    got = report.aggregation["site"]["total"]
    assert got.icc1 == pytest.approx(expected.icc1)
    assert got.icc2 == pytest.approx(expected.icc2)


def test_bad_options_are_named(small_instrument, frames) -> None:
    frame = frames(20, seed=14)
    for kwargs, match in [({"min_group_size": 0}, "at least 1"),
                          ({"ci": 95}, "between 0 and 1"),
                          ({"scales": ["nope"]}, "scales"),
                          ({"by": ["grade", "grade"]}, "twice"),
                          ({"bins": [0, 50, 20]}, "increasing"),
                          ({"distribution_scales": ["nope"]}, "distribution_scales")]:
        with pytest.raises((GroupingError, ValueError), match=match):
            summarise(small_instrument, frame, **kwargs)
    with pytest.raises(TypeError, match="whole number"):
        summarise(small_instrument, frame, min_group_size=2.5)


def test_bundled_mes_reports_the_index_distribution() -> None:
    inst = mes.load_instrument("mes")
    rng = np.random.default_rng(0)
    frame = pd.DataFrame(rng.integers(1, 6, size=(50, 30)), columns=inst.item_ids)
    frame["staff_group"] = rng.choice(["consultant", "sas doctor", "trainee"], 50)
    report = summarise(inst, frame, by=["staff_group"], min_group_size=5)
    assert report.distribution_scales == ("index",)
    assert report.overall.scales["index"].quantiles is not None


def test_a_hidden_sub_scale_hides_its_composite(small_instrument, frames) -> None:
    # With complete answers total = (one + two) / 2 for everybody, so a visible total and
    # a visible 'two' would give a hidden 'one' back.
    frame = frames(60, seed=15, p_missing=0.0)
    frame["grade"] = ["a"] * 30 + ["b"] * 30
    frame.loc[:24, ["a", "b"]] = np.nan  # group a: 5 scored on 'one', 30 on 'two'
    report = summarise(small_instrument, frame, by=["grade"])
    a = report.group(grade="a")
    assert a.scales["one"].suppressed
    assert not a.scales["two"].suppressed
    assert a.scales["total"].suppressed
    for g in report:
        hidden = sum(g.scales[s].suppressed for s in ("one", "two", "total"))
        assert hidden != 1


def test_percent_metric_for_a_sum_scored_instrument() -> None:
    from mes.instrument import instrument_from_mapping

    inst = instrument_from_mapping({
        "id": "summed", "version": "1", "title": "S", "licence": "CC0",
        "response_scale": {"min": 0, "max": 6},
        "scoring": {"method": "sum"},
        "items": [{"id": "p"}, {"id": "q"}, {"id": "r"}],
        "scales": [{"id": "all", "items": ["p", "q", "r"]}],
    })
    rng = np.random.default_rng(16)
    answers = pd.DataFrame(rng.integers(0, 7, size=(40, 3)).astype(float), columns=list("pqr"))
    answers.iloc[:5, 0] = np.nan
    table = mes.score(inst, answers)
    cell = summarise(inst, answers).overall.scales["all"]
    assert cell.mean == pytest.approx(np.nanmean(table.scores["all"]))
    assert cell.mean_percent == pytest.approx(np.nanmean(table.percent["all"]))
    assert cell.percent_favourable is None  # no favourable_min defined


def test_invalid_answers_scored_as_missing_are_counted(small_instrument, frames) -> None:
    frame = frames(30, seed=17)
    frame.loc[0, "a"] = 9
    with pytest.raises(mes.InvalidResponsesError):
        summarise(small_instrument, frame)
    assert summarise(small_instrument, frame, errors="missing").invalid_answers == 1


def test_a_subset_of_scales(small_instrument, frames) -> None:
    frame = frames(80, seed=18)
    full = summarise(small_instrument, frame)
    part = summarise(small_instrument, frame, scales=["total", "one"])
    assert part.scales == ("total", "one")
    for s in ("total", "one"):
        assert part.overall.scales[s] == full.overall.scales[s]
