"""Exports: stored responses and scores as CSV and JSON Lines, streamed, scoped."""

from __future__ import annotations

import csv
import io
import json
from typing import Any

import httpx
import numpy as np
import pandas as pd
import pytest
from api_helpers import bearer, create_survey, mes_rows
from litestar.testing import TestClient

import mes
from mes.io.formula_escape import write_csv
from mes.io.numbers import score_column_kinds

MES = mes.load_instrument("mes")
ITEMS = list(MES.item_ids)


def _post_csv(client: TestClient[Any], headers: dict[str, str], survey: str, body: bytes) -> Any:
    return client.post(
        f"/v1/surveys/{survey}/responses",
        content=body,
        headers={**headers, "content-type": "text/csv"},
    )


def _stored(client: TestClient[Any], headers: dict[str, str], survey: str) -> list[Any]:
    page = client.get(f"/v1/surveys/{survey}/responses?limit=1000", headers=headers).json()
    return [{k: v for k, v in r.items() if k != "submitted_at"} for r in page["items"]]


def _upload_file() -> bytes:
    """An Excel-style upload: BOM, semicolons, CRLF, codes, gaps, awkward ids and attributes."""
    header = ["respondent", *ITEMS, "site", "specialty"]
    rows = [
        ["007", *["SA", "A", 3, 4, 5] * 6, "North", "Surgery, general"],
        ["a-2", *[1, 2, "", 4, 5] * 6, "Émergency", ""],
        ["b 3", *["", "", "", "", ""] * 6, "South", 'Said "hi"'],
        ["c4", *[2] * 30, "", "Medicine"],
        ["=x1", *[3] * 30, "@home", "-2"],
    ]
    buffer = io.StringIO()
    csv.writer(buffer, delimiter=";", lineterminator="\r\n").writerows([header, *rows])
    return b"\xef\xbb\xbf" + buffer.getvalue().encode()


def test_csv_export_has_the_upload_layout_and_reimports_unchanged(
    client: TestClient[Any], admin: dict[str, str]
) -> None:
    first = create_survey(client, admin)
    assert _post_csv(client, admin, first, _upload_file()).status_code == 201
    export = client.get(f"/v1/surveys/{first}/responses.csv", headers=admin)
    assert export.status_code == 200, export.text
    assert export.headers["content-type"] == "text/csv; charset=utf-8"
    assert f'filename="responses-{first}.csv"' in export.headers["content-disposition"]
    text = export.text
    assert not text.startswith("\ufeff")
    records = list(csv.reader(io.StringIO(text, newline="")))
    assert records[0] == ["respondent", *ITEMS, "site", "specialty"]
    by_id = {r[0]: r for r in records[1:]}
    # Ordered by respondent id, in code-point order ("=" < "a") on both backends.
    assert [r[0] for r in records[1:]] == ["007", "'=x1", "a-2", "b 3", "c4"]
    assert by_id["007"][1:6] == ["SA", "A", "3", "4", "5"]  # codes stay codes, "007" stays
    assert by_id["a-2"][3] == ""  # a missing answer is an empty cell
    assert by_id["a-2"][-2:] == ["Émergency", ""]
    assert '"Surgery, general"' in text
    assert '"Said ""hi"""' in text
    assert text.split("\n", 1)[0].endswith("\r")  # CRLF
    assert text.endswith("\r\n")
    # Cells that a spreadsheet would run as formulas are defused with a leading "'" ...
    assert by_id["'=x1"][-2:] == ["'@home", "-2"]

    # ... which the upload removes again: the export re-imports unchanged.
    second = create_survey(client, admin)
    again = _post_csv(client, admin, second, export.content)
    assert again.status_code == 201, again.text
    assert _stored(client, admin, second) == _stored(client, admin, first)
    assert {r["respondent"]: r["attributes"] for r in _stored(client, admin, second)}["=x1"] == {
        "site": "@home",
        "specialty": "-2",  # a text column: "-2" is not defused (a number) and stays text
    }
    assert client.get(f"/v1/surveys/{second}/responses.csv", headers=admin).text == text
    first_scores = client.get(f"/v1/surveys/{first}/scores.csv", headers=admin).text
    assert client.get(f"/v1/surveys/{second}/scores.csv", headers=admin).text == first_scores


