"""CSV and FHIR bodies take the same route, rules and transaction as JSON."""

from __future__ import annotations

import json
from typing import Any

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
    # A column holding text keeps every cell as the file has it ("7", not 7).
    assert got == [(1, 4, "answers.mes02", "7"), (2, 5, "answers.mes02", "Maybe")]
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
