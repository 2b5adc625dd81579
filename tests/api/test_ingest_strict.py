"""The submit path as an attacker and a careless exporter try it: strict, bounded, one id each.

Each test is one way a batch could be stored wrongly, or stall a worker, and
asserts both the answer (status, what the problem names) and that nothing was
written.
"""

from __future__ import annotations

import json
import time
from typing import Any

import pytest
from api_helpers import bearer, create_survey, mes_rows
from litestar.testing import TestClient

from api.app import create_app
from api.settings import Settings


def _post(client: Any, sid: str, headers: dict[str, str], body: bytes | str, media: str,
          **params: str) -> Any:
    return client.post(
        f"/v1/surveys/{sid}/responses",
        content=body,
        params=params,
        headers={**headers, "Content-Type": media},
    )


def _stored(client: Any, sid: str, headers: dict[str, str]) -> list[dict[str, Any]]:
    page = client.get(f"/v1/surveys/{sid}/responses", headers=headers).json()
    return list(page["items"])


def _row_text(respondent: str = "r1", **answers: Any) -> str:
    given = {f"mes{j:02d}": 3 for j in range(1, 31)}
    given.update(answers)
    return json.dumps({"respondent": respondent, "answers": given})


def _fields(problem: dict[str, Any]) -> set[str]:
    return {e["field"] for e in problem.get("errors", [])}


@pytest.fixture
def survey(client: Any, admin: dict[str, str]) -> str:
    return create_survey(client, admin)


# ----- strict JSON ----------------------------------------------------------------------------

def _batch(*rows: str, extra: str = "") -> str:
    return '{"responses": [' + ", ".join(rows) + "]" + extra + "}"


_TWO_RESPONDENT_KEYS = _row_text().replace('"respondent": "r1"', '"respondent": "r1", '
                                           '"respondent": "r2"')
STRICT_JSON_CASES = [
    # (name, body, field the problem must name)
    ("boolean answer", _batch(_row_text(mes01=True)), "answers.mes01"),
    (
        "repeated answer key",
        _batch(_row_text().replace('"mes01": 3', '"mes01": 1, "mes01": 5')),
        "answers.mes01",
    ),
    ("repeated respondent key", _batch(_TWO_RESPONDENT_KEYS), "respondent"),
    (
        "repeated responses key",
        _batch(_row_text("r1"), extra=', "responses": [' + _row_text("r2") + "]"),
        "responses",
    ),
    (
        "misspelled row field",
        _batch(_row_text()[:-1] + ', "attribtues": {"site": "North"}}'),
        "attribtues",
    ),
    ("unknown body field", _batch(_row_text(), extra=', "survey": "x"'), "survey"),
    ("huge whole number", _batch(_row_text(mes01=2**62 + 1)), "answers.mes01"),
    ("answer as an object", _batch(_row_text(mes01={"v": 1})), "answers.mes01"),
]


@pytest.mark.parametrize(("name", "body", "field"), STRICT_JSON_CASES,
                         ids=[c[0] for c in STRICT_JSON_CASES])
def test_lax_json_is_a_problem_naming_the_field_and_writes_nothing(
    client: Any, admin: dict[str, str], survey: str, name: str, body: str, field: str
) -> None:
    answer = _post(client, survey, admin, body, "application/json")
    assert answer.status_code == 422, f"{name}: {answer.status_code} {answer.text[:300]}"
    problem = answer.json()
    assert any(field in f for f in _fields(problem)), f"{name}: {problem}"
    assert _stored(client, survey, admin) == []


def test_a_json_body_re_serialised_is_the_same_idempotent_request(
    client: Any, admin: dict[str, str], survey: str
) -> None:
    rows = mes_rows(3, site="North")
    first = json.dumps({"responses": rows})
    # The same meaning: other whitespace, keys in another order, 3.0 for 3.
    rows_again = [
        {"attributes": r["attributes"], "answers": dict(reversed(list(r["answers"].items()))),
         "respondent": r["respondent"]}
        for r in rows
    ]
    rows_again[0]["answers"]["mes01"] = float(rows_again[0]["answers"]["mes01"])
    again = json.dumps({"responses": rows_again}, indent=2)
    key = {**admin, "Idempotency-Key": "wave-1-batch-1"}
    created = _post(client, survey, key, first, "application/json")
    assert created.status_code == 201, created.text
    replayed = _post(client, survey, key, again, "application/json")
    assert replayed.status_code == 201, replayed.text
    assert replayed.headers.get("Idempotent-Replayed") == "true"
    assert replayed.json() == created.json()
    other = json.dumps({"responses": mes_rows(3, seed=9, site="North")})
    assert _post(client, survey, key, other, "application/json").status_code == 409
    assert len(_stored(client, survey, admin)) == 3


