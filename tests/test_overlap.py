"""Releases of surveys that share respondents, read together by an attacker.

Each test first shows the attack working on reports protected survey by survey (no
``releases=``), then that it pins nobody down once the later survey is protected with
the earlier release. The attacker is independent of the library: it collects every
count the reports publish, as rows over *atoms* (attribute values x which surveys hold
a response, known to the test because it built the data), and enumerates every set of
atoms holding 1 to K - 1 respondents whose total lies in the row space.
"""

from __future__ import annotations

import itertools
from typing import Any

import numpy as np
import pytest

import mes
from mes.groups import GroupReport, Release, release_discloses_items, summarise_plan

K = 10
INST = mes.load_instrument("uwes9")
ITEMS = [f"uwes{i}" for i in range(1, 10)]


def _answers(n: int, seed: int) -> list[dict[str, float]]:
    rng = np.random.default_rng(seed)
    return [dict(zip(ITEMS, map(float, rng.integers(0, 7, 9)), strict=True)) for _ in range(n)]


def _pinned_down(rows: list[np.ndarray], counts: np.ndarray) -> list[tuple[int, ...]]:
    """Every set of atoms with 1..K-1 respondents whose total the rows determine."""
    matrix = np.array(rows, dtype=float).reshape(len(rows), counts.size)
    rank = np.linalg.matrix_rank(matrix) if matrix.size else 0
    found = []
    occupied = np.flatnonzero(counts)
    for r in range(1, occupied.size + 1):
        for subset in itertools.combinations(occupied, r):
            if not 0 < counts[list(subset)].sum() < K:
                continue
            vector = np.zeros(counts.size)
            vector[list(subset)] = 1
            if np.linalg.matrix_rank(np.vstack([matrix, vector])) == rank:
                found.append(subset)
    return found


def _published_rows(
    reports: dict[tuple[str, ...], GroupReport], atoms: list[tuple[Any, ...]], survey: int
) -> list[np.ndarray]:
    """One row per shown group: the atoms (site, grade, held by survey 0, by survey 1)
    it adds up."""
    rows = []
    for report in reports.values():
        for group in report.groups:
            if group.suppressed:
                continue
            rows.append(np.array([
                atom[2 + survey] and all(dict(zip(("site", "grade"), atom[:2],
                                                  strict=False))[a] == v
                                         for a, v in group.key.items())
                for atom in atoms]))
    return rows


def _atoms_and_counts(
    attrs: list[dict[str, str]], held: list[tuple[bool, bool]]
) -> tuple[list[tuple[Any, ...]], np.ndarray]:
    keys = [(a["site"], a.get("grade", ""), *h) for a, h in zip(attrs, held, strict=True)]
    atoms = sorted(set(keys))
    return atoms, np.array([keys.count(a) for a in atoms])


def _columns(attrs: list[dict[str, str]]) -> dict[str, list[str]]:
    return {name: [a[name] for a in attrs] for name in attrs[0]}


def _snapshot_and_final(
    late: int, plan: list[list[str]], seed: int = 1
) -> tuple[tuple[Any, ...], tuple[Any, ...], list[bool]]:
    """72 responses over site x grade, then ``late`` more at site N, grade t."""
    cells = {("N", "c"): 12, ("N", "t"): 20, ("S", "c"): 20, ("S", "t"): 20}
    attrs = [{"site": s, "grade": g} for (s, g), n in cells.items() for _ in range(n)]
    attrs += [{"site": "N", "grade": "t"}] * late
    answers = _answers(len(attrs), seed)
    in_snapshot = [True] * (len(attrs) - late) + [False] * late
    early = [i for i, keep in enumerate(in_snapshot) if keep]
    snapshot = ([answers[i] for i in early], [attrs[i] for i in early])
    return snapshot, (answers, attrs), in_snapshot


