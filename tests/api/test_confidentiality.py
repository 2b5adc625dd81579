"""The service as an attacker with an ordinary ``reports:read`` key (or a share link) sees it.

Every attack of the confidentiality review, tried through the real API on each database:

- differencing across groupings (``by=grade`` minus the visible cells of ``by=site,grade``),
- differencing over time (a report read before and after a response or an erasure),
- small counts inside shown groups (histogram bins, and a group's bin minus its
  subgroup's),
- the wrong reason shown for a hidden group.

The attacker collects every published group count of every breakdown the plan allows and
solves the linear system they form; no set of 1 to k - 1 respondents may be pinned down.
"""

from __future__ import annotations

import csv
import io
import itertools
import json
import re
from typing import Any

import numpy as np
import pytest
from api_helpers import bearer, close_survey, create_survey, mes_rows
from litestar.testing import TestClient

K = 10
# site x grade: N/c is the 4-person group that subtracting two published reports would reveal.
CELLS = {("N", "c"): 4, ("N", "t"): 20, ("S", "c"): 20, ("S", "t"): 20}
PLAN = [["site", "grade"], ["grade"]]


def _rows() -> list[dict[str, Any]]:
    rows = mes_rows(sum(CELLS.values()), seed=7)
    position = 0
    for (site, grade), n in CELLS.items():
        for _ in range(n):
            row = rows[position]
            row["attributes"] = {"site": site, "grade": grade}
            if (site, grade) == ("N", "c"):  # the few who answered very differently
                row["answers"] = dict.fromkeys(row["answers"], 5)
            position += 1
    return rows


def _survey(client: TestClient[Any], headers: dict[str, str], *, plan: Any = PLAN,
            close: bool = True) -> str:
    return _survey_of(client, headers, _rows(), plan=plan, close=close)


def _survey_of(client: TestClient[Any], headers: dict[str, str], rows: list[dict[str, Any]],
               *, plan: Any = PLAN, close: bool = True, title: str = "Doctors 2026") -> str:
    survey = create_survey(
        client, headers, title=title, attributes={"site": ["N", "S"], "grade": ["c", "t"]},
        reporting_plan=plan,
    )
    response = client.post(f"/v1/surveys/{survey}/responses", json={"responses": rows},
                           headers=headers)
    assert response.status_code == 201, response.text
    if close:
        close_survey(client, headers, survey)
    return survey


def _pinned_down(published: list[tuple[frozenset[tuple[str, str]], int]]) -> list[Any]:
    """Sets of atoms (site, grade) with 1..K-1 respondents whose total the published
    counts determine (exact enumeration of the 15 non-empty sets of the 4 atoms)."""
    atoms = list(CELLS)
    rows = np.array([[1.0 if atom in cells else 0.0 for atom in atoms] for cells, _ in published])
    rank = np.linalg.matrix_rank(rows) if rows.size else 0
    found = []
    for r in range(1, len(atoms) + 1):
        for subset in itertools.combinations(range(len(atoms)), r):
            count = sum(CELLS[atoms[i]] for i in subset)
            if not 0 < count < K:
                continue
            vector = np.zeros(len(atoms))
            vector[list(subset)] = 1.0
            if rows.size and np.linalg.matrix_rank(np.vstack([rows, vector])) == rank:
                found.append([atoms[i] for i in subset])
    return found


def _cells_of(group: dict[str, str]) -> frozenset[tuple[str, str]]:
    return frozenset(a for a in CELLS if all(dict(zip(("site", "grade"), a, strict=True))[k]
                                             == v for k, v in group.items()))


def _published(reports: list[dict[str, Any]]) -> list[tuple[frozenset[tuple[str, str]], int]]:
    return [(_cells_of(g["group"]), g["n"]) for r in reports for g in r["groups"]
            if g["n"] is not None]


def test_no_combination_of_groupings_pins_down_a_small_group(
    client: TestClient[Any], make_key: Any
) -> None:
    writer = bearer(make_key("surveys:write", "responses:write"))
    reader = bearer(make_key("reports:read"))
    survey = _survey(client, writer)
    reports = []
    for by in ("", "grade", "site", "site,grade"):
        response = client.get(f"/v1/surveys/{survey}/report?by={by}", headers=reader)
        assert response.status_code == 200, response.text
        reports.append(response.json())
    published = _published(reports)
    assert _pinned_down(published) == []
    # The differencing attack: grade c (24) minus site S x grade c (20) is N x grade c.
    shown = dict(published)
    assert not (_cells_of({"grade": "c"}) in shown and _cells_of({"site": "S", "grade": "c"})
                in shown)
    # The CSV shows the same cells, no more.
    text = client.get(f"/v1/surveys/{survey}/report.csv?by=site,grade", headers=reader).text
    shown_csv = {(r["site"], r["grade"]) for r in csv.DictReader(io.StringIO(text))
                 if r["group_n"] and r["level"] == "site|grade"}
    json_cells = {(g["group"]["site"], g["group"]["grade"]) for g in reports[3]["groups"]
                  if g["n"] is not None and len(g["group"]) == 2}
    assert shown_csv == json_cells


