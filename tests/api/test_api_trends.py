"""``/v1/surveys/{id}/trend`` (JSON, CSV) and ``report?previous=a,b`` (JSON, HTML): a series
of released waves, each exactly as its own report shows it."""

from __future__ import annotations

import csv
import io
import re
import uuid
from typing import Any

import pandas as pd
from api_helpers import (
    bearer,
    close_survey,
    create_survey,
    mes_rows,
    same_up_to_summation_order,
)
from litestar.testing import TestClient

import mes

STATS = ("n_before", "n_after", "mean_before", "mean_after", "difference", "ci_low", "ci_high",
         "df", "hedges_g", "reading")


def _wave(
    client: TestClient[Any], headers: dict[str, str], title: str, sizes: dict[str, int],
    seed: int, shift: int = 0, instrument: str = "mes", close: bool = True,
) -> tuple[str, list[dict[str, Any]]]:
    survey = create_survey(client, headers, title=title, instrument=instrument)
    rows = mes_rows(sum(sizes.values()), seed=seed)
    names = [name for name, n in sizes.items() for _ in range(n)]
    for row, name in zip(rows, names, strict=True):
        row["attributes"] = {"specialty": name}
        row["answers"] = {k: min(5, v + shift) for k, v in row["answers"].items()}
    if instrument == "mes":
        response = client.post(f"/v1/surveys/{survey}/responses", json={"responses": rows},
                               headers=headers)
        assert response.status_code == 201, response.text
    if close:
        close_survey(client, headers, survey)
    return survey, rows


def _frames(rows: list[dict[str, Any]]) -> tuple[pd.DataFrame, pd.DataFrame]:
    return (pd.DataFrame([r["answers"] for r in rows]),
            pd.DataFrame({"specialty": [r["attributes"]["specialty"] for r in rows]}))


def _three(client: TestClient[Any], headers: dict[str, str]) -> list[tuple[str, Any]]:
    """Surgery shown throughout; Radiology has 5 in the middle wave (hidden there, and a
    partner with it), Medicine 30 in every wave."""
    return [
        _wave(client, headers, "2022", {"Surgery": 40, "Medicine": 30, "Radiology": 25}, 11),
        _wave(client, headers, "2024", {"Surgery": 40, "Medicine": 30, "Radiology": 5}, 12),
        _wave(client, headers, "2026", {"Surgery": 45, "Medicine": 30, "Radiology": 30}, 13, 1),
    ]


def test_trend_matches_the_library_and_every_wave_its_own_report(
    client: TestClient[Any], admin: dict[str, str]
) -> None:
    waves = _three(client, admin)
    ids = [w for w, _ in waves]
    response = client.get(f"/v1/surveys/{ids[2]}/trend?previous={ids[0]},{ids[1]}"
                          "&by=specialty", headers=admin)
    assert response.status_code == 200, response.text
    body = response.json()
    frames = [_frames(rows) for _, rows in waves]
    expected = mes.groups.compare_series(
        mes.load_instrument("mes"), [f for f, _ in frames], ["specialty"],
        attributes=[a for _, a in frames], labels=["2022", "2024", "2026"], min_group_size=10,
    ).to_dict()
    assert same_up_to_summation_order({k: body[k] for k in expected}, expected)
    assert body["surveys"] == [{"survey": s, "title": t, "wave": t}
                               for s, t in zip(ids, ("2022", "2024", "2026"), strict=True)]
    # Every wave shows exactly what that survey's own report shows, hidden where it hides.
    for w, survey in enumerate(ids):
        report = client.get(f"/v1/surveys/{survey}/report?by=specialty", headers=admin).json()
        for group in report["groups"]:
            [mine] = [g for g in body["groups"] if g["group"] == group["group"]]
            for scale, cell in group["scales"].items():
                point = mine["scales"][scale]["waves"][w]
                if group["suppressed"] or cell["suppressed"]:
                    assert point["status"] == "suppressed"
                    assert (point["n"], point["mean"], point["ci"]) == (None, None, None)
                else:
                    assert (point["n"], point["mean"], point["ci"]) == (
                        cell["n"], cell["mean"], cell["ci"])
    # Every step is the comparison of its two waves.
    for i in range(2):
        compare = client.get(f"/v1/surveys/{ids[i + 1]}/compare/{ids[i]}?by=specialty",
                             headers=admin).json()
        for group in compare["groups"]:
            [mine] = [g for g in body["groups"] if g["group"] == group["group"]]
            for scale, cell in group["scales"].items():
                step = dict(mine["scales"][scale]["steps"][i])
                assert (step.pop("from"), step.pop("to")) == (("2022", "2024"),
                                                              ("2024", "2026"))[i]
                assert same_up_to_summation_order(step, cell)
    radiology = next(g for g in body["groups"] if g["group"] == {"specialty": "Radiology"})
    index = radiology["scales"]["index"]
    assert [p["status"] for p in index["waves"]] == ["shown", "suppressed", "shown"]
    assert index["waves"][1]["suppressed_reason"] == "too_few_responses"
    assert all(s["status"] == "suppressed" for s in index["steps"])
    assert all(s[k] is None for s in index["steps"] for k in STATS)


