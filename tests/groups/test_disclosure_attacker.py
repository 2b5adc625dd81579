"""An attacker who reads every report of a reporting plan together.

The promise of :func:`mes.groups.summarise_plan`: no combination of every figure
published in every report of a plan pins down the total of any set of 1 to ``k - 1``
respondents (``k = min_group_size``).

The attacker here is written independently of :mod:`mes.groups.disclosure` (it never
calls ``find_disclosure``) and uses exact integer arithmetic:

- The unknowns are the respondents' values grouped into *atoms*: respondents who share
  every attribute value of the plan. The attacker knows which atom each respondent is
  in, not their answers. Atoms (or atom x bin pairs) with nobody in them are dropped:
  their totals are zero, so the published totals are totals over the others.
- **Groups.** Every shown group (``n`` not None) of every report publishes its count:
  one row over the atoms. Every subset of atoms (``2**atoms`` of them, atoms <= 12 by
  construction) with 1 to ``k - 1`` respondents must lie outside the row space of those
  rows (tested exactly against an integer basis of their null space).
- **Scales.** Per scale, every shown cell publishes its ``n`` and ``mean * n``: rows
  over the atoms, counted by respondents scored on that scale; the same enumeration.
- **Histograms.** Each shown cell of a distribution scale publishes its total over its
  bins and each shown bin (``percent * n / 100``): rows over (atom, bin) pairs. Too many
  pairs to enumerate, so the determined sets are found exactly instead: the published
  rows are brought to reduced echelon form over the integers with the pairs of ``k``
  or more respondents first; the rows whose pivot lies among the small pairs span every
  published combination that involves small pairs only, and the 0/1 vectors of that
  span are enumerated by their pivot entries. (The same search is checked against
  brute force on random matrices below, and on every group and scale table of the
  property test.)

Besides the attack, every shown group or cell n is checked to be >= k (a scale cell
with nobody scored may show 0), every shown histogram bin to hold 0 or >= k
respondents, and every published count to agree with the attacker's atom model.

Signed combinations count too: the difference of two small cells' totals (``site N -
grade t = N/c - S/t`` from two margins) pins both down when it equals the whole score
range, and tells a member of one cell the other's. So the attacker also reports any
published combination of small blocks alone (:func:`_small_only_combination`), and
:func:`test_two_margins_do_not_give_two_single_doctors_away` keeps the example.

Not attempted here: relations between a composite scale and its sub-scales, group n
minus scale n (respondents without a score: a count of who skipped, not an answer),
and quantiles (order statistics, outside the linear attack).

Two releases of surveys sharing respondents (:mod:`mes.groups.overlap`) are attacked the
same way, with atoms that also say which surveys hold a response
(``test_two_releases_sharing_respondents_pin_down_no_few``: max_examples=80, 15-80
shared respondents, 0-15 late, 0-6 gone, a plan of 1-2 breakdowns over two attributes
for each survey).

Settings: ``test_no_combination_of_a_plans_reports_pins_down_a_few`` runs
max_examples=150, deadline=None, health check too_slow suppressed (surveys of 20-120
respondents; 2-3 attributes of 2-3 values each, at most 12 atoms by construction,
value weights from {1, 2, 4, 8, 16, 32}; uwes9 or the small instrument, answers a
level per respondent plus noise, 0, 5 or 20% missing, drawn from a numpy seed that
hypothesis picks; plans of 1-3 breakdowns, each a permutation of 1-3 attributes; k in
{3, 5, 10}; histograms of the default scale or of every scale). The brute-force
comparison of ``find_disclosure`` runs max_examples=300, deadline=None (rows 0-6, atoms
1-8, counts 0-12, k 2-10). The whole module takes about 5 s.
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from typing import Any

import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

import mes
from mes.groups import GroupReport, PlanError, Release, summarise, summarise_plan
from mes.groups.disclosure import find_disclosure
from mes.instrument import Instrument, instrument_from_mapping

# ----- exact linear algebra over the integers ---------------------------------------------

_LIMIT = 2**62


def _echelon(matrix: np.ndarray) -> tuple[np.ndarray, list[int]]:
    """Reduced row echelon form over the integers: pivot columns are zero in other rows.

    Rows are kept primitive (divided by their gcd), pivots positive. Exact: every step
    is checked to stay within int64.
    """
    a = np.array(matrix, dtype=np.int64, copy=True)
    if a.ndim != 2 or a.shape[0] == 0:
        return np.zeros((0, a.shape[-1] if a.ndim == 2 else 0), dtype=np.int64), []
    pivots: list[int] = []
    row = 0
    for col in range(a.shape[1]):
        if row == a.shape[0]:
            break
        nz = row + np.flatnonzero(a[row:, col])
        if not nz.size:
            continue
        best = int(nz[np.argmin(np.abs(a[nz, col]))])
        a[[row, best]] = a[[best, row]]
        if a[row, col] < 0:
            a[row] = -a[row]
        others = np.flatnonzero(a[:, col])
        others = others[others != row]
        if others.size:
            pivot = int(a[row, col])
            factor = a[others, col]
            bound = (int(np.abs(a[others]).max()) * pivot
                     + int(np.abs(factor).max()) * int(np.abs(a[row]).max()))
            assert bound < _LIMIT, "integer elimination would overflow"
            a[others] = pivot * a[others] - factor[:, None] * a[row]
            g = np.gcd.reduce(a[others], axis=1)
            g[g == 0] = 1
            a[others] //= g[:, None]
        pivots.append(col)
        row += 1
    return a[:row], pivots


def _null_basis(matrix: np.ndarray, n_cols: int) -> np.ndarray:
    """Integer basis of ``{x : matrix @ x = 0}`` as columns, shape (n_cols, d)."""
    reduced, pivots = _echelon(np.asarray(matrix, dtype=np.int64).reshape(-1, n_cols))
    free = [c for c in range(n_cols) if c not in pivots]
    lcm = math.lcm(*(int(reduced[i, p]) for i, p in enumerate(pivots))) if pivots else 1
    basis = np.zeros((n_cols, len(free)), dtype=np.int64)
    for j, f in enumerate(free):
        basis[f, j] = lcm
        for i, p in enumerate(pivots):
            basis[p, j] = -int(reduced[i, f]) * (lcm // int(reduced[i, p]))
    assert not (np.asarray(matrix, dtype=np.int64).reshape(-1, n_cols) @ basis).any()
    return basis


def _all_subsets(n: int) -> np.ndarray:
    return ((np.arange(2**n)[:, None] >> np.arange(n)) & 1).astype(np.int64)


def _pinned_by_enumeration(rows: np.ndarray, counts: np.ndarray, k: int) -> list[tuple[int, ...]]:
    """Every subset of atoms with 1..k-1 respondents whose indicator is in the row space.

    Brute force: all ``2**atoms`` subsets of the occupied atoms, each tested exactly
    against an integer basis of the null space (a vector is in the row space exactly
    when it is orthogonal to the null space).
    """
    counts = np.asarray(counts, dtype=np.int64)
    occupied = np.flatnonzero(counts > 0)
    if not occupied.size:
        return []
    rows = np.asarray(rows, dtype=np.int64).reshape(-1, counts.size)[:, occupied]
    null = _null_basis(rows, occupied.size)
    subsets = _all_subsets(occupied.size)
    total = subsets @ counts[occupied]
    inside = ~(subsets @ null).any(axis=1)
    hits = np.flatnonzero(inside & (total >= 1) & (total <= k - 1))
    return [tuple(int(a) for a in occupied[np.flatnonzero(subsets[h])]) for h in hits]


def _pinned_by_echelon(
    rows: np.ndarray, counts: np.ndarray, k: int, *, limit: int = 5000
) -> tuple[int, ...] | None:
    """A set of 1..k-1 respondents (column indices) that the rows determine, or None.

    Exact without enumerating all subsets: drop empty columns, order the columns with
    ``k`` or more respondents first (no such set can use them), take the reduced
    echelon form; the rows whose pivot lies among the small columns span the published
    combinations supported on small columns only, and a 0/1 vector of that span is
    fixed by its pivot entries (0 or 1). Patterns are enumerated by number of ones (at
    most ``k - 1``: every small column holds somebody).
    """
    counts = np.asarray(counts, dtype=np.int64)
    rows = np.asarray(rows, dtype=np.int64).reshape(-1, counts.size)
    big = np.flatnonzero(counts >= k)
    small = np.flatnonzero((counts > 0) & (counts < k))
    if not small.size or not rows.shape[0]:
        return None
    order = np.concatenate([big, small])
    reduced, pivots = _echelon(rows[:, order])
    keep = [i for i, p in enumerate(pivots) if p >= big.size]
    if not keep:
        return None
    basis = reduced[keep][:, big.size:]  # zero on the big columns
    piv = [pivots[i] - big.size for i in keep]
    scale = [int(basis[i, p]) for i, p in enumerate(piv)]
    lcm = math.lcm(*scale)
    scaled = basis * np.array([lcm // s for s in scale], dtype=np.int64)[:, None]
    assert int(np.abs(scaled).max()) * len(keep) < _LIMIT
    c_small = counts[small]
    tried = 0
    for size in range(1, min(len(keep), k - 1) + 1):
        for chosen in itertools.combinations(range(len(keep)), size):
            if int(c_small[[piv[i] for i in chosen]].sum()) > k - 1:
                continue
            tried += 1
            assert tried <= limit, "too many patterns to enumerate"
            vector = scaled[list(chosen)].sum(axis=0)
            if not np.isin(vector, (0, lcm)).all():
                continue
            ones = vector == lcm
            total = int(c_small[ones].sum())
            if 1 <= total <= k - 1:
                return tuple(int(c) for c in small[ones])
    return None


def _small_only_combination(rows: np.ndarray, counts: np.ndarray, k: int) -> bool:
    """Whether the rows determine a non-zero combination of small groups' totals alone.

    Atoms in exactly the same published rows are one *block* to the attacker (they can
    never be told apart); a block of ``k`` or more respondents may be described. The
    combinations supported on the small blocks are the echelon rows whose pivot lies
    among them once the large blocks come first (exact, over the integers). This covers
    signed ones too, such as ``N/c - S/t`` from two margins: with bounded scores, a
    difference of two small groups can pin both down.
    """
    counts = np.asarray(counts, dtype=np.int64)
    rows = np.asarray(rows, dtype=np.int64).reshape(-1, counts.size)
    occupied = np.flatnonzero(counts > 0)
    if not occupied.size or not rows.shape[0]:
        return False
    patterns, block_of = np.unique(rows[:, occupied].T, axis=0, return_inverse=True)
    block_counts = np.bincount(block_of.reshape(-1), weights=counts[occupied]).astype(np.int64)
    big = np.flatnonzero(block_counts >= k)
    small = np.flatnonzero(block_counts < k)
    if not small.size:
        return False
    blocks = patterns.T
    _, pivots = _echelon(blocks[:, np.concatenate([big, small])])
    return any(p >= big.size for p in pivots)


def _in_row_space(rows: np.ndarray, vector: np.ndarray) -> bool:
    rows = np.asarray(rows, dtype=np.int64).reshape(-1, len(vector))
    null = _null_basis(rows, len(vector))
    return not (np.asarray(vector, dtype=np.int64) @ null).any()


# ----- what the plan publishes, as rows over atoms ------------------------------------------


@dataclass(frozen=True)
class _Truth:
    """The attacker's model: atoms and what they hold (computed from the raw data)."""

    attrs: tuple[str, ...]
    atoms: list[tuple[str, ...]]
    respondents: np.ndarray  # (atoms,)
    scored: dict[str, np.ndarray]  # scale -> (atoms,)
    bins: dict[str, np.ndarray]  # distribution scale -> (atoms, bins)

    def row(self, key: Mapping[str, str]) -> np.ndarray:
        where = [self.attrs.index(a) for a in key]
        return np.array([all(atom[w] == v for w, v in zip(where, key.values(), strict=True))
                         for atom in self.atoms], dtype=np.int64)


