"""Surveys that share respondents: their releases are protected together.

A plan's reports are protected together (:mod:`mes.groups.protection`), but a reader
may hold the reports of more than one survey, and when two surveys share respondents
their reports can be subtracted:

- a snapshot of fieldwork released as one survey and the final data as another: the
  final cell minus the snapshot cell is the few who answered late;
- the same answers released twice under different plans (``by=site`` in one,
  ``by=grade`` in the other): together they are the plan ``[site], [grade]``, which
  neither was protected as;
- the same survey released before and after an erasure or a correction.

:func:`protect_against_releases` protects a plan's table together with what earlier
releases published, and :func:`release_discloses_items` does the same for statistics
over every respondent of a survey (item means and correlations: the reliability
report).

Respondents are matched across surveys by what they add to any total: their answers
and their value of every attribute that a plan uses. Two people with the same answers
and attributes are interchangeable to anyone adding totals up, so matching them (the
k-th copy in one survey with the k-th in the other) loses nothing. Every respondent of
every survey then falls in an *atom*: a combination of attribute values and of the
surveys that hold the response (this one and the snapshot; the snapshot alone; ...).
Each published cell, of this survey or of a release, is a union of atoms, and the
disclosure audit (:func:`mes.groups.disclosure.find_disclosure`) decides whether all
of them together pin down 1 to ``k - 1`` respondents: for the groups (respondents),
for each scale (respondents with a score) and for each histogram bin. Only this
survey's cells can still be hidden: while a disclosure is found, the smallest group
of this survey that takes part in it is hidden and the survey's own protection goes on
from there (:func:`mes.groups.table.hide_groups`).

Only releases connected to this survey through shared responses take part: one that
shares nobody with it, nor with a release that does, describes other people.

Notes
-----
A whole group is hidden where one of its scales or bins takes part in a disclosure:
the simplest rule that cannot show in one cell what it hides in another. Quantiles
are not totals and are not audited here; each is shown only with at least ``k``
respondents on either side (:func:`mes.groups.protection.quantiles_shown`). If the
releases already disclose something between themselves (released before this rule,
or under a lower threshold), nothing this survey hides can undo it, and every group
of this survey is hidden rather than add to it.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from mes.groups.disclosure import find_disclosure
from mes.groups.grouping import MISSING_LABEL, GroupingError, attribute_label, bin_index
from mes.groups.report import GroupReport, GroupSummary
from mes.groups.table import PlanTable, hide_groups
from mes.instrument import Instrument
from mes.responses import Errors, ResponseMatrix, response_matrix
from mes.scoring import score_matrix

__all__ = ["Release", "protect_against_releases", "release_discloses_items"]

_EVERY_GROUP = -1


@dataclass(frozen=True)
class Release:
    """What another survey published, with the answers it was computed from.

    Attributes
    ----------
    responses : DataFrame, mapping, sequence of mappings or 2-D array
        The answers the release was computed from (as for :func:`mes.score`), of the
        same instrument.
    attributes : DataFrame or mapping, optional
        Their attributes, one row per respondent (as for :func:`mes.groups.summarise`).
        A column that is not there counts as missing values.
    reports : mapping of tuple of str -> GroupReport
        Every report the release published (:func:`mes.groups.summarise_plan`).
    item_statistics : bool
        Whether it published statistics over all its respondents (a reliability
        report: item means, correlations).
    name : str
        How messages name it.
    """

    responses: Any
    attributes: Any = None
    reports: Mapping[tuple[str, ...], GroupReport] = field(default_factory=dict)
    item_statistics: bool = False
    name: str = "release"


@dataclass(frozen=True)
class _Universe:
    """Every distinct response of a survey and of the releases connected to it.

    ``member[u, s]``: survey ``s`` (0 is this survey) holds response ``u``;
    ``labels[u]``: its attribute labels; ``values[u]``: its answers; ``rows``: per
    survey, the response of each of its rows; ``surveys``: the releases kept (index
    into the releases given, for surveys 1...).
    """

    member: np.ndarray
    labels: np.ndarray
    values: np.ndarray
    rows: list[np.ndarray]
    surveys: list[int]


def protect_against_releases(
    table: PlanTable,
    responses: Any,
    attributes: Any,
    releases: Sequence[Release],
    *,
    errors: Errors = "raise",
) -> PlanTable:
    """The table with whatever its reports, beside the releases, would give away hidden.

    Parameters
    ----------
    table : PlanTable
        This survey's plan table (:func:`mes.groups.table.build_table`).
    responses, attributes
        What the table was built from.
    releases : sequence of Release
        What other surveys published (same instrument).
    errors : {"raise", "missing"}
        As the table was built with.

    Returns
    -------
    PlanTable
        ``table`` itself when no release shares a response with it; else the table with
        every group hidden that would take part in a disclosure (reason
        :data:`mes.groups.protection.PROTECTS`, or too few responses).

    Examples
    --------
    A snapshot of 41 responses is released; the final survey adds 3 late ones at
    site N. Final minus snapshot, overall or at site N, would be the late three; site
    S is the same in both and stays:

    >>> import mes
    >>> from mes.groups import Release, summarise_plan
    >>> inst = mes.load_instrument("uwes9")
    >>> answers = [{f"uwes{i}": (r * i) % 7 for i in range(1, 10)} for r in range(44)]
    >>> site = ["N"] * 24 + ["S"] * 20
    >>> early = [r for r in range(44) if not 21 <= r < 24]
    >>> snapshot_data = ([answers[r] for r in early], {"site": [site[r] for r in early]})
    >>> snapshot = summarise_plan(inst, *snapshot_data, [["site"]])
    >>> released = Release(*snapshot_data, reports=snapshot)
    >>> final = summarise_plan(inst, answers, {"site": site}, [["site"]], releases=[released])
    >>> [(g.label, g.n, g.reason) for g in final[("site",)]]
    [('overall', None, 'protects_another_group'), ('site=N', None, 'protects_another_group'), \
('site=S', 20, None)]
    """
    instrument = table.scores.instrument
    attrs = _attributes_of(table.attrs, releases)
    universe = _universe(instrument, responses, attributes, releases, attrs, errors)
    if universe is None:
        return table
    atoms = _Atoms.of(universe, instrument)
    this = _Nodes.of(table, universe, atoms, attrs)
    fixed = [_ReleaseCells.of(releases[r], s + 1, atoms, attrs)
             for s, r in enumerate(universe.surveys)]
    threshold = table.options.min_group_size
    # Hidden groups are gathered first and the survey's own protection applied once:
    # applying it after each would hide partners (complementary cells) that a later
    # group, hidden anyway, makes unnecessary.
    hidden = np.zeros(len(table.grouping.keys), dtype=bool)
    while True:
        leak = _leaking_group(table, hidden, this, fixed, atoms, threshold)
        if leak is None:
            break
        if leak == _EVERY_GROUP:
            hidden[:] = True
            break
        hidden[leak] = True
    return hide_groups(table, hidden) if hidden.any() else table


def release_discloses_items(
    instrument: Instrument,
    responses: Any,
    releases: Sequence[Release],
    threshold: int,
    *,
    errors: Errors = "raise",
) -> bool:
    """Whether statistics over all respondents would, beside the releases', pin down a few.

    Item and scale statistics over a whole survey (means, variances, correlations:
    :func:`mes.reliability`) are sums over its respondents, per item, per scale and per
    pair of them. Beside a release that published the same from a survey sharing
    respondents, their difference describes the respondents in one and not the other.

    Parameters
    ----------
    instrument : Instrument
    responses
        This survey's answers.
    releases : sequence of Release
        What other surveys published; those with ``item_statistics`` count here.
    threshold : int
        ``k``.
    errors : {"raise", "missing"}

    Returns
    -------
    bool
        True when the respondents answering some item, scale or pair of them (this
        survey's, with the releases') pin down 1 to ``k - 1`` respondents.
    """
    chosen = [r for r in releases if r.item_statistics]
    universe = _universe(instrument, responses, None, chosen, (), errors)
    if universe is None:
        return False
    pattern, atom_of = np.unique(universe.member, axis=0, return_inverse=True)
    atom_of = atom_of.reshape(-1)
    table = score_matrix(instrument, ResponseMatrix(universe.values,
                                                    pd.RangeIndex(len(universe.values))))
    answered = np.hstack([~np.isnan(universe.values), ~np.isnan(table.score_matrix)])
    answered = answered.astype(np.float64)
    # (atoms, c, c): respondents answering each pair, each item or scale on the diagonal.
    per_atom = np.stack([answered[atom_of == a].T @ answered[atom_of == a]
                         for a in range(len(pattern))])
    counts = np.unique(per_atom.reshape(len(pattern), -1), axis=1).T
    rows = pattern.T.astype(np.float64)  # each survey's overall: the atoms it holds
    return any(find_disclosure(rows, c, threshold) is not None for c in counts)


# ----- matching responses across surveys ------------------------------------------------------


def _attributes_of(attrs: Sequence[str], releases: Sequence[Release]) -> tuple[str, ...]:
    """Every attribute that this plan or a release's reports group by."""
    names = list(attrs)
    for release in releases:
        for by in release.reports:
            names.extend(by)
    return tuple(dict.fromkeys(names))