def test_trend_csv_by_route_and_accept(client: TestClient[Any], admin: dict[str, str]) -> None:
    ids = [w for w, _ in _three(client, admin)]
    query = f"previous={ids[0]},{ids[1]}&by=specialty"
    by_route = client.get(f"/v1/surveys/{ids[2]}/trend.csv?{query}", headers=admin)
    by_accept = client.get(f"/v1/surveys/{ids[2]}/trend?{query}",
                           headers={**admin, "Accept": "text/csv"})
    for response in (by_route, by_accept):
        assert response.status_code == 200, response.text
        assert response.headers["content-type"].startswith("text/csv")
    assert by_route.text == by_accept.text
    rows = list(csv.DictReader(io.StringIO(by_route.text)))
    assert {r["wave"] for r in rows} == {"2022", "2024", "2026"}
    hidden = [r for r in rows if r["specialty"] == "Radiology" and r["wave"] == "2024"]
    assert hidden
    for row in hidden:
        assert row["status"] == "suppressed"
        assert row["suppressed_reason"] == "too_few_responses"
        assert row["n"] == row["mean"] == row["ci_low"] == row["difference"] == ""
    after = [r for r in rows if r["specialty"] == "Radiology" and r["wave"] == "2026"]
    assert all(r["change_status"] == "suppressed" and r["difference"] == "" for r in after)
    overall = next(r for r in rows if r["level"] == "overall" and r["scale"] == "index"
                   and r["wave"] == "2026")
    # mes.io.numbers: counts whole, statistics to 3 decimals.
    assert overall["n"] == "105"
    assert re.fullmatch(r"\d\.\d{3}", overall["mean"])
    assert re.fullmatch(r"-?\d\.\d{3}", overall["difference"])
    assert overall["change_from"] == "2024"


def test_report_with_several_previous_waves_adds_the_trend(
    client: TestClient[Any], admin: dict[str, str]
) -> None:
    ids = [w for w, _ in _three(client, admin)]
    one = client.get(f"/v1/surveys/{ids[2]}/report?by=specialty&previous={ids[1]}",
                     headers=admin).json()
    assert "change" in one
    assert "trend" not in one
    both = client.get(f"/v1/surveys/{ids[2]}/report?by=specialty&previous={ids[0]},{ids[1]}",
                      headers=admin)
    assert both.status_code == 200, both.text
    body = both.json()
    assert body["change"] == one["change"]  # the change is since the last previous wave
    trend = client.get(f"/v1/surveys/{ids[2]}/trend?by=specialty&previous={ids[0]},{ids[1]}",
                       headers=admin).json()
    assert body["trend"] == {k: v for k, v in trend.items() if k != "surveys"}
    page = client.get(f"/v1/surveys/{ids[2]}/report.html?by=specialty"
                      f"&previous={ids[0]},{ids[1]}", headers=admin)
    assert page.status_code == 200
    assert "<h2>Trend over 3 waves</h2>" in page.text
    assert "<section id='change'>" in page.text
    trend_html = re.search(r"<section id='trend'>.*?</section>", page.text, re.S)
    assert trend_html is not None
    assert trend_html.group(0).count("<svg") == len(trend["scales"])
    single = client.get(f"/v1/surveys/{ids[2]}/report.html?previous={ids[1]}", headers=admin)
    assert "<section id='trend'>" not in single.text