def test_the_same_answers_released_under_two_plans_pin_down_nobody(
    client: TestClient[Any], make_key: Any
) -> None:
    """The attack a plan stops, tried across surveys: the same answers in two surveys, one
    with the plan by=grade, the other by=site,grade. Each protected on its own, by=grade
    minus the visible cells of by=site,grade would give N x grade c away (shown in
    tests/test_overlap.py on the same kind of data); released one after the other, the
    second is protected together with the first."""
    writer = bearer(make_key("surveys:write", "responses:write", "reports:read"))
    alone = [_survey(client, writer, plan=[["grade"]]),
             _survey(client, writer, plan=[["site", "grade"]])]
    reports = [client.get(f"/v1/surveys/{alone[0]}/report?by=grade", headers=writer).json(),
               client.get(f"/v1/surveys/{alone[1]}/report?by=site,grade", headers=writer).json()]
    assert all(r["groups"] for r in reports)
    assert _pinned_down(_published(reports)) == []


def test_a_breakdown_outside_the_plan_is_refused_with_the_plan(
    client: TestClient[Any], make_key: Any
) -> None:
    writer = bearer(make_key("surveys:write", "responses:write", "reports:read"))
    survey = _survey(client, writer)
    for by in ("grade,site", "site,grade,site", "specialty"):
        response = client.get(f"/v1/surveys/{survey}/report?by={by}", headers=writer)
        assert response.status_code == 422, (by, response.text)
        body = response.json()
        assert body["plan"] == PLAN
        assert "site,grade" in body["detail"]
        assert "grade" in body["detail"]
    default = _survey(client, writer, plan=None)  # each attribute on its own
    assert client.get(f"/v1/surveys/{default}/report?by=site", headers=writer).status_code == 200
    assert client.get(f"/v1/surveys/{default}/report?by=site,grade",
                      headers=writer).status_code == 422
    bad = client.post("/v1/surveys", headers=writer, json={
        "title": "t", "instrument": "mes", "attributes": {"site": None},
        "reporting_plan": [["site", "ward"]]})
    assert bad.status_code == 422
    assert bad.json()["errors"][0]["value"] == "ward"


def test_reports_wait_for_the_close_and_never_move_after_it(
    client: TestClient[Any], make_key: Any
) -> None:
    writer = bearer(make_key("surveys:write", "responses:write", "responses:read"))
    reader = bearer(make_key("reports:read"))
    survey = _survey(client, writer, close=False)
    reads = [f"/v1/surveys/{survey}/report?by=site", f"/v1/surveys/{survey}/report.csv",
             f"/v1/surveys/{survey}/report.html", f"/v1/surveys/{survey}/reliability",
             f"/v1/surveys/{survey}/benchmarks", f"/v1/surveys/{survey}/compare/{survey}"]
    for path in reads:
        response = client.get(path, headers=reader)
        assert response.status_code == 409, (path, response.text)
        assert "closed" in response.json()["detail"]
    share = client.post(f"/v1/surveys/{survey}/report/shares", headers=bearer(
        make_key("reports:read", "surveys:write")), json={"by": ["site"]})
    assert share.status_code == 409
    # Counts while open, nothing else.
    assert client.get(f"/v1/surveys/{survey}", headers=reader).json()["responses"] == 64

    close_survey(client, writer, survey)
    first = client.get(f"/v1/surveys/{survey}/report?by=site", headers=reader)
    assert first.status_code == 200
    released = client.get(f"/v1/surveys/{survey}", headers=reader).json()
    assert released["released_at"] is not None
    link = client.post(f"/v1/surveys/{survey}/report/shares", headers=reader,
                       json={"by": ["site"]}).json()["url"].split("testserver.local")[-1]

    def page() -> str:
        """A share link's page, without the minute it was generated and the numbering of
        its charts' SVG ids (a counter per process)."""
        text = re.sub(r"generated [^<]*", "", client.get(link).text)
        return re.sub(r"\b[a-z]\d+([td])\b", r"x\1", text)

    shared = page()
    assert "respondents" in shared
    # Erasure keeps working and moves nothing: the erased doctor cannot be worked out.
    erased = client.delete(f"/v1/surveys/{survey}/responses/r00030", headers=writer)
    assert erased.status_code == 204, erased.text
    assert client.get(f"/v1/surveys/{survey}", headers=reader).json()["responses"] == 63
    again = client.get(f"/v1/surveys/{survey}/report?by=site", headers=reader)
    assert again.json() == first.json()
    assert page() == shared  # a link viewer (no key) sees nothing move either
    # No new responses, no reopening, no other plan.
    late = client.post(f"/v1/surveys/{survey}/responses", headers=writer,
                       json={"responses": mes_rows(1, seed=99)})
    assert late.status_code == 409
    for change in ({"status": "open"}, {"reporting_plan": [["site"]]}):
        response = client.patch(f"/v1/surveys/{survey}", json=change, headers=writer)
        assert response.status_code == 409, response.text
        assert "released" in response.json()["detail"]


