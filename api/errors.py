"""Every error the service returns is RFC 9457 ``application/problem+json``.

Handlers are registered once on the app (:data:`EXCEPTION_HANDLERS`). A handler
raises :class:`ProblemError` (or a Litestar ``HTTPException``) and this module
turns it into a problem document. Unexpected exceptions become an opaque 500:
the traceback is logged with an error id, and the client sees only that id.
"""

from __future__ import annotations

import logging
import uuid
from collections.abc import Iterable, Mapping
from http import HTTPStatus
from typing import Any

from litestar import Request, Response
from litestar.exceptions import HTTPException, SerializationException, ValidationException
from litestar.openapi.datastructures import ResponseSpec
from pydantic import BaseModel, Field

__all__ = [
    "EXCEPTION_HANDLERS",
    "PROBLEM_MEDIA_TYPE",
    "FieldError",
    "Problem",
    "ProblemError",
    "problem_responses",
]

PROBLEM_MEDIA_TYPE = "application/problem+json"
logger = logging.getLogger("api.errors")


class FieldError(BaseModel):
    """One invalid value: where it is (row of a batch, field) and why it is invalid."""

    row: int | None = Field(default=None, description="0-based row of the batch, if any.")
    line: int | None = Field(
        default=None,
        description="Line of an uploaded CSV file (the header is line 1), for text/csv bodies.",
    )
    field: str = Field(description="Dotted path of the field, e.g. answers.mes01.")
    resource_id: str | None = Field(
        default=None,
        description="The FHIR resource's id, for application/fhir+json bodies (row is its "
        "position in the Bundle).",
    )
    link_id: str | None = Field(
        default=None, description="The FHIR item linkId, for application/fhir+json bodies."
    )
    value: Any = Field(default=None, description="The value as it was sent.")
    message: str = Field(description="What is wrong and what is allowed.")


class Problem(BaseModel):
    """An RFC 9457 problem document."""

    type: str = Field(default="about:blank", description="URI reference naming the problem type.")
    title: str = Field(description="Short summary of the problem type.")
    status: int = Field(description="HTTP status code.")
    detail: str | None = Field(default=None, description="What happened and how to fix it.")
    instance: str | None = Field(default=None, description="The request path.")
    errors: list[FieldError] | None = Field(
        default=None, description="Every invalid value (validation problems)."
    )
    error_id: str | None = Field(default=None, description="Id of a logged server error.")
    duplicates: list[str] | None = Field(
        default=None, description="Respondent ids that already exist (409 on duplicates)."
    )
    limit: int | None = Field(default=None, description="The limit that was exceeded.")


class ProblemError(Exception):
    """Raise to answer with a problem document.

    Parameters
    ----------
    status : int
        HTTP status code.
    detail : str
        What happened and how to fix it.
    errors : iterable of FieldError or mapping, optional
        Every invalid value.
    headers : mapping, optional
        Extra response headers (``Retry-After``).
    **extra
        More members of the document (``duplicates``, ``limit``).
    """

    def __init__(
        self,
        status: int,
        detail: str,
        *,
        errors: Iterable[FieldError | Mapping[str, Any]] | None = None,
        headers: Mapping[str, str] | None = None,
        **extra: Any,
    ) -> None:
        super().__init__(detail)
        self.status = status
        self.detail = detail
        self.errors = (
            None
            if errors is None
            else [e if isinstance(e, FieldError) else FieldError(**e) for e in errors]
        )
        self.headers = dict(headers or {})
        self.extra = extra


def _title(status: int) -> str:
    try:
        return HTTPStatus(status).phrase
    except ValueError:
        return "Error"


_OPTIONAL_LOCATORS = ("line", "resource_id", "link_id")
"""FieldError members left out of a problem when None (they apply to CSV or FHIR bodies)."""


def problem_response(
    request: Request[Any, Any, Any],
    status: int,
    detail: str | None,
    *,
    errors: list[FieldError] | None = None,
    headers: Mapping[str, str] | None = None,
    **extra: Any,
) -> Response[dict[str, Any]]:
    """Build a problem+json response (members that are None are left out)."""
    body: dict[str, Any] = {
        "type": "about:blank",
        "title": _title(status),
        "status": status,
        "detail": detail,
        "instance": request.url.path,
    }
    if errors is not None:
        lines = request.state.get("csv_lines")  # set for text/csv submissions
        for error in errors:
            if lines and error.row is not None and 0 <= error.row < len(lines):
                error.line = lines[error.row]
        body["errors"] = [
            e.model_dump(
                mode="json",
                exclude={k for k in _OPTIONAL_LOCATORS if getattr(e, k) is None} or None,
            )
            for e in errors
        ]
    body.update({k: v for k, v in extra.items() if v is not None})
    return Response(
        content={k: v for k, v in body.items() if v is not None},
        status_code=status,
        media_type=PROBLEM_MEDIA_TYPE,
        headers=dict(headers or {}),
    )


