"""Every error the service returns is RFC 9457 ``application/problem+json``.

Handlers are registered once on the app (:data:`EXCEPTION_HANDLERS`). A handler
raises :class:`ProblemError` (or a Litestar ``HTTPException``) and this module
turns it into a problem document. Unexpected exceptions become an opaque 500:
the traceback is logged with an error id, and the client sees only that id.
"""

from __future__ import annotations

import logging
import re
import traceback
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
    "install_log_redaction",
    "log_server_error",
    "logged_route",
    "problem_document",
    "problem_responses",
    "redact",
    "safe_traceback",
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


# ----- what never reaches a log -------------------------------------------------------------
#
# Secrets have a recognisable shape: API keys (``mes_<prefix>_<secret>``), the value of an
# Authorization header, share-link tokens (``/shared/<token>``) and respondent ids in paths
# (``/responses/<respondent>``). :func:`redact` blanks them in every log record of the process
# (installed by :func:`install_log_redaction`). Answers and attribute values have no shape, so
# they are kept out at the source instead: SQL parameters are hidden by the engine
# (``hide_parameters=True``) and exception messages, which can quote request data (a database
# error quotes the row it refused), are left out of logged tracebacks (:func:`safe_traceback`).

_REDACTIONS: tuple[tuple[re.Pattern[str], str], ...] = (
    # ('authorization', 'Bearer ...') or {"authorization": "..."} in a repr; b'...' too.
    (re.compile(r"(?i)(authorization['\"]?\s*[:=,]\s*b?['\"])[^'\"]*"), r"\1[redacted]"),
    (re.compile(r"(?i)(authorization\s*[:=]\s*)[^'\"\r\n]+"), r"\1[redacted]"),
    (re.compile(r"(?i)\b(bearer|basic)(\s+|%20|\+)[^\s'\",;&]+"), r"\1\2[redacted]"),
    (re.compile(r"\b(mes_[0-9a-f]{6,32})_[A-Za-z0-9_\-]+"), r"\1_[redacted]"),
    (re.compile(r"(/shared/)[^\s?#'\"]+"), r"\1[redacted]"),
    # A password in a URL (a database or Redis URL in a connection error).
    # (left alone when already masked, as api/auth/rate_limit.py masks Redis URLs: ``:***@``)
    (re.compile(r"(\w://[^/\s:@'\"]*:)(?!\*+@)[^@\s/'\"]+@"), r"\1[redacted]@"),
    (re.compile(r"(/responses/)(?!\[redacted\])[^\s?#'\"]+"), r"\1[redacted]"),
)

_SAFE_MESSAGE_TYPES: tuple[type[BaseException], ...] = (
    OSError,
    TimeoutError,
    ImportError,
    TypeError,
    AttributeError,
    NameError,
    NotImplementedError,
    RecursionError,
    MemoryError,
)
"""Exceptions whose message is about the machine or the code (a refused connection, a
missing module, an unhashable type), not request data: their message is kept in logged
tracebacks (redacted like any log text)."""


def redact(text: str) -> str:
    """Blank keys, Authorization values, share tokens and respondent ids in ``text``.

    Examples
    --------
    >>> redact('GET /shared/eyJhYmMi.sig HTTP/1.1')
    'GET /shared/[redacted] HTTP/1.1'
    >>> redact("Authorization: Bearer mes_0123456789ab_SECRETsecret")
    'Authorization: [redacted]'
    >>> redact("key mes_0123456789ab_SECRETsecret")
    'key mes_0123456789ab_[redacted]'
    >>> redact("postgresql+asyncpg://mes:hunter2@db:5432/mes")
    'postgresql+asyncpg://mes:[redacted]@db:5432/mes'
    >>> redact("redis://:***@cache:6379/0")
    'redis://:***@cache:6379/0'
    >>> redact("DELETE /v1/surveys/1/responses/r%2F7 HTTP/1.1")
    'DELETE /v1/surveys/1/responses/[redacted] HTTP/1.1'
    """
    for pattern, replacement in _REDACTIONS:
        text = pattern.sub(replacement, text)
    return text