def test_a_closed_survey_can_reopen_until_its_reports_are_released(
    client: TestClient[Any], make_key: Any
) -> None:
    writer = bearer(make_key("surveys:write", "responses:write", "reports:read"))
    survey = _survey(client, writer)
    reopened = client.patch(f"/v1/surveys/{survey}", json={"status": "open"}, headers=writer)
    assert reopened.status_code == 200
    assert reopened.json()["released_at"] is None


def test_no_histogram_bin_describes_fewer_than_k(client: TestClient[Any], make_key: Any) -> None:
    writer = bearer(make_key("surveys:write", "responses:write", "reports:read"))
    survey = _survey(client, writer)
    seen_hidden = False
    for by in ("", "grade", "site", "site,grade"):
        body = client.get(f"/v1/surveys/{survey}/report?by={by}", headers=writer).json()
        for group in body["groups"]:
            for cell in group["scales"].values():
                if cell["suppressed"] or "distribution" not in cell:
                    continue
                for bin_ in cell["distribution"]["histogram"]:
                    if bin_["suppressed"]:
                        seen_hidden = True
                        assert bin_["percent"] is None
                        continue
                    count = round(bin_["percent"] * cell["n"] / 100)
                    assert count == 0 or count >= K, (by, group["group"], bin_)
    assert seen_hidden
    # Bins subtract too: with every shown bin of every breakdown, no set of (cell, bin)
    # holding 1..K-1 respondents is determined (the 4 doctors of N x grade c answered 5
    # everywhere, so they sit together in the top bin).
    reports = [client.get(f"/v1/surveys/{survey}/report?by={by}", headers=writer).json()
               for by in ("", "grade", "site", "site,grade")]
    assert _bins_pinned_down(reports) == []


def _bins_pinned_down(reports: list[dict[str, Any]]) -> list[Any]:
    import mes

    rows = _rows()
    table = mes.score(mes.load_instrument("mes"), [r["answers"] for r in rows])
    percent = table.percent["index"]
    edges = reports[0]["distribution"]["bins"]
    which = np.clip(np.searchsorted(edges[1:-1], percent, side="right"), 0, len(edges) - 2)
    atoms = [(cell, b) for cell in CELLS for b in range(len(edges) - 1)]
    counts = np.zeros(len(atoms))
    for row, b in zip(rows, which, strict=True):
        cell = (row["attributes"]["site"], row["attributes"]["grade"])
        counts[atoms.index((cell, int(b)))] += 1
    published = []
    for report in reports:
        for group in report["groups"]:
            cell = group["scales"]["index"]
            if cell["suppressed"]:
                continue
            members = _cells_of(group["group"])
            published.append([1.0 if c in members else 0.0 for c, _ in atoms])
            for b, bin_ in enumerate(cell["distribution"]["histogram"]):
                if not bin_["suppressed"]:
                    published.append([1.0 if c in members and bb == b else 0.0
                                      for c, bb in atoms])
    matrix = np.array(published)
    rank = np.linalg.matrix_rank(matrix)
    small = [i for i, n in enumerate(counts) if 0 < n < K]
    found = []
    for r in range(1, len(small) + 1):
        for subset in itertools.combinations(small, r):
            if not 0 < counts[list(subset)].sum() < K:
                continue
            vector = np.zeros(len(atoms))
            vector[list(subset)] = 1.0
            # Empty atoms are free: the attacker's set may include them at no cost.
            empty = np.flatnonzero(counts == 0)
            extended = np.vstack([matrix, vector])
            if empty.size:
                free = np.zeros((empty.size, len(atoms)))
                free[np.arange(empty.size), empty] = 1.0
                base = np.linalg.matrix_rank(np.vstack([matrix, free]))
                if np.linalg.matrix_rank(np.vstack([extended, free])) == base:
                    found.append([atoms[i] for i in subset])
            elif np.linalg.matrix_rank(extended) == rank:
                found.append([atoms[i] for i in subset])
    return found