def _problem_error_handler(request: Request[Any, Any, Any], exc: ProblemError) -> Response[Any]:
    return problem_response(
        request, exc.status, exc.detail, errors=exc.errors, headers=exc.headers, **exc.extra
    )


def _field_errors_from_validation(extra: Any) -> list[FieldError]:
    errors: list[FieldError] = []
    for item in extra if isinstance(extra, list) else []:
        if not isinstance(item, Mapping):
            continue
        key = str(item.get("key") or item.get("source") or "body")
        row = None
        parts = key.split(".")
        # Batch rows: responses.<n>.<field> -> row n, field <field>.
        if len(parts) >= 2 and parts[0] == "responses" and parts[1].isdigit():
            row, key = int(parts[1]), ".".join(parts[2:]) or "responses"
        errors.append(FieldError(row=row, field=key, value=None, message=str(item.get("message"))))
    return errors


def _validation_handler(request: Request[Any, Any, Any], exc: ValidationException) -> Response[Any]:
    errors = _field_errors_from_validation(exc.extra)
    detail = "the request is not valid: see errors for every problem."
    if not errors:
        detail = str(exc.detail)
    return problem_response(request, 422, detail, errors=errors)


def _http_exception_handler(request: Request[Any, Any, Any], exc: HTTPException) -> Response[Any]:
    status = exc.status_code
    if status >= 500:
        return _internal_error_handler(request, exc)
    detail = exc.detail
    if status == 404 and detail in ("Not Found", None, ""):
        detail = f"no resource at {request.url.path}"
    if status == 405:
        detail = f"{request.method} is not allowed on {request.url.path}"
    if status == 413 and detail in ("Request Entity Too Large", None, ""):
        detail = "the request body is too large"
    if status == 400 and isinstance(exc.__cause__, SerializationException):
        detail = f"the request body is not valid JSON: {detail}"
    headers = dict(exc.headers or {})
    return problem_response(request, status, detail, headers=headers)


def _recursion_handler(request: Request[Any, Any, Any], exc: RecursionError) -> Response[Any]:
    """A body nested too deeply for the JSON decoder is the client's error (400), not a 500."""
    message = str(exc)
    if "deserializing" in message or "decoding" in message:
        return problem_response(
            request,
            400,
            "the request body is not valid JSON: it is nested too deeply to read "
            f"({message})",
        )
    return _internal_error_handler(request, exc)


def _internal_error_handler(request: Request[Any, Any, Any], exc: Exception) -> Response[Any]:
    error_id = uuid.uuid4().hex
    logger.error("error %s on %s %s", error_id, request.method, request.url.path, exc_info=exc)
    return problem_response(
        request,
        500,
        f"an unexpected error occurred; quote error id {error_id} when reporting it.",
        error_id=error_id,
    )


EXCEPTION_HANDLERS: dict[type[Exception] | int, Any] = {
    ProblemError: _problem_error_handler,
    ValidationException: _validation_handler,
    HTTPException: _http_exception_handler,
    RecursionError: _recursion_handler,
    Exception: _internal_error_handler,
}

_DESCRIPTIONS = {
    400: "Malformed request (for example a body that is not JSON).",
    401: "No API key, or the key is unknown or revoked.",
    403: "The key lacks the scope this route needs (named in detail).",
    404: "No such resource for this tenant.",
    409: "Conflict: duplicate respondents, an Idempotency-Key reused with another body, "
    "a closed survey, or a definition that already exists.",
    413: "Request body or batch larger than the configured limit.",
    415: "Unsupported Content-Type.",
    422: "Invalid request: errors lists every problem.",
    429: "Rate limit of the key exceeded; see Retry-After.",
    500: "Unexpected error: logged; detail and error_id give the id to quote.",
    503: "The database is not reachable.",
}


def problem_responses(*statuses: int) -> dict[int, ResponseSpec]:
    """OpenAPI response entries (problem+json) for the given error statuses.

    400 (malformed request), 422 (invalid parameters) and 500 (unexpected error,
    opaque id) are always added.
    """
    statuses = tuple(sorted({400, 422, 500, *statuses}))
    return {
        status: ResponseSpec(
            data_container=Problem,
            description=_DESCRIPTIONS.get(status, _title(status)),
            media_type=PROBLEM_MEDIA_TYPE,
            generate_examples=False,
        )
        for status in statuses
    }