def _truth(
    instrument: Instrument, answers: pd.DataFrame, attributes: Mapping[str, Sequence[str]],
    attrs: Sequence[str], reports: Sequence[GroupReport],
) -> _Truth:
    table = mes.score(instrument, answers)
    keys = [tuple(str(attributes[a][i]) for a in attrs) for i in range(len(answers))]
    atoms = sorted(set(keys))
    index = {atom: i for i, atom in enumerate(atoms)}
    atom_of = np.array([index[key] for key in keys], dtype=np.int64)
    n_atoms = len(atoms)
    respondents = np.bincount(atom_of, minlength=n_atoms)
    scored = {s: np.bincount(atom_of, weights=~np.isnan(table.scores[s]),
                             minlength=n_atoms).astype(np.int64) for s in table.scale_ids}
    report = reports[0]
    edges = np.asarray(report.bins)
    n_bins = edges.size - 1
    bins = {}
    for s in report.distribution_scales:
        percent = table.percent[s]
        ok = ~np.isnan(percent)
        which = np.clip(np.searchsorted(edges[1:-1], percent[ok], side="right"), 0, n_bins - 1)
        out = np.zeros((n_atoms, n_bins), dtype=np.int64)
        np.add.at(out, (atom_of[ok], which), 1)
        bins[s] = out
    return _Truth(tuple(attrs), atoms, respondents, scored, bins)