def test_hidden_groups_say_why_in_json_csv_html_and_share_pages(
    client: TestClient[Any], make_key: Any
) -> None:
    writer = bearer(make_key("surveys:write", "responses:write", "reports:read"))
    survey = _survey(client, writer)
    body = client.get(f"/v1/surveys/{survey}/report?by=site,grade", headers=writer).json()
    why = {tuple(g["group"].values()): g["suppressed_reason"] for g in body["groups"]
           if g["suppressed"]}
    assert why[("N", "c")] == "too_few_responses"
    assert set(why.values()) == {"too_few_responses", "protects_another_group"}
    notes = {g["note"] for g in body["groups"] if g["suppressed"]}
    assert notes == {"fewer than 10 responses",
                     "hidden so that another group cannot be worked out"}

    text = client.get(f"/v1/surveys/{survey}/report.csv?by=site,grade", headers=writer).text
    reasons = {(r["site"], r["grade"]): r["suppressed_group_reason"]
               for r in csv.DictReader(io.StringIO(text)) if r["level"] == "site|grade"}
    assert reasons[("N", "c")] == "too_few_responses"
    assert "protects_another_group" in reasons.values()

    share = client.post(f"/v1/surveys/{survey}/report/shares", headers=writer,
                        json={"by": ["site", "grade"]}).json()
    pages = [client.get(f"/v1/surveys/{survey}/report.html?by=site,grade",
                        headers=writer).text,
             client.get(share["url"].split("testserver.local")[-1]).text]
    for page in pages:
        row = re.search(r"<tr><th scope='row'>N, c</th>(.*?)</tr>", page)
        assert row is not None
        assert "fewer than 10 responses" in row.group(1)
        assert "hidden so that another group cannot be worked out" in page


def test_an_uploader_learns_nothing_of_the_hidden_few_by_writing_after_the_release(
    client: TestClient[Any], make_key: Any
) -> None:
    """A key that uploads and reads reports, but may not list respondents, probes the
    released survey through the ingest path: batches naming the hidden group's ids (their
    spellings varied, in JSON, CSV and FHIR, with and without ?on_conflict=replace and an
    Idempotency-Key) answer the same 'closed' for ids that exist and ids that do not, naming
    none; erasing one of the few by another spelling of the id moves no figure in any
    format, the share link included."""
    attacker = bearer(make_key("responses:write", "reports:read"))
    survey = _survey(client, bearer(make_key("surveys:write", "responses:write")))
    few = ["r00000", "r00001", "r00002", "r00003"]  # the hidden site N, grade c

    def reads() -> list[Any]:
        """Every figure of the JSON reports (their content: PostgreSQL's JSONB may order a
        stored release's keys otherwise than the first read), and the CSV as text."""
        paths = [f"/v1/surveys/{survey}/report?by=site,grade",
                 f"/v1/surveys/{survey}/report?by=grade",
                 f"/v1/surveys/{survey}/report.csv?by=site,grade",
                 f"/v1/surveys/{survey}/reliability"]
        answers = [client.get(path, headers=attacker) for path in paths]
        assert all(a.status_code == 200 for a in answers), [a.text[:200] for a in answers]
        return [a.text if ".csv" in path else a.json()
                for a, path in zip(answers, paths, strict=True)]

    before = reads()
    body = client.get(f"/v1/surveys/{survey}/report?by=site,grade", headers=attacker).json()
    hidden = [g for g in body["groups"] if g["group"] == {"site": "N", "grade": "c"}]
    assert hidden[0]["suppressed"]
    assert hidden[0]["n"] is None
    link = client.post(f"/v1/surveys/{survey}/report/shares", headers=attacker,
                       json={"by": ["site", "grade"]})
    assert link.status_code == 201, link.text
    page_path = link.json()["url"].split("testserver.local")[-1]

    def page() -> str:
        text = re.sub(r"generated [^<]*", "", client.get(page_path).text)
        return re.sub(r"\b[a-z]\d+([td])\b", r"x\1", text)

    shared = page()

    def probe(ids: list[str]) -> list[tuple[int, str]]:
        rows = mes_rows(len(ids), seed=3)
        for row, rid in zip(rows, ids, strict=True):
            row["respondent"] = rid
            row["attributes"] = {"site": "N", "grade": "c"}
        items = [f"mes{j:02d}" for j in range(1, 31)]
        csv_body = "respondent," + ",".join(items) + ",site,grade\n" + "".join(
            ",".join([r["respondent"], *(str(r["answers"][i]) for i in items), "N", "c"]) + "\n"
            for r in rows
        )
        fhir_body = {"resourceType": "Bundle", "type": "collection", "entry": [
            {"resource": {"resourceType": "QuestionnaireResponse", "id": r["respondent"],
                          "status": "completed",
                          "item": [{"linkId": i, "answer": [{"valueInteger": r["answers"][i]}]}
                                   for i in items]}} for r in rows]}
        seen = []
        for params in ({}, {"on_conflict": "replace"}):
            for content, media in ((json.dumps({"responses": rows}), "application/json"),
                                   (csv_body, "text/csv"),
                                   (json.dumps(fhir_body), "application/fhir+json")):
                answer = client.post(
                    f"/v1/surveys/{survey}/responses", params=params, content=content,
                    headers={**attacker, "Content-Type": media,
                             "Idempotency-Key": f"probe-{len(seen)}-{ids[0]}"},
                )
                problem = answer.json()
                assert "duplicates" not in problem, problem
                seen.append((answer.status_code, problem["detail"]))
        return seen

    existing = probe([f" {few[0]}", f"{few[1]}\u00a0", few[2]])
    absent = probe(["x99990", "x99991", "x99992"])
    assert {status for status, _ in existing} == {409}
    assert existing == absent  # the same words whether the ids exist or not
    assert all("closed" in detail for _, detail in existing)

    erased = client.delete(f"/v1/surveys/{survey}/responses/%20{few[3]}%20", headers=attacker)
    assert erased.status_code == 204, erased.text  # the right to erasure, by any spelling
    assert reads() == before
    assert page() == shared