@pytest.mark.parametrize("plan", [[["site", "grade"]], [["site"], ["grade"]]])
def test_the_final_survey_minus_its_snapshot_gives_away_nobody(plan: list[list[str]]) -> None:
    """A snapshot of 72 responses is released, then the final survey with 3 late doctors
    (site N, grade t). Reports protected one survey at a time give the late three away
    (final cell minus snapshot cell); with the snapshot's release given, every set of
    1 to K - 1 respondents stays undetermined, and site S, the same in both, is shown."""
    (snap_answers, snap_attrs), (answers, attrs), in_snapshot = _snapshot_and_final(3, plan)
    snapshot = summarise_plan(INST, snap_answers, _columns(snap_attrs), plan)
    atoms, counts = _atoms_and_counts(attrs, [(True, s) for s in in_snapshot])
    before = _published_rows(snapshot, atoms, 1)

    alone = summarise_plan(INST, answers, _columns(attrs), plan)
    late = [atoms.index(("N", "t", True, False))]
    assert tuple(late) in _pinned_down(before + _published_rows(alone, atoms, 0), counts)

    released = Release(snap_answers, _columns(snap_attrs), snapshot)
    final = summarise_plan(INST, answers, _columns(attrs), plan, releases=[released])
    assert _pinned_down(before + _published_rows(final, atoms, 0), counts) == []
    site_s = next(g for g in final[("site",)].groups if g.key == {"site": "S"})
    assert not site_s.suppressed
    assert site_s.n == 40


def test_a_late_batch_of_k_or_more_is_shown_as_if_alone() -> None:
    """Twelve late doctors may be described: the final survey's reports are those it
    would have on its own (nothing hidden for the snapshot's sake)."""
    plan = [["site", "grade"]]
    (snap_answers, snap_attrs), (answers, attrs), _ = _snapshot_and_final(12, plan, seed=2)
    snapshot = summarise_plan(INST, snap_answers, _columns(snap_attrs), plan)
    released = Release(snap_answers, _columns(snap_attrs), snapshot)
    final = summarise_plan(INST, answers, _columns(attrs), plan, releases=[released])
    alone = summarise_plan(INST, answers, _columns(attrs), plan)
    assert {b: r.to_dict() for b, r in final.items()} == {b: r.to_dict() for b, r in alone.items()}
    assert not any(g.suppressed for r in final.values() for g in r.groups)


def test_the_same_answers_under_two_plans_are_protected_as_one_plan() -> None:
    """The same 48 responses released twice: once by=site, once by=grade. With N/c and
    S/t of 4 each, sites and grades as margins give N/c - S/t, two small groups alone
    (the difference of two small groups is a disclosure: a member of one who knows
    their answers learns the other's); protected together it is not determined."""
    cells = {("N", "c"): 4, ("N", "t"): 20, ("S", "c"): 20, ("S", "t"): 4}
    attrs = [{"site": s, "grade": g} for (s, g), n in cells.items() for _ in range(n)]
    answers = _answers(len(attrs), 3)
    first = summarise_plan(INST, answers, _columns(attrs), [["site"]])
    atoms, _ = _atoms_and_counts(attrs, [(True, True)] * len(attrs))
    rows = _published_rows(first, atoms, 0)

    def margin_difference_known(reports: dict[tuple[str, ...], GroupReport]) -> bool:
        matrix = np.array(rows + _published_rows(reports, atoms, 1), dtype=float)
        target = np.array([1.0 if (a[0], a[1]) == ("N", "c") else -1.0
                           if (a[0], a[1]) == ("S", "t") else 0.0 for a in atoms])
        return bool(np.linalg.matrix_rank(np.vstack([matrix, target]))
                    == np.linalg.matrix_rank(matrix))

    alone = summarise_plan(INST, answers, _columns(attrs), [["grade"]])
    assert margin_difference_known(alone)
    released = Release(answers, _columns(attrs), first)
    second = summarise_plan(INST, answers, _columns(attrs), [["grade"]], releases=[released])
    assert not margin_difference_known(second)
    assert any(not g.suppressed for g in second[()].groups)  # not everything hidden


