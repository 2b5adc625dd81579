"""The id and name rules of mes.identifiers, end to end through the service.

An attribute name is accepted only when ``by=`` can ask for it: every way a name enters
(a response's attributes in JSON or as a CSV column, a survey's declared attributes, its
reporting plan) refuses one that ``by=`` would split or trim, and every name accepted
can be reported on. Survey ids read the same in every body that carries one.
"""

from __future__ import annotations

import csv
import io
from typing import Any

import pytest
from api_helpers import close_survey, create_survey, mes_rows
from hypothesis import given
from hypothesis import strategies as st
from litestar.testing import TestClient

from api.domain.reports.services import parse_by
from mes.identifiers import MAX_ATTRIBUTE_NAME_CHARS, attribute_name_problem

UNREPORTABLE = ["site, ward", " site", "site ", "", "a" * (MAX_ATTRIBUTE_NAME_CHARS + 1),
                "si\u200bte"]
# Accepted, and unusual enough to catch a by= that splits, trims or decodes them wrongly.
REPORTABLE = ["Site name", "ward.no", "staff/grade", "x=y&z", "unit\u00e9", "#1", "100%",
              "a;b", "Trust \u2013 site", "A", "a+b", "?q", "N"]


@pytest.mark.parametrize("name", UNREPORTABLE)
def test_a_response_attribute_that_by_could_not_name_is_422_naming_it(
    client: TestClient[Any], admin: dict[str, str], name: str
) -> None:
    survey = create_survey(client, admin)
    row = mes_rows(1)[0]
    row["attributes"] = {name: "North"}
    response = client.post(f"/v1/surveys/{survey}/responses", json={"responses": [row]},
                           headers=admin)
    assert response.status_code == 422, response.text
    problem = response.json()
    assert [e["field"] for e in problem["errors"]] == [f"attributes.{name}"]
    assert attribute_name_problem(name) in problem["errors"][0]["message"]


def test_a_csv_column_that_by_could_not_name_is_422_naming_it(
    client: TestClient[Any], admin: dict[str, str]
) -> None:
    survey = create_survey(client, admin)
    row = mes_rows(1)[0]
    text = io.StringIO()
    writer = csv.writer(text)
    writer.writerow(["respondent", "site, ward", *row["answers"]])
    writer.writerow([row["respondent"], "North", *row["answers"].values()])
    response = client.post(
        f"/v1/surveys/{survey}/responses", content=text.getvalue().encode(),
        headers={**admin, "Content-Type": "text/csv"},
    )
    assert response.status_code == 422, response.text
    assert "attributes.site, ward" in [e["field"] for e in response.json()["errors"]]


@pytest.mark.parametrize("body", [
    {"attributes": {"site, ward": None}},
    {"reporting_plan": [["site, ward"]]},
    {"reporting_plan": [[" site"]]},
    {"reporting_plan": [["si\u200bte"]]},
])
def test_a_survey_cannot_declare_or_plan_a_name_by_could_not_name(
    client: TestClient[Any], admin: dict[str, str], body: dict[str, Any]
) -> None:
    payload = {"title": "Doctors 2026", "instrument": "mes", **body}
    response = client.post("/v1/surveys", json=payload, headers=admin)
    assert response.status_code == 422, response.text


def test_every_accepted_name_can_be_reported_on(
    client: TestClient[Any], admin: dict[str, str]
) -> None:
    survey = create_survey(client, admin)
    rows = mes_rows(12)
    for i, row in enumerate(rows):
        row["attributes"] = dict.fromkeys(REPORTABLE, "North" if i % 2 else "South")
    response = client.post(f"/v1/surveys/{survey}/responses", json={"responses": rows},
                           headers=admin)
    assert response.status_code == 201, response.text
    close_survey(client, admin, survey)
    for name in REPORTABLE:
        assert attribute_name_problem(name) is None
        report = client.get(f"/v1/surveys/{survey}/report", params={"by": name},
                            headers=admin)
        assert report.status_code == 200, (name, report.text)
        assert [g["group"] for g in report.json()["groups"]][1:] == [
            {name: "North"}, {name: "South"}
        ], name


def test_the_survey_id_reads_the_same_in_every_body(
    client: TestClient[Any], admin: dict[str, str]
) -> None:
    survey = create_survey(client, admin)
    submitted = client.post(f"/v1/surveys/{survey}/responses",
                            json={"responses": mes_rows(12)}, headers=admin)
    assert submitted.status_code == 201, submitted.text
    close_survey(client, admin, survey)
    bodies = [
        submitted.json(),
        client.get(f"/v1/surveys/{survey}", headers=admin).json(),
        client.get(f"/v1/surveys/{survey}/scores", headers=admin).json(),
        client.get(f"/v1/surveys/{survey}/reliability", headers=admin).json(),
    ]
    assert [b.get("survey", b.get("id")) for b in bodies] == [survey] * 4


@given(st.lists(st.text(min_size=1, max_size=MAX_ATTRIBUTE_NAME_CHARS)
                .filter(lambda name: attribute_name_problem(name) is None),
                min_size=1, max_size=4, unique=True))
def test_by_reads_back_every_accepted_name(names: list[str]) -> None:
    assert parse_by(",".join(names)) == names
    assert parse_by(", ".join(names)) == names


BIG_FIVE = {
    "id": "bfi-key",
    "version": "1",
    "title": "A psych scoring key, ported as it is",
    "licence": "public domain (IPIP)",
    "response_scale": {"min": 1, "max": 6},
    "items": [{"id": f"{s}{i}", "reverse": i == 1} for s in "ACENO" for i in (1, 2, 3)],
    "scales": [{"id": s, "items": [f"{s}{i}" for i in (1, 2, 3)]} for s in "ACENO"],
}


def test_upper_case_scale_ids_reach_every_document(
    client: TestClient[Any], admin: dict[str, str]
) -> None:
    created = client.post("/v1/instruments", json=BIG_FIVE, headers=admin)
    assert created.status_code == 201, created.text
    assert [s["id"] for s in created.json()["scales"]] == list("ACENO")
    survey = create_survey(client, admin, instrument="bfi-key")
    rows = [{"respondent": f"r{i}", "attributes": {"site": "North"},
             "answers": {item["id"]: 1 + (i + j) % 6 for j, item in enumerate(BIG_FIVE["items"])}}
            for i in range(12)]
    response = client.post(f"/v1/surveys/{survey}/responses", json={"responses": rows},
                           headers=admin)
    assert response.status_code == 201, response.text
    scores = client.get(f"/v1/surveys/{survey}/scores", headers=admin).json()
    assert scores["scales"] == list("ACENO")
    assert set(scores["items"][0]["scores"]) == set("ACENO")
    header = client.get(f"/v1/surveys/{survey}/scores.csv", headers=admin).text.splitlines()[0]
    assert {"A", "N_pct", "O_answered"} <= set(header.split(","))
    close_survey(client, admin, survey)
    report = client.get(f"/v1/surveys/{survey}/report", params={"by": "site"}, headers=admin)
    assert report.status_code == 200, report.text
    assert set(report.json()["groups"][0]["scales"]) == set("ACENO")
    long = client.get(f"/v1/surveys/{survey}/report.csv", params={"by": "site"}, headers=admin)
    assert {row["scale"] for row in csv.DictReader(io.StringIO(long.text))} == set("ACENO")
    reliability = client.get(f"/v1/surveys/{survey}/reliability", headers=admin).json()
    assert set(reliability["scales"]) == set("ACENO")