def _labels(responses: Any, attributes: Any, attrs: Sequence[str], n: int) -> np.ndarray:
    """(n, A) attribute labels as group keys show them; a column not there is missing."""
    frame = attributes if attributes is not None else responses
    out = np.full((n, len(attrs)), MISSING_LABEL, dtype=object)
    if frame is None or not attrs:
        return out
    if isinstance(frame, Mapping):
        columns = {str(k): v for k, v in frame.items()}
    elif isinstance(frame, pd.DataFrame):
        columns = {str(c): frame[c] for c in frame.columns}
    else:
        columns = {}
    for j, name in enumerate(attrs):
        if name not in columns:
            continue
        column = pd.Series(list(columns[name]) if not isinstance(columns[name], pd.Series)
                           else columns[name].to_numpy(dtype=object), dtype=object)
        if len(column) != n:
            raise GroupingError(f"attributes: column {name!r} has {len(column)} values for "
                                f"{n} respondents")
        codes, uniques = pd.factorize(column, use_na_sentinel=True)
        text = np.array([attribute_label(u) or MISSING_LABEL for u in uniques]
                        + [MISSING_LABEL], dtype=object)
        out[:, j] = text[codes]
    return out


def _row_keys(values: np.ndarray, labels: np.ndarray) -> np.ndarray:
    """(n, 2) int64: a hash of each row's answers and labels, and which copy of it it is."""
    canonical = np.where(np.isnan(values), np.nan, values + 0.0)  # one NaN, no -0.0
    frame = pd.DataFrame(canonical)
    for j in range(labels.shape[1]):
        frame[f"label{j}"] = labels[:, j]
    digest = pd.util.hash_pandas_object(frame, index=False).to_numpy().view(np.int64)
    copy = pd.Series(digest).groupby(digest).cumcount().to_numpy()
    return np.column_stack([digest, copy])


