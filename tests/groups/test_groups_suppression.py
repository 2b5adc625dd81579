"""Suppression: nothing below the threshold is published or recoverable by subtraction.

The attacker in these tests sees only what a report publishes (``to_dict()``) and
tries to recover hidden counts from the additivity of the published table
(parent = sum of children, at every level). ``_recoverable`` is written
independently of :mod:`mes.groups.suppression`: a hidden cell is recoverable
exactly when its unit vector lies in the row space of the published equations
restricted to the hidden cells (matrix ranks).
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from mes.groups import summarise, suppress_small_groups
from mes.groups.suppression import equations_for_levels, suppression_mask


def _published_equations(groups: list[dict[str, Any]]) -> list[tuple[int, list[int]]]:
    keys = [tuple(sorted(g["group"].items())) for g in groups]
    out = []
    for i, key in enumerate(keys):
        attrs = {a for g in keys for a, _ in g} - {a for a, _ in key}
        for extra in attrs:
            kids = [j for j, k in enumerate(keys)
                    if len(k) == len(key) + 1 and set(key) <= set(k)
                    and extra in {a for a, _ in k}]
            if kids:
                out.append((i, kids))
    return out


def _recoverable(values: list[int | None], equations: list[tuple[int, list[int]]]) -> list[int]:
    """Indices of hidden (None) cells whose value the published equations determine."""
    hidden = [i for i, v in enumerate(values) if v is None]
    if not hidden:
        return []
    col = {cell: j for j, cell in enumerate(hidden)}
    rows = []
    for parent, kids in equations:
        row = np.zeros(len(hidden))
        if parent in col:
            row[col[parent]] += 1
        for k in kids:
            if k in col:
                row[col[k]] -= 1
        if row.any():
            rows.append(row)
    if not rows:
        return []
    a = np.array(rows)
    rank = np.linalg.matrix_rank(a)
    found = []
    for cell, j in col.items():
        unit = np.zeros(len(hidden))
        unit[j] = 1
        if np.linalg.matrix_rank(np.vstack([a, unit])) == rank:
            found.append(cell)
    return found


def test_docstring_case_hides_the_next_smallest_sibling() -> None:
    table = pd.DataFrame({"grade": [None, "consultant", "sas", "trainee"], "n": [60, 30, 4, 26]})
    assert suppress_small_groups(table, ["grade"]).tolist() == [False, False, True, True]


def test_an_attacker_cannot_subtract_a_small_group_back(small_instrument, frames) -> None:
    frame = frames(60, seed=21, p_missing=0.0)
    frame["grade"] = ["consultant"] * 30 + ["sas"] * 4 + ["trainee"] * 26
    payload = summarise(small_instrument, frame, by=["grade"]).to_dict()
    by_grade = {g["group"].get("grade", "overall"): g for g in payload["groups"]}
    assert by_grade["sas"]["n"] is None
    # The attack: parent minus every visible sibling.
    visible = [g for name, g in by_grade.items() if name != "overall" and g["n"] is not None]
    left_n = by_grade["overall"]["n"] - sum(g["n"] for g in visible)
    overall = by_grade["overall"]["scales"]["total"]
    left_sum = overall["n"] * overall["mean"] - sum(
        g["scales"]["total"]["n"] * g["scales"]["total"]["mean"] for g in visible)
    # What is left is sas and trainee together, not sas.
    assert left_n == 30 != 4
    true_sas = frame.loc[frame["grade"] == "sas", list("abcd")]
    assert left_sum / left_n != pytest.approx(float(true_sas.assign(b=6 - true_sas["b"])
                                                      .mean(axis=1).mean()))
    assert by_grade["trainee"]["n"] is None
    # And no linear combination of the published counts gives either hidden count.
    values = [g["n"] for g in payload["groups"]]
    assert _recoverable(values, _published_equations(payload["groups"])) == []


def test_every_level_of_a_nested_grouping_is_protected(small_instrument, frames) -> None:
    frame = frames(400, seed=22)
    frame.loc[:2, "grade"] = "locum"  # a group of 3 at level one
    frame.loc[3:5, "site"] = "Island"  # small cells at level two
    payload = summarise(small_instrument, frame, by=["grade", "site"]).to_dict()
    values = [g["n"] for g in payload["groups"]]
    assert None in values
    assert all(v is None or v >= 10 for v in values)
    assert _recoverable(values, _published_equations(payload["groups"])) == []
    # and the attack on the level-one parent of a hidden level-two cell fails too
    for g in payload["groups"]:
        if g["n"] is None and len(g["group"]) == 2:
            parent = next(p for p in payload["groups"]
                          if p["group"] == {"grade": g["group"]["grade"]})
            siblings = [s for s in payload["groups"] if len(s["group"]) == 2
                        and s["group"]["grade"] == g["group"]["grade"] and s is not g]
            assert parent["n"] is None or any(s["n"] is None for s in siblings)


def test_bridge_between_two_cycles_is_caught_by_the_exact_check() -> None:
    rows, cols = ["r1", "r2", "r3", "r4"], ["c1", "c2", "c3", "c4"]
    small = {("r1", "c1"), ("r1", "c2"), ("r2", "c1"), ("r2", "c2"),
             ("r3", "c3"), ("r3", "c4"), ("r4", "c3"), ("r4", "c4"), ("r1", "c3")}
    cells = {(r, c): (3 if (r, c) in small else 50) for r in rows for c in cols}
    keys: list[tuple[tuple[str, str], ...]] = [()]
    counts = [sum(cells.values())]
    for r in rows:
        keys.append((("row", r),))
        counts.append(sum(v for (rr, _), v in cells.items() if rr == r))
    for c in cols:
        keys.append((("col", c),))
        counts.append(sum(v for (_, cc), v in cells.items() if cc == c))
    for (r, c), v in cells.items():
        keys.append((("row", r), ("col", c)))
        counts.append(v)
    equations = equations_for_levels(keys)
    mask = suppression_mask(np.array(counts), equations, 10)
    values = [None if m else v for m, v in zip(mask, counts, strict=True)]
    published = [(p, c.tolist()) for p, c in equations]
    assert _recoverable(values, published) == []
    # The 'two hidden per equation' rule alone would have left the bridge cell exposed:
    primary = [None if v < 10 else v for v in counts]
    bridge = keys.index((("row", "r1"), ("col", "c3")))
    assert bridge in _recoverable(primary, published)
    assert mask.sum() > len(small)


def test_min_group_size_one_suppresses_nothing(small_instrument, frames) -> None:
    report = summarise(small_instrument, frames(40, seed=23), by=["grade", "site"],
                       min_group_size=1)
    assert not any(g.suppressed for g in report)


def test_table_interface_rejects_bad_input() -> None:
    with pytest.raises(KeyError, match="'n'"):
        suppress_small_groups(pd.DataFrame({"grade": ["a"]}), ["grade"])
    dup = pd.DataFrame({"grade": ["a", "a"], "n": [3, 4]})
    with pytest.raises(ValueError, match="same group"):
        suppress_small_groups(dup, ["grade"])


@st.composite
def _grouped_data(draw: st.DrawFn) -> tuple[pd.DataFrame, list[str], int, bool]:
    n = draw(st.integers(0, 90))
    n_attr = draw(st.integers(1, 3))
    seed = draw(st.integers(0, 2**32 - 1))
    rng = np.random.default_rng(seed)
    answers = rng.integers(1, 6, size=(n, 4)).astype(float)
    answers[rng.random(answers.shape) < draw(st.sampled_from([0.0, 0.2, 0.6]))] = np.nan
    frame = pd.DataFrame(answers, columns=list("abcd"))
    by = []
    for j in range(n_attr):
        k = draw(st.integers(1, 5))
        weights = rng.dirichlet(np.full(k, 0.7))
        frame[f"x{j}"] = rng.choice([f"v{i}" for i in range(k)], n, p=weights)
        by.append(f"x{j}")
    return frame, by, draw(st.integers(1, 15)), draw(st.booleans())


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow,
                                                                  HealthCheck.function_scoped_fixture])
@given(data=_grouped_data())
def test_property_suppression_never_reveals_a_small_group(small_instrument, data) -> None:
    frame, by, threshold, margins = data
    payload = summarise(small_instrument, frame, by=by, min_group_size=threshold,
                        margins=margins).to_dict()
    groups = payload["groups"]
    equations = _published_equations(groups)
    counts = [g["n"] for g in groups]
    assert all(v is None or v == 0 or v >= threshold for v in counts)
    assert _recoverable(counts, equations) == []
    for scale in ("one", "two", "total"):
        cells = [g["scales"][scale] for g in groups]
        scale_n = [c["n"] for c in cells]
        assert all(v is None or v == 0 or v >= threshold for v in scale_n)
        assert all(c["mean"] is None for c in cells if c["n"] is None)
        assert _recoverable(scale_n, equations) == []
    for g in groups:  # within a group, total = f(one, two): never exactly one of them hidden
        assert sum(g["scales"][s]["n"] is None for s in ("one", "two", "total")) != 1


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow,
                                                                  HealthCheck.function_scoped_fixture])
@given(data=_grouped_data())
def test_property_overall_mean_is_n_weighted_mean_when_nothing_hidden(small_instrument,
                                                                       data) -> None:
    frame, by, _, margins = data
    report = summarise(small_instrument, frame, by=by, min_group_size=1, margins=margins)
    for scale in ("one", "total"):
        overall = report.overall.scales[scale]
        if not overall.n:
            continue
        for level in report.levels[1:]:
            cells = [g.scales[scale] for g in report if g.level == level and g.scales[scale].n]
            assert sum(c.n for c in cells) == overall.n
            weighted = sum(c.n * c.mean for c in cells) / overall.n
            assert weighted == pytest.approx(overall.mean, rel=1e-9, abs=1e-12)