def test_trend_errors(client: TestClient[Any], admin: dict[str, str], make_key: Any) -> None:
    a, _ = _wave(client, admin, "2022", {"Surgery": 20}, 21)
    b, _ = _wave(client, admin, "2024", {"Surgery": 20}, 22)

    def get(survey: str, previous: str, headers: dict[str, str] = admin, **query: Any) -> Any:
        return client.get(f"/v1/surveys/{survey}/trend", params={"previous": previous, **query},
                          headers=headers)

    unknown = str(uuid.uuid4())
    other_tenant = bearer(make_key("admin", tenant=f"other-{a[:8]}"))
    theirs, _ = _wave(client, other_tenant, "theirs", {"Surgery": 20}, 23)
    for previous in (unknown, theirs, f"{a},{theirs}"):
        response = get(b, previous)
        assert response.status_code == 404, response.text
        assert response.headers["content-type"].startswith("application/problem+json")
        missing = previous.split(",")[-1]
        assert response.json()["detail"] == f"no survey {missing} for this tenant"
    assert get(theirs, a).status_code == 404

    uwes, _ = _wave(client, admin, "uwes", {}, 24, instrument="uwes9")
    response = get(b, f"{a},{uwes}")
    assert response.status_code == 422
    assert "same instrument" in response.json()["detail"]

    many = ",".join(str(uuid.uuid4()) for _ in range(10))  # 11 waves with this survey
    response = get(b, many)
    assert response.status_code == 422
    assert response.json()["limit"] == 10
    assert "at most 10 waves" in response.json()["detail"]
    for twice in (f"{a},{a}", b, f"{a},{b}"):
        response = get(b, twice)
        assert response.status_code == 422, twice
        assert response.json()["errors"][0]["field"] == "query.previous"
    bad = get(b, f"{a},not-a-survey")
    assert bad.status_code == 422
    assert bad.json()["errors"][0] == {**bad.json()["errors"][0], "field": "query.previous",
                                       "value": "not-a-survey"}
    assert get(b, "").status_code == 422  # a trend needs at least 2 waves
    assert client.get(f"/v1/surveys/{b}/trend", headers=admin).status_code == 422
    assert get(b, a, by="grade").status_code == 422
    assert get(b, a, min_group_size=2).status_code == 422
    writer = bearer(make_key("surveys:write"))
    assert get(b, a, headers=writer).status_code == 403
    # The report routes take the same list and refuse it the same way.
    assert client.get(f"/v1/surveys/{b}/report", params={"previous": many},
                      headers=admin).status_code == 422
    assert client.get(f"/v1/surveys/{b}/report.html", params={"previous": f"{a},{a}"},
                      headers=admin).status_code == 422


def test_an_open_wave_refuses_the_trend_and_releases_nothing(
    client: TestClient[Any], admin: dict[str, str]
) -> None:
    a, _ = _wave(client, admin, "2022", {"Surgery": 20}, 31)
    b, _ = _wave(client, admin, "2024", {"Surgery": 20}, 32, close=False)
    c, _ = _wave(client, admin, "2026", {"Surgery": 20}, 33)
    response = client.get(f"/v1/surveys/{c}/trend?previous={a},{b}", headers=admin)
    assert response.status_code == 409
    assert "open" in response.json()["detail"]
    for survey in (a, c):  # closed, but no report was read: still unreleased (reopenable)
        assert client.get(f"/v1/surveys/{survey}", headers=admin).json()["released_at"] is None
    close_survey(client, admin, b)
    assert client.get(f"/v1/surveys/{c}/trend?previous={a},{b}",
                      headers=admin).status_code == 200
    for survey in (a, b, c):
        assert client.get(f"/v1/surveys/{survey}", headers=admin).json()["released_at"]


def test_a_raised_threshold_applies_to_every_wave(
    client: TestClient[Any], admin: dict[str, str]
) -> None:
    ids = [w for w, _ in _three(client, admin)]
    body = client.get(f"/v1/surveys/{ids[2]}/trend?previous={ids[0]},{ids[1]}&by=specialty"
                      "&min_group_size=35", headers=admin).json()
    assert body["min_group_size"] == 35
    for group in body["groups"][1:]:
        for cell in group["scales"].values():
            for point in cell["waves"]:
                assert point["n"] is None or point["n"] >= 35
    medicine = next(g for g in body["groups"] if g["group"] == {"specialty": "Medicine"})
    assert {p["status"] for p in medicine["scales"]["index"]["waves"]} == {"suppressed"}