@dataclass
class _Published:
    groups: list[np.ndarray]
    cells: dict[str, list[np.ndarray]]
    hist: dict[str, list[np.ndarray]]  # rows over atom * n_bins + bin


def _collect(
    reports: Sequence[GroupReport], truth: _Truth, k: int, *, one_plan: bool = True
) -> _Published:
    """Every published figure of every report as a row; checks the model and thresholds.

    ``one_plan``: the reports come from one plan, so a group shows the same figures in
    every report (reports protected separately need not agree).
    """
    out = _Published([], {}, {})
    n_atoms = len(truth.atoms)
    seen: dict[tuple[tuple[str, str], ...], dict[str, Any]] = {}
    for report in reports:
        n_bins = len(report.bins) - 1
        for g in report:
            row = truth.row(g.key)
            # The same group shows the same figures in every report of the plan.
            payload = {f: v for f, v in g.to_dict().items() if f != "level"}
            key = tuple(sorted(g.key.items()))
            assert not one_plan or seen.setdefault(key, payload) == payload, g.label
            if g.n is not None:
                assert g.n >= k, g.label
                assert g.n == int(row @ truth.respondents), g.label
                out.groups.append(row)
            for s, cell in g.scales.items():
                if cell.n is None:
                    continue
                assert cell.n == 0 or cell.n >= k, (g.label, s)
                assert cell.n == int(row @ truth.scored[s]), (g.label, s)
                out.cells.setdefault(s, []).append(row)
                if s not in truth.bins:
                    continue
                rows = out.hist.setdefault(s, [])
                rows.append(np.repeat(row, n_bins))  # the cell's total over its bins
                true_bins = row @ truth.bins[s]
                assert cell.histogram is not None
                for b, entry in enumerate(cell.histogram):
                    if entry["percent"] is None:
                        assert entry["suppressed"]
                        continue
                    implied = round(entry["percent"] * cell.n / 100.0)
                    assert implied == 0 or implied >= k, (g.label, s, entry)
                    assert implied == true_bins[b], (g.label, s, entry)
                    one = np.zeros((n_atoms, n_bins), dtype=np.int64)
                    one[:, b] = row
                    rows.append(one.reshape(-1))
    return out


