"""Exports for people: every CSV and HTML answer names one charset, report and compare
CSVs round by kind (counts whole, percentages to 1 decimal, other statistics to 3) with
booleans as true/false, and the JSON report keeps full precision without binary noise."""

from __future__ import annotations

import csv
import io
import json
import re
from typing import Any
from urllib.parse import urlparse

from api_helpers import close_survey, create_survey, mes_rows
from litestar.testing import TestClient

SITES = {"specialty": ["Surgery", "Medicine", "Radiology"]}
FORMATS = {"statistic": re.compile(r"-?\d+\.\d{3}"), "percent": re.compile(r"\d+\.\d"),
           "count": re.compile(r"\d+")}
REPORT_KINDS = {
    "group_n": "count", "n": "count", "mean": "statistic", "sd": "statistic",
    "se": "statistic", "ci_low": "statistic", "ci_high": "statistic",
    "mean_percent": "percent", "percent_favourable": "percent",
}
COMPARE_KINDS = {
    "n_before": "count", "n_after": "count", "mean_before": "statistic",
    "mean_after": "statistic", "difference": "statistic", "ci_low": "statistic",
    "ci_high": "statistic", "df": "statistic", "hedges_g": "statistic",
}


def _wave(client: TestClient[Any], headers: dict[str, str], seed: int) -> str:
    """60 respondents (30 surgeons, 26 physicians, 4 radiologists), every one of whom rates
    participation in decision-making 4.4 (4, 4, 4, 5, 5): 85% of the scale's range."""
    survey = create_survey(client, headers, attributes=SITES)
    rows = mes_rows(60, seed=seed)
    for i, row in enumerate(rows):
        row["attributes"] = {"specialty": "Surgery" if i < 30 else
                             "Medicine" if i < 56 else "Radiology"}
        row["answers"].update(mes16=4, mes17=4, mes18=4, mes19=5, mes20=5)
    response = client.post(
        f"/v1/surveys/{survey}/responses", json={"responses": rows}, headers=headers
    )
    assert response.status_code == 201, response.text
    close_survey(client, headers, survey)
    return survey


def _check_kinds(rows: list[dict[str, str]], kinds: dict[str, str]) -> None:
    for column, kind in kinds.items():
        cells = [r[column] for r in rows if r[column]]
        assert cells, column
        bad = [c for c in cells if not FORMATS[kind].fullmatch(c)]
        assert bad == [], (column, bad[:5])


def test_every_csv_and_html_route_names_one_charset(
    client: TestClient[Any], admin: dict[str, str]
) -> None:
    before, after = _wave(client, admin, 1), _wave(client, admin, 2)
    share = client.post(f"/v1/surveys/{after}/report/shares", json={"expires_in_days": 1},
                        headers=admin)
    assert share.status_code == 201, share.text
    base = f"/v1/surveys/{after}"
    csv_type, html_type = "text/csv; charset=utf-8", "text/html; charset=utf-8"
    routes = [
        (f"{base}/responses.csv", None, csv_type),
        (f"{base}/responses", "text/csv", csv_type),
        (f"{base}/scores.csv", None, csv_type),
        (f"{base}/scores", "text/csv", csv_type),
        (f"{base}/report.csv?by=specialty", None, csv_type),
        (f"{base}/report?by=specialty", "text/csv", csv_type),
        (f"{base}/compare/{before}.csv?by=specialty", None, csv_type),
        (f"{base}/compare/{before}?by=specialty", "text/csv", csv_type),
        (f"{base}/report.html?by=specialty", None, html_type),
        (f"{base}/report?by=specialty", "text/html", html_type),
        (urlparse(share.json()["url"]).path, None, html_type),
        ("/schema", None, html_type),
        ("/schema/swagger", None, html_type),
    ]
    for path, accept, wanted in routes:
        headers = {**admin, "accept": accept} if accept else admin
        response = client.get(path, headers=headers)
        assert response.status_code == 200, (path, response.text)
        assert response.headers["content-type"] == wanted, (path, accept)


def test_report_and_compare_csv_round_by_kind(
    client: TestClient[Any], admin: dict[str, str]
) -> None:
    before, after = _wave(client, admin, 3), _wave(client, admin, 4)
    report = client.get(f"/v1/surveys/{after}/report.csv?by=specialty", headers=admin)
    rows = list(csv.DictReader(io.StringIO(report.text, newline="")))
    _check_kinds(rows, REPORT_KINDS)
    assert {r["suppressed"] for r in rows} == {"true", "false"}  # Radiology and its partner
    assert {r["suppressed_group"] for r in rows} == {"true", "false"}
    overall = next(r for r in rows if r["level"] == "overall"
                   and r["scale"] == "participation_in_decision_making")
    assert (overall["mean"], overall["sd"], overall["mean_percent"]) == ("4.400", "0.000", "85.0")
    assert overall["percent_favourable"] == "100.0"
    compare = client.get(f"/v1/surveys/{after}/compare/{before}.csv?by=specialty",
                         headers=admin)
    _check_kinds(list(csv.DictReader(io.StringIO(compare.text, newline=""))), COMPARE_KINDS)


def test_json_report_keeps_full_precision_without_noise(
    client: TestClient[Any], admin: dict[str, str]
) -> None:
    survey = _wave(client, admin, 5)
    text = client.get(f"/v1/surveys/{survey}/report?by=specialty", headers=admin).text
    floats: list[float] = []  # every number written with a decimal point or exponent
    report = json.loads(text, parse_float=lambda s: floats.append(float(s)) or float(s))
    assert [x for x in floats if float(f"{x:.15g}") != x] == []
    cell = report["groups"][0]["scales"]["participation_in_decision_making"]
    assert (cell["mean"], cell["mean_percent"]) == (4.4, 85.0)
    index = report["groups"][0]["scales"]["index"]
    assert len(repr(index["sd"])) > 10  # not rounded: a client computes with it
