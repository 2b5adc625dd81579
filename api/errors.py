"""Every error the service returns is RFC 9457 ``application/problem+json``.

Handlers are registered once on the app (:data:`EXCEPTION_HANDLERS`). A handler
raises :class:`ProblemError` (or a Litestar ``HTTPException``) and this module
turns it into a problem document. Unexpected exceptions become an opaque 500:
the traceback is logged with an error id, and the client sees only that id.

What a log line may hold is :mod:`api.log_redaction`'s business; the error answers each
route lists in the OpenAPI document are :mod:`api.openapi_responses`'.
"""

from __future__ import annotations

import logging
import uuid
from collections.abc import Iterable, Mapping
from http import HTTPStatus
from typing import Any, ClassVar

from litestar import Request, Response
from litestar.exceptions import HTTPException, SerializationException, ValidationException
from pydantic import BaseModel, Field

from api.log_redaction import redact

__all__ = [
    "EXCEPTION_HANDLERS",
    "PROBLEM_MEDIA_TYPE",
    "FieldError",
    "NothingStoredError",
    "Problem",
    "ProblemError",
    "log_server_error",
    "logged_route",
    "nothing_stored_detail",
    "problem_document",
    "status_title",
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

    OPTIONAL_LOCATORS: ClassVar[tuple[str, ...]] = ("line", "resource_id", "link_id")
    """Members that locate a value in one kind of body only (a file's line, a resource and
    its item): left out of a problem document where they are None."""

    def to_member(self) -> dict[str, Any]:
        """This error as an item of a problem document's ``errors``."""
        unset = {k for k in self.OPTIONAL_LOCATORS if getattr(self, k) is None}
        return self.model_dump(mode="json", exclude=unset or None)


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


class NothingStoredError(Exception):
    """A write the database refused as a whole: the request stored nothing.

    Answered as a failed commit is (:mod:`api.db.transactions`): 500, telling the client
    that nothing was stored and to retry, with a logged error id. Raise it ``from`` the
    database's error, which is what the log records.
    """


def nothing_stored_detail(error_id: str) -> str:
    """The detail of a 500 whose changes were all refused: the client may safely retry."""
    return (
        "the changes could not be saved and nothing was stored; retry the request, or "
        f"quote error id {error_id} when reporting it."
    )


def status_title(status: int) -> str:
    """The reason phrase of a status code (``Error`` for one HTTP does not name)."""
    try:
        return HTTPStatus(status).phrase
    except ValueError:
        return "Error"


def problem_document(
    status: int, detail: str | None, instance: str, **extra: Any
) -> dict[str, Any]:
    """The members of a problem document (RFC 9457); those that are None are left out."""
    body = {
        "type": "about:blank",
        "title": status_title(status),
        "status": status,
        "detail": detail,
        "instance": instance,
        **extra,
    }
    return {k: v for k, v in body.items() if v is not None}


def logged_route(scope: Mapping[str, Any]) -> str:
    """What a log line names a request's route by: its template, not its path (a path
    can hold a share token or a respondent id)."""
    return str(scope.get("path_template") or redact(str(scope.get("path", ""))))


def log_server_error(scope: Mapping[str, Any], exc: BaseException, what: str = "") -> str:
    """Log a 500's traceback (without messages: see
    :func:`api.log_redaction.install_log_redaction`) under a new error id, and return the
    id for the client to quote."""
    error_id = uuid.uuid4().hex
    logger.error(
        "error %s on %s %s%s", error_id, scope.get("method", ""), logged_route(scope), what,
        exc_info=exc,
    )
    return error_id


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
    body = problem_document(status, detail, request.url.path)
    if errors is not None:
        body["errors"] = [e.to_member() for e in errors]
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


_CLIENT_GONE = "client disconnected prematurely"  # Litestar's detail; it has no own class


def _http_exception_handler(request: Request[Any, Any, Any], exc: HTTPException) -> Response[Any]:
    status = exc.status_code
    if status >= 500 and exc.detail == _CLIENT_GONE:
        # Not a server error: the client closed the connection before sending its whole
        # body (a timeout, a cancelled upload). Nothing was read or written, and nobody
        # is left to read this answer; an ERROR with a traceback would page someone.
        logger.info(
            "client went away before sending its body on %s %s",
            request.method,
            logged_route(request.scope),
        )
        return problem_response(request, 400, "the client disconnected before its body arrived")
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
            f"the request body is not valid JSON: it is nested too deeply to read ({message})",
        )
    return _internal_error_handler(request, exc)


def _internal_error_handler(request: Request[Any, Any, Any], exc: Exception) -> Response[Any]:
    error_id = log_server_error(request.scope, exc)
    return problem_response(
        request,
        500,
        f"an unexpected error occurred; quote error id {error_id} when reporting it.",
        error_id=error_id,
    )


def _nothing_stored_handler(
    request: Request[Any, Any, Any], exc: NothingStoredError
) -> Response[Any]:
    error_id = log_server_error(request.scope, exc.__cause__ or exc, ": the write was refused")
    return problem_response(request, 500, nothing_stored_detail(error_id), error_id=error_id)


EXCEPTION_HANDLERS: dict[type[Exception] | int, Any] = {
    ProblemError: _problem_error_handler,
    NothingStoredError: _nothing_stored_handler,
    ValidationException: _validation_handler,
    HTTPException: _http_exception_handler,
    RecursionError: _recursion_handler,
    Exception: _internal_error_handler,
}
