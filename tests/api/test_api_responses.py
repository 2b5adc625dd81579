"""Batches: all or nothing, every problem listed, idempotent retries, duplicates, erasure."""

from __future__ import annotations

import copy
from typing import Any

import pytest
from api_helpers import create_survey, mes_rows
from litestar.testing import TestClient

from api.app import create_app
from api.settings import Settings


def _count(client: TestClient[Any], headers: dict[str, str], survey: str) -> int:
    return int(client.get(f"/v1/surveys/{survey}", headers=headers).json()["responses"])


def test_a_batch_of_1000_mes_responses_is_stored(
    client: TestClient[Any], admin: dict[str, str]
) -> None:
    survey = create_survey(client, admin)
    response = client.post(
        f"/v1/surveys/{survey}/responses", json={"responses": mes_rows(1000)}, headers=admin
    )
    assert response.status_code == 201, response.text
    assert response.json()["accepted"] == 1000
    assert response.json()["total"] == 1000
    listed = client.get(f"/v1/surveys/{survey}/responses?limit=2&offset=10", headers=admin).json()
    assert listed["total"] == 1000
    assert [r["respondent"] for r in listed["items"]] == ["r00010", "r00011"]
    assert listed["items"][0]["answers"] == mes_rows(1000)[10]["answers"]


def test_a_bad_batch_lists_every_problem_and_writes_nothing(
    client: TestClient[Any], admin: dict[str, str]
) -> None:
    survey = create_survey(
        client, admin, attributes={"specialty": ["Surgery", "Medicine"], "grade": None}
    )
    good = mes_rows(50, specialty="Surgery")
    bad = copy.deepcopy(good)
    bad[3]["answers"]["mes01"] = 9  # outside 1..5
    bad[3]["answers"]["mes02"] = 2.5  # not a whole number
    bad[7]["answers"]["mes30"] = "XX"  # unknown code
    bad[11]["answers"]["bogus"] = 1  # unknown item
    bad[20]["attributes"]["specialty"] = "Surgry"  # typo of an allowed value
    bad[21]["attributes"]["site"] = "North"  # undeclared attribute
    bad[30]["respondent"] = bad[29]["respondent"]  # duplicate inside the batch
    response = client.post(
        f"/v1/surveys/{survey}/responses", json={"responses": bad}, headers=admin
    )
    assert response.status_code == 422
    assert response.headers["content-type"].startswith("application/problem+json")
    errors = response.json()["errors"]
    got = {(e["row"], e["field"], e["value"]) for e in errors}
    assert got == {
        (3, "answers.mes01", 9),
        (3, "answers.mes02", 2.5),
        (7, "answers.mes30", "XX"),
        (11, "answers.bogus", 1),
        (20, "attributes.specialty", "Surgry"),
        (21, "attributes.site", "North"),
        (30, "respondent", good[29]["respondent"]),
    }
    assert all(e["message"] for e in errors)
    assert "Surgery" in next(e for e in errors if e["value"] == "Surgry")["message"]
    assert _count(client, admin, survey) == 0
    # The corrected batch then goes in whole.
    ok = client.post(f"/v1/surveys/{survey}/responses", json={"responses": good}, headers=admin)
    assert ok.status_code == 201
    assert _count(client, admin, survey) == 50


def test_schema_errors_name_the_row(client: TestClient[Any], admin: dict[str, str]) -> None:
    survey = create_survey(client, admin)
    rows: list[dict[str, Any]] = mes_rows(3)
    del rows[1]["respondent"]
    rows[2]["answers"] = "not an object"
    response = client.post(
        f"/v1/surveys/{survey}/responses", json={"responses": rows}, headers=admin
    )
    assert response.status_code == 422
    where = {(e["row"], e["field"]) for e in response.json()["errors"]}
    assert (1, "respondent") in where
    assert (2, "answers") in where
    assert _count(client, admin, survey) == 0