def _attack(
    reports: Sequence[GroupReport], truth: _Truth, k: int, *, one_plan: bool = True
) -> list[str]:
    """What the attacker pins down (empty when the plan keeps its promise)."""
    published = _collect(reports, truth, k, one_plan=one_plan)
    found: list[str] = []

    def names(atoms: Sequence[int]) -> str:
        return " + ".join("/".join(truth.atoms[a]) for a in atoms)

    tables = [("groups", published.groups, truth.respondents)]
    tables += [(f"scale {s}", published.cells.get(s, []), truth.scored[s])
               for s in truth.scored]
    for what, rows, counts in tables:
        matrix = np.array(rows, dtype=np.int64).reshape(-1, counts.size)
        hits = _pinned_by_enumeration(matrix, counts, k)
        echelon = _pinned_by_echelon(matrix, counts, k)
        assert (echelon is None) == (not hits), (what, hits, echelon)  # the two searches agree
        found += [f"{what}: {names(h)} ({int(counts[list(h)].sum())} respondents)"
                  for h in hits]
        if not hits and _small_only_combination(matrix, counts, k):
            found.append(f"{what}: a combination of small groups alone (e.g. a difference)")
    for s, rows in published.hist.items():
        counts = truth.bins[s].reshape(-1)
        matrix = np.array(rows, dtype=np.int64).reshape(-1, counts.size)
        hit = _pinned_by_echelon(matrix, counts, k)
        if hit is not None:
            n_bins = truth.bins[s].shape[1]
            pairs = ", ".join(f"{'/'.join(truth.atoms[p // n_bins])} bin {p % n_bins}"
                              for p in hit)
            found.append(f"histogram {s}: {pairs} ({int(counts[list(hit)].sum())} respondents)")
        elif _small_only_combination(matrix, counts, k):
            found.append(f"histogram {s}: a combination of small (cell, bin) groups alone")
    return found


# ----- instruments and surveys --------------------------------------------------------------


_UWES = mes.load_instrument("uwes9")
_SMALL = instrument_from_mapping({  # as tests/groups/conftest.py small_instrument
    "id": "small", "version": "1", "title": "Small", "licence": "CC0",
    "response_scale": {"min": 1, "max": 5, "favourable_min": 4},
    "items": [{"id": "a"}, {"id": "b", "reverse": True}, {"id": "c"}, {"id": "d"}],
    "scales": [
        {"id": "one", "items": ["a", "b"]},
        {"id": "two", "items": ["c", "d"]},
        {"id": "total", "scales": ["one", "two"]},
    ],
})


def _answers(instrument: Instrument, n: int, rng: np.random.Generator,
             p_missing: float) -> pd.DataFrame:
    """Answers spread over the whole range (a level per respondent plus noise)."""
    rs = instrument.response_scale
    items = [item.id for item in instrument.items]
    level = rng.integers(rs.min, rs.max + 1, size=(n, 1))
    noise = rng.integers(-1, 2, size=(n, len(items)))
    values = np.clip(level + noise, rs.min, rs.max).astype(float)
    values[rng.random(values.shape) < p_missing] = np.nan
    return pd.DataFrame(values, columns=items)