# ----- the attacker over time: random batches, erasures, closing and reads --------------------

from hypothesis import HealthCheck, given, settings  # noqa: E402
from hypothesis import strategies as st  # noqa: E402

_STEPS = st.lists(
    st.one_of(
        st.tuples(st.just("batch"), st.integers(1, 14), st.sampled_from(["N", "S"]),
                  st.sampled_from(["c", "t"])),
        st.tuples(st.just("erase"), st.integers(0, 200)),
        st.tuples(st.just("read"), st.sampled_from(["", "site", "grade", "site,grade"])),
        st.tuples(st.just("close")),
        st.tuples(st.just("reopen")),
    ),
    min_size=3, max_size=14,
)


def _small_only(rows: list[list[float]], counts: list[int]) -> bool:
    """Whether the rows (over blocks) determine a non-zero combination of blocks with
    fewer than K respondents each: a small group pinned down, or a difference of them."""
    if not rows:
        return False
    matrix = np.array(rows)
    small = [i for i, n in enumerate(counts) if n < K]
    if not small:
        return False
    unit = np.zeros((len(small), len(counts)))
    unit[np.arange(len(small)), small] = 1.0
    together = np.linalg.matrix_rank(np.vstack([matrix, unit]))
    return bool(np.linalg.matrix_rank(matrix) + len(small) > together)


@settings(max_examples=40, deadline=None, suppress_health_check=list(HealthCheck),
          derandomize=True)