def test_jsonl_export_lines_are_a_json_batch(
    client: TestClient[Any], admin: dict[str, str]
) -> None:
    first = create_survey(client, admin)
    rows = mes_rows(5, seed=2, site="North")
    rows[1]["answers"]["mes03"] = "SD"
    rows[2]["attributes"] = {"grade": 3, "locum": True}
    client.post(f"/v1/surveys/{first}/responses", json={"responses": rows}, headers=admin)
    export = client.get(f"/v1/surveys/{first}/responses.jsonl", headers=admin)
    assert export.status_code == 200
    assert export.headers["content-type"].startswith("application/x-ndjson")
    lines = [json.loads(line) for line in export.text.splitlines()]
    assert [r["respondent"] for r in lines] == [r["respondent"] for r in rows]
    assert lines[1]["answers"]["mes03"] == "SD"
    assert lines[2]["attributes"] == {"grade": 3, "locum": True}
    assert all("submitted_at" in r for r in lines)
    second = create_survey(client, admin)
    stored = client.post(
        f"/v1/surveys/{second}/responses", json={"responses": lines}, headers=admin
    )
    assert stored.status_code == 201, stored.text
    assert _stored(client, admin, second) == _stored(client, admin, first)


def test_accept_header_selects_the_export_on_the_list_routes(
    client: TestClient[Any], admin: dict[str, str]
) -> None:
    survey = create_survey(client, admin)
    rows = mes_rows(7, seed=4)
    client.post(f"/v1/surveys/{survey}/responses", json={"responses": rows}, headers=admin)
    base = f"/v1/surveys/{survey}"
    for route in ("responses", "scores"):
        as_csv = client.get(f"{base}/{route}?limit=2", headers={**admin, "accept": "text/csv"})
        assert as_csv.headers["content-type"] == "text/csv; charset=utf-8"
        assert as_csv.text == client.get(f"{base}/{route}.csv", headers=admin).text
        assert len(as_csv.text.splitlines()) == 8  # every row: paging is for JSON pages
        lines = client.get(
            f"{base}/{route}", headers={**admin, "accept": "application/jsonl"}
        ).text
        assert lines == client.get(f"{base}/{route}.jsonl", headers=admin).text
        page = client.get(f"{base}/{route}?limit=2", headers=admin)
        assert page.headers["content-type"] == "application/json"
        assert len(page.json()["items"]) == 2
        items = page.json()["items"]
        if route == "scores":  # attributes are only in lines that asked for them
            items = [{k: v for k, v in item.items() if k != "attributes"} for item in items]
        assert [json.loads(line) for line in lines.splitlines()][:2] == items


def test_scores_csv_is_the_file_mes_score_writes(
    client: TestClient[Any], admin: dict[str, str]
) -> None:
    survey = create_survey(client, admin)
    rows = mes_rows(40, seed=11, site="North")
    rows[3]["answers"] = {"mes01": 5}  # too few answers: every scale unscorable but one item
    rows[5]["answers"].update(mes16=4, mes17=4, mes18=4, mes19=5, mes20=5)  # 4.4: 85%
    client.post(f"/v1/surveys/{survey}/responses", json={"responses": rows}, headers=admin)
    response = client.get(f"/v1/surveys/{survey}/scores.csv", headers=admin)
    assert response.status_code == 200
    got = pd.read_csv(io.StringIO(response.text), dtype={"respondent": str})
    frame = pd.DataFrame([r["answers"] for r in rows], columns=ITEMS)
    expected = mes.score(MES, frame).to_frame()
    expected.insert(0, "respondent", [r["respondent"] for r in rows])
    # The columns of `mes score -o scores.csv`, and no attributes unless asked for.
    assert list(got.columns) == list(expected.columns)
    assert "site" not in response.text
    # The very text `mes score -o scores.csv` writes: the one rounding rule of every CSV.
    kinds = score_column_kinds(MES.scale_ids)
    assert response.text == write_csv(expected, kinds=kinds)
    for column in expected.columns[1:]:
        tolerance = {"statistic": 0.0005, "percent": 0.05, "count": 0}[kinds[column]]
        np.testing.assert_allclose(got[column].to_numpy(float),
                                   expected[column].to_numpy(float), rtol=0, atol=tolerance)
    line = response.text.splitlines()[4]  # rows[3]
    assert line.startswith(f"{rows[3]['respondent']},,,1,,,0,")  # unscorable: empty cells
    line = next(x for x in response.text.splitlines() if x.startswith(rows[5]["respondent"]))
    cells = dict(zip(got.columns, line.split(","), strict=True))
    assert (cells["participation_in_decision_making"],
            cells["participation_in_decision_making_pct"]) == ("4.400", "85.0")


