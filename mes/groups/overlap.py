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
from there (:func:`mes.groups.table.hide_more`). Where only a histogram bin takes
part, the group's histogram is hidden and its other figures stay.

Only releases connected to this survey through shared responses take part: one that
shares nobody with it, nor with a release that does, describes other people.

Notes
-----
A whole group is hidden where one of its scales takes part in a disclosure, and its
whole histogram where a bin does: the simplest rules that cannot show in one cell what
they hide in another. Quantiles
are not totals and are not audited here; each is shown only with at least ``k``
respondents on either side (:func:`mes.groups.protection.quantiles_shown`). If the
releases already disclose something between themselves (released before this rule,
or under a lower threshold), nothing this survey hides can undo it, and every group
of this survey is hidden rather than add to it.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from mes.groups.disclosure import find_disclosure
from mes.groups.grouping import MISSING_LABEL, GroupingError, attribute_label, bin_index
from mes.groups.protection import Protection
from mes.groups.report import GroupReport, GroupSummary
from mes.groups.table import PlanTable, hide_more
from mes.instrument import Instrument
from mes.responses import Errors, ResponseMatrix, response_matrix
from mes.scoring import score_matrix

__all__ = ["Release", "protect_against_releases", "release_discloses_items", "sharing_releases"]

_Leak = tuple[str, int, int]
"""What to hide: ``("group", node, -1)``, ``("histogram", node, scale index)``, or
:data:`_EVERY_GROUP`."""

_EVERY_GROUP: _Leak = ("every group", -1, -1)
"""The releases disclose on their own: hide every group of this survey."""


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
    hidden = _Hidden(np.zeros(len(table.grouping.keys), dtype=bool),
                     {table.scores.scales.index(s): np.zeros(len(table.grouping.keys), dtype=bool)
                      for s in table.distribution})
    # Level by level: hiding only takes published rows away, so a level found clean stays
    # clean. What is hidden is gathered first and the survey's own protection applied
    # once: applying it after each cell would hide partners (complementary cells) that
    # a cell hidden later makes unnecessary.
    for level in _levels(table, this, fixed, atoms):
        # Each cell beside the same group of a release first, cheaply: most disclosures
        # are one such pair, and every pair found must lose this survey's cell.
        for mine, theirs, paired in level.pairs(table.protection, hidden):
            if find_disclosure(np.vstack([mine, theirs]), level.counts, threshold):
                _apply(hidden, paired)
        while (leak := level.leak(table.protection, hidden, threshold)) is not None:
            if leak == _EVERY_GROUP:
                hidden.groups[:] = True
                return hide_more(table, hidden.groups, hidden.histograms)
            _apply(hidden, leak)
    if not hidden.groups.any() and not any(h.any() for h in hidden.histograms.values()):
        return table
    return hide_more(table, hidden.groups, hidden.histograms)


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


def sharing_releases(
    instrument: Instrument, responses: Any, releases: Sequence[Release], *,
    errors: Errors = "raise",
) -> list[int]:
    """The releases that share a response with these responses, directly or through
    another release (their indices, in order).

    Responses are matched by their answers alone: what statistics over every
    respondent (a reliability report) add up.

    Examples
    --------
    >>> import mes
    >>> from mes.groups import Release, sharing_releases
    >>> inst = mes.load_instrument("uwes9")
    >>> rows = [{"uwes1": r % 7, "uwes2": r // 7, **{f"uwes{i}": 3 for i in range(3, 10)}}
    ...         for r in range(30)]  # 30 different responses
    >>> sharing_releases(inst, rows[:20], [Release(rows[20:]), Release(rows[10:20])])
    [1]

    Release 0 shares nobody with these, but shares responses with release 1, which does:

    >>> sharing_releases(inst, rows[:20], [Release(rows[20:]), Release(rows[15:25])])
    [0, 1]
    """
    universe = _universe(instrument, responses, None, releases, (), errors)
    return [] if universe is None else universe.surveys


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
    """(n,) uint64: a hash of each row's answers and labels and of which copy of it it is
    (the k-th of identical rows); equal keys are equal rows, but for a chance of 2**-64."""
    canonical = np.where(np.isnan(values), np.nan, values + 0.0)  # one NaN, no -0.0
    frame = pd.DataFrame(canonical)
    for j in range(labels.shape[1]):
        frame[f"label{j}"] = labels[:, j]
    digest = pd.util.hash_pandas_object(frame, index=False).to_numpy()
    copy = pd.Series(digest).groupby(digest).cumcount().to_numpy().astype(np.uint64)
    return digest * np.uint64(0x9E3779B97F4A7C15) + copy  # wraps around: a hash