@given(steps=_STEPS)
def test_no_sequence_of_writes_and_reads_reveals_a_few(
    steps: list[tuple[Any, ...]], client: TestClient[Any], make_key: Any
) -> None:
    """Random sequences of batches, erasures, closing, reopening and reads of every
    breakdown. Reads of an open survey give nothing; every figure ever published comes
    from one release; the attacker who solves every published count (each respondent an
    unknown) pins down no group of 1..K-1 and no difference of small groups."""
    writer = bearer(make_key("surveys:write", "responses:write"))
    reader = bearer(make_key("reports:read"))
    survey = create_survey(client, writer, attributes={"site": ["N", "S"], "grade": ["c", "t"]},
                           reporting_plan=[["site", "grade"], ["grade"]])
    stored: dict[str, tuple[str, str]] = {}
    released: dict[str, tuple[str, str]] | None = None
    status, serial = "open", 0
    bodies: dict[str, Any] = {}
    for step in [*steps, ("close",), ("read", "site,grade"), ("read", "grade")]:
        if step[0] == "batch" and status == "open":
            rows = mes_rows(step[1], seed=serial)
            for row in rows:
                row["respondent"] = f"p{serial:04d}"
                row["attributes"] = {"site": step[2], "grade": step[3]}
                stored[row["respondent"]] = (step[2], step[3])
                serial += 1
            assert client.post(f"/v1/surveys/{survey}/responses", json={"responses": rows},
                               headers=writer).status_code == 201
        elif step[0] == "erase" and stored:
            who = sorted(stored)[step[1] % len(stored)]
            assert client.delete(f"/v1/surveys/{survey}/responses/{who}",
                                 headers=writer).status_code == 204
            del stored[who]
        elif step[0] in ("close", "reopen"):
            wanted = "closed" if step[0] == "close" else "open"
            answer = client.patch(f"/v1/surveys/{survey}", json={"status": wanted},
                                  headers=writer)
            if wanted == "open" and released is not None:
                assert answer.status_code == 409
            else:
                assert answer.status_code == 200
                status = wanted
        elif step[0] == "read":
            answer = client.get(f"/v1/surveys/{survey}/report?by={step[1]}", headers=reader)
            if status == "open":
                assert answer.status_code == 409
                continue
            assert answer.status_code == 200, answer.text
            if released is None:
                released = dict(stored)
            body = answer.json()
            assert bodies.setdefault(step[1], body) == body  # the same figures every time
    assert released is not None
    # Every respondent who was ever published is an unknown; blocks are respondents the
    # published groups cannot tell apart.
    people = sorted(released)
    rows = []
    for body in bodies.values():
        for group in body["groups"]:
            if group["n"] is None:
                continue
            members = [all(dict(zip(("site", "grade"), released[p], strict=True))[a] == v
                           for a, v in group["group"].items()) for p in people]
            assert sum(members) == group["n"]  # the figures are those of the release
            rows.append([1.0 if m else 0.0 for m in members])
            assert group["n"] == 0 or group["n"] >= K
    if not people:
        return
    patterns, block_of = np.unique(np.array(rows).T, axis=0, return_inverse=True)
    counts = np.bincount(block_of.reshape(-1)).tolist()
    assert not _small_only(patterns.T.tolist(), counts)


# ----- the attacker with a trend: a series of waves, one of which hides a group ---------------


def _wave_of(client: TestClient[Any], headers: dict[str, str], title: str,
             rows: list[dict[str, Any]]) -> str:
    return _survey_of(client, headers, rows, title=title)


def _shown_wave_rows(seed: int) -> list[dict[str, Any]]:
    """A wave where every cell of site x grade has at least K respondents."""
    cells = {("N", "c"): 12, ("N", "t"): 20, ("S", "c"): 20, ("S", "t"): 20}
    rows = mes_rows(sum(cells.values()), seed=seed)
    names = [cell for cell, n in cells.items() for _ in range(n)]
    for row, (site, grade) in zip(rows, names, strict=True):
        row["attributes"] = {"site": site, "grade": grade}
    return rows