def test_score_attributes_only_when_asked_for(
    client: TestClient[Any], make_key: Any, admin: dict[str, str]
) -> None:
    """A responses:read key (the scope of every score route) gets attributes with
    attributes=true and only then; a reports:read key gets no scores at all."""
    survey = create_survey(client, admin)
    rows = mes_rows(3, seed=1, site="North")
    rows[0]["attributes"] = {"site": "=cmd|' /C calc'!A0", "grade": "ST3"}
    client.post(f"/v1/surveys/{survey}/responses", json={"responses": rows}, headers=admin)
    reports_only = bearer(make_key("reports:read"))
    for path in ("scores.csv?attributes=true", "scores.jsonl?attributes=true",
                 "scores?attributes=true", "scores.csv"):
        refused = client.get(f"/v1/surveys/{survey}/{path}", headers=reports_only)
        assert refused.status_code == 403, path
        assert refused.headers["content-type"] == "application/problem+json"
        assert "responses:read" in refused.json()["detail"]
    reader = bearer(make_key("responses:read"))
    plain = client.get(f"/v1/surveys/{survey}/scores.csv", headers=reader)
    assert plain.status_code == 200
    assert "North" not in plain.text
    joined = client.get(f"/v1/surveys/{survey}/scores.csv?attributes=true", headers=reader)
    header, first = joined.text.splitlines()[:2]
    assert header.endswith(",index_answered,grade,site")
    # A cell that would run as a spreadsheet formula is defused.
    assert first.endswith(",ST3,'=cmd|' /C calc'!A0")
    lines = client.get(f"/v1/surveys/{survey}/scores.jsonl?attributes=true", headers=reader).text
    assert json.loads(lines.splitlines()[1])["attributes"] == {"site": "North"}
    page = client.get(f"/v1/surveys/{survey}/scores?attributes=true", headers=reader).json()
    assert page["items"][2]["attributes"] == {"site": "North"}


def test_exports_need_their_scope_and_hide_other_tenants(
    client: TestClient[Any], make_key: Any, admin: dict[str, str]
) -> None:
    survey = create_survey(client, admin)
    client.post(
        f"/v1/surveys/{survey}/responses", json={"responses": mes_rows(2)}, headers=admin
    )
    reports = bearer(make_key("reports:read"))
    responses = bearer(make_key("responses:read"))
    stranger = bearer(make_key("admin", tenant="someone-else"))
    cases = [
        ("responses.csv", reports, 403),
        ("responses.jsonl", reports, 403),
        ("scores.csv", reports, 403),
        ("scores.jsonl", reports, 403),
        ("scores.fhir", reports, 403),
        ("responses.csv", responses, 200),
        ("scores.csv", responses, 200),
        ("scores.jsonl", responses, 200),
        ("scores.fhir", responses, 200),
        ("responses.csv", stranger, 404),
        ("scores.csv", stranger, 404),
    ]
    for path, headers, status in cases:
        response = client.get(f"/v1/surveys/{survey}/{path}", headers=headers)
        assert response.status_code == status, (path, response.text)
        if status != 200:
            assert response.headers["content-type"] == "application/problem+json"
    for path in ("responses", "scores"):
        csv_accept = client.get(
            f"/v1/surveys/{survey}/{path}", headers={**reports, "accept": "text/csv"}
        )
        assert csv_accept.status_code == 403, path


def test_large_export_is_streamed_in_chunks(live_server: str, make_key: Any) -> None:
    """Through the real server: a chunked body, every row once, in respondent order."""
    rows = mes_rows(2300, seed=5)
    with httpx.Client(base_url=live_server, headers=bearer(make_key("admin")), timeout=60) as http:
        survey = http.post("/v1/surveys", json={"title": "Big", "instrument": "mes"}).json()["id"]
        stored = http.post(f"/v1/surveys/{survey}/responses", json={"responses": rows})
        assert stored.status_code == 201
        for path in ("responses.csv", "scores.csv", "responses.jsonl", "scores.jsonl"):
            with http.stream("GET", f"/v1/surveys/{survey}/{path}") as response:
                assert response.status_code == 200
                assert response.headers.get("transfer-encoding") == "chunked"
                assert "content-length" not in response.headers
                text = b"".join(response.iter_raw()).decode()
            if path.endswith(".csv"):
                ids = [line.split(",", 1)[0] for line in text.splitlines()[1:]]
            else:
                ids = [json.loads(line)["respondent"] for line in text.splitlines()]
            assert ids == [r["respondent"] for r in rows], path
        with http.stream("GET", f"/v1/surveys/{survey}/scores.fhir") as response:
            assert response.headers.get("transfer-encoding") == "chunked"
            bundle = json.loads(b"".join(response.iter_raw()))
        subjects = [e["resource"]["subject"]["identifier"]["value"] for e in bundle["entry"]]
        assert subjects == [r["respondent"] for r in rows for _ in MES.scale_ids]