# ----- CSV: ragged rows and limits -----------------------------------------------------------

HEADER = "respondent," + ",".join(f"mes{j:02d}" for j in range(1, 31)) + ",site"


def _csv_row(respondent: str, site: str = "North") -> str:
    return respondent + "," + ",".join(["3"] * 30) + "," + site


@pytest.mark.parametrize(
    ("name", "line", "expected_line"),
    [("short row", "r2,3,3", 3), ("long row", _csv_row("r2") + ",extra", 3)],
)
def test_a_csv_row_with_more_or_fewer_fields_is_refused_with_its_line(
    client: Any, admin: dict[str, str], survey: str, name: str, line: str, expected_line: int
) -> None:
    body = "\n".join([HEADER, _csv_row("r1"), line, _csv_row("r3")]) + "\n"
    answer = _post(client, survey, admin, body, "text/csv")
    assert answer.status_code == 422, f"{name}: {answer.text[:300]}"
    problem = answer.json()
    assert problem["errors"][0]["line"] == expected_line, problem
    assert "where the header has 32" in problem["detail"], problem
    assert _stored(client, survey, admin) == []


def test_hostile_csv_shapes_are_refused_at_once_naming_the_limit(
    client: Any, admin: dict[str, str], survey: str
) -> None:
    cases = {
        # One row with 10,000 extra cells (it took 2.9 s to refuse).
        "wide row": (HEADER + "\n" + _csv_row("r1") + ",x" * 10_000 + "\n", 422, "line 2"),
        # A header of 20,000 attribute columns (it took 23 s).
        "wide header": (HEADER + "".join(f",a{k}" for k in range(20_000)) + "\n", 413,
                        "the limit is 81"),
        "long cell": (HEADER + "\n" + _csv_row("r1", site="x" * 1_000) + "\n", 413,
                      "the limit is 200"),
        "very long cell": (HEADER + "\n" + _csv_row("r1", site="x" * 1_000_000) + "\n", 413,
                           "more than 200 characters"),
    }
    for name, (body, status, says) in cases.items():
        started = time.perf_counter()
        answer = _post(client, survey, admin, body, "text/csv")
        took = time.perf_counter() - started
        assert answer.status_code == status, f"{name}: {answer.text[:300]}"
        assert says in answer.json()["detail"], f"{name}: {answer.json()['detail']}"
        assert took < 1.0, f"{name}: refused after {took:.2f} s"
    assert _stored(client, survey, admin) == []


def test_a_long_attribute_value_in_json_is_refused_naming_the_limit(
    client: Any, admin: dict[str, str], survey: str
) -> None:
    rows = mes_rows(1, site="x" * 1_000_000)
    answer = client.post(f"/v1/surveys/{survey}/responses", json={"responses": rows},
                         headers=admin)
    assert answer.status_code == 422, answer.text[:300]
    assert "the limit is 200" in answer.text
    assert _stored(client, survey, admin) == []


@pytest.mark.parametrize(
    "name", ["site, ward", " grade", "grade ", "si\u200bte"],
)
def test_an_attribute_name_that_could_never_be_reported_on_is_refused(
    client: Any, admin: dict[str, str], survey: str, name: str
) -> None:
    rows = mes_rows(1)
    rows[0]["attributes"] = {name: "x"}
    answer = client.post(f"/v1/surveys/{survey}/responses", json={"responses": rows},
                         headers=admin)
    assert answer.status_code == 422, answer.text[:300]
    assert f"attributes.{name}" in _fields(answer.json())
    body = HEADER.replace(",site", f',"{name}"') + "\n" + _csv_row("r1") + "\n"
    assert _post(client, survey, admin, body, "text/csv").status_code == 422


def test_batch_limits_come_from_the_settings(database_url: str, make_key: Any) -> None:
    settings = Settings(database_url=database_url, rate_limit_per_minute=0, max_attributes=2,
                        max_value_chars=10, max_batch_rows=2)
    with TestClient(create_app(settings)) as small:
        headers = bearer(make_key("admin"))
        sid = create_survey(small, headers)
        rows = mes_rows(1, a="1", b="2", c="3")
        answer = small.post(f"/v1/surveys/{sid}/responses", json={"responses": rows},
                            headers=headers)
        assert answer.status_code == 422
        assert "MES_MAX_ATTRIBUTES" in answer.text
        three = "\n".join([HEADER, _csv_row("r1"), _csv_row("r2"), _csv_row("r3")]) + "\n"
        answer = _post(small, sid, headers, three, "text/csv")
        assert answer.status_code == 413, answer.text
        assert answer.json()["limit"] == 2