def _universe(
    instrument: Instrument, responses: Any, attributes: Any, releases: Sequence[Release],
    attrs: Sequence[str], errors: Errors,
) -> _Universe | None:
    """The distinct responses of this survey and of the releases connected to it, or
    None when no release shares a response with it."""
    surveys: list[tuple[Any, Any, Errors]] = [(responses, attributes, errors)] + [
        (r.responses, r.attributes, "missing") for r in releases]
    values, labels, keys = [], [], []
    for answers, attrs_of, how in surveys:
        matrix = response_matrix(instrument, answers, errors=how).values
        values.append(matrix)
        labels.append(_labels(answers, attrs_of, attrs, matrix.shape[0]))
        keys.append(_row_keys(matrix, labels[-1]))
    every = np.vstack(keys) if keys else np.zeros((0, 2), dtype=np.int64)
    _, first, which = np.unique(every, axis=0, return_index=True, return_inverse=True)
    which = which.reshape(-1)
    bounds = np.cumsum([0] + [len(k) for k in keys])
    rows = [which[bounds[i]:bounds[i + 1]] for i in range(len(keys))]
    member = np.zeros((first.size, len(keys)), dtype=bool)
    for s, r in enumerate(rows):
        member[r, s] = True
    # Releases connected to this survey through shared responses, directly or not.
    kept = [0]
    while True:
        reached = member[:, kept].any(axis=1)
        more = [s for s in range(1, len(keys)) if s not in kept and member[reached, s].any()]
        if not more:
            break
        kept += more
    if len(kept) == 1:
        return None
    kept.sort()
    in_kept = member[:, kept].any(axis=1)
    renumber = np.cumsum(in_kept) - 1
    all_values, all_labels = np.vstack(values), np.vstack(labels)
    return _Universe(
        member=member[in_kept][:, kept],
        labels=all_labels[first[in_kept]],
        values=all_values[first[in_kept]],
        rows=[renumber[rows[s]] for s in kept],
        surveys=[s - 1 for s in kept[1:]],
    )


# ----- atoms and the cells published over them ------------------------------------------------


