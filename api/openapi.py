"""Export the service's OpenAPI document as YAML, with the links between operations.

Regenerate the committed ``openapi.yaml`` with::

    python -m api.openapi > openapi.yaml

The document is Litestar's, plus OpenAPI *links* (:data:`LINKS`): how the id
in one response feeds the next request (a new survey's ``id`` -> its
responses, reports and scores; a submitted batch -> the same survey's report,
or erasing one of its respondents). Clients and stateful API testers
(schemathesis) follow them; :func:`add_links` puts them on a Litestar
:class:`~litestar.openapi.spec.OpenAPI` object.
"""

from __future__ import annotations

import sys
from typing import Any

import yaml
from litestar.openapi.spec import Link, OpenAPI, OpenAPIResponse, Operation

__all__ = ["LINKS", "REGENERATE", "add_links", "openapi_document", "openapi_yaml"]

REGENERATE = "python -m api.openapi > openapi.yaml"

NEW_SURVEY = "$response.body#/id"
"""The id of the survey a response body describes (``SurveyRead``)."""
SAME_SURVEY = "$request.path.survey_id"
"""The survey of the request that was answered."""

LinkSpec = tuple[str, str, dict[str, str]]
"""(target operationId, description, parameters: name -> runtime expression)."""


def _survey_links(survey: str, *names: str) -> dict[str, LinkSpec]:
    """Links from a response about one survey to some of the survey's operations."""
    on = {"survey_id": survey}
    every: dict[str, LinkSpec] = {
        "GetSurvey": ("getSurvey", "The survey, with its count of stored respondents.", on),
        "UpdateSurvey": ("updateSurvey", "Close (release its reports) or reopen the survey.",
                         on),
        "SubmitResponses": ("submitResponses", "Submit (more) responses to the survey.", on),
        "ListResponses": ("listResponses", "The survey's stored respondents.", on),
        "ListScores": ("listScores", "Per-respondent scale scores of the survey.", on),
        "GetReliability": ("getReliability", "Internal consistency of each scale, released "
                           "once the survey is closed.", on),
        "GetReport": ("getReport", "The survey's group report (JSON), released once the "
                      "survey is closed.", on),
        "GetReportCsv": ("getReportCsv", "The survey's group report as CSV, released once "
                         "the survey is closed.", on),
    }
    return {name: every[name] for name in names}


def _erase(respondent: str, which: str) -> dict[str, LinkSpec]:
    return {
        "EraseRespondent": (
            "eraseRespondent",
            f"Erase the {which} first respondent.",
            {"survey_id": SAME_SURVEY, "respondent": respondent},
        )
    }


LINKS: dict[tuple[str, str], dict[str, LinkSpec]] = {
    ("createSurvey", "201"): _survey_links(
        NEW_SURVEY, "GetSurvey", "UpdateSurvey", "SubmitResponses", "ListResponses", "GetReport"
    ),
    ("updateSurvey", "200"): _survey_links(
        NEW_SURVEY,
        "GetSurvey",
        "UpdateSurvey",
        "SubmitResponses",
        "ListResponses",
        "GetReliability",
        "GetReport",
        "GetReportCsv",
    ),
    ("submitResponses", "201"): _survey_links(
        SAME_SURVEY,
        "GetSurvey",
        "UpdateSurvey",
        "SubmitResponses",
        "ListResponses",
        "ListScores",
        "GetReliability",
        "GetReport",
        "GetReportCsv",
    )
    | _erase("$request.body#/responses/0/respondent", "batch's"),
    ("listResponses", "200"): _erase("$response.body#/items/0/respondent", "page's"),
    ("eraseRespondent", "204"): _survey_links(
        SAME_SURVEY,
        "GetSurvey",
        "SubmitResponses",
        "ListResponses",
        "ListScores",
        "GetReliability",
        "GetReport",
    ),
}
"""(source operationId, status) -> link name -> what the link targets and passes on."""


def _operations(spec: OpenAPI) -> dict[str, Operation]:
    found: dict[str, Operation] = {}
    for item in (spec.paths or {}).values():
        for method in ("get", "put", "post", "delete", "patch"):
            operation = getattr(item, method)
            if isinstance(operation, Operation) and operation.operation_id:
                found[operation.operation_id] = operation
    return found


def add_links(spec: OpenAPI) -> OpenAPI:
    """Put :data:`LINKS` on the responses of ``spec`` (in place; repeating it changes nothing).

    Raises
    ------
    LookupError
        When a link names an operation or a response status the document does not have,
        so that renaming an operation cannot silently drop its links.

    Examples
    --------
    >>> doc = openapi_document()
    >>> link = doc["paths"]["/v1/surveys"]["post"]["responses"]["201"]["links"]["SubmitResponses"]
    >>> link["operationId"], link["parameters"]
    ('submitResponses', {'survey_id': '$response.body#/id'})
    """
    operations = _operations(spec)
    for (source, status), links in LINKS.items():
        operation = operations.get(source)
        response = (operation.responses or {}).get(status) if operation else None
        if not isinstance(response, OpenAPIResponse):
            raise LookupError(f"no {status} response of operation {source!r} to link from")
        for target, _, _ in links.values():
            if target not in operations:
                raise LookupError(f"operation {source!r} links to unknown operation {target!r}")
        response.links = {
            name: Link(operation_id=target, parameters=dict(parameters), description=description)
            for name, (target, description, parameters) in links.items()
        }
    return spec


def openapi_document() -> dict[str, Any]:
    """The OpenAPI document of :func:`api.app.create_app`, with :data:`LINKS`, as a plain dict.

    No database is touched: the app is built on an in-memory SQLite URL.
    """
    from api.app import create_app
    from api.settings import Settings

    app = create_app(Settings(database_url="sqlite+aiosqlite:///:memory:"))
    return add_links(app.openapi_schema).to_schema()


def openapi_yaml() -> str:
    """The document as YAML, in a stable order (what ``openapi.yaml`` holds).

    Examples
    --------
    >>> openapi_yaml().startswith("openapi: 3.1.0")
    True
    """
    doc = openapi_document()
    ordered = {"openapi": doc.pop("openapi")}
    ordered.update(doc)
    return yaml.safe_dump(ordered, sort_keys=False, allow_unicode=True, width=100)


def main() -> int:
    """Print the YAML document on stdout."""
    sys.stdout.write(openapi_yaml())
    return 0


if __name__ == "__main__":
    sys.exit(main())
