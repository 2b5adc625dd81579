"""The service's OpenAPI document (exported as YAML, with the links between operations)
and the interactive docs that show it, served without any other server.

Regenerate the committed ``openapi.yaml`` with::

    python -m api.openapi > openapi.yaml

The document is Litestar's, plus OpenAPI *links* (:data:`LINKS`): how the id
in one response feeds the next request (a new survey's ``id`` -> its
responses, reports and scores; a submitted batch -> the same survey's report,
or erasing one of its respondents). Clients and stateful API testers
(schemathesis) follow them; :func:`add_links` puts them on a Litestar
:class:`~litestar.openapi.spec.OpenAPI` object.

The docs at ``/schema`` (also ``/schema/swagger``) are Swagger UI
(:class:`OfflineSwaggerRenderPlugin`), whose script, style sheet and icon come
from the ``swagger-ui-bundle-v2`` package and are served by the service itself
under ``/schema/assets/``: the page works on a network without internet access,
and its Content-Security-Policy (:data:`DOCS_CSP`) allows nothing from anywhere
else.
"""

from __future__ import annotations

import functools
import html
import importlib
import sys
from pathlib import Path
from typing import Any

import yaml
from litestar import Request, Response, Router, get
from litestar.exceptions import NotFoundException
from litestar.openapi.plugins import OpenAPIRenderPlugin
from litestar.openapi.spec import Link, OpenAPI, OpenAPIResponse, Operation
from litestar.params import FromPath

__all__ = [
    "DOCS_ASSETS",
    "DOCS_CSP",
    "LINKS",
    "REGENERATE",
    "OfflineSwaggerRenderPlugin",
    "add_links",
    "openapi_document",
    "openapi_yaml",
]

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


DOCS_CSP = (
    "default-src 'none'; script-src 'self'; style-src 'self' 'unsafe-inline'; "
    "img-src 'self' data:; connect-src 'self'; base-uri 'none'; form-action 'self'; "
    "frame-ancestors 'none'"
)
"""Content-Security-Policy of the docs pages: script, styles, images and the OpenAPI
document (and "Try it out" requests) from this server only. Swagger UI sets inline
``style`` attributes and draws its icons from ``data:`` URLs; it needs no inline script
(:data:`_STARTER` is a file) and no ``eval``."""

DOCS_ASSETS = {
    "swagger-ui-bundle.js": "text/javascript",
    "swagger-ui.css": "text/css",
    "favicon-32x32.png": "image/png",
}
"""Files of the ``swagger-ui-bundle-v2`` package served under ``/schema/assets/`` (and no
other: a name is looked up here, never joined to a path)."""

_STARTER_NAME = "mes-docs.js"
_STARTER = b"""\
// Starts Swagger UI on the OpenAPI document the page names (data-spec-url): a file rather
// than an inline script, so that the page's Content-Security-Policy allows only this
// server's scripts.
(function () {
  var root = document.getElementById("swagger-ui");
  window.ui = SwaggerUIBundle({
    url: root.dataset.specUrl,
    dom_id: "#swagger-ui",
    deepLinking: true,
    showExtensions: true,
    showCommonExtensions: true,
    validatorUrl: null,
    presets: [SwaggerUIBundle.presets.apis],
  });
})();
"""
_ASSET_CACHE = "public, max-age=86400"


def swagger_ui_dir() -> Path:
    """The folder of Swagger UI's files in the installed ``swagger-ui-bundle-v2`` package.

    Raises
    ------
    ModuleNotFoundError
        When the package is not installed (it is in the ``service`` extra).
    """
    bundle = importlib.import_module("swagger_ui_bundle")
    return Path(str(bundle.swagger_ui_path))


@functools.cache
def _asset(name: str) -> tuple[bytes, str]:
    """The bytes and media type of a docs asset, read once per process."""
    if name == _STARTER_NAME:
        return _STARTER, "text/javascript"
    media_type = DOCS_ASSETS.get(name)
    if media_type is None:
        raise NotFoundException(f"no docs asset {name!r}")
    return (swagger_ui_dir() / name).read_bytes(), media_type


def docs_asset(name: FromPath[str]) -> Response[bytes]:
    """A script, style sheet or icon of the docs pages (404 for any other name)."""
    content, media_type = _asset(name)
    return Response(content, media_type=media_type, headers={"Cache-Control": _ASSET_CACHE})


class OfflineSwaggerRenderPlugin(OpenAPIRenderPlugin):
    """Swagger UI on files this service serves itself: nothing is loaded from a CDN.

    Litestar's own Swagger UI plugin loads its script from a CDN and starts it with
    an inline script; this page loads :data:`DOCS_ASSETS` and a starter file from
    ``<docs path>/assets/`` and has no inline script, so that it renders without
    internet access under :data:`DOCS_CSP`.

    Parameters
    ----------
    path : str or sequence of str, default ("/", "/swagger")
        Paths of the page under the docs router (``/schema``).
    """

    def __init__(self, *, path: str | tuple[str, ...] = ("/", "/swagger")) -> None:
        super().__init__(path=path, favicon="", style="")
        self.assets = "/schema/assets"

    def receive_router(self, router: Router) -> None:
        """Serve the assets beside the page (``<docs path>/assets/<name>``)."""
        self.assets = f"{router.path.rstrip('/')}/assets"
        # A handler of its own for each app: a handler belongs to the router it is on.
        router.register(
            get("/assets/{name:str}", include_in_schema=False, sync_to_thread=False)(docs_asset)
        )

    def render(self, request: Request[Any, Any, Any], openapi_schema: dict[str, Any]) -> bytes:
        """The page: Swagger UI's style sheet and script, then the starter, all same-origin."""
        title = html.escape(str(openapi_schema["info"]["title"]))
        spec = html.escape(self.get_openapi_json_route(request))
        assets = html.escape(self.assets)
        return f"""<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{title}</title>
<link rel="icon" type="image/png" href="{assets}/favicon-32x32.png">
<link rel="stylesheet" href="{assets}/swagger-ui.css">
</head>
<body>
<div id="swagger-ui" data-spec-url="{spec}"></div>
<script src="{assets}/swagger-ui-bundle.js"></script>
<script src="{assets}/{_STARTER_NAME}"></script>
</body>
</html>
""".encode()


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