@st.composite
def _surveys(draw: st.DrawFn) -> dict[str, Any]:
    n_attrs = draw(st.integers(2, 3))
    names = ["a", "b", "c"][:n_attrs]
    # At most 12 atoms: two attributes of 2-3 values, or three with at most one of 3.
    if n_attrs == 2:
        sizes = [draw(st.integers(2, 3)), draw(st.integers(2, 3))]
    else:
        three = draw(st.integers(-1, 2))
        sizes = [3 if j == three else 2 for j in range(3)]
    weights = [draw(st.lists(st.sampled_from([1, 2, 4, 8, 16, 32]), min_size=s, max_size=s))
               for s in sizes]
    n = draw(st.integers(20, 120))
    seed = draw(st.integers(0, 2**16))
    instrument = draw(st.sampled_from(["uwes9", "small"]))
    p_missing = draw(st.sampled_from([0.0, 0.05, 0.2]))
    breakdown = st.permutations(names).flatmap(
        lambda p: st.integers(1, len(p)).map(lambda r: list(p[:r])))
    plan = draw(st.lists(breakdown, min_size=1, max_size=3))
    k = draw(st.sampled_from([3, 5, 10]))
    every_scale = draw(st.booleans())
    return {"n_attrs": n_attrs, "sizes": sizes, "weights": weights, "n": n, "seed": seed,
            "instrument": instrument, "p_missing": p_missing, "plan": plan, "k": k,
            "every_scale": every_scale}


def _build(spec: Mapping[str, Any]) -> tuple[Instrument, pd.DataFrame, dict[str, list[str]]]:
    rng = np.random.default_rng(spec["seed"])
    instrument = _UWES if spec["instrument"] == "uwes9" else _SMALL
    answers = _answers(instrument, spec["n"], rng, spec["p_missing"])
    attributes = {}
    for name, size, weights in zip("abc", spec["sizes"], spec["weights"], strict=False):
        p = np.array(weights, dtype=float)
        values = [f"{name}{v}" for v in range(size)]
        attributes[name] = [str(v) for v in rng.choice(values, spec["n"], p=p / p.sum())]
    return instrument, answers, attributes


def _plan_attrs(plan: Sequence[Sequence[str]]) -> tuple[str, ...]:
    return tuple(dict.fromkeys(a for b in plan for a in b))


def _run(spec: Mapping[str, Any]) -> list[str]:
    instrument, answers, attributes = _build(spec)
    dist = list(instrument.scale_ids) if spec["every_scale"] else None
    reports = summarise_plan(instrument, answers, attributes, plan=spec["plan"],
                             min_group_size=spec["k"], distribution_scales=dist)
    truth = _truth(instrument, answers, attributes, _plan_attrs(spec["plan"]),
                   list(reports.values()))
    assert len(truth.atoms) <= 12
    return _attack(list(reports.values()), truth, spec["k"])


# ----- 1. the property ------------------------------------------------------------------------


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(spec=_surveys())
def test_no_combination_of_a_plans_reports_pins_down_a_few(spec: dict[str, Any]) -> None:
    assert _run(spec) == []


# ----- 2. differencing attacks on one 4-person cell -------------------------------------------

_K = 10


def _four_in_one_cell_survey() -> tuple[pd.DataFrame, dict[str, list[str]]]:
    """site {N, S} x grade {c, t}: N/c has 4 respondents, the other cells 20 each."""
    sizes = {("N", "c"): 4, ("N", "t"): 20, ("S", "c"): 20, ("S", "t"): 20}
    site, grade, level = [], [], []
    for (s, g), size in sizes.items():
        site += [s] * size
        grade += [g] * size
        level += [6] * size if (s, g) == ("N", "c") else [(i % 5) + 1 for i in range(size)]
    answers = pd.DataFrame({f"uwes{i}": [float(v) for v in level] for i in range(1, 10)})
    return answers, {"site": site, "grade": grade}


def _truth_for(answers: pd.DataFrame, attributes: dict[str, list[str]],
               reports: Sequence[GroupReport]) -> _Truth:
    return _truth(_UWES, answers, attributes, ("site", "grade"), reports)


def _n_and_sum(report: GroupReport, **key: str) -> tuple[int | None, float | None]:
    cell = report.group(**key).scales["total"]
    if cell.n is None or cell.mean is None:
        return cell.n, None
    return cell.n, cell.n * cell.mean


