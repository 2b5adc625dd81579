"""Share links: signed, expiring, revocable, read-only, never below the threshold."""

from __future__ import annotations

import datetime as dt
import re
from typing import Any
from urllib.parse import urlparse

import pytest
from api_helpers import bearer, close_survey, create_survey, mes_rows
from litestar.testing import TestClient
from pydantic import SecretStr

from api.app import create_app
from api.domain.shares import services as share_services
from api.settings import Settings

CSP = "default-src 'none'; style-src 'unsafe-inline'; img-src data:"


def _survey(client: TestClient[Any], headers: dict[str, str], sizes: dict[str, int],
            seed: int = 1, title: str = "Doctors 2026") -> str:
    survey = create_survey(client, headers, title=title)
    rows = mes_rows(sum(sizes.values()), seed=seed)
    names = [name for name, n in sizes.items() for _ in range(n)]
    for row, name in zip(rows, names, strict=True):
        row["attributes"] = {"specialty": name}
    response = client.post(f"/v1/surveys/{survey}/responses", json={"responses": rows},
                           headers=headers)
    assert response.status_code == 201, response.text
    close_survey(client, headers, survey)
    return survey


def _share(client: TestClient[Any], headers: dict[str, str], survey: str,
           **body: Any) -> dict[str, Any]:
    response = client.post(f"/v1/surveys/{survey}/report/shares", json=body, headers=headers)
    assert response.status_code == 201, response.text
    return dict(response.json())


def _path(share: dict[str, Any]) -> str:
    return urlparse(share["url"]).path


def test_a_link_shows_its_report_without_a_key(
    client: TestClient[Any], make_key: Any
) -> None:
    reader = bearer(make_key("surveys:write", "responses:write", "reports:read"))
    survey = _survey(client, reader, {"Surgery": 30, "Medicine": 25}, title="Trust A 2026")
    other = _survey(client, reader, {"Surgery": 30}, seed=2, title="Trust B secret")
    share = _share(client, reader, survey, by="specialty", expires_in_days=2)
    assert set(share) >= {"id", "url", "expires_at"}
    expires = dt.datetime.fromisoformat(share["expires_at"])
    assert dt.timedelta(days=1.99) < expires - dt.datetime.now(dt.UTC) <= dt.timedelta(days=2)
    assert _path(share).startswith("/shared/")

    page = client.get(_path(share))  # no Authorization header
    assert page.status_code == 200, page.text
    assert page.headers["content-type"].startswith("text/html")
    assert page.headers["content-security-policy"] == CSP
    assert page.headers["x-frame-options"] == "DENY"
    assert page.headers["referrer-policy"] == "no-referrer"
    assert page.headers["x-content-type-options"] == "nosniff"
    assert "Trust A 2026" in page.text
    assert "Trust B secret" not in page.text
    assert "Surgery" in page.text
    assert "<svg" in page.text
    # The link opens no other door: the API still wants a key.
    assert client.get(f"/v1/surveys/{other}/report").status_code == 401
    assert client.get(f"{_path(share)}x").status_code == 404


def test_forged_and_tampered_tokens_are_404(client: TestClient[Any], admin: dict[str, str]) -> None:
    survey = _survey(client, admin, {"Surgery": 12})
    token = _path(_share(client, admin, survey)).rsplit("/", 1)[1]
    payload, signature = token.split(".")
    flipped = payload[:-2] + ("A" if payload[-2] != "A" else "B") + payload[-1]
    for bad in (f"{flipped}.{signature}", f"{payload}.{signature[:-1]}", payload, "x.y", "é.ü",
                f"{payload}.{'A' * len(signature)}"):
        response = client.get(f"/shared/{bad}")
        assert response.status_code == 404, bad
        assert response.headers["content-type"].startswith("application/problem+json")


def test_list_and_revoke(client: TestClient[Any], admin: dict[str, str], make_key: Any) -> None:
    survey = _survey(client, admin, {"Surgery": 12})
    first = _share(client, admin, survey)
    second = _share(client, admin, survey, by=["specialty"])
    listed = client.get("/v1/shares", headers=admin).json()
    assert [s["id"] for s in listed] == [second["id"], first["id"]]
    assert {s["state"] for s in listed} == {"active"}
    assert listed[0]["options"]["by"] == ["specialty"]
    assert listed[0]["url"] == second["url"]

    other = bearer(make_key("admin", tenant=f"other-{survey[:8]}"))
    assert client.delete(f"/v1/shares/{first['id']}", headers=other).status_code == 404
    assert client.get("/v1/shares", headers=other).json() == []
    assert client.get(_path(first)).status_code == 200

    assert client.delete(f"/v1/shares/{first['id']}", headers=admin).status_code == 204
    gone = client.get(_path(first))
    assert gone.status_code == 404
    assert gone.headers["content-type"].startswith("application/problem+json")
    assert client.get(_path(second)).status_code == 200  # only that link
    states = {s["id"]: s["state"] for s in client.get("/v1/shares", headers=admin).json()}
    assert states == {first["id"]: "revoked", second["id"]: "active"}