@dataclass(frozen=True)
class _Atoms:
    """Responses grouped by (surveys holding them, attribute labels), with their scores."""

    of_response: np.ndarray  # (U,) atom of each distinct response
    member: np.ndarray  # (atoms, surveys)
    labels: np.ndarray  # (atoms, A)
    respondents: np.ndarray  # (atoms,)
    scored: np.ndarray  # (atoms, scales)
    percent: np.ndarray  # (U, scales): each response's percent score

    @classmethod
    def of(cls, universe: _Universe, instrument: Instrument) -> _Atoms:
        codes = np.column_stack(
            [universe.member.astype(np.int64)]
            + [pd.factorize(universe.labels[:, j])[0] for j in range(universe.labels.shape[1])]
        )
        _, first, atom_of = np.unique(codes, axis=0, return_index=True, return_inverse=True)
        atom_of = atom_of.reshape(-1)
        table = score_matrix(instrument, ResponseMatrix(universe.values,
                                                        pd.RangeIndex(len(universe.values))))
        scored = ~np.isnan(table.score_matrix)
        n_atoms = first.size
        per_atom = np.zeros((n_atoms, scored.shape[1]))
        np.add.at(per_atom, atom_of, scored.astype(np.float64))
        return cls(atom_of, universe.member[first], universe.labels[first],
                   np.bincount(atom_of, minlength=n_atoms).astype(np.float64), per_atom,
                   table.percent_matrix)


@dataclass(frozen=True)
class _Nodes:
    """This survey's groups over the atoms: the atoms each holds, and its *region*: the
    atoms with its attribute values whichever surveys hold them (what the same group of
    a release adds up)."""

    atoms: np.ndarray  # (nodes, atoms) bool
    regions: np.ndarray  # (nodes, atoms) bool

    @classmethod
    def of(cls, table: PlanTable, universe: _Universe, atoms: _Atoms,
           attrs: Sequence[str]) -> _Nodes:
        grouping = table.grouping
        cell_atom = np.zeros((grouping.n_cells, atoms.member.shape[0]))
        cell_atom[grouping.cell_of_resp, atoms.of_response[universe.rows[0]]] = 1.0
        regions = np.ones((len(grouping.keys), atoms.member.shape[0]), dtype=bool)
        for i, key in enumerate(grouping.keys):
            for name, label in key:
                regions[i] &= atoms.labels[:, attrs.index(name)] == label
        return cls((grouping.membership() @ cell_atom) > 0, regions)


@dataclass(frozen=True)
class _ReleaseCells:
    """The cells a release published, over the atoms: groups, scale cells and bins."""

    groups: np.ndarray  # (g, atoms) bool: every shown group, once
    scales: dict[str, np.ndarray]  # scale -> (g,) bool: its cell shown
    bins: dict[str, tuple[np.ndarray, np.ndarray]]  # scale -> (edges, (g, bins) shown)

    @classmethod
    def of(cls, release: Release, survey: int, atoms: _Atoms,
           attrs: Sequence[str]) -> _ReleaseCells:
        shown: dict[tuple[tuple[str, str], ...], tuple[GroupSummary, GroupReport]] = {}
        for report in release.reports.values():
            for group in report.groups:
                if not group.suppressed:
                    shown.setdefault(tuple(sorted(group.key.items())), (group, report))
        kept = list(shown.values())
        rows = np.zeros((len(kept), atoms.member.shape[0]), dtype=bool)
        for g, (group, _) in enumerate(kept):
            rows[g] = atoms.member[:, survey]
            for name, label in group.key.items():
                rows[g] &= atoms.labels[:, attrs.index(name)] == label
        names = dict.fromkeys(s for group, _ in kept for s in group.scales)
        scales = {s: np.array([s in group.scales and not group.scales[s].suppressed
                               for group, _ in kept], dtype=bool) for s in names}
        bins: dict[str, tuple[np.ndarray, np.ndarray]] = {}
        for s in names:
            with_bins = [(g, histogram, report.bins)
                         for g, (group, report) in enumerate(kept)
                         if scales[s][g] and (histogram := group.scales[s].histogram) is not None]
            if not with_bins:
                continue
            edges = np.asarray(with_bins[0][2], dtype=np.float64)
            flags = np.zeros((len(kept), edges.size - 1), dtype=bool)
            for g, histogram, _ in with_bins:
                flags[g] = [not b["suppressed"] for b in histogram]
            bins[s] = (edges, flags)
        return cls(rows, scales, bins)


# ----- the audit ------------------------------------------------------------------------------