def test_a_release_before_an_erasure_does_not_give_the_erased_away() -> None:
    """A survey of 40 is released; one doctor is erased and the rest released again as a
    new survey. Overall and site N minus the new survey's would be the erased doctor."""
    attrs = [{"site": "N"}] * 20 + [{"site": "S"}] * 20
    answers = _answers(40, 4)
    first = summarise_plan(INST, answers, _columns(attrs), [["site"]])
    kept = list(range(1, 40))
    again = ([answers[i] for i in kept], _columns([attrs[i] for i in kept]))
    alone = summarise_plan(INST, *again, [["site"]])
    assert [g.n for g in alone[("site",)].groups] == [39, 19, 20]
    second = summarise_plan(INST, *again, [["site"]],
                            releases=[Release(answers, _columns(attrs), first)])
    shown = {g.label: g.n for g in second[("site",)].groups}
    assert shown == {"overall": None, "site=N": None, "site=S": 20}


def test_a_few_in_one_histogram_bin_are_not_given_away() -> None:
    """Twelve late doctors may be described as a group, but 2 of them alone in a bin of
    the histogram may not: the final bin count minus the snapshot's would be those two.
    Bin counts are published as percentages of a published n. The final survey shows its
    figures and hides its histogram."""
    rng = np.random.default_rng(5)
    # 100 early doctors spread over every bin, 10 late in the top bin, 2 in the bottom.
    early = [dict.fromkeys(ITEMS, float(v)) for v in rng.permutation(np.repeat(
        [0, 2, 3, 4, 6], 20))]
    late = [dict.fromkeys(ITEMS, 6.0)] * 10 + [dict.fromkeys(ITEMS, 0.0)] * 2
    snapshot = summarise_plan(INST, early, None, [])
    released = Release(early, None, snapshot)

    def bin_counts(report: GroupReport) -> list[float] | None:
        cell = report.groups[0].scales["total"]
        if cell.suppressed or cell.histogram is None:
            return None
        return [None if b["suppressed"] else round(b["percent"] * cell.n / 100)
                for b in cell.histogram]

    before = bin_counts(snapshot[()])
    assert before == [20, 20, 20, 20, 20]
    alone = bin_counts(summarise_plan(INST, early + late, None, [])[()])
    assert alone is not None
    assert alone[0] - before[0] == 2  # the two, given away
    report = summarise_plan(INST, early + late, None, [], releases=[released])[()]
    final = bin_counts(report)
    assert final is not None  # the group and its scores are shown: 12 may be described
    assert report.groups[0].n == 112
    assert all(a is None or not 0 < abs(a - b) < K for a, b in zip(final, before, strict=True))
    assert final == [None] * 5  # the histogram is hidden whole


def test_a_release_sharing_nobody_changes_nothing() -> None:
    """Another year's survey (no response in common) is no reason to hide anything."""
    attrs = [{"site": "N"}] * 14 + [{"site": "S"}] * 16
    this, other = _answers(30, 6), [dict.fromkeys(ITEMS, 7.0)] * 30  # 7 is out of range
    released = Release(other, _columns(attrs), summarise_plan(
        INST, other, _columns(attrs), [["site"]], errors="missing"))
    with_release = summarise_plan(INST, this, _columns(attrs), [["site"]], releases=[released])
    alone = summarise_plan(INST, this, _columns(attrs), [["site"]])
    assert ({b: r.to_dict() for b, r in with_release.items()}
            == {b: r.to_dict() for b, r in alone.items()})


def test_item_statistics_beside_a_release_sharing_respondents() -> None:
    """Item means of the final survey minus the snapshot's are the late few's answers:
    withheld for 3 late doctors, published for 12 who answered every item, withheld
    again when only 2 of the 12 answered one item (that item's mean and correlations
    describe those two)."""
    early = _answers(60, 7)
    released = Release(early, item_statistics=True)
    late = _answers(12, 8)
    assert release_discloses_items(INST, early + late[:3], [released], K)
    assert not release_discloses_items(INST, early + late, [released], K)
    sparse = [dict(a) for a in late]
    for row in sparse[2:]:
        row["uwes4"] = float("nan")
    assert release_discloses_items(INST, early + sparse, [released], K, errors="missing")
    # A release that published no item statistics is nothing to subtract from.
    assert not release_discloses_items(INST, early + late[:3], [Release(early)], K)