def test_a_trend_shows_nothing_of_a_group_hidden_in_one_of_its_waves(
    client: TestClient[Any], make_key: Any
) -> None:
    """Three waves; in the middle one the 4 doctors of site N x grade c (who answered 5
    everywhere) are hidden. A reports:read key asks for every trend the plan allows, in
    JSON, CSV and HTML, with the hidden wave in the middle and last: it gets, for that wave,
    only figures that wave's own report shows; no step touching a hidden point has a
    figure (so no published mean plus or minus a step gives the hidden mean); every step
    shown is the difference of two shown means; and solving every count the trends publish
    for that wave pins down no group of 1 to K - 1 respondents."""
    writer = bearer(make_key("surveys:write", "responses:write"))
    reader = bearer(make_key("reports:read"))
    first = _wave_of(client, writer, "2022", _shown_wave_rows(21))
    middle = _wave_of(client, writer, "2024", _rows())  # N x grade c: 4 doctors
    last = _wave_of(client, writer, "2026", _shown_wave_rows(23))
    series = {"middle": (last, f"{first},{middle}", 1), "last": (middle, first, 1)}
    published_counts: list[tuple[frozenset[tuple[str, str]], int]] = []
    for by in ("", "grade", "site", "site,grade"):
        own = client.get(f"/v1/surveys/{middle}/report?by={by}", headers=reader).json()
        own_cells = {(tuple(g["group"].items()), s): (c, g) for g in own["groups"]
                     for s, c in g["scales"].items()}
        for survey, previous, w in series.values():
            query = f"previous={previous}&by={by}"
            response = client.get(f"/v1/surveys/{survey}/trend?{query}", headers=reader)
            assert response.status_code == 200, response.text
            bodies = [response.json()]
            if "," in previous:  # the report carries the trend with two previous waves or more
                bodies.append(client.get(f"/v1/surveys/{survey}/report?{query}",
                                         headers=reader).json()["trend"])
            for body in bodies:
                assert body["waves"][w] == "2024"
                for group in body["groups"]:
                    key = tuple(group["group"].items())
                    for scale, cell in group["scales"].items():
                        point = cell["waves"][w]
                        mine, group_of = own_cells[(key, scale)]
                        if group_of["suppressed"] or mine["suppressed"]:
                            # Hidden in the wave's own report: hidden here, steps too.
                            assert point["status"] == "suppressed"
                            assert (point["n"], point["mean"], point["ci"]) == (None,) * 3
                            for step in cell["steps"][max(0, w - 1): w + 1]:
                                assert step["status"] == "suppressed"
                                assert step["difference"] is None
                                assert step["mean_before"] is None
                                assert step["mean_after"] is None
                        else:
                            assert (point["n"], point["mean"], point["ci"]) == (
                                mine["n"], mine["mean"], mine["ci"])
                            published_counts.append((_cells_of(group["group"]), point["n"]))
                        for i, step in enumerate(cell["steps"]):
                            if step["status"] != "compared":
                                continue
                            before, after = cell["waves"][i], cell["waves"][i + 1]
                            assert before["status"] == after["status"] == "shown"
                            assert step["difference"] == pytest.approx(
                                after["mean"] - before["mean"], abs=1e-12)
            # The CSV: nothing in the hidden few's rows of the hidden wave, nor in the step
            # out of it.
            text = client.get(f"/v1/surveys/{survey}/trend.csv?{query}", headers=reader).text
            for row in csv.DictReader(io.StringIO(text)):
                if row["level"] != "site|grade" or (row["site"], row["grade"]) != ("N", "c"):
                    continue
                if row["wave"] == "2024":
                    assert row["status"] == "suppressed"
                    assert row["suppressed_reason"] == "too_few_responses"
                    assert row["n"] == row["mean"] == row["ci_low"] == row["ci_high"] == ""
                    assert row["difference"] == row["hedges_g"] == ""
                if row["change_from"] == "2024":
                    assert row["change_status"] == "suppressed"
                    assert row["difference"] == row["change_ci_low"] == row["hedges_g"] == ""
            if "," not in previous:  # one previous wave: the page shows a change, no trend
                continue
            # The HTML: no point drawn for a hidden cell, and the table says why, only.
            page = client.get(f"/v1/surveys/{survey}/report.html?{query}", headers=reader).text
            trend_html = re.search(r"<section id='trend'>.*?</section>", page, re.S)
            assert trend_html is not None
            drawn = set(re.findall(r"<circle class=\"point\"[^>]*><title>([^:]*):",
                                   trend_html.group(0)))
            for group in own["groups"]:
                label = ", ".join(group["group"].values()) or "overall"
                if group["suppressed"]:
                    assert f"{label}, 2024" not in drawn
            if by == "site,grade":
                rows = re.findall(r"<th scope='rowgroup' rowspan='\d+'>N, c</th>(.*?)</tbody>",
                                  trend_html.group(0), re.S)
                assert rows  # one table per scale
                for body_html in rows:
                    wave = re.search(r"<th scope='row'>2024</th>(.*?)</tr>", body_html, re.S)
                    assert wave is not None
                    assert "fewer than 10 responses" in wave.group(1)
                    assert not re.search(r"\d\.\d\d", wave.group(1))
    # The middle wave's published counts, across every trend read, pin down nobody.
    assert published_counts
    assert all(n == 0 or n >= K for _, n in published_counts)
    assert _pinned_down(published_counts) == []


def test_a_snapshot_survey_and_the_final_survey_do_not_reveal_the_late_few(
    client: TestClient[Any], make_key: Any
) -> None:
    """A trust publishes a snapshot of its fieldwork as one survey and the final data as
    another: the same 67 responses, then 3 late doctors of site N, grade t, who answered 5
    everywhere. A reports:read key reads both (here as a trend; two plain reports give the
    same figures) and subtracts: n x mean of the final cell minus that of the snapshot cell
    is the late three's total. The promise is that no reader learns what fewer than K said,
    so this must not come out as 5."""
    writer = bearer(make_key("surveys:write", "responses:write"))
    reader = bearer(make_key("reports:read"))
    final_rows = _shown_wave_rows(21)
    late = [r for r in final_rows if r["attributes"] == {"site": "N", "grade": "t"}][:3]
    for row in late:
        row["answers"] = dict.fromkeys(row["answers"], 5)
    snapshot = _wave_of(client, writer, "snapshot", [r for r in final_rows if r not in late])
    final = _wave_of(client, writer, "final", final_rows)
    trend = client.get(f"/v1/surveys/{final}/trend?previous={snapshot}&by=site,grade",
                       headers=reader)
    recovered = None
    if trend.status_code == 200:
        for group in trend.json()["groups"]:
            if group["group"] == {"site": "N", "grade": "t"}:
                before, after = group["scales"]["index"]["waves"]
                if before["mean"] is not None and after["mean"] is not None:
                    recovered = ((after["n"] * after["mean"] - before["n"] * before["mean"])
                                 / (after["n"] - before["n"]))
    assert recovered is None or abs(recovered - 5.0) > 0.5
    # Nor do the item means of the two reliability reports (final minus snapshot).
    response = client.get(f"/v1/surveys/{final}/reliability",
                          headers=reader)
    assert response.status_code == 422, response.text
    assert "shares responses with other released surveys" in response.json()["detail"]
    pages = [client.get(f"/v1/surveys/{s}/report.html", headers=reader).text
             for s in (snapshot, final)]
    assert "id='reliability'" in pages[0]
    assert "id='reliability'" not in pages[1]