def _leaking_group(
    table: PlanTable, hidden: np.ndarray, this: _Nodes, releases: list[_ReleaseCells],
    atoms: _Atoms, threshold: int,
) -> int | None:
    """A group of this survey taking part in a disclosure when the table's hidden cells
    and the ``hidden`` groups are hidden (see :func:`_audit` for which), or
    ``_EVERY_GROUP`` if the releases disclose on their own, or None."""
    protection = table.protection
    sizes = table.respondents.astype(np.float64)
    n_atoms = atoms.member.shape[0]
    visible = np.flatnonzero(~(protection.hidden_group | hidden))
    fixed = np.vstack([r.groups for r in releases])
    found = _audit(this.atoms[visible], this.regions[visible], visible, fixed,
                   atoms.respondents, threshold, sizes)
    if found is not None:
        return found
    for j, scale in enumerate(table.scores.scales):
        visible = np.flatnonzero(~(protection.hidden[:, j] | hidden))
        fixed = np.vstack([r.groups[r.scales[scale]] for r in releases if scale in r.scales]
                          or [np.zeros((0, n_atoms), dtype=bool)])
        found = _audit(this.atoms[visible], this.regions[visible], visible, fixed,
                       atoms.scored[:, j], threshold, sizes)
        if found is not None:
            return found
    for scale in table.distribution:
        found = _audit_bins(table, hidden, this, releases, atoms, scale, threshold, sizes)
        if found is not None:
            return found
    return None


def _audit(
    mine: np.ndarray, regions: np.ndarray, owners: np.ndarray, fixed: np.ndarray,
    counts: np.ndarray, threshold: int, sizes: np.ndarray,
) -> int | None:
    """The group of this survey to hide for a disclosure of ``mine`` with ``fixed``.

    Of this survey's rows taking part, the smallest group whose region holds some of
    the respondents disclosed: hiding a group whose region holds none of them (one that
    is the same in every survey) would only move the subtraction elsewhere.
    """
    if not mine.shape[0]:
        return None
    found = find_disclosure(np.vstack([mine, fixed]), counts, threshold)
    if found is None:
        return None
    ours = found.rows[found.rows < mine.shape[0]]
    if not ours.size:
        if find_disclosure(fixed, counts, threshold) is not None:
            return _EVERY_GROUP
        ours = np.arange(mine.shape[0])  # pragma: no cover - a disclosure needs one of ours
    near = ours[(regions[ours] & found.atoms).any(axis=1)]
    nodes = owners[near if near.size else ours]
    return int(nodes[np.argmin(sizes[nodes])])


def _audit_bins(
    table: PlanTable, hidden: np.ndarray, this: _Nodes, releases: list[_ReleaseCells],
    atoms: _Atoms, scale: str, threshold: int, sizes: np.ndarray,
) -> int | None:
    """The bins audit of one distribution scale, over (atom, bin of every edge set)."""
    j = table.scores.scales.index(scale)
    percent = atoms.percent[:, j]
    scored = ~np.isnan(percent)
    edge_sets = [table.options.edges] + [r.bins[scale][0] for r in releases if scale in r.bins]
    signature = np.column_stack([atoms.of_response]
                                + [bin_index(percent, e) for e in edge_sets])[scored]
    cells, cell_of = np.unique(signature, axis=0, return_inverse=True)
    counts = np.bincount(cell_of.reshape(-1), minlength=len(cells)).astype(np.float64)
    atom_of_cell, bin_of_cell = cells[:, 0], cells[:, 1:]
    protection = table.protection
    rows: list[np.ndarray] = []
    regions: list[np.ndarray] = []
    owners: list[int] = []
    for i in np.flatnonzero(~(protection.hidden[:, j] | hidden)):
        total, region = this.atoms[i][atom_of_cell], this.regions[i][atom_of_cell]
        in_bins = [np.ones(len(cells), dtype=bool)] + [
            bin_of_cell[:, 0] == b for b in np.flatnonzero(~protection.hidden_bins[j][i])]
        rows.extend(total & b for b in in_bins)
        regions.extend(region & b for b in in_bins)
        owners.extend([int(i)] * len(in_bins))
    fixed: list[np.ndarray] = []
    edge_set = 1
    for release in releases:
        if scale not in release.scales:
            continue
        shown_bins = release.bins[scale][1] if scale in release.bins else None
        for g in np.flatnonzero(release.scales[scale]):
            total = release.groups[g][atom_of_cell]
            fixed.append(total)
            if shown_bins is not None:
                fixed.extend(total & (bin_of_cell[:, edge_set] == b)
                             for b in np.flatnonzero(shown_bins[g]))
        edge_set += shown_bins is not None
    if not rows:
        return None
    other = np.array(fixed, dtype=bool).reshape(len(fixed), len(cells))
    return _audit(np.array(rows), np.array(regions), np.array(owners), other, counts,
                  threshold, sizes)
