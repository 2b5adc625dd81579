"""Keys: created by the CLI, stored as hashes, scoped, revocable, rate limited, tenant-bound."""

from __future__ import annotations

import asyncio
import subprocess
import sys
from typing import Any

import pytest
from api_helpers import bearer, create_survey
from litestar.testing import TestClient
from sqlalchemy import text

from api.app import create_app
from api.auth.guards import any_key
from api.db.engine import create_engine
from api.settings import Settings
from mes.cli import main as mes_main

ROUTE_SCOPES = {
    ("GET", "/v1/instruments"): None,
    ("GET", "/v1/instruments/{instrument_id:str}"): None,
    ("POST", "/v1/instruments"): "surveys:write",
    ("POST", "/v1/surveys"): "surveys:write",
    ("GET", "/v1/surveys"): None,
    ("GET", "/v1/surveys/{survey_id:uuid}"): None,
    ("PATCH", "/v1/surveys/{survey_id:uuid}"): "surveys:write",
    ("POST", "/v1/surveys/{survey_id:uuid}/responses"): "responses:write",
    ("GET", "/v1/surveys/{survey_id:uuid}/responses"): "responses:read",
    ("GET", "/v1/surveys/{survey_id:uuid}/responses.csv"): "responses:read",
    ("GET", "/v1/surveys/{survey_id:uuid}/responses.jsonl"): "responses:read",
    ("DELETE", "/v1/surveys/{survey_id:uuid}/responses/{respondent:path}"): "responses:write",
    ("GET", "/v1/surveys/{survey_id:uuid}/scores"): "responses:read",
    ("GET", "/v1/surveys/{survey_id:uuid}/scores.csv"): "responses:read",
    ("GET", "/v1/surveys/{survey_id:uuid}/scores.jsonl"): "responses:read",
    ("GET", "/v1/surveys/{survey_id:uuid}/scores.fhir"): "responses:read",
    ("GET", "/v1/surveys/{survey_id:uuid}/reliability"): "reports:read",
    ("POST", "/v1/score"): None,
    ("GET", "/v1/surveys/{survey_id:uuid}/report"): "reports:read",
    ("GET", "/v1/surveys/{survey_id:uuid}/report.csv"): "reports:read",
    ("GET", "/v1/surveys/{survey_id:uuid}/trend"): "reports:read",
    ("GET", "/v1/surveys/{survey_id:uuid}/trend.csv"): "reports:read",
    ("GET", "/v1/surveys/{survey_id:uuid}/report.html"): "reports:read",
    ("GET", "/v1/surveys/{survey_id:uuid}/compare/{other_id:str}"): "reports:read",
    ("GET", "/v1/surveys/{survey_id:uuid}/benchmarks"): "reports:read",
    ("POST", "/v1/surveys/{survey_id:uuid}/report/shares"): "reports:read",
    ("GET", "/v1/shares"): "reports:read",
    ("DELETE", "/v1/shares/{share_id:uuid}"): "reports:read",
    ("POST", "/v1/norm-tables"): "surveys:write",
    ("GET", "/v1/norm-tables"): "reports:read",
    ("GET", "/v1/audit"): "admin",
    ("GET", "/v1/norm-tables/{table_id:uuid}"): "reports:read",
    ("DELETE", "/v1/norm-tables/{table_id:uuid}"): "surveys:write",
}


def _cli(database_url: str, *args: str, capsys: Any) -> tuple[int, str, str]:
    code = mes_main(["keys", "--database-url", database_url, *args])
    out, err = capsys.readouterr()
    return code, out, err


def test_every_v1_route_declares_its_scope(settings: Settings) -> None:
    app = create_app(settings)
    found = {}
    for route in app.routes:
        if not route.path.startswith("/v1"):
            continue
        for handler in route.route_handlers:  # type: ignore[attr-defined]
            for method in handler.http_methods - {"OPTIONS"}:
                guards = handler.resolve_guards()  # the controller's, or the route's
                scopes = [getattr(g, "required_scope", "missing") for g in guards]
                assert len(scopes) == 1, f"{method} {route.path} has guards {guards}"
                found[(method, route.path)] = scopes[0]
    assert found == ROUTE_SCOPES


def test_keys_create_prints_the_key_alone_and_stores_only_its_hash(
    database_url: str, capsys: Any
) -> None:
    code, out, _ = _cli(
        database_url,
        "create",
        "--tenant",
        "Hash Trust",
        "--scopes",
        "reports:read,surveys:write",
        capsys=capsys,
    )
    assert code == 0
    lines = out.splitlines()
    assert len(lines) == 1
    assert lines[0].startswith("mes_")
    assert len(lines[0]) > 40
    key = lines[0]

    async def dump() -> str:
        engine = create_engine(database_url)
        async with engine.connect() as conn:
            rows = (await conn.execute(text("SELECT * FROM api_key"))).all()
        await engine.dispose()
        return repr(rows)

    stored = asyncio.run(dump())
    assert key not in stored
    secret = key.split("_", 2)[2]  # the secret may itself contain "_"
    assert secret not in stored

    code, out, _ = _cli(database_url, "list", "--tenant", "Hash Trust", capsys=capsys)
    assert code == 0
    assert key not in out
    assert key.split("_")[1] in out
    assert "reports:read,surveys:write" in out
    assert "active" in out


def test_keys_create_rejects_unknown_scopes(database_url: str, capsys: Any) -> None:
    code, out, err = _cli(
        database_url, "create", "--tenant", "t", "--scopes", "reports:wrte", capsys=capsys
    )
    assert code == 2
    assert out == ""
    assert "reports:wrte" in err
    assert "reports:read" in err