def _frequency_counts(payload: dict[str, Any]) -> list[tuple[str, int, list[int | None]]]:
    """Per item of every scale: respondents who answered it, and the count behind each
    published response frequency (None where hidden)."""
    out = []
    for scale in payload["scales"].values():
        for item in scale["items"].values():
            answered = round(scale["n"] * (1 - item["missing_share"]))
            out.append((item["item"], answered, [
                None if f is None else round(f * answered)
                for f in item["response_freq"].values()]))
    return out


def test_no_response_frequency_describes_a_few(client: TestClient[Any], make_key: Any) -> None:
    """The reliability report's response frequencies are counts per item and answer: a value
    given by 1 to K - 1 respondents is not shown, nor can it be worked out from the item's
    answered count minus the values shown."""
    writer = bearer(make_key("surveys:write", "responses:write"))
    reader = bearer(make_key("reports:read"))
    survey = _survey(client, writer)
    payload = client.get(f"/v1/surveys/{survey}/reliability", headers=reader).json()
    items = _frequency_counts(payload)
    assert any(None in counts for _, _, counts in items)  # the data have rare answers
    for item, answered, counts in items:
        shown = [c for c in counts if c is not None]
        assert all(c == 0 or c >= K for c in shown), (item, counts)
        assert not 0 < answered - sum(shown) < K, (item, answered, counts)


def test_a_final_survey_beside_its_snapshot_shows_no_response_frequencies(
    client: TestClient[Any], make_key: Any
) -> None:
    """Twelve late doctors may be described by item statistics, but the final survey's
    count of each answer minus the snapshot's would tell how those twelve answered each
    item: the final survey's reliability report shows no frequencies at all."""
    writer = bearer(make_key("surveys:write", "responses:write"))
    reader = bearer(make_key("reports:read"))
    rows = _shown_wave_rows(21) + mes_rows(12, seed=99)
    for i, row in enumerate(rows[-12:]):
        row["respondent"] = f"late-{i}"
        row["attributes"] = {"site": "S", "grade": "t"}
    snapshot = _wave_of(client, writer, "snapshot", rows[:-12])
    final = _wave_of(client, writer, "final", rows)
    before = client.get(f"/v1/surveys/{snapshot}/reliability", headers=reader).json()
    after = client.get(f"/v1/surveys/{final}/reliability", headers=reader)
    assert after.status_code == 200, after.text
    assert any(c for _, _, counts in _frequency_counts(before) for c in counts)
    assert all(c is None for _, _, counts in _frequency_counts(after.json()) for c in counts
               if c != 0)


def test_an_item_answered_by_a_few_shows_no_statistics(
    client: TestClient[Any], make_key: Any
) -> None:
    """An item that 3 of 64 doctors answered: its mean, SD and correlations in the
    reliability report would describe those three, so none is shown (its n is)."""
    writer = bearer(make_key("surveys:write", "responses:write"))
    reader = bearer(make_key("reports:read"))
    rows = _rows()
    item = next(iter(rows[0]["answers"]))
    for row in rows[3:]:
        del row["answers"][item]
    survey = _survey_of(client, writer, rows)
    payload = client.get(f"/v1/surveys/{survey}/reliability", headers=reader).json()
    found = [i for s in payload["scales"].values() for i in s["items"].values()
             if i["item"] == item]
    assert found
    for stats in found:
        assert stats["n"] == 3
        assert stats["mean"] is stats["sd"] is stats["r_drop"] is stats["raw_r"] is None
        assert all(f is None for f in stats["response_freq"].values())
