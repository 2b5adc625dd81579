"""Scores and reliability are the library's, computed from the stored answers; every
per-respondent score read needs the scope responses:read."""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd
import pingouin
import pytest
from api_helpers import bearer, close_survey, create_survey, mes_rows
from litestar.testing import TestClient

import mes


def _frame(rows: list[dict[str, Any]]) -> pd.DataFrame:
    frame = pd.DataFrame([r["answers"] for r in rows])
    frame.insert(0, "respondent", [r["respondent"] for r in rows])
    return frame


def test_scores_equal_mes_score_of_the_submitted_answers(
    client: TestClient[Any], admin: dict[str, str]
) -> None:
    survey = create_survey(client, admin)
    rows = mes_rows(120, seed=7)
    rows[5]["answers"] = {k: v for k, v in rows[5]["answers"].items() if k != "mes01"}
    client.post(f"/v1/surveys/{survey}/responses", json={"responses": rows}, headers=admin)
    expected = mes.score(mes.load_instrument("mes"), _frame(rows))
    got: list[dict[str, Any]] = []
    offset = 0
    while True:
        page = client.get(
            f"/v1/surveys/{survey}/scores?limit=50&offset={offset}", headers=admin
        ).json()
        got.extend(page["items"])
        offset += 50
        if offset >= page["total"]:
            break
    assert page["total"] == 120
    assert page["scales"] == list(mes.load_instrument("mes").scale_ids)
    assert [r["respondent"] for r in got] == [r["respondent"] for r in rows]
    for scale in expected.scores:
        np.testing.assert_allclose(
            [r["scores"][scale]["score"] for r in got], expected.scores[scale]
        )
        np.testing.assert_allclose(
            [r["scores"][scale]["percent"] for r in got], expected.percent[scale]
        )
    assert got[5]["scores"]["climate_for_positive_change"]["answered"] == 4


SCORE_READS = [
    ("scores", {}),
    ("scores", {"Accept": "text/csv"}),
    ("scores", {"Accept": "application/x-ndjson"}),
    ("scores", {"Accept": "application/fhir+json"}),
    ("scores?attributes=true", {}),
    ("scores.csv", {}),
    ("scores.csv?attributes=true", {}),
    ("scores.jsonl", {}),
    ("scores.fhir", {}),
]
"""Every per-respondent score read: the JSON pages, the three formats by Accept, the
three export routes, with and without attributes."""


def test_scores_need_responses_read_and_reports_read_alone_is_refused(
    client: TestClient[Any], make_key: Any, admin: dict[str, str]
) -> None:
    """Individual scores are personal data: a reports:read key (aggregates only) gets a
    403 naming responses:read on every score route and format, before any row is read;
    a responses:read key alone reads them all."""
    survey = create_survey(client, admin)
    stored = client.post(
        f"/v1/surveys/{survey}/responses",
        json={"responses": mes_rows(3, seed=2, site="North")},
        headers=admin,
    )
    assert stored.status_code == 201, stored.text
    reports_only = bearer(make_key("reports:read"))
    responses_only = bearer(make_key("responses:read"))
    for path, accept in SCORE_READS:
        refused = client.get(f"/v1/surveys/{survey}/{path}", headers={**reports_only, **accept})
        assert refused.status_code == 403, (path, accept, refused.text)
        assert refused.headers["content-type"].startswith("application/problem+json")
        problem = refused.json()
        assert problem["status"] == 403
        assert "responses:read" in problem["detail"], (path, accept, problem)
        assert "r00000" not in refused.text
        allowed = client.get(
            f"/v1/surveys/{survey}/{path}", headers={**responses_only, **accept}
        )
        assert allowed.status_code == 200, (path, accept, allowed.text)
        assert "r00000" in allowed.text


def test_reliability_matches_cronbachs_alpha(
    client: TestClient[Any], admin: dict[str, str]
) -> None:
    survey = create_survey(client, admin)
    rows = mes_rows(300, seed=3)
    client.post(f"/v1/surveys/{survey}/responses", json={"responses": rows}, headers=admin)
    close_survey(client, admin, survey)
    response = client.get(f"/v1/surveys/{survey}/reliability", headers=admin)
    assert response.status_code == 200, response.text
    report = response.json()
    assert report["n"] == 300
    frame = _frame(rows)
    inst = mes.load_instrument("mes")
    assert set(report["scales"]) == set(inst.scale_ids)
    for scale in ("climate_for_positive_change", "index"):
        items = list(inst.leaf_items(scale))
        alpha, _ = pingouin.cronbach_alpha(frame[items])
        stats = report["scales"][scale]
        assert stats["alpha"] == pytest.approx(alpha, abs=1e-9)
        assert set(stats["items"]) == set(items)
        assert stats["items"][items[0]]["mean"] == pytest.approx(frame[items[0]].mean())


