"""Every CSV the service serves is safe to open in a spreadsheet (OWASP "CSV Injection"),
headers included, and ``responses.csv`` uploaded again stores exactly the same responses."""

from __future__ import annotations

import csv
import io
import re
from typing import Any

from api_helpers import close_survey, create_survey, mes_rows
from litestar.testing import TestClient

TRIGGERS = ("=", "+", "-", "@", "\t", "\r")
# A number a spreadsheet reads as a number, not as a formula (written apart from the code).
NUMBER = re.compile(r"[+-]?([0-9]+\.?[0-9]*|\.[0-9]+)([eE][+-]?[0-9]+)?")
VALUES = ['=HYPERLINK("x")', "+44 20", "-5 years", "@home", "\tx", "\rx", "'quoted", "'=x",
          "''x", "-1", "'-1", "-"]
# (Ids are stored trimmed, so a tab or carriage return can only lead a value.)
IDS = [*(f"{t}r{i}" for i, t in enumerate(TRIGGERS) if not t.isspace()), "'quoted", "'=x",
       "''x", "-1", "'-1", "-0.5", "'@y"]
# Attribute names starting with each trigger, and with the quote that escaping doubles
# (tab and carriage return only inside values: a name never starts with white space).
NAMES = [f"{t}a{i}" for i, t in enumerate(TRIGGERS) if not t.isspace()] + ["'=b", "'c"]
UNIT, SITE = "=a0", "@a3"
PLAN = [[UNIT], [SITE]]


def _rows() -> list[dict[str, Any]]:
    """40 respondents: every awkward id, attribute name and value; groups of 20 to report."""
    rows = mes_rows(40, seed=7)
    for i, row in enumerate(rows):
        if i < len(IDS):
            row["respondent"] = IDS[i]
        row["attributes"] = {name: VALUES[(i + k) % len(VALUES)] for k, name in enumerate(NAMES)}
        row["attributes"][UNIT] = VALUES[i % 2]  # =HYPERLINK("x") or +44 20
        row["attributes"][SITE] = VALUES[2 + i // 20]  # -5 years or @home
    return rows


def _cells(text: str) -> list[list[str]]:
    """The records of a CSV answer; every one as wide as the header (no cell broke a row)."""
    records = list(csv.reader(io.StringIO(text, newline="")))
    assert records
    assert {len(r) for r in records} == {len(records[0])}, text[:500]
    return records


def _formulas(records: list[list[str]]) -> list[str]:
    return [c for r in records for c in r if c.startswith(TRIGGERS) and not NUMBER.fullmatch(c)]


def _stored(client: TestClient[Any], headers: dict[str, str], survey: str) -> list[Any]:
    page = client.get(f"/v1/surveys/{survey}/responses?limit=1000", headers=headers)
    assert page.status_code == 200, page.text
    return [{k: v for k, v in r.items() if k != "submitted_at"} for r in page.json()["items"]]


def _get_csv(client: TestClient[Any], headers: dict[str, str], path: str,
             **params: str) -> list[list[str]]:
    response = client.get(path, headers=headers, params=params)
    assert response.status_code == 200, response.text
    assert response.headers["content-type"].startswith("text/csv")
    records = _cells(response.text)
    assert _formulas(records) == [], path
    return records


def _survey(client: TestClient[Any], headers: dict[str, str]) -> str:
    survey = create_survey(client, headers, reporting_plan=PLAN)
    sent = client.post(
        f"/v1/surveys/{survey}/responses", json={"responses": _rows()}, headers=headers
    )
    assert sent.status_code == 201, sent.text
    return survey


def test_responses_and_scores_csv_escape_every_text_cell_and_header(
    client: TestClient[Any], admin: dict[str, str]
) -> None:
    base = f"/v1/surveys/{_survey(client, admin)}"
    responses = _get_csv(client, admin, f"{base}/responses.csv")
    escaped = {"'=b": "''=b", "'c": "'c"}  # a leading ' is doubled only before = + - @ ' ...
    assert responses[0][-len(NAMES):] == [escaped.get(n, "'" + n) for n in sorted(NAMES)]
    assert {r[0] for r in responses[1:]} >= {"'=r0", "''=x", "''-1", "'quoted", "-1", "-0.5"}
    scores = _get_csv(client, admin, f"{base}/scores.csv", attributes="true")
    assert scores[0][-len(NAMES):] == responses[0][-len(NAMES):]
    assert [r[0] for r in scores[1:]] == [r[0] for r in responses[1:]]


def test_responses_csv_uploaded_again_stores_exactly_the_same_responses(
    client: TestClient[Any], admin: dict[str, str]
) -> None:
    first = _survey(client, admin)
    export = client.get(f"/v1/surveys/{first}/responses.csv", headers=admin)
    assert export.status_code == 200
    second = create_survey(client, admin, reporting_plan=PLAN)
    again = client.post(f"/v1/surveys/{second}/responses", content=export.content,
                        headers={**admin, "content-type": "text/csv"})
    assert again.status_code == 201, again.text
    stored = _stored(client, admin, first)
    assert _stored(client, admin, second) == stored
    assert {r["respondent"]: r["attributes"] for r in stored} == {
        r["respondent"]: r["attributes"] for r in _rows()
    }
    assert client.get(f"/v1/surveys/{second}/responses.csv", headers=admin).text == export.text


def test_report_and_compare_csv_escape_grouping_names_and_values(
    client: TestClient[Any], admin: dict[str, str]
) -> None:
    before, after = _survey(client, admin), _survey(client, admin)
    close_survey(client, admin, before)
    close_survey(client, admin, after)
    for by, values in ((UNIT, VALUES[:2]), (SITE, VALUES[2:4])):
        report = _get_csv(client, admin, f"/v1/surveys/{after}/report.csv", by=by)
        column = report[0].index("'" + by)
        assert {r[column] for r in report[1:]} == {"", *("'" + v for v in values)}
        compare = _get_csv(client, admin, f"/v1/surveys/{after}/compare/{before}.csv", by=by)
        column = compare[0].index("'" + by)
        assert {r[column] for r in compare[1:]} >= {"'" + v for v in values}