def test_empty_survey_exports_a_header_only(
    client: TestClient[Any], admin: dict[str, str]
) -> None:
    survey = create_survey(client, admin)
    responses = client.get(f"/v1/surveys/{survey}/responses.csv", headers=admin)
    assert responses.text == ",".join(["respondent", *ITEMS]) + "\r\n"
    scores = client.get(f"/v1/surveys/{survey}/scores.csv", headers=admin)
    assert scores.text.startswith("respondent,climate_for_positive_change,")
    assert scores.text.count("\r\n") == 1
    assert client.get(f"/v1/surveys/{survey}/scores.jsonl", headers=admin).text == ""


@pytest.mark.parametrize("name", ["mes01", "respondent"])
def test_an_attribute_cannot_take_a_csv_column_name(
    client: TestClient[Any], admin: dict[str, str], name: str
) -> None:
    survey = create_survey(client, admin)
    row = {"respondent": "r1", "answers": {"mes02": 4}, "attributes": {name: "x"}}
    response = client.post(
        f"/v1/surveys/{survey}/responses", json={"responses": [row]}, headers=admin
    )
    assert response.status_code == 422
    assert [(e["row"], e["field"]) for e in response.json()["errors"]] == [
        (0, f"attributes.{name}")
    ]


def test_scores_as_a_fhir_bundle_of_observations(
    client: TestClient[Any], admin: dict[str, str]
) -> None:
    survey = create_survey(client, admin)
    rows = mes_rows(3, seed=9, site="North")
    rows[1]["answers"] = {"mes01": 4}  # climate_for_positive_change: 1 of 5 answered
    client.post(f"/v1/surveys/{survey}/responses", json={"responses": rows}, headers=admin)
    response = client.get(f"/v1/surveys/{survey}/scores.fhir", headers=admin)
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("application/fhir+json")
    bundle = response.json()
    assert (bundle["resourceType"], bundle["type"]) == ("Bundle", "collection")
    observations = [e["resource"] for e in bundle["entry"]]
    assert len(observations) == 3 * len(MES.scale_ids)
    page = client.get(f"/v1/surveys/{survey}/scores", headers=admin).json()["items"]
    for obs in observations:
        assert obs["resourceType"] == "Observation"
        assert obs["status"] == "final"
        assert obs["code"]["coding"][0]["system"] == "urn:mes:instrument:mes:1"
        respondent = obs["subject"]["identifier"]["value"]
        scale = obs["code"]["coding"][0]["code"]
        want = next(r for r in page if r["respondent"] == respondent)["scores"][scale]
        components = {c["code"]["text"]: c for c in obs["component"]}
        assert components["items answered"]["valueInteger"] == want["answered"]
        if want["score"] is None:
            assert "valueQuantity" not in obs
            assert obs["dataAbsentReason"]["coding"][0]["code"] == "unknown"
        else:
            assert obs["valueQuantity"]["value"] == want["score"]
            assert components["percent of the scale range"]["valueQuantity"]["value"] == (
                want["percent"]
            )
    absent = [o for o in observations if "dataAbsentReason" in o]
    assert {o["subject"]["identifier"]["value"] for o in absent} == {rows[1]["respondent"]}
    assert "North" not in response.text  # never attributes
    by_accept = client.get(
        f"/v1/surveys/{survey}/scores", headers={**admin, "accept": "application/fhir+json"}
    )
    assert by_accept.json() == bundle
    refused = client.get(
        f"/v1/surveys/{survey}/scores?attributes=true",
        headers={**admin, "accept": "application/fhir+json"},
    )
    assert refused.status_code == 422
    empty = create_survey(client, admin)
    assert client.get(f"/v1/surveys/{empty}/scores.fhir", headers=admin).json()["entry"] == []
