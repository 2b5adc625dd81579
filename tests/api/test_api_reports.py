"""Group reports: the library's summaries, never a group below the threshold."""

from __future__ import annotations

import csv
import io
from typing import Any

import pandas as pd
import pytest
from api_helpers import close_survey, create_survey, mes_rows, same_up_to_summation_order
from litestar.testing import TestClient

import mes


def _survey_with_groups(
    client: TestClient[Any], headers: dict[str, str], close: bool = True
) -> tuple[str, list[Any]]:
    survey = create_survey(
        client, headers, attributes={"specialty": ["Surgery", "Medicine", "Radiology"]}
    )
    rows = mes_rows(60, seed=11)
    for i, row in enumerate(rows):  # 30 surgeons, 26 physicians, 4 radiologists
        row["attributes"] = {
            "specialty": "Surgery" if i < 30 else "Medicine" if i < 56 else "Radiology"
        }
    response = client.post(
        f"/v1/surveys/{survey}/responses", json={"responses": rows}, headers=headers
    )
    assert response.status_code == 201
    if close:
        close_survey(client, headers, survey)
    return survey, rows


def test_json_report_matches_mes_summarise_and_suppresses(
    client: TestClient[Any], admin: dict[str, str]
) -> None:
    survey, rows = _survey_with_groups(client, admin)
    response = client.get(f"/v1/surveys/{survey}/report?by=specialty", headers=admin)
    assert response.status_code == 200, response.text
    report = response.json()
    frame = pd.DataFrame([r["answers"] for r in rows])
    attrs = pd.DataFrame({"specialty": [r["attributes"]["specialty"] for r in rows]})
    expected = mes.summarise(
        mes.load_instrument("mes"), frame, attrs, by=["specialty"], min_group_size=10
    ).to_dict()
    assert report == expected
    assert report["min_group_size"] == 10
    groups = {g["group"].get("specialty", "overall"): g for g in report["groups"]}
    assert groups["overall"]["n"] == 60
    assert groups["Surgery"]["n"] == 30
    # Radiology (4 people) is suppressed, and so is the next smallest sibling (Medicine),
    # or 60 - 30 - 26 would give the 4 away.
    for name in ("Radiology", "Medicine"):
        assert groups[name]["suppressed"] is True
        assert groups[name]["n"] is None
        assert groups[name]["scales"]["index"]["mean"] is None


def test_threshold_can_be_raised_not_lowered(
    client: TestClient[Any], admin: dict[str, str]
) -> None:
    survey, _ = _survey_with_groups(client, admin)
    low = client.get(f"/v1/surveys/{survey}/report?by=specialty&min_group_size=3", headers=admin)
    assert low.status_code == 422
    assert low.json()["limit"] == 10
    high = client.get(f"/v1/surveys/{survey}/report?by=specialty&min_group_size=40", headers=admin)
    assert high.status_code == 200
    assert high.json()["min_group_size"] == 40


def test_unknown_attribute_is_422(client: TestClient[Any], admin: dict[str, str]) -> None:
    survey, _ = _survey_with_groups(client, admin)
    response = client.get(f"/v1/surveys/{survey}/report?by=grade", headers=admin)
    assert response.status_code == 422
    assert "grade" in response.json()["detail"]
    assert "specialty" in response.json()["detail"]


@pytest.mark.parametrize("how", ["path", "accept"])
def test_csv_report(client: TestClient[Any], admin: dict[str, str], how: str) -> None:
    survey, _ = _survey_with_groups(client, admin)
    if how == "path":
        response = client.get(f"/v1/surveys/{survey}/report.csv?by=specialty", headers=admin)
    else:
        response = client.get(
            f"/v1/surveys/{survey}/report?by=specialty", headers={**admin, "Accept": "text/csv"}
        )
    assert response.status_code == 200
    assert response.headers["content-type"] == "text/csv; charset=utf-8"  # one charset
    table = list(csv.DictReader(io.StringIO(response.text)))
    index = [r for r in table if r["level"] == "overall" and r["scale"] == "index"]
    assert index[0]["n"] == "60"
    assert all(r["n"] != "4" for r in table)


def test_html_report(client: TestClient[Any], admin: dict[str, str]) -> None:
    survey, _ = _survey_with_groups(client, admin)
    response = client.get(f"/v1/surveys/{survey}/report.html?by=specialty", headers=admin)
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/html")
    assert response.text.lstrip().lower().startswith("<!doctype html")
    assert "Doctors 2026" in response.text


def _expected(rows: list[Any]) -> dict[str, Any]:
    frame = pd.DataFrame([r["answers"] for r in rows])
    attrs = pd.DataFrame({"specialty": [r["attributes"]["specialty"] for r in rows]})
    return mes.summarise(  # type: ignore[no-any-return]
        mes.load_instrument("mes"), frame, attrs, by=["specialty"], min_group_size=10
    ).to_dict()


def test_reports_are_released_once_from_the_answers_at_closing(
    client: TestClient[Any], admin: dict[str, str]
) -> None:
    """While fieldwork is open every write goes in and no report comes out (409 at every
    moment, on every worker); after closing, the first read releases the reports from
    the answers as they are then, and every read after it, on either worker, gets that
    release, also after an erasure. On the 2-worker backend every request comes on a
    new connection, which either worker may accept."""
    admin = {**admin, "Connection": "close"}
    survey, rows = _survey_with_groups(client, admin, close=False)
    url = f"/v1/surveys/{survey}/report?by=specialty"
    assert client.get(url, headers=admin).status_code == 409

    # A replacement keeps the count but changes the answers.
    changed = {**rows[0], "answers": dict.fromkeys(rows[0]["answers"], 1)}
    replaced = client.post(
        f"/v1/surveys/{survey}/responses?on_conflict=replace",
        json={"responses": [changed]},
        headers=admin,
    )
    assert replaced.status_code == 201, replaced.text
    rows = [changed, *rows[1:]]
    assert client.get(url, headers=admin).status_code == 409

    # An erasure, then a new batch.
    erased = client.delete(f"/v1/surveys/{survey}/responses/{rows[1]['respondent']}",
                           headers=admin)
    assert erased.status_code == 204
    rows = [rows[0], *rows[2:]]
    more = mes_rows(12, seed=12)
    for i, row in enumerate(more):
        row["respondent"] = f"late-{i}"
        row["attributes"] = {"specialty": "Radiology"}
    added = client.post(f"/v1/surveys/{survey}/responses", json={"responses": more},
                        headers=admin)
    assert added.status_code == 201, added.text
    rows = rows + more
    assert client.get(url, headers=admin).status_code == 409

    close_survey(client, admin, survey)
    for _ in range(3):  # read it more than once, on more than one worker
        report = client.get(url, headers=admin).json()
        assert same_up_to_summation_order(report, _expected(rows))
    assert next(g for g in report["groups"] if g["level"] == [])["n"] == 71

    # Erased after the release: gone from the stored answers, not from the release.
    gone = client.delete(f"/v1/surveys/{survey}/responses/{rows[2]['respondent']}",
                         headers=admin)
    assert gone.status_code == 204
    for _ in range(3):
        assert client.get(url, headers=admin).json() == report
