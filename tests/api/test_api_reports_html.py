"""The HTML report: the change since a previous wave, and the security headers."""

from __future__ import annotations

import re
from typing import Any

from api_helpers import bearer, close_survey, create_survey, mes_rows
from litestar.testing import TestClient

CSP = "default-src 'none'; style-src 'unsafe-inline'; img-src data:"


def _survey(client: TestClient[Any], headers: dict[str, str], sizes: dict[str, int],
            seed: int, instrument: str = "mes") -> str:
    survey = create_survey(client, headers, title=f"Wave {seed}", instrument=instrument)
    rows = mes_rows(sum(sizes.values()), seed=seed)
    names = [name for name, n in sizes.items() for _ in range(n)]
    for row, name in zip(rows, names, strict=True):
        row["attributes"] = {"specialty": name}
    response = client.post(f"/v1/surveys/{survey}/responses", json={"responses": rows},
                           headers=headers)
    assert response.status_code == 201, response.text
    close_survey(client, headers, survey)
    return survey


def _change_section(page: str) -> str:
    match = re.search(r"<section id='change'>.*?</section>", page, re.S)
    assert match, "no change section"
    return match.group(0)


def test_html_report_shows_the_change_since_previous(
    client: TestClient[Any], admin: dict[str, str]
) -> None:
    before = _survey(client, admin, {"Surgery": 30, "Medicine": 25, "Radiology": 4}, 1)
    after = _survey(client, admin, {"Surgery": 30, "Medicine": 25, "Radiology": 20}, 2)
    plain = client.get(f"/v1/surveys/{after}/report.html?by=specialty", headers=admin)
    assert plain.status_code == 200
    assert "<section id='change'>" not in plain.text
    for path, extra in ((f"/v1/surveys/{after}/report.html", {}),
                        (f"/v1/surveys/{after}/report", {"Accept": "text/html"})):
        page = client.get(f"{path}?by=specialty&previous={before}", headers={**admin, **extra})
        assert page.status_code == 200, page.text
        change = _change_section(page.text)
        assert "<svg" in change
        assert "Hedges" in change
        # Radiology had 4 respondents in the previous wave: no numbers, just the note.
        row = re.search(r"<tr><th scope='row'>Radiology</th>(.*?)</tr>", change, re.S)
        assert row
        assert "hidden in one of the waves" in row.group(1)
        assert not re.search(r"\d\.\d\d", row.group(1))
    body = client.get(f"/v1/surveys/{after}/report?by=specialty&previous={before}",
                      headers=admin).json()
    assert body["change"]["by"] == ["specialty"]
    assert body["groups"][0]["n"] == 75  # the report itself is unchanged


def test_previous_must_be_this_tenants_survey_of_the_same_instrument(
    client: TestClient[Any], admin: dict[str, str], make_key: Any
) -> None:
    after = _survey(client, admin, {"Surgery": 12}, 3)
    uwes = create_survey(client, admin, instrument="uwes9")
    close_survey(client, admin, uwes)
    wrong = client.get(f"/v1/surveys/{after}/report.html?previous={uwes}", headers=admin)
    assert wrong.status_code == 422
    assert "same instrument" in wrong.json()["detail"]
    other = bearer(make_key("admin", tenant=f"other-{after[:8]}"))
    foreign = _survey(client, other, {"Surgery": 12}, 4)
    response = client.get(f"/v1/surveys/{after}/report.html?previous={foreign}", headers=admin)
    assert response.status_code == 404
    assert response.headers["content-type"].startswith("application/problem+json")


def test_html_responses_carry_security_headers(
    client: TestClient[Any], admin: dict[str, str]
) -> None:
    survey = _survey(client, admin, {"Surgery": 12}, 5)
    for path, extra in ((f"/v1/surveys/{survey}/report.html", {}),
                        (f"/v1/surveys/{survey}/report", {"Accept": "text/html"})):
        response = client.get(path, headers={**admin, **extra})
        assert response.status_code == 200
        assert response.headers["content-security-policy"] == CSP
        assert response.headers["x-content-type-options"] == "nosniff"
        assert response.headers["referrer-policy"] == "no-referrer"
        assert response.headers["x-frame-options"] == "DENY"
        assert "<script" not in response.text.lower()


def test_html_report_and_its_share_link_show_the_aggregation_check(
    client: TestClient[Any], admin: dict[str, str]
) -> None:
    survey = _survey(client, admin, {"Surgery": 30, "Medicine": 25, "Paediatrics": 20,
                                     "Radiology": 4}, 6)
    body = client.get(f"/v1/surveys/{survey}/report?by=specialty", headers=admin).json()
    shown = [g["group"]["specialty"] for g in body["groups"]
             if g["group"] and not g["suppressed"]]
    hidden = [g["group"]["specialty"] for g in body["groups"]
              if g["group"] and g["suppressed"]]
    assert "Radiology" in hidden
    index = body["aggregation"]["specialty"]["index"]
    assert index["n_groups"] == len(shown)  # over the specialties shown only
    share = client.post(f"/v1/surveys/{survey}/report/shares", json={"by": "specialty"},
                        headers=admin)
    assert share.status_code == 201, share.text
    pages = [client.get(f"/v1/surveys/{survey}/report.html?by=specialty", headers=admin).text,
             client.get(share.json()["url"].split("testserver.local")[-1]).text]
    for page in pages:
        match = re.search(r"<section id='aggregation'>.*?</section>", page, re.S)
        assert match, "no aggregation section"
        section = match.group(0)
        assert "<h2>Can groups be compared?</h2>" in section
        row = re.search(r"<tr><th scope='row'>Index of Medical Engagement</th>(.*?)</tr>",
                        section)
        assert row
        assert row.group(1).startswith(f"<td>{len(shown)}</td>")
        if index["icc2"] is not None:
            assert f"{index['icc2']:.2f}" in row.group(1)
        for name in hidden:
            assert name not in section
    plain = client.get(f"/v1/surveys/{survey}/report.html", headers=admin).text
    assert "id='aggregation'" not in plain  # no breakdown, no groups to compare
