"""A corpus of hostile and broken requests: each gets its status and a problem+json body
that names the problem; none gets a 5xx; none writes anything.

Then injection strings (SQL, HTML) in every text field are stored verbatim, read back
verbatim and escaped in the HTML report; ids that look like paths are 404s (or 422s),
never files.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import quote

import pytest
from api_helpers import bearer, close_survey, create_survey, mes_rows
from litestar.testing import TestClient

from api.app import create_app
from api.settings import Settings

MAX_BODY = 200_000


@pytest.fixture
def small_client(database_url: str) -> Iterator[TestClient[Any]]:
    """The real app with a small body limit, so that 'oversize' stays cheap."""
    settings = Settings(
        database_url=database_url,
        rate_limit_per_minute=0,
        max_body_bytes=MAX_BODY,
        max_batch_rows=500,
    )
    with TestClient(create_app(settings)) as test_client:
        yield test_client


def _row(respondent: str = "r1", **answers: Any) -> dict[str, Any]:
    base: dict[str, Any] = {f"mes{j:02d}": 3 for j in range(1, 31)}
    base.update(answers)
    return {"respondent": respondent, "answers": base}


def _json(value: Any) -> bytes:
    return json.dumps(value).encode()


def _nested(depth: int) -> bytes:
    return b'{"responses": ' + b"[" * depth + b"]" * depth + b"}"


def _fhir(items: list[dict[str, Any]]) -> bytes:
    return _json(
        {
            "resourceType": "QuestionnaireResponse",
            "id": "qr-1",
            "status": "completed",
            "subject": {"identifier": {"value": "r1"}},
            "item": items,
        }
    )


ITEMS = ",".join(f"mes{j:02d}" for j in range(1, 31))
THREES = ",".join("3" for _ in range(30))


@dataclass(frozen=True)
class Case:
    name: str
    body: bytes
    status: int
    names: tuple[str, ...]  # words the problem must contain (case-insensitive), one at least
    content_type: str = "application/json"
    headers: dict[str, str] = field(default_factory=dict)


CASES = [
    Case("malformed json", b'{"responses": [', 400, ("not valid json",)),
    Case("not json at all", b"respondent=r1&mes01=4", 400, ("not valid json",)),
    Case(
        "NaN literal",
        b'{"responses": [{"respondent": "r1", "answers": {"mes01": NaN}}]}',
        400,
        ("json", "nan", "decode", "body"),
    ),
    Case(
        "Infinity literal",
        b'{"responses": [{"respondent": "r1", "answers": {"mes01": Infinity}}]}',
        400,
        ("json", "infinity", "decode", "body"),
    ),
    Case(
        "huge number",
        _json({"responses": [_row(mes01=10**400)]}),
        422,
        ("mes01", "range", "answer", "valid", "number"),
    ),
    Case(
        "huge float",  # a JSON number float64 reads as infinity: named as not finite
        b'{"responses": [{"respondent": "r1", "answers": {"mes01": 1e999}}]}',
        422,
        ("answers.mes01", "finite"),
    ),
    Case("deep nesting", _nested(5000), 400, ("nested too deeply",)),
    Case(
        "fhir deep nesting",
        b'{"resourceType": "QuestionnaireResponse", "item": ' + b"[" * 5000 + b"]" * 5000 + b"}",
        400,
        ("nested too deeply",),
        content_type="application/fhir+json",
    ),
    Case(
        "responses is an object",
        _json({"responses": {"respondent": "r1"}}),
        422,
        ("responses", "list", "array"),
    ),
    Case(
        "respondent is a number",
        _json({"responses": [{"respondent": 7, "answers": {}}]}),
        422,
        ("respondent", "str"),
    ),
    Case(
        "answers is a list",
        _json({"responses": [{"respondent": "r1", "answers": [3, 4]}]}),
        422,
        ("answers", "object", "dict"),
    ),
    Case("answer is an object", _json({"responses": [_row(mes01={"$gt": 0})]}), 422, ("mes01",)),
    Case("answer out of range", _json({"responses": [_row(mes01=9)]}), 422, ("mes01",)),
    Case("unknown item", _json({"responses": [_row(mes99=3)]}), 422, ("mes99", "unknown")),
    Case("empty batch", _json({"responses": []}), 422, ("empty", "no responses", "at least")),
    Case("no responses key", _json({"rows": [_row()]}), 422, ("responses",)),
    Case("blank respondent", _json({"responses": [_row("")]}), 422, ("respondent",)),
    Case(
        "duplicate respondent in batch",
        _json({"responses": [_row("r1"), _row("r1")]}),
        422,
        ("r1", "also appears"),
    ),
    Case(
        "too many rows",
        _json({"responses": [_row(f"r{i}") for i in range(501)]}),
        413,
        ("limit", "rows"),
    ),
    Case(
        "oversize body",
        b'{"responses": [' + b" " * (MAX_BODY + 10) + b"]}",
        413,
        ("body", "large", "limit", "size", "bytes"),
    ),
    Case(
        "csv broken quoting",
        f'respondent,{ITEMS}\n"r1,{THREES}\n'.encode(),
        422,
        ("quote", "csv", "respondent", "column"),
        content_type="text/csv",
    ),
    Case(
        "csv mixed delimiters",
        f"respondent;{ITEMS}\nr1;{THREES}\n".encode(),
        422,
        ("respondent", "delimiter", "column", "csv"),
        content_type="text/csv",
    ),
    Case(
        "csv ragged rows",
        f"respondent,{ITEMS}\nr1,{THREES},9,9\nr2;3;3\n".encode(),
        422,
        ("column", "field", "csv", "row", "line"),
        content_type="text/csv",
    ),
    Case(
        "csv header only",
        f"respondent,{ITEMS}\n".encode(),
        422,
        ("no responses", "empty"),
        content_type="text/csv",
    ),
    Case(
        "csv not utf-8",
        b"respondent,mes01\n\xff\xfer1,3\n",
        422,
        ("utf", "encod", "decode", "csv"),
        content_type="text/csv",
    ),
    Case(
        "fhir without linkIds",
        _fhir([{"answer": [{"valueInteger": 3}]}]),
        422,
        ("linkid",),
        content_type="application/fhir+json",
    ),
    Case(
        "fhir unknown answer code",
        _fhir([{"linkId": "mes01", "answer": [{"valueCoding": {"code": "bogus-code"}}]}]),
        422,
        ("bogus-code", "code"),
        content_type="application/fhir+json",
    ),
    Case(
        "fhir wrong resource",
        _json({"resourceType": "Patient", "id": "p1"}),
        422,
        ("patient", "resourcetype", "questionnaireresponse"),
        content_type="application/fhir+json",
    ),
    Case(
        "fhir malformed json",  # 400 as for any unreadable JSON body
        b'{"resourceType": "QuestionnaireResponse", ',
        400,
        ("json",),
        content_type="application/fhir+json",
    ),
    Case(
        "unsupported media type",
        b"<responses/>",
        415,
        ("media", "content", "xml", "type"),
        content_type="application/xml",
    ),
    Case(
        "nul in a respondent id",
        b'{"responses": [{"respondent": "a\\u0000b", "answers": {"mes01": 3}}]}',
        422,
        ("nul",),
    ),
    Case(
        "nul in an attribute value",
        _json({"responses": [{**_row(), "attributes": {"site": "North\x00"}}]}),
        422,
        ("nul",),
    ),
    Case(
        "nul byte in csv",
        f"respondent,{ITEMS}\nr\x001,{THREES}\n".encode(),
        422,
        ("nul",),
        content_type="text/csv",
    ),
    Case(
        "idempotency key too long",
        _json({"responses": [_row()]}),
        422,
        ("idempotency-key", "idempotency_key", "length", "long"),
        headers={"Idempotency-Key": "k" * 500},
    ),
]


def _assert_problem(answer: Any, case_name: str, names: tuple[str, ...]) -> dict[str, Any]:
    assert answer.status_code < 500, f"{case_name}: {answer.status_code} {answer.text[:500]}"
    assert answer.headers["content-type"].startswith("application/problem+json"), (
        f"{case_name}: {answer.headers['content-type']}"
    )
    problem = answer.json()
    assert problem["status"] == answer.status_code
    assert problem.get("title"), f"{case_name}: {problem}"
    assert problem.get("detail"), f"{case_name}: {problem}"
    text = json.dumps(problem).lower()
    assert any(word.lower() in text for word in names), (
        f"{case_name}: the problem names none of {names}: {text[:800]}"
    )
    return dict(problem)


def test_bad_submissions_are_named_problems_and_write_nothing(
    small_client: TestClient[Any], make_key: Any
) -> None:
    headers = bearer(make_key("surveys:write", "responses:write", "responses:read"))
    sid = create_survey(small_client, headers)
    seeded = small_client.post(
        f"/v1/surveys/{sid}/responses", json={"responses": mes_rows(3)}, headers=headers
    )
    assert seeded.status_code == 201
    failures = []
    for case in CASES:
        answer = small_client.post(
            f"/v1/surveys/{sid}/responses",
            content=case.body,
            headers={**headers, "Content-Type": case.content_type, **case.headers},
        )
        try:
            assert answer.status_code == case.status, (
                f"{case.name}: expected {case.status}, got {answer.status_code}: "
                f"{answer.text[:300]}"
            )
            _assert_problem(answer, case.name, case.names)
        except AssertionError as exc:
            failures.append(str(exc))
    assert not failures, "\n".join(failures)
    total = small_client.get(f"/v1/surveys/{sid}/responses", headers=headers).json()["total"]
    assert total == 3, "a rejected request wrote rows"


@pytest.mark.parametrize(
    ("method", "path", "body", "status", "names"),
    [
        ("GET", "/v1/surveys/..%2F..%2Fetc%2Fpasswd", None, 404, ("no resource",)),
        ("GET", "/v1/surveys/{sid}/..%2F..%2F..%2Fetc%2Fpasswd", None, 404, ("no resource",)),
        ("GET", "/v1/instruments/..%2F..%2Fetc%2Fpasswd", None, 404, ("no resource",)),
        ("GET", "/v1/instruments/%2Fetc%2Fpasswd", None, 404, ("no resource",)),
        (
            "POST",
            "/v1/surveys",
            {"title": "x", "instrument": "../../etc/passwd"},
            404,
            ("no instrument",),
        ),
        # A real instrument file on disk is not an instrument of the tenant: ids are never paths.
        (
            "POST",
            "/v1/surveys",
            {"title": "x", "instrument": "{repo}/instruments/uwes9.yaml"},
            404,
            ("no instrument",),
        ),
        # The rest of the path is the respondent id: looked up as an id, never as a path.
        (
            "DELETE",
            "/v1/surveys/{sid}/responses/..%2F..%2Fetc%2Fpasswd",
            None,
            404,
            ("no respondent '../../etc/passwd'",),
        ),
        ("DELETE", "/v1/surveys/{sid}/responses/r99999", None, 404, ("r99999",)),
        (
            "GET",
            "/v1/surveys/{sid}/report?by=..%2F..%2Fetc%2Fpasswd",
            None,
            422,
            ("not in this survey's reporting plan",),
        ),
        ("POST", "/v1/surveys", {"title": "", "instrument": "mes"}, 422, ("title",)),
        ("POST", "/v1/surveys", {"title": "x" * 100_000, "instrument": "mes"}, 422, ("title",)),
        ("POST", "/v1/surveys", {"title": ["x"], "instrument": "mes"}, 422, ("title",)),
        ("POST", "/v1/surveys", {"title": "x", "instrument": {"$ne": ""}}, 422, ("instrument",)),
        (
            "POST",
            "/v1/score",
            {"instrument": "mes", "responses": [_row(mes01="4; DROP")]},
            422,
            ("mes01",),
        ),
    ],
)
def test_hostile_ids_and_bodies_on_other_routes(
    client: TestClient[Any],
    admin: dict[str, str],
    method: str,
    path: str,
    body: Any,
    status: int,
    names: tuple[str, ...],
) -> None:
    from api_helpers import REPO_ROOT

    sid = create_survey(client, admin)
    assert (
        client.post(
            f"/v1/surveys/{sid}/responses", json={"responses": mes_rows(3)}, headers=admin
        ).status_code
        == 201
    )
    close_survey(client, admin, sid)  # its report can be read; erasures still work
    surveys_before = client.get("/v1/surveys", headers=admin).json()["total"]
    if isinstance(body, dict) and isinstance(body.get("instrument"), str):
        body = {**body, "instrument": body["instrument"].replace("{repo}", str(REPO_ROOT))}
    answer = client.request(method, path.replace("{sid}", sid), json=body, headers=admin)
    assert answer.status_code == status, answer.text
    _assert_problem(answer, path, names)
    assert client.get("/v1/surveys", headers=admin).json()["total"] == surveys_before
    assert client.get(f"/v1/surveys/{sid}/responses", headers=admin).json()["total"] == 3


INJECTIONS = [
    "'; DROP TABLE survey_response; --",
    '" OR 1=1 --',
    "Robert'); DELETE FROM survey WHERE ('1'='1",
    "<script>alert('mes')</script>",
    "<img src=x onerror=alert(1)>",
    "{{7*7}} ${7*7} %s %n",
]


def test_injection_strings_are_stored_verbatim_and_escaped_in_html(
    client: TestClient[Any], admin: dict[str, str]
) -> None:
    title = " | ".join(INJECTIONS)
    sid = create_survey(client, admin, title=title)
    rows = []
    for k, text in enumerate(INJECTIONS):
        for i, row in enumerate(mes_rows(10, seed=k, site=text, note=text)):
            row["respondent"] = f"{text}#{i}"
            rows.append(row)
    answer = client.post(f"/v1/surveys/{sid}/responses", json={"responses": rows}, headers=admin)
    assert answer.status_code == 201, answer.text
    assert answer.json()["accepted"] == len(rows)

    survey = client.get(f"/v1/surveys/{sid}", headers=admin).json()
    assert survey["title"] == title
    page = client.get(f"/v1/surveys/{sid}/responses", params={"limit": 1000}, headers=admin).json()
    assert page["total"] == len(rows)  # the DROP/DELETE strings ran nowhere
    stored = {item["respondent"]: item["attributes"] for item in page["items"]}
    assert stored == {r["respondent"]: r["attributes"] for r in rows}
    # Erasing one respondent whose id is an SQL string erases exactly that one.
    target = f"{INJECTIONS[2]}#3"
    erased = client.delete(f"/v1/surveys/{sid}/responses/{quote(target, safe='')}", headers=admin)
    assert erased.status_code in (200, 204), erased.text
    after = client.get(f"/v1/surveys/{sid}/responses", params={"limit": 1000}, headers=admin).json()
    assert after["total"] == len(rows) - 1
    assert target not in {item["respondent"] for item in after["items"]}

    close_survey(client, admin, sid)
    html = client.get(f"/v1/surveys/{sid}/report.html", params={"by": "site"}, headers=admin)
    assert html.status_code == 200, html.text
    for raw in ("<script>alert('mes')</script>", "<img src=x onerror=alert(1)>"):
        assert raw not in html.text, f"unescaped {raw!r} in the HTML report"
    assert "&lt;script&gt;alert(" in html.text  # the group label is there, escaped
    assert "&lt;img src=x onerror=alert(1)&gt;" in html.text
    report = client.get(f"/v1/surveys/{sid}/report", params={"by": "site"}, headers=admin)
    assert report.status_code == 200
    assert INJECTIONS[3] in report.text  # JSON keeps the value verbatim (escaping is HTML's job)


ODD_IDS = ["a%41", "aA", "r%2F1", "..%2F..%2Fetc", "r 1?x#y", "Zoë ü", "'; DROP TABLE x; --"]


def test_erasure_takes_the_respondent_id_exactly_as_sent(live_server: str, make_key: Any) -> None:
    """Through uvicorn: ids with ``%``, ``..``, spaces, ``?#`` or SQL erase that
    respondent and no other (``a%41`` is not ``aA``).

    The real server, not the in-process TestClient: the TestClient percent-decodes
    paths twice (it would erase ``aA`` for ``a%2541``), uvicorn does not.
    """
    import httpx

    headers = bearer(make_key("surveys:write", "responses:write", "responses:read"))
    with httpx.Client(base_url=live_server, headers=headers, timeout=60) as http:
        sid = http.post("/v1/surveys", json={"title": "Erase", "instrument": "mes"}).json()["id"]
        rows = mes_rows(len(ODD_IDS))
        for row, respondent in zip(rows, ODD_IDS, strict=True):
            row["respondent"] = respondent
        stored = http.post(f"/v1/surveys/{sid}/responses", json={"responses": rows})
        assert stored.status_code == 201, stored.text
        remaining = set(ODD_IDS)
        for respondent in [r for r in ODD_IDS if r != "aA"]:
            gone = http.delete(f"/v1/surveys/{sid}/responses/{quote(respondent, safe='')}")
            assert gone.status_code == 204, (respondent, gone.text)
            remaining.discard(respondent)
            page = http.get(f"/v1/surveys/{sid}/responses").json()
            assert {item["respondent"] for item in page["items"]} == remaining, respondent
        assert remaining == {"aA"}
        again = http.delete(f"/v1/surveys/{sid}/responses/{quote('a%41', safe='')}")
        assert again.status_code == 404
        _assert_problem(again, "erase twice", ("a%41",))


def test_a_respondent_id_with_a_slash_can_be_erased(live_server: str, make_key: Any) -> None:
    import httpx

    headers = bearer(make_key("surveys:write", "responses:write"))
    with httpx.Client(base_url=live_server, headers=headers, timeout=60) as http:
        sid = http.post("/v1/surveys", json={"title": "Slash", "instrument": "mes"}).json()["id"]
        rows = mes_rows(1)
        rows[0]["respondent"] = "site/42"
        assert (
            http.post(f"/v1/surveys/{sid}/responses", json={"responses": rows}).status_code == 201
        )
        answer = http.delete(f"/v1/surveys/{sid}/responses/site%2F42")
        assert answer.status_code == 204, answer.text


def test_nul_characters_are_refused_everywhere_and_escaped_backslashes_are_not(
    client: TestClient[Any], make_key: Any
) -> None:
    """PostgreSQL cannot store U+0000 (asyncpg raises): every route refuses it with a
    422 naming the place, on both databases; the text "\\u0000" (a backslash) is fine."""
    headers = bearer(make_key("admin"))
    sid = create_survey(client, headers)
    answers = [
        client.post("/v1/surveys", json={"title": "a\x00b", "instrument": "mes"}, headers=headers),
        client.get(f"/v1/surveys/{sid}/report", params={"by": "\x00site"}, headers=headers),
        client.get("/v1/instruments/a%00b", headers=headers),
        client.delete(f"/v1/surveys/{sid}/responses/a%00b", headers=headers),
        client.post(
            "/v1/score",
            json={"instrument": "mes\x00", "responses": [_row()]},
            headers=headers,
        ),
    ]
    for answer, place in zip(answers, ["body", "query.by", "path", "path", "body"], strict=True):
        problem = _assert_problem(answer, place, ("nul",))
        assert answer.status_code == 422
        assert [e["field"] for e in problem["errors"]] == [place]
    title = "C:\\u0000 is not a NUL"  # a backslash, then "u0000"
    literal = client.post(
        "/v1/surveys", json={"title": title, "instrument": "mes"}, headers=headers
    )
    assert literal.status_code == 201, literal.text
    assert literal.json()["title"] == title
    assert client.get(f"/v1/surveys/{sid}", headers=headers).json()["responses"] == 0
