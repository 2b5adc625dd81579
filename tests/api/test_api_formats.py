"""CSV and FHIR bodies take the same route, rules and transaction as JSON."""

from __future__ import annotations

import json
from typing import Any

import pytest
from api_helpers import create_survey
from litestar.testing import TestClient


def _csv(rows: list[list[Any]]) -> bytes:
    return "\n".join(",".join("" if v is None else str(v) for v in row) for row in rows).encode()


def _qr(respondent: str, answers: dict[str, Any]) -> dict[str, Any]:
    return {
        "resourceType": "QuestionnaireResponse",
        "status": "completed",
        "identifier": {"value": respondent},
        "item": [{"linkId": k, "answer": [{"valueInteger": v}]} for k, v in answers.items()],
    }


def test_csv_batch_is_stored_with_attributes(
    client: TestClient[Any], admin: dict[str, str]
) -> None:
    survey = create_survey(client, admin, attributes={"specialty": ["Surgery", "Medicine"]})
    header = ["respondent", *[f"mes{i:02d}" for i in range(1, 31)], "specialty"]
    body = _csv([header, ["c1", *[4] * 30, "Surgery"], ["c2", *[2] * 29, None, "Medicine"]])
    response = client.post(
        f"/v1/surveys/{survey}/responses",
        content=body,
        headers={**admin, "content-type": "text/csv"},
    )
    assert response.status_code == 201, response.text
    assert response.json()["accepted"] == 2
    stored = client.get(f"/v1/surveys/{survey}/responses", headers=admin).json()["items"]
    assert stored[0]["attributes"] == {"specialty": "Surgery"}
    assert stored[0]["answers"]["mes01"] == 4
    assert "mes30" not in stored[1]["answers"]
    scores = client.get(f"/v1/surveys/{survey}/scores", headers=admin).json()["items"]
    assert [r["scores"]["index"]["score"] for r in scores] == [4.0, 2.0]


def test_bad_csv_lists_every_problem_and_writes_nothing(
    client: TestClient[Any], admin: dict[str, str]
) -> None:
    survey = create_survey(client, admin, attributes={"specialty": ["Surgery"]})
    header = ["respondent", "mes01", "mes02", "specialty"]
    body = _csv([header, ["c1", 4, 9, "Surgery"], ["c2", "SA", 3, "Surgry"]])
    response = client.post(
        f"/v1/surveys/{survey}/responses",
        content=body,
        headers={**admin, "content-type": "text/csv; charset=utf-8"},
    )
    assert response.status_code == 422
    got = {(e["row"], e["field"]) for e in response.json()["errors"]}
    assert got == {(0, "answers.mes02"), (1, "attributes.specialty")}
    assert client.get(f"/v1/surveys/{survey}", headers=admin).json()["responses"] == 0
    no_id = client.post(
        f"/v1/surveys/{survey}/responses",
        content=b"mes01\n4\n",
        headers={**admin, "content-type": "text/csv"},
    )
    assert no_id.status_code == 422
    assert "respondent" in no_id.json()["detail"]


def test_csv_errors_name_the_files_own_lines(
    client: TestClient[Any], admin: dict[str, str]
) -> None:
    survey = create_survey(client, admin)
    # Excel's export: byte-order mark, semicolons, CRLF; line 3 is blank.
    lines = ["respondent;mes01;mes02", "c1;4;5", "", "c2;SA;7", "c3;1;Maybe"]
    body = b"\xef\xbb\xbf" + "\r\n".join(lines).encode() + b"\r\n"
    response = client.post(
        f"/v1/surveys/{survey}/responses",
        content=body,
        headers={**admin, "content-type": "text/csv"},
    )
    assert response.status_code == 422, response.text
    got = [(e["row"], e["line"], e["field"], e["value"]) for e in response.json()["errors"]]
    # A whole number in a column that also holds codes is a number, as in JSON.
    assert got == [(1, 4, "answers.mes02", 7), (2, 5, "answers.mes02", "Maybe")]
    assert client.get(f"/v1/surveys/{survey}", headers=admin).json()["responses"] == 0


def test_json_errors_carry_no_line(client: TestClient[Any], admin: dict[str, str]) -> None:
    survey = create_survey(client, admin)
    batch = {"responses": [{"respondent": "j1", "answers": {"mes01": 8}}]}
    response = client.post(f"/v1/surveys/{survey}/responses", json=batch, headers=admin)
    assert response.status_code == 422
    assert response.json()["errors"] == [
        {"row": 0, "field": "answers.mes01", "value": 8,
         "message": response.json()["errors"][0]["message"]}
    ]