def _describe(exc: BaseException) -> str:
    name = f"{type(exc).__module__}.{type(exc).__qualname__}"
    if isinstance(exc, _SAFE_MESSAGE_TYPES):
        return f"{name}: {redact(str(exc))}"
    statement = getattr(exc, "statement", None)  # sqlalchemy.exc.StatementError
    if isinstance(statement, str):
        orig = getattr(exc, "orig", None)
        code = getattr(orig, "sqlstate", None) or getattr(orig, "pgcode", None)
        cause = "" if orig is None else f" from {type(orig).__module__}.{type(orig).__name__}"
        return (
            f"{name}{cause}{f' (SQLSTATE {code})' if code else ''} "
            f"(message withheld; it may quote row values) [SQL: {statement[:2000]}]"
        )
    return f"{name} (message withheld: it may quote request data)"


def safe_traceback(exc: BaseException) -> str:
    """A traceback with every frame but without exception messages (which can quote
    answers, attribute values or respondent ids); the chain of causes included.

    Examples
    --------
    >>> respondent = "r-secret"
    >>> try:
    ...     raise ValueError(f"answer 4 of respondent {respondent}")
    ... except ValueError as exc:
    ...     text = safe_traceback(exc)
    >>> "r-secret" in text, "ValueError" in text
    (False, True)
    """
    parts: list[str] = []
    seen: set[int] = set()
    current: BaseException | None = exc
    while current is not None and id(current) not in seen:
        seen.add(id(current))
        frames = "".join(traceback.format_tb(current.__traceback__))
        parts.append(f"Traceback (most recent call last):\n{frames}{_describe(current)}")
        current = current.__cause__ or (
            None if current.__suppress_context__ else current.__context__
        )
    return "\n\nwhich was raised while handling (or directly caused by):\n\n".join(reversed(parts))


_installed = False


def _safe_argument(value: Any) -> Any:
    """A log argument as is, or its redacted text when that differs (a scope, a path)."""
    if value is None or isinstance(value, int | float):
        return value
    text = redact(value) if isinstance(value, str) else redact(str(value))
    if isinstance(value, str) or text != str(value):
        return text
    return value


def install_log_redaction() -> None:
    """Make every log record of this process safe to write.

    A record factory (it wraps the current one) blanks secrets with
    :func:`redact` in the message and in each of its arguments, and replaces an
    attached exception by :func:`safe_traceback`; so it covers uvicorn's access, error and
    ``trace`` (ASGI message) logs, Litestar's and SQLAlchemy's loggers alike,
    whatever handlers or levels are configured. Installing twice is harmless.
    """
    global _installed
    if _installed:
        return
    _installed = True
    previous = logging.getLogRecordFactory()

    def factory(*args: Any, **kwargs: Any) -> logging.LogRecord:
        record = previous(*args, **kwargs)
        # Arguments are redacted one by one, not merged into the message: formatters such
        # as uvicorn's access formatter read them (client address, path, status).
        record.msg = redact(record.msg) if isinstance(record.msg, str) else record.msg
        if isinstance(record.args, Mapping):
            record.args = {k: _safe_argument(v) for k, v in record.args.items()}
        elif record.args:
            record.args = tuple(_safe_argument(a) for a in record.args)
        if record.exc_info and record.exc_info[1] is not None:
            record.exc_text = safe_traceback(record.exc_info[1])
        if record.stack_info:
            record.stack_info = redact(record.stack_info)
        return record

    logging.setLogRecordFactory(factory)


_OPTIONAL_LOCATORS = ("line", "resource_id", "link_id")
"""FieldError members left out of a problem when None (they apply to CSV or FHIR bodies)."""


def problem_document(
    status: int, detail: str | None, instance: str, **extra: Any
) -> dict[str, Any]:
    """The members of a problem document (RFC 9457); those that are None are left out."""
    body = {
        "type": "about:blank",
        "title": _title(status),
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
    """Log a 500's traceback (without messages: see install_log_redaction) under a new
    error id, and return the id for the client to quote."""
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
    "a closed survey (no new responses), a survey still open (no group statistics until "
    "fieldwork is closed), a released survey (cannot be reopened), or a definition that "
    "already exists.",
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