def test_idempotency_key_replays_and_rejects_another_body(
    client: TestClient[Any], admin: dict[str, str]
) -> None:
    survey = create_survey(client, admin)
    url = f"/v1/surveys/{survey}/responses"
    body = {"responses": mes_rows(5)}
    headers = {**admin, "Idempotency-Key": "batch-0001"}
    first = client.post(url, json=body, headers=headers)
    assert first.status_code == 201
    again = client.post(url, json=body, headers=headers)
    assert again.status_code == 201
    assert again.json() == first.json()
    assert again.headers["idempotent-replayed"] == "true"
    assert _count(client, admin, survey) == 5  # not written twice, and no 409 for duplicates
    other = client.post(url, json={"responses": mes_rows(6)}, headers=headers)
    assert other.status_code == 409
    assert "batch-0001" in other.json()["detail"]
    assert _count(client, admin, survey) == 5


def test_duplicate_respondents_are_409_unless_replaced(
    client: TestClient[Any], admin: dict[str, str]
) -> None:
    survey = create_survey(client, admin)
    url = f"/v1/surveys/{survey}/responses"
    assert client.post(url, json={"responses": mes_rows(10)}, headers=admin).status_code == 201
    again = mes_rows(12, seed=1)  # r00000..r00011: ten exist already
    response = client.post(url, json={"responses": again}, headers=admin)
    assert response.status_code == 409
    assert response.json()["duplicates"] == [f"r{i:05d}" for i in range(10)]
    assert _count(client, admin, survey) == 10
    replaced = client.post(f"{url}?on_conflict=replace", json={"responses": again}, headers=admin)
    assert replaced.status_code == 201
    assert replaced.json()["replaced"] == 10
    assert replaced.json()["total"] == 12
    stored = client.get(f"{url}?limit=1", headers=admin).json()["items"][0]
    assert stored["answers"] == again[0]["answers"]


def test_a_refused_small_batch_keeps_nothing_even_when_a_concurrent_retry_answers_it(
    client: TestClient[Any], admin: dict[str, str], monkeypatch: pytest.MonkeyPatch
) -> None:
    # A small batch is written before its duplicates are known (one statement inserts the
    # new rows); when a concurrent first try with the same Idempotency-Key then answers
    # the request (201, replayed), the rows this try wrote must not be committed with it.
    from api.domain.responses import idempotency, services

    survey = create_survey(client, admin)
    url = f"/v1/surveys/{survey}/responses"
    assert client.post(url, json={"responses": mes_rows(1)}, headers=admin).status_code == 201
    first = {"accepted": 3, "replaced": 0, "survey": survey, "total": 3, "on_conflict": "reject"}
    calls: list[str] = []

    async def concurrent_first_try(*args: Any) -> idempotency.StoredResult | None:
        calls.append("find")  # the first look finds nothing; the one after the 409 does
        return idempotency.StoredResult(201, first) if len(calls) > 1 else None

    monkeypatch.setattr(services.idempotency, "find_replay", concurrent_first_try)
    batch = mes_rows(3, seed=2)  # r00000 is stored already; r00001 and r00002 are new
    headers = {**admin, "Idempotency-Key": "race-1"}
    answer = client.post(url, json={"responses": batch}, headers=headers)
    assert answer.status_code == 201, answer.text
    assert answer.headers["idempotent-replayed"] == "true"
    listed = client.get(url, headers=admin).json()["items"]
    assert [r["respondent"] for r in listed] == ["r00000"]
    assert _count(client, admin, survey) == 1


def test_erasure_removes_a_respondent_for_good(
    client: TestClient[Any], admin: dict[str, str]
) -> None:
    survey = create_survey(client, admin)
    url = f"/v1/surveys/{survey}/responses"
    client.post(url, json={"responses": mes_rows(3)}, headers=admin)
    assert client.delete(f"{url}/r00001", headers=admin).status_code == 204
    listed = client.get(url, headers=admin).json()
    assert [r["respondent"] for r in listed["items"]] == ["r00000", "r00002"]
    assert client.delete(f"{url}/r00001", headers=admin).status_code == 404
    scores = client.get(f"/v1/surveys/{survey}/scores", headers=admin).json()
    assert "r00001" not in {r["respondent"] for r in scores["items"]}