def _row_ids(codes: np.ndarray) -> np.ndarray:
    """One integer per row of a (n, c) array of small non-negative codes, equal for equal
    rows and ordered as the rows are (a 1-D unique instead of a row-wise one)."""
    if not codes.shape[1]:
        return np.zeros(codes.shape[0], dtype=np.int64)
    sizes = codes.max(axis=0).astype(np.int64) + 1
    if float(np.prod(sizes.astype(np.float64))) >= 2.0**62:
        return np.unique(codes, axis=0, return_inverse=True)[1].reshape(-1)
    ids = np.zeros(codes.shape[0], dtype=np.int64)
    for j in range(codes.shape[1]):
        ids = ids * sizes[j] + codes[:, j]
    return ids


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
    every = np.concatenate(keys)
    _, first, which = np.unique(every, return_index=True, return_inverse=True)
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
        _, first, atom_of = np.unique(_row_ids(codes), return_index=True, return_inverse=True)
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
    keys: list[tuple[tuple[str, str], ...]]  # (attribute, value) pairs of each, sorted

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
        return cls((grouping.membership() @ cell_atom) > 0, regions,
                   [tuple(sorted(key)) for key in grouping.keys])


@dataclass(frozen=True)
class _ReleaseCells:
    """The cells a release published, over the atoms: groups, scale cells and bins."""

    groups: np.ndarray  # (g, atoms) bool: every shown group, once
    keys: list[tuple[tuple[str, str], ...]]  # (attribute, value) pairs of each, sorted
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
        return cls(rows, list(shown), scales, bins)


# ----- the audit ------------------------------------------------------------------------------


@dataclass(frozen=True)
class _Hidden:
    """What the audit has hidden so far: whole groups, and per distribution scale (its
    index) the groups whose histogram is hidden."""

    groups: np.ndarray
    histograms: dict[int, np.ndarray]


def _apply(hidden: _Hidden, leak: _Leak) -> None:
    kind, node, scale = leak
    if kind == "histogram":
        hidden.histograms[scale][node] = True
    else:
        hidden.groups[node] = True


_Pair = tuple[np.ndarray, np.ndarray, _Leak]
"""A cell of this survey, the same cell of a release, and what hiding it means."""


@dataclass(frozen=True)
class _Level:
    """One kind of total the audit solves: respondents, one scale's scored respondents,
    or one distribution scale's histogram bins, over its own cells (atoms, or atom x bin)."""

    counts: np.ndarray  # (cells,)
    fixed: np.ndarray  # (rows, cells) bool: what the releases published
    rows: Callable[[Protection, _Hidden], tuple[np.ndarray, np.ndarray, list[_Leak]]]
    pairs: Callable[[Protection, _Hidden], list[_Pair]]

    def leak(self, protection: Protection, hidden: _Hidden,
             threshold: int) -> _Leak | None:
        """What to hide next, ``_EVERY_GROUP``, or None when nothing is disclosed."""
        mine, regions, meaning = self.rows(protection, hidden)
        if not mine.shape[0]:
            return None
        # Each distinct row once, the releases' first: a cell of this survey equal to one
        # a release published is published already, and hiding it would change nothing.
        distinct, first = np.unique(np.vstack([self.fixed, mine]), axis=0, return_index=True)
        found = find_disclosure(distinct, self.counts, threshold)
        if found is None:
            return None
        ours = first[found.rows]
        ours = ours[ours >= self.fixed.shape[0]] - self.fixed.shape[0]
        if not ours.size:
            if find_disclosure(self.fixed, self.counts, threshold) is not None:
                return _EVERY_GROUP
            ours = np.arange(mine.shape[0])  # pragma: no cover - a disclosure needs one of ours
        # Hide a cell whose group holds some of the respondents disclosed, in this survey
        # or (its region) in a release, first: hiding one that holds none of them (a group
        # that is the same in every survey) would only move the subtraction elsewhere.
        near = ours[(regions[ours] & found.atoms).any(axis=1)]
        pool = near if near.size else ours
        # A histogram bin before a whole group; then the smallest group.
        bins = pool[[meaning[r][0] == "histogram" for r in pool]]
        pool = bins if bins.size else pool
        sizes = mine[pool].sum(axis=1)
        return meaning[int(pool[np.argmin(sizes)])]


