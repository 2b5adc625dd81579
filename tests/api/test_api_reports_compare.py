"""``/v1/surveys/{id}/compare/{other_id}``: change between two waves, suppressed in both."""

from __future__ import annotations

import csv
import io
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
         "hedges_g", "reading")


def _wave(
    client: TestClient[Any], headers: dict[str, str], sizes: dict[str, int], seed: int,
    shift: int = 0, instrument: str = "mes",
) -> tuple[str, list[dict[str, Any]]]:
    survey = create_survey(client, headers, title=f"wave {seed}", instrument=instrument)
    rows = mes_rows(sum(sizes.values()), seed=seed)
    names = [name for name, n in sizes.items() for _ in range(n)]
    for row, name in zip(rows, names, strict=True):
        row["attributes"] = {"specialty": name}
        row["answers"] = {k: min(5, v + shift) for k, v in row["answers"].items()}
    response = client.post(
        f"/v1/surveys/{survey}/responses", json={"responses": rows}, headers=headers
    )
    assert response.status_code == 201, response.text
    close_survey(client, headers, survey)
    return survey, rows


def _frames(rows: list[dict[str, Any]]) -> tuple[pd.DataFrame, pd.DataFrame]:
    return (pd.DataFrame([r["answers"] for r in rows]),
            pd.DataFrame({"specialty": [r["attributes"]["specialty"] for r in rows]}))


def test_compare_matches_the_library_and_suppresses_either_wave(
    client: TestClient[Any], admin: dict[str, str]
) -> None:
    # Surgery is shown in both waves; Radiology has 5 in the first wave, Medicine 6 in
    # the second: each is hidden (the sibling too, by complementary suppression).
    before, rows1 = _wave(client, admin, {"Surgery": 40, "Medicine": 30, "Radiology": 5}, 1)
    after, rows2 = _wave(client, admin, {"Surgery": 40, "Medicine": 6, "Radiology": 30}, 2, 1)
    response = client.get(f"/v1/surveys/{after}/compare/{before}?by=specialty", headers=admin)
    assert response.status_code == 200, response.text
    body = response.json()
    (f1, a1), (f2, a2) = _frames(rows1), _frames(rows2)
    expected = mes.compare_waves(
        mes.load_instrument("mes"), f1, f2, ["specialty"], attributes_before=a1,
        attributes_after=a2, min_group_size=10,
    ).to_dict()
    assert same_up_to_summation_order({k: body[k] for k in expected}, expected)
    assert body["before"]["survey"] == before
    assert body["after"]["survey"] == after
    cells = {g["group"].get("specialty", "overall"): g["scales"]["index"] for g in body["groups"]}
    assert cells["Surgery"]["status"] == "compared"
    assert cells["Surgery"]["n_before"] == 40
    # The later survey answers one point higher: the change is after minus before.
    assert cells["overall"]["difference"] > 0
    for hidden in ("Medicine", "Radiology"):
        assert cells[hidden]["status"] == "suppressed"
        assert all(cells[hidden][k] is None for k in STATS), cells[hidden]
    assert "5" not in str(cells["Radiology"])
    assert "6" not in str(cells["Medicine"])


def test_compare_csv_by_suffix_and_accept(client: TestClient[Any], admin: dict[str, str]) -> None:
    before, _ = _wave(client, admin, {"Surgery": 40, "Medicine": 3}, 3)
    after, _ = _wave(client, admin, {"Surgery": 40, "Medicine": 30}, 4)
    by_suffix = client.get(f"/v1/surveys/{after}/compare/{before}.csv?by=specialty",
                           headers=admin)
    by_accept = client.get(f"/v1/surveys/{after}/compare/{before}?by=specialty",
                           headers={**admin, "Accept": "text/csv"})
    for response in (by_suffix, by_accept):
        assert response.status_code == 200, response.text
        assert response.headers["content-type"].startswith("text/csv")
        rows = list(csv.DictReader(io.StringIO(response.text)))
        medicine = [r for r in rows if r["specialty"] == "Medicine"]
        assert medicine
        assert all(r["status"] == "suppressed" for r in medicine)
        assert all(r["n_before"] == "" and r["mean_before"] == "" for r in medicine)
        assert {r["scale"] for r in rows} >= {"index"}
    assert by_suffix.text == by_accept.text


def test_compare_refuses_another_instrument(
    client: TestClient[Any], admin: dict[str, str]
) -> None:
    mes_survey = create_survey(client, admin, instrument="mes")
    uwes = create_survey(client, admin, instrument="uwes9")
    close_survey(client, admin, mes_survey)
    close_survey(client, admin, uwes)
    response = client.get(f"/v1/surveys/{mes_survey}/compare/{uwes}", headers=admin)
    assert response.status_code == 422
    assert response.headers["content-type"].startswith("application/problem+json")
    detail = response.json()["detail"]
    assert "uwes9" in detail
    assert "mes" in detail
    assert "same instrument" in detail


def test_compare_foreign_and_unknown_ids_are_404(
    client: TestClient[Any], admin: dict[str, str], make_key: Any
) -> None:
    mine, _ = _wave(client, admin, {"Surgery": 20}, 5)
    other_tenant = bearer(make_key("admin", tenant=f"other-{mine[:8]}"))
    theirs, _ = _wave(client, other_tenant, {"Surgery": 20}, 6)
    for a, b in ((mine, theirs), (theirs, mine)):
        response = client.get(f"/v1/surveys/{a}/compare/{b}", headers=admin)
        assert response.status_code == 404, response.text
        assert response.headers["content-type"].startswith("application/problem+json")
    assert client.get(f"/v1/surveys/{mine}/compare/not-a-uuid", headers=admin).status_code == 404


def test_compare_needs_reports_read_and_a_known_attribute(
    client: TestClient[Any], admin: dict[str, str], make_key: Any
) -> None:
    before, _ = _wave(client, admin, {"Surgery": 20}, 7)
    after, _ = _wave(client, admin, {"Surgery": 20}, 8)
    writer = bearer(make_key("surveys:write"))
    assert client.get(f"/v1/surveys/{after}/compare/{before}", headers=writer).status_code == 403
    response = client.get(f"/v1/surveys/{after}/compare/{before}?by=grade", headers=admin)
    assert response.status_code == 422
    assert "grade" in response.json()["detail"]
    low = client.get(f"/v1/surveys/{after}/compare/{before}?min_group_size=2", headers=admin)
    assert low.status_code == 422