def test_reliability_waits_for_the_close_and_needs_the_threshold(
    client: TestClient[Any], admin: dict[str, str]
) -> None:
    """Item means and correlations are sums over every respondent: read before and after
    one response, they give it away. So reliability is released with the reports, after
    fieldwork, and only with at least MES_MIN_GROUP_SIZE respondents."""
    survey = create_survey(client, admin)
    client.post(f"/v1/surveys/{survey}/responses", json={"responses": mes_rows(9)},
                headers=admin)
    assert client.get(f"/v1/surveys/{survey}/reliability", headers=admin).status_code == 409
    close_survey(client, admin, survey)
    response = client.get(f"/v1/surveys/{survey}/reliability", headers=admin)
    assert response.status_code == 422
    assert "at least 10 respondents" in response.json()["detail"]


def test_stateless_score_stores_nothing(client: TestClient[Any], admin: dict[str, str]) -> None:
    rows = mes_rows(4, seed=9)
    response = client.post(
        "/v1/score", json={"instrument": "mes", "responses": rows}, headers=admin
    )
    assert response.status_code == 200, response.text
    expected = mes.score(mes.load_instrument("mes"), _frame(rows))
    got = [r["scores"]["index"]["score"] for r in response.json()["items"]]
    np.testing.assert_allclose(got, expected.scores["index"])
    assert client.get("/v1/surveys", headers=admin).json()["total"] == 0
    bad = client.post(
        "/v1/score",
        json={
            "instrument": "mes",
            "responses": [{"respondent": "x", "answers": {"mes01": 0, "mes02": 6}}],
        },
        headers=admin,
    )
    assert bad.status_code == 422
    assert {e["field"] for e in bad.json()["errors"]} == {"answers.mes01", "answers.mes02"}
    unknown = client.post(
        "/v1/score", json={"instrument": "nope", "responses": rows}, headers=admin
    )
    assert unknown.status_code == 404


def test_reliability_report_is_the_librarys_full_report(
    client: TestClient[Any], admin: dict[str, str]
) -> None:
    survey = create_survey(client, admin)
    rows = mes_rows(60, seed=4)
    client.post(f"/v1/surveys/{survey}/responses", json={"responses": rows}, headers=admin)
    close_survey(client, admin, survey)
    report = client.get(f"/v1/surveys/{survey}/reliability", headers=admin).json()
    assert report["method"] == "mes.reliability"
    index = report["scales"]["index"]
    assert index["k"] == 30
    assert len(index["alpha_ci"]) == 2
    assert index["alpha_ci"][0] < index["alpha"] < index["alpha_ci"][1]


def test_reliability_alpha_equals_pingouin_on_the_stored_answers(
    client: TestClient[Any], admin: dict[str, str]
) -> None:
    survey = create_survey(client, admin)
    rows = mes_rows(80, seed=5)
    rows[0]["answers"].pop("mes03")  # pairwise covariances, as psych::alpha
    client.post(f"/v1/surveys/{survey}/responses", json={"responses": rows}, headers=admin)
    close_survey(client, admin, survey)
    report = client.get(f"/v1/surveys/{survey}/reliability", headers=admin).json()
    frame = _frame(rows)
    inst = mes.load_instrument("mes")
    items = list(inst.leaf_items("work_satisfaction"))
    alpha, _ = pingouin.cronbach_alpha(frame[items], nan_policy="pairwise")
    assert report["scales"]["work_satisfaction"]["alpha"] == pytest.approx(alpha, abs=1e-9)
    assert report["scales"]["climate_for_positive_change"]["items"]["mes03"]["n"] == 79


def test_reliability_carries_the_scale_intercorrelations_of_the_library(
    client: TestClient[Any], admin: dict[str, str]
) -> None:
    """psych::scoreItems' $cor and $corrected, released with the reliability report and
    equal to mes.scale_intercorrelations of the stored answers; the HTML report shows
    them."""
    survey = create_survey(client, admin)
    rows = mes_rows(60, seed=6)
    client.post(f"/v1/surveys/{survey}/responses", json={"responses": rows}, headers=admin)
    close_survey(client, admin, survey)
    body = client.get(f"/v1/surveys/{survey}/reliability", headers=admin).json()
    want = mes.scale_intercorrelations(mes.load_instrument("mes"), _frame(rows)).to_dict()
    got = body["intercorrelations"]
    assert got["scales"] == want["scales"]
    for kind in ("cor", "corrected"):
        for a in want["scales"]:
            for b in want["scales"]:
                if want[kind][a][b] is None:
                    assert got[kind][a][b] is None
                else:
                    assert got[kind][a][b] == pytest.approx(want[kind][a][b], abs=1e-12)
    page = client.get(f"/v1/surveys/{survey}/report.html", headers=admin).text
    assert "<section id='intercorrelations'>" in page