def _levels(table: PlanTable, this: _Nodes, releases: list[_ReleaseCells],
            atoms: _Atoms) -> list[_Level]:
    """The audit's levels: groups, each scale, each distribution scale's bins."""
    n_atoms = atoms.member.shape[0]

    def scale_rows(j: int) -> Callable[[Protection, _Hidden],
                                       tuple[np.ndarray, np.ndarray, list[_Leak]]]:
        def rows(protection: Protection, hidden: _Hidden) -> tuple[
                np.ndarray, np.ndarray, list[_Leak]]:
            shown = protection.hidden_group if j < 0 else protection.hidden[:, j]
            visible = np.flatnonzero(~(shown | hidden.groups))
            return (this.atoms[visible], this.regions[visible],
                    [("group", int(i), -1) for i in visible])
        return rows

    def scale_pairs(j: int, scale: str) -> Callable[[Protection, _Hidden], list[_Pair]]:
        def pairs(protection: Protection, hidden: _Hidden) -> list[_Pair]:
            shown = protection.hidden_group if j < 0 else protection.hidden[:, j]
            out: list[_Pair] = []
            for release in releases:
                where = {key: g for g, key in enumerate(release.keys)
                         if j < 0 or (scale in release.scales and release.scales[scale][g])}
                out.extend((this.atoms[i], release.groups[where[this.keys[i]]],
                            ("group", int(i), -1))
                           for i in np.flatnonzero(~(shown | hidden.groups))
                           if this.keys[i] in where)
            return out
        return pairs

    levels = [_Level(atoms.respondents, np.vstack([r.groups for r in releases]),
                     scale_rows(-1), scale_pairs(-1, ""))]
    for j, scale in enumerate(table.scores.scales):
        fixed = np.vstack([r.groups[r.scales[scale]] for r in releases if scale in r.scales]
                          or [np.zeros((0, n_atoms), dtype=bool)])
        levels.append(_Level(atoms.scored[:, j], fixed, scale_rows(j), scale_pairs(j, scale)))
    levels.extend(_bins_level(table, this, releases, atoms, scale)
                  for scale in table.distribution)
    return levels


def _bins_level(table: PlanTable, this: _Nodes, releases: list[_ReleaseCells],
                atoms: _Atoms, scale: str) -> _Level:
    """One distribution scale's histograms, over (atom, bin under every edge set) cells:
    a group's scored respondents, and each shown bin."""
    j = table.scores.scales.index(scale)
    percent = atoms.percent[:, j]
    scored = ~np.isnan(percent)
    edge_sets = [table.options.edges] + [r.bins[scale][0] for r in releases if scale in r.bins]
    signature = np.column_stack([atoms.of_response]
                                + [bin_index(percent, e) for e in edge_sets])[scored]
    _, first, cell_of = np.unique(_row_ids(signature), return_index=True, return_inverse=True)
    cells = signature[first]
    counts = np.bincount(cell_of.reshape(-1), minlength=len(cells)).astype(np.float64)
    atom_of_cell, bin_of_cell = cells[:, 0], cells[:, 1:]
    in_bin = [bin_of_cell[:, 0] == b for b in range(len(edge_sets[0]) - 1)]
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
    node_cells = this.atoms[:, atom_of_cell]
    node_regions = this.regions[:, atom_of_cell]

    def rows(protection: Protection, hidden: _Hidden) -> tuple[
            np.ndarray, np.ndarray, list[_Leak]]:
        mine: list[np.ndarray] = []
        regions: list[np.ndarray] = []
        meaning: list[_Leak] = []
        for i in np.flatnonzero(~(protection.hidden[:, j] | hidden.groups)):
            mine.append(node_cells[i])
            regions.append(node_regions[i])
            meaning.append(("group", int(i), -1))
            if hidden.histograms[j][i]:
                continue
            for b in np.flatnonzero(~protection.hidden_bins[j][i]):
                mine.append(node_cells[i] & in_bin[b])
                regions.append(node_regions[i] & in_bin[b])
                meaning.append(("histogram", int(i), j))
        shape = (len(mine), len(cells))
        return (np.array(mine, dtype=bool).reshape(shape),
                np.array(regions, dtype=bool).reshape(shape), meaning)

    def pairs(protection: Protection, hidden: _Hidden) -> list[_Pair]:
        out: list[_Pair] = []
        edge_set = 1
        for release in releases:
            if scale not in release.bins:
                continue
            edges, shown_bins = release.bins[scale]
            same_edges = np.array_equal(edges, edge_sets[0])
            where = {key: g for g, key in enumerate(release.keys) if release.scales[scale][g]}
            for i in np.flatnonzero(~(protection.hidden[:, j] | hidden.groups)):
                g = where.get(this.keys[i])
                if g is None or hidden.histograms[j][i] or not same_edges:
                    continue
                total = release.groups[g][atom_of_cell]
                out.extend((node_cells[i] & in_bin[b], total & (bin_of_cell[:, edge_set] == b),
                            ("histogram", int(i), j))
                           for b in np.flatnonzero(~protection.hidden_bins[j][i] & shown_bins[g]))
            edge_set += 1
        return out

    return _Level(counts, np.array(fixed, dtype=bool).reshape(len(fixed), len(cells)), rows,
                  pairs)