def test_an_expired_link_is_410(
    client: TestClient[Any], admin: dict[str, str], monkeypatch: pytest.MonkeyPatch
) -> None:
    survey = _survey(client, admin, {"Surgery": 12})
    share = _share(client, admin, survey, expires_in_days=1)
    assert client.get(_path(share)).status_code == 200
    later = dt.datetime.now(dt.UTC) + dt.timedelta(days=1, minutes=1)
    monkeypatch.setattr(share_services, "now", lambda: later)
    response = client.get(_path(share))
    assert response.status_code == 410
    assert "expired" in response.json()["detail"]
    assert client.get("/v1/shares", headers=admin).json()[0]["state"] == "expired"


def test_links_never_show_a_group_below_the_current_floor(
    client: TestClient[Any], admin: dict[str, str], settings: Settings
) -> None:
    survey = _survey(client, admin, {"Surgery": 40, "Medicine": 25, "Radiology": 22})
    share = _share(client, admin, survey, by="specialty")
    page = client.get(_path(share)).text
    assert "<th scope='row'>Medicine</th><td>25</td>" in page
    # The service's floor is raised to 30 later: the same link now hides Medicine and
    # Radiology (25 and 22 respondents), and the key made before the restart still signs.
    raised = settings.model_copy(update={"min_group_size": 30})
    with TestClient(create_app(raised)) as restarted:
        again = restarted.get(_path(share))
        assert again.status_code == 200
        assert "<th scope='row'>Surgery</th><td>40</td>" in again.text
        for name in ("Medicine", "Radiology"):
            row = re.search(rf"<tr><th scope='row'>{name}</th>(.*?)</tr>", again.text, re.S)
            assert row
            assert "fewer than 30" in row.group(1)
        assert "<td>25</td>" not in again.text
        assert "<td>22</td>" not in again.text
    assert client.post(f"/v1/surveys/{survey}/report/shares", json={"min_group_size": 3},
                       headers=admin).status_code == 422


def test_the_signing_key_survives_restarts_and_mes_secret_key_replaces_it(
    client: TestClient[Any], admin: dict[str, str], settings: Settings
) -> None:
    survey = _survey(client, admin, {"Surgery": 12})
    share = _share(client, admin, survey)
    with TestClient(create_app(settings)) as restarted:
        assert restarted.get(_path(share)).status_code == 200
    keyed = settings.model_copy(update={"secret_key": SecretStr("another-secret")})
    with TestClient(create_app(keyed)) as rekeyed:
        assert rekeyed.get(_path(share)).status_code == 404
        made = rekeyed.post(f"/v1/surveys/{survey}/report/shares", json={}, headers=admin)
        assert rekeyed.get(urlparse(made.json()["url"]).path).status_code == 200
    assert client.get(urlparse(made.json()["url"]).path).status_code == 404


def test_creating_a_link_needs_reports_read_and_a_valid_report(
    client: TestClient[Any], admin: dict[str, str], make_key: Any
) -> None:
    survey = _survey(client, admin, {"Surgery": 12})
    writer = bearer(make_key("surveys:write"))
    denied = client.post(f"/v1/surveys/{survey}/report/shares", json={}, headers=writer)
    assert denied.status_code == 403
    assert "reports:read" in denied.json()["detail"]
    bad_by = client.post(f"/v1/surveys/{survey}/report/shares", json={"by": "grade"},
                         headers=admin)
    assert bad_by.status_code == 422
    assert "grade" in bad_by.json()["detail"]
    too_long = client.post(f"/v1/surveys/{survey}/report/shares",
                           json={"expires_in_days": 400}, headers=admin)
    assert too_long.status_code == 422
    assert too_long.json()["limit"] == 90
    other = bearer(make_key("admin", tenant=f"other-{survey[:8]}"))
    assert client.post(f"/v1/surveys/{survey}/report/shares", json={},
                       headers=other).status_code == 404
    assert client.get("/v1/shares").status_code == 401