def test_revoked_key_is_refused(
    client: TestClient[Any], make_key: Any, database_url: str, capsys: Any
) -> None:
    key = make_key("reports:read")
    assert client.get("/v1/instruments", headers=bearer(key)).status_code == 200
    prefix = key.split("_")[1]
    code, _, _ = _cli(database_url, "revoke", prefix, capsys=capsys)
    assert code == 0
    response = client.get("/v1/instruments", headers=bearer(key))
    assert response.status_code == 401
    assert "revoked" in response.json()["detail"]
    code, out, _ = _cli(database_url, "list", capsys=capsys)
    assert f"{prefix}" in out
    assert "revoked" in out
    code, _, err = _cli(database_url, "revoke", "nosuchprefix", capsys=capsys)
    assert code == 1
    assert "nosuchprefix" in err


@pytest.mark.parametrize("bad", ["", "Bearer", "Basic abc", "Bearer mes_nope_nope", "Bearer x"])
def test_bad_authorization_headers_are_401(client: TestClient[Any], bad: str) -> None:
    response = client.get("/v1/surveys", headers={"Authorization": bad} if bad else {})
    assert response.status_code == 401
    assert response.headers["content-type"].startswith("application/problem+json")


def test_a_tampered_key_is_refused(client: TestClient[Any], make_key: Any) -> None:
    key = make_key("admin")
    tampered = key[:-1] + ("A" if key[-1] != "A" else "B")
    assert client.get("/v1/surveys", headers=bearer(tampered)).status_code == 401


def test_missing_scope_is_403_naming_it(client: TestClient[Any], make_key: Any) -> None:
    reader = bearer(make_key("reports:read"))
    response = client.post("/v1/surveys", json={"title": "t", "instrument": "mes"}, headers=reader)
    assert response.status_code == 403
    assert "surveys:write" in response.json()["detail"]
    writer = bearer(make_key("surveys:write"))
    survey = create_survey(client, writer)
    response = client.get(f"/v1/surveys/{survey}/scores", headers=writer)
    assert response.status_code == 403
    assert "responses:read" in response.json()["detail"]
    # Individual scores are personal data: reports:read (aggregates) does not read them.
    response = client.get(f"/v1/surveys/{survey}/scores", headers=reader)
    assert response.status_code == 403
    assert "responses:read" in response.json()["detail"]
    responses_reader = bearer(make_key("responses:read"))
    assert client.get(f"/v1/surveys/{survey}/scores", headers=responses_reader).status_code == 200


def test_admin_scope_grants_every_route(client: TestClient[Any], admin: dict[str, str]) -> None:
    survey = create_survey(client, admin)
    assert client.get(f"/v1/surveys/{survey}/responses", headers=admin).status_code == 200
    assert client.get(f"/v1/surveys/{survey}/scores", headers=admin).status_code == 200


def test_another_tenants_ids_are_404(client: TestClient[Any], make_key: Any) -> None:
    mine = bearer(make_key("admin"))
    theirs = bearer(make_key("admin", tenant=f"{make_key.tenant}-other"))
    survey = create_survey(client, mine)
    batch = {"responses": [{"respondent": "a", "answers": {"mes01": 3}}]}
    assert (
        client.post(f"/v1/surveys/{survey}/responses", json=batch, headers=mine).status_code == 201
    )
    for method, path in [
        ("GET", f"/v1/surveys/{survey}"),
        ("GET", f"/v1/surveys/{survey}/responses"),
        ("GET", f"/v1/surveys/{survey}/scores"),
        ("GET", f"/v1/surveys/{survey}/reliability"),
        ("GET", f"/v1/surveys/{survey}/report"),
        ("DELETE", f"/v1/surveys/{survey}/responses/a"),
    ]:
        response = client.request(method, path, headers=theirs)
        assert response.status_code == 404, (method, path, response.text)
    response = client.post(f"/v1/surveys/{survey}/responses", json=batch, headers=theirs)
    assert response.status_code == 404
    assert client.get("/v1/surveys", headers=theirs).json()["total"] == 0
    # Untouched by the other tenant's attempts:
    assert client.get(f"/v1/surveys/{survey}", headers=mine).json()["responses"] == 1


def test_rate_limit_is_per_key_with_retry_after(database_url: str, make_key: Any) -> None:
    settings = Settings(database_url=database_url, rate_limit_per_minute=3)
    first, second = bearer(make_key("admin")), bearer(make_key("admin"))
    with TestClient(create_app(settings)) as client:
        codes = [client.get("/v1/instruments", headers=first).status_code for _ in range(4)]
        assert codes == [200, 200, 200, 429]
        limited = client.get("/v1/instruments", headers=first)
        assert limited.headers["content-type"].startswith("application/problem+json")
        assert 1 <= int(limited.headers["retry-after"]) <= 60
        assert limited.json()["limit"] == 3
        assert client.get("/v1/instruments", headers=second).status_code == 200


def test_any_key_guard_is_marked() -> None:
    assert any_key.required_scope is None  # type: ignore[attr-defined]


def test_mes_keys_create_works_as_a_console_command_on_an_empty_database(tmp_path: Any) -> None:
    db = tmp_path / "fresh.sqlite3"
    result = subprocess.run(
        [sys.executable, "-m", "mes", "keys", "create", "--tenant", "acme", "--scopes", "admin"],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        check=False,
        env={"PATH": "/usr/bin:/bin", "MES_DATABASE_URL": f"sqlite:///{db}"},
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.count("\n") == 1
    assert result.stdout.startswith("mes_")
    assert db.is_file()