def test_fhir_bundle_is_stored(client: TestClient[Any], admin: dict[str, str]) -> None:
    survey = create_survey(client, admin)
    bundle = {
        "resourceType": "Bundle",
        "type": "collection",
        "entry": [
            {"resource": _qr("f1", {f"mes{i:02d}": 5 for i in range(1, 31)})},
            {"resource": _qr("f2", {f"mes{i:02d}": 1 for i in range(1, 31)})},
        ],
    }
    response = client.post(
        f"/v1/surveys/{survey}/responses",
        content=json.dumps(bundle),
        headers={**admin, "content-type": "application/fhir+json"},
    )
    assert response.status_code == 201, response.text
    scores = client.get(f"/v1/surveys/{survey}/scores", headers=admin).json()["items"]
    assert {r["respondent"]: r["scores"]["index"]["score"] for r in scores} == {
        "f1": 5.0,
        "f2": 1.0,
    }


def test_bad_fhir_is_rejected_with_every_problem(
    client: TestClient[Any], admin: dict[str, str]
) -> None:
    survey = create_survey(client, admin)
    bundle = {
        "resourceType": "Bundle",
        "type": "collection",
        "entry": [
            {"resource": _qr("f1", {"mes01": 7})},
            {"resource": _qr("f2", {"mes02": 0})},
        ],
    }
    response = client.post(
        f"/v1/surveys/{survey}/responses",
        content=json.dumps(bundle),
        headers={**admin, "content-type": "application/fhir+json"},
    )
    assert response.status_code == 422
    assert sorted(e["row"] for e in response.json()["errors"]) == [0, 1]
    assert client.get(f"/v1/surveys/{survey}", headers=admin).json()["responses"] == 0


def test_other_routes_refuse_csv(client: TestClient[Any], admin: dict[str, str]) -> None:
    response = client.post(
        "/v1/score",
        content=b"respondent,mes01\nr,4\n",
        headers={**admin, "content-type": "text/csv"},
    )
    assert response.status_code == 415
    assert "text/csv" not in response.json()["detail"].split("send", 1)[1]


# ----- CSV end to end: dialects, codes, lines, transaction, idempotency ---------

ITEMS = [f"mes{i:02d}" for i in range(1, 31)]


def _dialect(rows: list[list[Any]], *, bom: bool, crlf: bool, delimiter: str) -> bytes:
    import csv
    import io

    buffer = io.StringIO()
    csv.writer(buffer, delimiter=delimiter, lineterminator="\r\n" if crlf else "\n").writerows(
        rows
    )
    return (b"\xef\xbb\xbf" if bom else b"") + buffer.getvalue().encode()


def _listing(client: TestClient[Any], headers: dict[str, str], survey: str) -> list[Any]:
    items = client.get(f"/v1/surveys/{survey}/responses", headers=headers).json()["items"]
    return [{k: v for k, v in r.items() if k != "submitted_at"} for r in items]


def test_every_csv_dialect_stores_the_same_respondents(
    client: TestClient[Any], admin: dict[str, str]
) -> None:
    rows = [
        ["respondent", *ITEMS, "specialty"],
        ["d1", *["SA", "A", "N", "D", "SD"] * 6, "Surgery, general"],
        ["d2", *[5, 4, None, 2, 1] * 6, "Médecine"],
    ]
    seen = []
    for bom in (False, True):
        for crlf in (False, True):
            for delimiter in (",", ";"):
                survey = create_survey(client, admin)
                body = _dialect(rows, bom=bom, crlf=crlf, delimiter=delimiter)
                response = client.post(
                    f"/v1/surveys/{survey}/responses",
                    content=body,
                    headers={**admin, "content-type": "text/csv"},
                )
                assert response.status_code == 201, (bom, crlf, delimiter, response.text)
                seen.append((survey, _listing(client, admin, survey)))
    first = seen[0][1]
    assert first[0]["attributes"] == {"specialty": "Surgery, general"}
    assert first[1]["attributes"] == {"specialty": "Médecine"}
    assert all(listing == first for _, listing in seen)
    # Codes are translated through response_scale.codes: SA=5 ... SD=1, as d2's numbers.
    scores = client.get(f"/v1/surveys/{seen[0][0]}/scores", headers=admin).json()["items"]
    assert scores[0]["scores"]["index"]["score"] == pytest.approx(3.0)
    assert scores[0]["scores"]["climate_for_positive_change"]["answered"] == 5
    assert scores[1]["scores"]["climate_for_positive_change"]["answered"] == 4


def test_one_bad_row_in_a_csv_rejects_the_batch(
    client: TestClient[Any], admin: dict[str, str]
) -> None:
    survey = create_survey(client, admin)
    rows: list[list[Any]] = [["respondent", *ITEMS]]
    rows += [[f"g{i:02d}", *[3] * 30] for i in range(40)]
    rows[26][7] = "Agree"  # data row 25, line 27: not a code of the instrument
    response = client.post(
        f"/v1/surveys/{survey}/responses",
        content=_csv(rows),
        headers={**admin, "content-type": "text/csv"},
    )
    assert response.status_code == 422
    assert response.headers["content-type"] == "application/problem+json"
    errors = response.json()["errors"]
    assert [(e["row"], e["line"], e["field"], e["value"]) for e in errors] == [
        (25, 27, "answers.mes07", "Agree")
    ]
    assert client.get(f"/v1/surveys/{survey}", headers=admin).json()["responses"] == 0
    rows[26][7] = "A"
    fixed = client.post(
        f"/v1/surveys/{survey}/responses",
        content=_csv(rows),
        headers={**admin, "content-type": "text/csv"},
    )
    assert fixed.status_code == 201
    assert fixed.json()["accepted"] == 40


