"""Property-based run of every operation in openapi.yaml against the live server.

Bounded (a few examples per operation) so that the suite stays fast. The checks
are schemathesis' defaults: no 5xx, and status codes, content types, headers
and bodies as documented.
"""

from __future__ import annotations

from typing import Any

import httpx
import pytest
import schemathesis
from api_helpers import REPO_ROOT, bearer, mes_rows
from hypothesis import HealthCheck, settings
from schemathesis.generation.modes import GenerationMode

schema = schemathesis.openapi.from_path(REPO_ROOT / "openapi.yaml")

DATA_DEPENDENT = {
    "POST /v1/instruments",
    "POST /v1/surveys",  # a reporting plan names declared attributes; no NUL in any text
    "PATCH /v1/surveys/{survey_id}",
    "POST /v1/surveys/{survey_id}/responses",
    "POST /v1/score",
    "GET /v1/surveys/{survey_id}/report",
    "GET /v1/surveys/{survey_id}/report.csv",
    "GET /v1/surveys/{survey_id}/report.html",
    "GET /v1/surveys/{survey_id}/compare/{other_id}",
    "GET /v1/surveys/{survey_id}/benchmarks",
    "POST /v1/surveys/{survey_id}/report/shares",
    "POST /v1/norm-tables",
}

# The key and survey of the backend being tested (the fixture below fills them in).
CURRENT: dict[str, str] = {}


@schema.auth(refresh_interval=None)
class BearerKey:
    """Registered as schemathesis' auth, so its negative cases know how the key is sent."""

    def get(self, case: Any, context: Any) -> str:
        return CURRENT.get("key", "not-yet-created")  # also called while collecting

    def set(self, case: Any, data: str, context: Any) -> None:
        # Read the key now: `get` may run before the fixture has created it.
        key = CURRENT.get("key", data)
        case.headers = {**(case.headers or {}), "Authorization": f"Bearer {key}"}


@pytest.fixture(scope="module")
def fuzz_target(live_server: str, database_url: str) -> str:
    """An admin key and a real survey with answers, so survey routes go beyond 404."""
    from conftest import KeyMaker

    key = KeyMaker(database_url)("admin")
    with httpx.Client(base_url=live_server, headers=bearer(key)) as http:
        survey = http.post("/v1/surveys", json={"title": "fuzz", "instrument": "mes"}).json()
        batch = {"responses": mes_rows(30)}
        assert http.post(f"/v1/surveys/{survey['id']}/responses", json=batch).status_code == 201
    CURRENT.update(key=key, survey=survey["id"])
    return live_server


def _use_the_real_key(case: Any) -> None:
    """Cases of the coverage phase are built while collecting, before the key exists."""
    data = getattr(getattr(case.meta, "phase", None), "data", None)
    if getattr(data, "parameter", None) == "Authorization":
        return  # a case about the Authorization header itself: leave it as generated
    if "Authorization" in (case.headers or {}):
        case.headers["Authorization"] = f"Bearer {CURRENT['key']}"


def _aim_at_the_real_survey(case: Any) -> None:
    """Valid survey ids in positive cases point at the real survey (random ones are 404)."""
    path = case.meta.components.get("path") if case.meta else None
    if "survey_id" in (case.path_parameters or {}) and (
        path is not None and path.mode == GenerationMode.POSITIVE
    ):
        case.path_parameters["survey_id"] = CURRENT["survey"]


@schema.parametrize()
@settings(max_examples=12, deadline=None, suppress_health_check=list(HealthCheck), derandomize=True)
def test_api_conforms_to_openapi(case: Any, fuzz_target: str) -> None:
    _use_the_real_key(case)
    _aim_at_the_real_survey(case)
    excluded = [
        # Litestar answers OPTIONS itself on every path (Allow: ..., OPTIONS) and leaves it
        # out of the document, as most frameworks do.
        schemathesis.checks.allow_header_conformance,
    ]
    if case.operation.label in DATA_DEPENDENT:
        # What these requests must hold depends on data, not only on the schema: the items
        # and response scale of the survey's instrument, a definition's cross-references,
        # the survey's attribute names. A schema-valid request may rightly be refused
        # with 422 (every other check runs).
        excluded.append(schemathesis.checks.positive_data_acceptance)
    response = case.call_and_validate(base_url=fuzz_target, excluded_checks=excluded)
    assert response.status_code < 500
