"""openapi.yaml is the app's exported schema; the docs are served."""

from __future__ import annotations

from typing import Any

import yaml
from api_helpers import REPO_ROOT
from litestar.testing import TestClient

from api.openapi import REGENERATE, openapi_yaml

OPENAPI = REPO_ROOT / "openapi.yaml"


def test_openapi_yaml_is_in_sync_with_the_app() -> None:
    current = openapi_yaml()
    committed = OPENAPI.read_text(encoding="utf-8") if OPENAPI.is_file() else ""
    assert committed == current, (
        f"openapi.yaml is out of date with the app; regenerate it with:\n    {REGENERATE}"
    )


def test_openapi_has_bearer_security_and_problem_errors() -> None:
    doc = yaml.safe_load(OPENAPI.read_text(encoding="utf-8"))
    assert doc["components"]["securitySchemes"]["BearerAuth"] == {
        "type": "http",
        "scheme": "bearer",
        "description": "An API key from `mes keys create --tenant NAME --scopes ...`.",
    }
    for path, operations in doc["paths"].items():
        for method, operation in operations.items():
            if not path.startswith("/v1"):
                continue
            assert operation["security"] == [{"BearerAuth": []}], (method, path)
            for status in ("400", "401", "429", "500"):
                content = operation["responses"][status]["content"]
                assert list(content) == ["application/problem+json"], (method, path, status)
    submit = doc["paths"]["/v1/surveys/{survey_id}/responses"]["post"]
    assert {"409", "413", "415", "422"} <= set(submit["responses"])
    problem = doc["components"]["schemas"]["Problem"]["properties"]
    assert {"type", "title", "status", "detail", "errors"} <= set(problem)


def test_interactive_docs_are_served(client: TestClient[Any]) -> None:
    for path in ("/schema", "/schema/swagger"):  # Swagger UI, on the service's own files
        page = client.get(path)
        assert page.status_code == 200
        assert "/schema/assets/swagger-ui-bundle.js" in page.text
    served = client.get("/schema/openapi.json").json()
    assert served["paths"].keys() == yaml.safe_load(OPENAPI.read_text())["paths"].keys()
    # The links between operations are served too, not only written to openapi.yaml.
    created = served["paths"]["/v1/surveys"]["post"]["responses"]["201"]
    assert created["links"]["SubmitResponses"]["parameters"] == {"survey_id": "$response.body#/id"}