def test_subtracting_a_crossed_cell_from_a_margin_no_longer_reveals_a_small_cell() -> None:
    answers, attributes = _four_in_one_cell_survey()
    nc = slice(0, 4)
    true_nc_sum = float(answers.iloc[nc].mean(axis=1).sum())

    # The old behaviour: each report protected on its own (plan=None). The attack works.
    by_grade = summarise(_UWES, answers, attributes, by=["grade"], min_group_size=_K)
    crossed = summarise(_UWES, answers, attributes, by=["site", "grade"], min_group_size=_K)
    assert crossed.group(site="N", grade="c").n is None  # hidden as too few ...
    c_n, c_sum = _n_and_sum(by_grade, grade="c")
    sc_n, sc_sum = _n_and_sum(crossed, site="S", grade="c")
    assert c_n == 24
    assert sc_n == 20
    assert c_sum is not None
    assert sc_sum is not None
    assert c_n - sc_n == 4  # ... but grade c minus S/c is N/c: its n and its mean
    assert c_sum - sc_sum == pytest.approx(true_nc_sum)
    assert (c_sum - sc_sum) / (c_n - sc_n) == pytest.approx(6.0)
    old = [by_grade, crossed]
    leaks = _attack(old, _truth_for(answers, attributes, old), _K, one_plan=False)
    assert "groups: N/c (4 respondents)" in leaks
    assert "scale total: N/c (4 respondents)" in leaks

    # With the plan, the same two reports read together give nothing away.
    plan = [["site", "grade"], ["grade"]]
    by_grade = summarise(_UWES, answers, attributes, by=["grade"], plan=plan, min_group_size=_K)
    crossed = summarise(_UWES, answers, attributes, by=["site", "grade"], plan=plan,
                        min_group_size=_K)
    c_n, c_sum = _n_and_sum(by_grade, grade="c")
    sc_n, sc_sum = _n_and_sum(crossed, site="S", grade="c")
    n_known = None not in (c_n, sc_n)
    sum_known = None not in (c_sum, sc_sum)
    assert not (n_known and sum_known)
    both = [by_grade, crossed]
    assert _attack(both, _truth_for(answers, attributes, both), _K) == []
    # ... nor does every report the plan allows.
    everything = list(summarise_plan(_UWES, answers, attributes, plan=plan,
                                     min_group_size=_K).values())
    assert _attack(everything, _truth_for(answers, attributes, everything), _K) == []


def _top_bin(report: GroupReport, **key: str) -> int | None:
    cell = report.group(**key).scales["total"]
    if cell.n is None or cell.histogram is None or cell.histogram[-1]["percent"] is None:
        return None
    return round(cell.histogram[-1]["percent"] * cell.n / 100.0)


def test_a_bin_of_a_group_minus_the_same_bin_of_its_subgroups_reveals_no_few() -> None:
    # Every group is large, so only the bins can leak. N/c (22): 12 in the top bin
    # (80-100), 10 in the middle (40-60); N/t (20): 3 in the top bin, 17 in the middle.
    def scores(top: int, size: int) -> list[float]:
        return [6.0] * top + [3.0] * (size - top)

    level = scores(12, 22) + scores(3, 20) + scores(10, 20) + scores(10, 20)
    answers = pd.DataFrame({f"uwes{i}": level for i in range(1, 10)})
    attributes = {"site": ["N"] * 42 + ["S"] * 40,
                  "grade": ["c"] * 22 + ["t"] * 20 + ["c"] * 20 + ["t"] * 20}
    plan = [["site", "grade"]]
    reports = list(summarise_plan(_UWES, answers, attributes, plan=plan,
                                  min_group_size=_K).values())
    truth = _truth_for(answers, attributes, reports)
    top = {atom: int(b[-1]) for atom, b in zip(truth.atoms, truth.bins["total"], strict=True)}
    # Bins hidden cell by cell (below k) would show N's top bin (15) and N/c's (12):
    # 15 - 12 is N/t's hidden 3.
    assert (top["N", "c"], top["N", "t"]) == (12, 3)
    crossed = next(r for r in reports if r.by == ("site", "grade"))
    assert all(g.n is not None for g in crossed)  # nothing hidden at the group level
    assert _top_bin(crossed, site="N", grade="t") is None  # 3: too few
    north = _top_bin(crossed, site="N")
    for grade in ("c", "t"):
        sub = _top_bin(crossed, site="N", grade=grade)
        assert north is None or sub is None or north - sub not in range(1, _K)
    assert _attack(reports, truth, _K) == []

    # The 4-person survey of section 2 (N/c 4, the other cells 20; N/c all at the top) is
    # safe too.
    answers, attributes = _four_in_one_cell_survey()
    plan = [["site", "grade"], ["grade"]]
    reports = list(summarise_plan(_UWES, answers, attributes, plan=plan,
                                  min_group_size=_K).values())
    crossed = next(r for r in reports if r.by == ("site", "grade"))
    north = _top_bin(crossed, site="N")
    for grade in ("c", "t"):
        sub = _top_bin(crossed, site="N", grade=grade)
        assert north is None or sub is None or north - sub not in range(1, _K)
    assert _attack(reports, _truth_for(answers, attributes, reports), _K) == []