def test_closed_survey_refuses_responses(client: TestClient[Any], admin: dict[str, str]) -> None:
    survey = create_survey(client, admin)
    url = f"/v1/surveys/{survey}/responses"
    closed = client.patch(f"/v1/surveys/{survey}", json={"status": "closed"}, headers=admin)
    assert closed.json()["status"] == "closed"
    response = client.post(url, json={"responses": mes_rows(2)}, headers=admin)
    assert response.status_code == 409
    assert "closed" in response.json()["detail"]
    client.patch(f"/v1/surveys/{survey}", json={"status": "open"}, headers=admin)
    assert client.post(url, json={"responses": mes_rows(2)}, headers=admin).status_code == 201


@pytest.mark.parametrize(("rows", "status"), [(5, 201), (6, 413)])
def test_rows_per_batch_limit(database_url: str, make_key: Any, rows: int, status: int) -> None:
    settings = Settings(database_url=database_url, max_batch_rows=5, rate_limit_per_minute=0)
    headers = {"Authorization": f"Bearer {make_key('admin')}"}
    with TestClient(create_app(settings)) as client:
        survey = create_survey(client, headers)
        response = client.post(
            f"/v1/surveys/{survey}/responses", json={"responses": mes_rows(rows)}, headers=headers
        )
        assert response.status_code == status
        if status == 413:
            assert response.json()["limit"] == 5
            assert "5 rows" in response.json()["detail"]
            assert _count(client, headers, survey) == 0


def test_coded_and_missing_answers_are_accepted(
    client: TestClient[Any], admin: dict[str, str]
) -> None:
    survey = create_survey(client, admin)
    row = {"respondent": "coded", "answers": {"mes01": "SA", "mes02": None, "mes03": ""}}
    response = client.post(
        f"/v1/surveys/{survey}/responses", json={"responses": [row]}, headers=admin
    )
    assert response.status_code == 201, response.text
    scores = client.get(f"/v1/surveys/{survey}/scores", headers=admin).json()["items"][0]
    climate = scores["scores"]["climate_for_positive_change"]
    assert climate["answered"] == 1
    assert climate["score"] is None  # 1 of 5 answered is below min_answered


def test_unknown_query_parameter_is_refused(client: TestClient[Any], admin: dict[str, str]) -> None:
    survey = create_survey(client, admin)
    url = f"/v1/surveys/{survey}/responses?onconflict=replace"  # typo of on_conflict
    response = client.post(url, json={"responses": mes_rows(2)}, headers=admin)
    assert response.status_code == 422
    assert "onconflict" in response.json()["detail"]
    assert response.json()["errors"][0]["field"] == "query.onconflict"
    assert _count(client, admin, survey) == 0


def test_whole_numbers_keep_their_whole_form_in_storage_and_in_errors(
    client: TestClient[Any], admin: dict[str, str]
) -> None:
    """JSON numbers are parsed as floats (one ``number`` type in the schema); whole ones
    are stored, listed and quoted back as integers (``4``, never ``4.0``)."""
    survey = create_survey(client, admin)
    row = mes_rows(1)[0]
    row["answers"]["mes01"] = 4.0
    row["answers"]["mes02"] = 3
    row["answers"]["mes03"] = None
    row["attributes"] = {"band": 2.0, "fte": 0.5}
    stored = client.post(f"/v1/surveys/{survey}/responses", json={"responses": [row]},
                         headers=admin)
    assert stored.status_code == 201, stored.text
    listed = client.get(f"/v1/surveys/{survey}/responses", headers=admin).json()["items"][0]
    assert type(listed["answers"]["mes01"]) is int
    assert listed["answers"]["mes01"] == 4
    assert type(listed["answers"]["mes02"]) is int
    assert "mes03" not in listed["answers"]  # missing answers are not stored
    assert listed["attributes"]["band"] == 2
    assert listed["attributes"]["fte"] == 0.5

    bad = {**mes_rows(2)[1], "respondent": "bad-1"}
    bad["answers"] = {**bad["answers"], "mes01": 9, "mes02": 9.0, "mes04": 2.5}
    rejected = client.post(f"/v1/surveys/{survey}/responses", json={"responses": [bad]},
                           headers=admin)
    assert rejected.status_code == 422
    values = {e["field"]: e["value"] for e in rejected.json()["errors"]}
    assert type(values["answers.mes01"]) is int
    assert values["answers.mes01"] == 9
    assert type(values["answers.mes02"]) is int
    assert values["answers.mes04"] == 2.5