def test_csv_and_fhir_bodies_are_idempotent(
    client: TestClient[Any], admin: dict[str, str]
) -> None:
    survey = create_survey(client, admin)
    url = f"/v1/surveys/{survey}/responses"
    body = _csv([["respondent", "mes01", "mes02"], ["k1", 4, "SA"], ["k2", 2, 3]])
    csv_headers = {**admin, "content-type": "text/csv", "Idempotency-Key": "csv-1"}
    first = client.post(url, content=body, headers=csv_headers)
    assert first.status_code == 201, first.text
    again = client.post(url, content=body, headers=csv_headers)
    assert again.status_code == 201
    assert again.headers["Idempotent-Replayed"] == "true"
    assert again.json() == first.json()
    other = client.post(url, content=body.replace(b"k2,2", b"k2,1"), headers=csv_headers)
    assert other.status_code == 409
    assert other.headers["content-type"] == "application/problem+json"
    assert "csv-1" in other.json()["detail"]
    # Without the key the same body is a duplicate: the replay did not write twice.
    duplicate = client.post(url, content=body, headers={**admin, "content-type": "text/csv"})
    assert duplicate.status_code == 409
    assert duplicate.json()["duplicates"] == ["k1", "k2"]
    replaced = client.post(
        f"{url}?on_conflict=replace",
        content=body.replace(b"k2,2", b"k2,1"),
        headers={**admin, "content-type": "text/csv"},
    )
    assert replaced.status_code == 201
    assert replaced.json()["replaced"] == 2
    # mes02's column holds a code too; its 3 is still stored as the number 3.
    assert _listing(client, admin, survey)[1]["answers"] == {"mes01": 1, "mes02": 3}

    bundle = json.dumps({"resourceType": "Bundle", "type": "collection",
                         "entry": [{"resource": _qr("k3", {"mes01": 5})}]})
    fhir_headers = {**admin, "content-type": "application/fhir+json", "Idempotency-Key": "f-1"}
    assert client.post(url, content=bundle, headers=fhir_headers).status_code == 201
    replay = client.post(url, content=bundle, headers=fhir_headers)
    assert replay.headers["Idempotent-Replayed"] == "true"
    assert replay.json()["total"] == 3
    assert client.get(f"/v1/surveys/{survey}", headers=admin).json()["responses"] == 3


def test_fhir_errors_name_the_resource_and_the_link_id(
    client: TestClient[Any], admin: dict[str, str]
) -> None:
    survey = create_survey(client, admin)

    def nested(rid: str, qr_id: str, answers: dict[str, Any]) -> dict[str, Any]:
        return {
            "resourceType": "QuestionnaireResponse",
            "id": qr_id,
            "status": "completed",
            "identifier": {"value": rid},
            "item": [{"linkId": "page-1", "item": [
                {"linkId": k, "answer": [v]} for k, v in answers.items()
            ]}],
        }

    bundle = {
        "resourceType": "Bundle",
        "type": "collection",
        "entry": [
            {"resource": nested("ok", "qr-0", {"mes01": {"valueInteger": 3}})},
            {"resource": nested("b1", "qr-1", {"mes01": {"valueInteger": 2},
                                               "mes04": {"valueInteger": 7}})},
            {"resource": nested("b2", "qr-2", {"mes09": {"valueCoding": {"code": "zz"}}})},
        ],
    }
    response = client.post(
        f"/v1/surveys/{survey}/responses",
        content=json.dumps(bundle),
        headers={**admin, "content-type": "application/fhir+json"},
    )
    assert response.status_code == 422
    assert response.headers["content-type"] == "application/problem+json"
    errors = response.json()["errors"]
    assert [(e["row"], e["resource_id"], e["link_id"], e["field"], e["value"]) for e in errors] == [
        (1, "qr-1", "mes04", "Bundle.entry[1].resource.item[0].item[1].answer[0].valueInteger", 7),
        (2, "qr-2", "mes09", "Bundle.entry[2].resource.item[0].item[0].answer[0].valueCoding",
         "zz"),
    ]
    assert errors[0]["message"].startswith("resource 1 (id 'qr-1'), linkId 'mes04': ")
    assert errors[1]["message"].startswith("resource 2 (id 'qr-2'), linkId 'mes09': ")
    assert all("line" not in e for e in errors)
    assert client.get(f"/v1/surveys/{survey}", headers=admin).json()["responses"] == 0