# ----- one person, one id --------------------------------------------------------------------


def test_one_person_typed_many_ways_is_one_respondent(
    client: Any, admin: dict[str, str], survey: str
) -> None:
    composed = mes_rows(1)[0] | {"respondent": "Andr\u00e9"}
    assert client.post(f"/v1/surveys/{survey}/responses", json={"responses": [composed]},
                       headers=admin).status_code == 201
    for variant in ("Andre\u0301", " Andr\u00e9", "Andr\u00e9\t", "Andr\u00e9\u00a0"):
        again = mes_rows(1)[0] | {"respondent": variant}
        answer = client.post(f"/v1/surveys/{survey}/responses", json={"responses": [again]},
                             headers=admin)
        assert answer.status_code == 409, f"{variant!r}: {answer.text[:200]}"
        assert answer.json()["duplicates"] == ["Andr\u00e9"]
    csv_body = HEADER + "\n" + _csv_row(" Andre\u0301 ") + "\n"
    assert _post(client, survey, admin, csv_body.encode(), "text/csv").status_code == 409
    assert [r["respondent"] for r in _stored(client, survey, admin)] == ["Andr\u00e9"]
    # Erasure takes the id the same way.
    erased = client.delete(f"/v1/surveys/{survey}/responses/Andre%CC%81%20", headers=admin)
    assert erased.status_code == 204, erased.text
    assert _stored(client, survey, admin) == []


@pytest.mark.parametrize("respondent", ["r\u200b1", "\uff52\uff11", "r\u00a01", "r\t1", "  "])
def test_invisible_and_confusable_ids_are_refused(
    client: Any, admin: dict[str, str], survey: str, respondent: str
) -> None:
    row = mes_rows(1)[0] | {"respondent": respondent}
    answer = client.post(f"/v1/surveys/{survey}/responses", json={"responses": [row]},
                         headers=admin)
    assert answer.status_code == 422, f"{respondent!r}: {answer.text[:200]}"
    assert "respondent" in _fields(answer.json())
    assert _stored(client, survey, admin) == []


# ----- FHIR: every response named ------------------------------------------------------------


def _qr(resource_id: str | None) -> dict[str, Any]:
    resource: dict[str, Any] = {
        "resourceType": "QuestionnaireResponse",
        "status": "completed",
        "item": [{"linkId": f"mes{j:02d}", "answer": [{"valueInteger": 3}]} for j in range(1, 31)],
    }
    if resource_id is not None:
        resource["id"] = resource_id
    return resource


def _bundle(*resources: dict[str, Any]) -> str:
    return json.dumps({"resourceType": "Bundle", "type": "collection",
                       "entry": [{"resource": r} for r in resources]})


def test_a_fhir_response_without_an_id_is_refused_unless_the_request_names_it(
    client: Any, admin: dict[str, str], survey: str
) -> None:
    media = "application/fhir+json"
    refused = _post(client, survey, admin, _bundle(_qr("qr-a"), _qr(None)), media)
    assert refused.status_code == 422, refused.text[:300]
    assert "unnamed_prefix" in refused.text
    assert refused.json()["errors"][0]["row"] == 1
    assert _stored(client, survey, admin) == []
    named = _post(client, survey, admin, _bundle(_qr("qr-a"), _qr(None)), media,
                  unnamed_prefix="upload-1-")
    assert named.status_code == 201, named.text
    second = _post(client, survey, admin, _bundle(_qr(None)), media, unnamed_prefix="upload-2-")
    assert second.status_code == 201, second.text
    assert sorted(r["respondent"] for r in _stored(client, survey, admin)) == [
        "qr-a", "upload-1-1", "upload-2-0"
    ]


def test_a_fhir_body_with_a_repeated_key_is_refused(
    client: Any, admin: dict[str, str], survey: str
) -> None:
    body = _bundle(_qr("qr-a")).replace('"status": "completed"',
                                        '"status": "completed", "status": "entered-in-error"')
    answer = _post(client, survey, admin, body, "application/fhir+json")
    assert answer.status_code == 422, answer.text[:300]
    assert "'status' appears more than once" in answer.text