def test_a_breakdown_outside_the_plan_is_refused() -> None:
    answers, attributes = _four_in_one_cell_survey()
    with pytest.raises(PlanError, match=r"by=grade is not in the reporting plan \(site\)"):
        summarise(_UWES, answers, attributes, by=["grade"], plan=[["site"]])


# ----- 3. find_disclosure against brute force ---------------------------------------------------


@st.composite
def _systems(draw: st.DrawFn) -> tuple[np.ndarray, np.ndarray, int]:
    n_atoms = draw(st.integers(1, 8))
    n_rows = draw(st.integers(0, 6))
    rows = draw(st.lists(st.lists(st.integers(0, 1), min_size=n_atoms, max_size=n_atoms),
                         min_size=n_rows, max_size=n_rows))
    counts = draw(st.lists(st.integers(0, 12), min_size=n_atoms, max_size=n_atoms))
    k = draw(st.integers(2, 10))
    return np.array(rows, dtype=np.int64).reshape(n_rows, n_atoms), np.array(counts), k


@settings(max_examples=300, deadline=None)
@given(system=_systems())
def test_find_disclosure_agrees_with_brute_force(
    system: tuple[np.ndarray, np.ndarray, int],
) -> None:
    published, counts, k = system
    brute = _pinned_by_enumeration(published, counts, k)
    found = find_disclosure(published, counts, k)
    # The audit refuses every combination of small groups alone: every 0/1 set of 1..k-1
    # respondents, and signed ones (differences) as well.
    assert (found is None) == (not _small_only_combination(published, counts, k))
    if brute:
        assert found is not None, brute
    # The attacker's own echelon search (used for histograms) agrees with enumeration.
    assert (_pinned_by_echelon(published, counts, k) is None) == (not brute)
    if found is None:
        return
    # An empty atom's total is zero whatever it is: the row space that matters is over
    # the occupied atoms.
    occupied = counts > 0
    atoms = np.asarray(found.atoms, dtype=bool)
    assert not (atoms & ~occupied).any()
    assert found.count == int(counts[atoms].sum())
    assert (counts[atoms] < k).all()  # it describes small atoms only
    vector = found.vector[occupied]
    for rows in (published[:, occupied], published[found.rows][:, occupied]):
        # In the row space (of every published row, and of the rows it names, the
        # candidates to hide): least squares leaves no residual.
        solution = np.linalg.lstsq(rows.T.astype(float), vector, rcond=None)[0]
        assert np.allclose(rows.T @ solution, vector, atol=1e-6)


def test_two_margins_do_not_give_two_single_doctors_away() -> None:
    """Sites and grades as margins: N/c and S/t hold one doctor each, the other cells 20.
    Site N's sum minus grade t's is x(N/c) - x(S/t); here 6 - 0, the whole range of a
    uwes9 score, so both would be known exactly. The plan must not publish both margins
    in full."""
    site = ["N"] * 21 + ["S"] * 21
    grade = ["c"] + ["t"] * 20 + ["c"] * 20 + ["t"]
    level = [6.0] + [3.0] * 20 + [3.0] * 20 + [0.0]
    answers = {f"uwes{i}": level for i in range(1, 10)}
    reports = summarise_plan(_UWES, answers, {"site": site, "grade": grade},
                             plan=[["site"], ["grade"]], min_group_size=10)

    def total(report: GroupReport, **key: str) -> float | None:
        cell = report.group(**key).scales["total"]
        return None if cell.mean is None or cell.n is None else cell.mean * cell.n

    n_sum, t_sum = total(reports[("site",)], site="N"), total(reports[("grade",)], grade="t")
    s_sum, c_sum = total(reports[("site",)], site="S"), total(reports[("grade",)], grade="c")
    assert None in (n_sum, t_sum)
    assert None in (s_sum, c_sum)
    answers_frame = pd.DataFrame(answers)
    truth = _truth_for(answers_frame, {"site": site, "grade": grade},
                       list(reports.values()))
    assert _attack(list(reports.values()), truth, 10) == []


# ----- 4. two releases that share respondents ---------------------------------------------------


