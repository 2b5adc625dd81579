"""Probes and the problem+json shape of every kind of error."""

from __future__ import annotations

import gc
import logging
from typing import Any

from litestar import get
from litestar.testing import TestClient

from api.app import create_app
from api.settings import Settings

PROBLEM = "application/problem+json"


def assert_problem(response: Any, status: int) -> dict[str, Any]:
    """The response is an RFC 9457 document with this status; return it."""
    assert response.status_code == status, response.text
    assert response.headers["content-type"].startswith(PROBLEM)
    body = response.json()
    assert body["status"] == status
    assert body["title"]
    assert body["detail"]
    assert body["instance"] == response.request.url.path
    return body


def test_health_and_ready_need_no_key(client: TestClient[Any], database_url: str) -> None:
    assert client.get("/health").json()["status"] == "ok"
    ready = client.get("/ready")
    assert ready.status_code == 200
    assert ready.json()["database"] == database_url.split("+", 1)[0]


def test_ready_is_503_when_the_database_is_unreachable(tmp_path: Any) -> None:
    url = "postgresql+asyncpg://nobody@127.0.0.1:1/none"
    with TestClient(create_app(Settings(database_url=url))) as client:
        assert client.get("/health").status_code == 200
        body = assert_problem(client.get("/ready"), 503)
    assert "not reachable" in body["detail"]


def test_unknown_path_is_a_404_problem(client: TestClient[Any]) -> None:
    body = assert_problem(client.get("/no/such/thing"), 404)
    assert "/no/such/thing" in body["detail"]


def test_wrong_method_is_a_405_problem(client: TestClient[Any]) -> None:
    body = assert_problem(client.delete("/health"), 405)
    assert "DELETE" in body["detail"]


def test_missing_key_is_a_401_problem_with_a_challenge(client: TestClient[Any]) -> None:
    response = client.get("/v1/instruments")
    body = assert_problem(response, 401)
    assert response.headers["www-authenticate"] == "Bearer"
    assert "Authorization: Bearer" in body["detail"]


def test_non_json_body_is_415(client: TestClient[Any], admin: dict[str, str]) -> None:
    response = client.post(
        "/v1/surveys", content=b"title=x", headers={**admin, "content-type": "text/plain"}
    )
    body = assert_problem(response, 415)
    assert "application/json" in body["detail"]


def test_malformed_json_is_400_and_schema_errors_are_422(
    client: TestClient[Any], admin: dict[str, str]
) -> None:
    headers = {**admin, "content-type": "application/json"}
    assert_problem(client.post("/v1/surveys", content=b"{not json", headers=headers), 400)
    body = assert_problem(client.post("/v1/surveys", json={"title": ""}, headers=admin), 422)
    fields = {e["field"] for e in body["errors"]}
    assert {"title", "instrument"} <= fields


def test_body_over_the_limit_is_413(database_url: str, make_key: Any) -> None:
    settings = Settings(database_url=database_url, max_body_bytes=200, rate_limit_per_minute=0)
    headers = {"Authorization": f"Bearer {make_key('admin')}"}
    with TestClient(create_app(settings)) as client:
        response = client.post(
            "/v1/surveys", json={"title": "x" * 500, "instrument": "mes"}, headers=headers
        )
        assert_problem(response, 413)
        small = client.post(
            "/v1/surveys", json={"title": "x", "instrument": "mes"}, headers=headers
        )
        assert small.status_code == 201


def test_unexpected_error_is_an_opaque_500_and_logged(settings: Settings) -> None:
    @get("/boom")
    async def boom() -> None:
        raise RuntimeError("secret detail: password=hunter2")

    class Collect(logging.Handler):
        def __init__(self) -> None:
            super().__init__(logging.ERROR)
            self.records: list[logging.LogRecord] = []

        def emit(self, record: logging.LogRecord) -> None:
            self.records.append(record)

    app = create_app(settings)
    app.register(boom)
    collect = Collect()
    logger = logging.getLogger("api.errors")
    with TestClient(app) as client:
        logger.addHandler(collect)  # after start-up, which configures logging
        try:
            response = client.get("/boom")
        finally:
            logger.removeHandler(collect)
    body = assert_problem(response, 500)
    assert "hunter2" not in response.text
    assert "Traceback" not in response.text
    error_id = body["error_id"]
    assert len(error_id) == 32
    assert error_id in body["detail"]
    logged = [r for r in collect.records if error_id in r.getMessage()]
    assert logged
    assert "hunter2" in str(logged[0].exc_info[1])  # type: ignore[index]


def test_ready_is_503_on_a_database_that_was_never_migrated(tmp_path: Any) -> None:
    url = f"sqlite+aiosqlite:///{tmp_path / 'empty.sqlite3'}"
    with TestClient(create_app(Settings(database_url=url))) as client:
        body = assert_problem(client.get("/ready"), 503)
    assert "mes serve" in body["detail"]
    assert "nothing" in body["detail"]


def test_start_up_objects_are_frozen_until_shutdown(settings: Settings) -> None:
    # api/heap.py: a worker's full garbage collections skip what start-up created (they
    # paused a worker for about 110 ms each), and shutdown hands it all back.
    assert gc.get_freeze_count() == 0
    with TestClient(create_app(settings)) as client:
        assert client.get("/health").status_code == 200
        assert gc.get_freeze_count() > 50_000  # modules, the app, SQLAlchemy, numpy ...
    assert gc.get_freeze_count() == 0