# ----- instruments whose answers float64 cannot hold -----------------------------------------


def test_an_instrument_wider_than_exact_float_integers_is_refused(
    client: Any, admin: dict[str, str]
) -> None:
    definition = {
        "id": "wide", "version": "1", "title": "Wide", "licence": "CC0",
        "response_scale": {"min": 1, "max": 2**62 + 1},
        "items": [{"id": "a"}, {"id": "b"}],
        "scales": [{"id": "total", "items": ["a", "b"]}],
    }
    answer = client.post("/v1/instruments", json=definition, headers=admin)
    assert answer.status_code == 422, answer.text[:300]
    assert "2**53" in answer.text


# ----- a large body does not stall the worker --------------------------------------------------


def test_health_is_answered_while_large_or_hostile_batches_are_read(
    live_server: str, make_key: Any
) -> None:
    """No upload stalls the worker: /health keeps answering while a hostile CSV (one row
    of 50,000 cells, 100 KB, once 12 s of parsing with nothing else answered) is refused,
    and while the largest batch the default limits take (10,000 respondents) is read
    and judged off the event loop."""
    import threading

    import httpx

    headers = bearer(make_key("admin"))
    with httpx.Client(base_url=live_server, timeout=120) as http:
        sid = create_survey(http, headers)
    bodies = {
        "hostile": ((HEADER + "\n" + _csv_row("r1") + ",x" * 50_000 + "\n").encode(), 422),
        "largest": (
            ("\n".join([HEADER, *(_csv_row(f"r{i:05d}") for i in range(10_000))]) + "\n")
            .encode(),
            201,
        ),
    }
    for name, (body, status) in bodies.items():
        outcome: dict[str, Any] = {}

        def upload(body: bytes = body, outcome: dict[str, Any] = outcome) -> None:
            with httpx.Client(base_url=live_server, timeout=120) as uploader:
                started = time.perf_counter()
                answer = _post(uploader, sid, headers, body, "text/csv")
                outcome["took"] = time.perf_counter() - started
                outcome["status"] = answer.status_code

        thread = threading.Thread(target=upload)
        waits = []
        with httpx.Client(base_url=live_server, timeout=120) as prober:
            prober.get("/health")  # a connection ready before the upload starts
            thread.start()
            while thread.is_alive():
                started = time.perf_counter()
                assert prober.get("/health").status_code == 200
                waits.append(time.perf_counter() - started)
                time.sleep(0.005)
        thread.join()
        assert outcome["status"] == status, name
        assert max(waits, default=0.0) < 0.5, (
            f"{name}: /health waited {max(waits):.3f} s during a {outcome['took']:.3f} s upload"
        )


@pytest.mark.parametrize("declared", [None, {"site": None}])
def test_a_misnamed_item_column_is_one_problem_naming_the_item_it_probably_is(
    client: Any, admin: dict[str, str], declared: dict[str, None] | None
) -> None:
    # 'mes3' typed for 'mes03' over 235 rows: one problem (not 235), naming both, whether
    # or not the survey declares its attributes (stored as an attribute, its answers
    # would be lost).
    sid = create_survey(client, admin, **({"attributes": declared} if declared else {}))
    header = HEADER.replace("mes03", "mes3")
    body = header + "\n" + "\n".join(_csv_row(f"r{i}") for i in range(235)) + "\n"
    answer = _post(client, sid, admin, body, "text/csv")
    assert answer.status_code == 422, answer.text[:300]
    errors = answer.json()["errors"]
    assert [e["field"] for e in errors] == ["attributes.mes3"]
    assert "is it 'mes03'?" in errors[0]["message"]
    assert "found in 235 row(s)" in errors[0]["message"]
    assert errors[0]["line"] == 2
    assert _stored(client, sid, admin) == []


def test_an_undeclared_attribute_is_named_once_with_its_row_count(
    client: Any, admin: dict[str, str]
) -> None:
    sid = create_survey(client, admin, attributes={"site": None})
    body = (HEADER + ",ward\n" + "\n".join(_csv_row(f"r{i}") + ",W1" for i in range(40))
            + "\n")
    errors = _post(client, sid, admin, body, "text/csv").json()["errors"]
    assert [e["field"] for e in errors] == ["attributes.ward"]
    assert "not declared by the survey; declared: site; found in 40 row(s)" in (
        errors[0]["message"])