@st.composite
def _two_releases(draw: st.DrawFn) -> dict[str, Any]:
    """Respondents in both surveys, in the later one only (late) and in the earlier one
    only (erased or corrected), over two attributes of two values (4 cells x 3 kinds of
    membership: at most 12 atoms), each survey with its own plan."""
    breakdown = st.permutations(["a", "b"]).flatmap(
        lambda p: st.integers(1, 2).map(lambda r: list(p[:r])))
    return {
        "shared": draw(st.integers(15, 80)), "late": draw(st.integers(0, 15)),
        "gone": draw(st.integers(0, 6)), "seed": draw(st.integers(0, 2**16)),
        "instrument": draw(st.sampled_from(["uwes9", "small"])),
        "p_missing": draw(st.sampled_from([0.0, 0.1])),
        "plans": [draw(st.lists(breakdown, min_size=1, max_size=2)) for _ in range(2)],
        "k": draw(st.sampled_from([3, 5, 10])), "every_scale": draw(st.booleans()),
        "weights": [draw(st.sampled_from([1, 4])) for _ in range(4)],
    }


def _two_release_data(spec: Mapping[str, Any]) -> tuple[Instrument, pd.DataFrame, pd.DataFrame]:
    """Every distinct response with its attributes a, b and which surveys hold it."""
    rng = np.random.default_rng(spec["seed"])
    instrument = _UWES if spec["instrument"] == "uwes9" else _SMALL
    sizes = {"both": spec["shared"], "later": spec["late"], "earlier": spec["gone"]}
    n = sum(sizes.values())
    answers = _answers(instrument, n, rng, spec["p_missing"])
    p = np.array(spec["weights"], dtype=float)
    cell = rng.choice(4, n, p=p / p.sum())
    facts = pd.DataFrame({"a": [f"a{c // 2}" for c in cell], "b": [f"b{c % 2}" for c in cell],
                          "held": np.repeat(list(sizes), list(sizes.values()))})
    # Identical responses are one response to anyone adding totals up (and to the
    # library, which matches them): keep each content in one kind of membership only.
    content = pd.concat([answers.fillna(-1), facts[["a", "b"]]], axis=1)
    kinds = facts.groupby(content.apply(tuple, axis=1))["held"].transform("first")
    keep = (kinds == facts["held"]).to_numpy()
    return instrument, answers[keep].reset_index(drop=True), facts[keep].reset_index(drop=True)


def _marked(reports: Mapping[Any, GroupReport], mark: str) -> list[GroupReport]:
    """Reports whose groups also name the survey they come from (an attribute of the
    attacker's atoms: ``in_earlier`` or ``in_later`` = 1)."""
    return [replace(r, groups=[replace(g, key={**g.key, mark: "1"}) for g in r.groups])
            for r in reports.values()]


@settings(max_examples=80, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(spec=_two_releases())
# Found by this test: the second release's own protection, run again after the audit hid
# its overall group, showed a bin it had hidden before (group a0's bin 0), which the first
# release's overall bin 0 then gave away.
@example(spec={"shared": 15, "late": 0, "gone": 1, "seed": 0, "instrument": "uwes9",
               "p_missing": 0.0, "plans": [[["a"]], [["a"]]], "k": 3, "every_scale": False,
               "weights": [1, 1, 1, 1]})
def test_two_releases_sharing_respondents_pin_down_no_few(spec: dict[str, Any]) -> None:
    """A survey is released; another holding most of the same responses (some late ones
    added, some gone) is released with ``releases=`` naming the first. The attacker solves
    every published total of both together, over atoms of (a, b, in the earlier survey,
    in the later one): no set of 1 to k - 1 respondents is pinned down."""
    instrument, answers, facts = _two_release_data(spec)
    dist = list(instrument.scale_ids) if spec["every_scale"] else None
    earlier = (facts["held"] != "later").to_numpy()
    later = (facts["held"] != "earlier").to_numpy()
    if not earlier.any() or not later.any():
        return
    first_attrs = {c: facts.loc[earlier, c].tolist() for c in ("a", "b")}
    first = summarise_plan(instrument, answers[earlier].reset_index(drop=True), first_attrs,
                           plan=spec["plans"][0], min_group_size=spec["k"],
                           distribution_scales=dist)
    released = Release(answers[earlier].reset_index(drop=True), first_attrs, first)
    second = summarise_plan(instrument, answers[later].reset_index(drop=True),
                            {c: facts.loc[later, c].tolist() for c in ("a", "b")},
                            plan=spec["plans"][1], min_group_size=spec["k"],
                            distribution_scales=dist, releases=[released])
    union = {"a": facts["a"].tolist(), "b": facts["b"].tolist(),
             "in_earlier": ["1" if e else "0" for e in earlier],
             "in_later": ["1" if x else "0" for x in later]}
    reports = _marked(first, "in_earlier") + _marked(second, "in_later")
    truth = _truth(instrument, answers, union, ("a", "b", "in_earlier", "in_later"), reports)
    assert len(truth.atoms) <= 12
    assert _attack(reports, truth, spec["k"], one_plan=False) == []
