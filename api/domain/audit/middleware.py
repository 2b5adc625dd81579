"""Record every read of a route marked ``opt={"audit": ACTION}`` in the audit log.

The middleware sits inside the bearer-key middleware (so it knows the key) and
outside the route's exception handling (so it sees every answer: 200, 403, 404,
422, 500). When the answer starts it writes one entry, in a transaction of its
own, *before* passing the first byte on: if the entry cannot be written the
caller gets a 500 problem document instead of the report, so no report is ever
served without its record. A read whose tenant is unknown (no valid key, a
forged share token) is not recorded: there is nobody to record it for.
"""

from __future__ import annotations

import json
import logging
import re
import uuid
from typing import Any, cast
from urllib.parse import parse_qsl

from litestar.types import ASGIApp, Message, Receive, Scope, Send

from api.auth.keys import key_prefix
from api.auth.principal import Principal
from api.domain.audit.services import AuditRecord, write_entry
from api.errors import PROBLEM_MEDIA_TYPE
from api.request_checks import declared_query_names

__all__ = ["AUDIT_SCOPE_KEY", "AuditMiddleware", "audit_context"]

AUDIT_SCOPE_KEY = "mes_audit"
"""Scope member a handler fills when the middleware cannot know who read (a share link):
``{"tenant_id", "survey_id", "share_id"}``."""

logger = logging.getLogger("api.audit")

_FORMATS = {
    "application/json": "json",
    "text/csv": "csv",
    "text/html": "html",
    "application/x-ndjson": "jsonl",
    "application/fhir+json": "fhir",
    PROBLEM_MEDIA_TYPE: "problem",
}
_SECRET_PATH_PARAMS = {"survey_id", "token", "respondent"}
_MAX_VALUE = 200


def _clean(value: str) -> str:
    """A value as sent, without control characters (PostgreSQL refuses NUL in JSON text)
    and at most 200 characters long."""
    return "".join(ch for ch in value if ch >= " " and ch != "\x7f")[:_MAX_VALUE]


def audit_context(scope: Scope) -> dict[str, Any]:
    """The mutable audit context of a request (empty outside audited routes).

    A handler that learns the tenant itself (the public share page) fills it.
    """
    return cast("dict[str, Any]", cast("dict[str, Any]", scope).get(AUDIT_SCOPE_KEY, {}))


def _header(headers: Any, wanted: bytes) -> str | None:
    """The value of header ``wanted`` (lower case) in ASGI ``headers``, if any."""
    for name, value in headers or ():
        if bytes(name).lower() == wanted:
            return bytes(value).decode("latin-1")
    return None


def _format(message: Message) -> str:
    media = _header(cast("dict[str, Any]", message).get("headers"), b"content-type")
    if media is None:
        return "none"
    media = media.split(";", 1)[0].strip().lower()
    return _FORMATS.get(media, media[:16])


def _options(scope: Scope) -> dict[str, Any]:
    """The read's options: declared query parameters as sent, and path parameters that
    are neither the survey nor a secret (share token, respondent id)."""
    declared = declared_query_names(scope["route_handler"])
    options: dict[str, Any] = {}
    for name, value in parse_qsl(scope.get("query_string", b"").decode("latin-1")):
        if name in declared:
            options[name] = _clean(value)
    for name, value in (scope.get("path_params") or {}).items():
        if name not in _SECRET_PATH_PARAMS:
            options[name] = _clean(str(value))
    accept = _clean(_header(scope.get("headers"), b"accept") or "")
    if accept.strip() not in ("", "*/*"):
        options["accept"] = accept
    return options


def _route(scope: Scope) -> str:
    template = str(cast("dict[str, Any]", scope).get("path_template") or "")
    return re.sub(r"\{(\w+):[^}]+\}", r"{\1}", template)[:200]


def _record(scope: Scope, action: str, status: int, fmt: str) -> AuditRecord | None:
    user = scope.get("user")
    context = audit_context(scope)
    survey = (scope.get("path_params") or {}).get("survey_id")
    if isinstance(user, Principal):
        authorization = _header(scope.get("headers"), b"authorization") or ""
        prefix = key_prefix(authorization.partition(" ")[2].strip())
        return AuditRecord(
            tenant_id=user.tenant_id,
            survey_id=survey if isinstance(survey, uuid.UUID) else None,
            api_key_id=user.key_id,
            key_prefix=prefix,
            action=action,
            route=_route(scope),
            format=fmt,
            status=status,
            options=_options(scope),
        )
    if context.get("tenant_id") is not None:
        return AuditRecord(
            tenant_id=context["tenant_id"],
            survey_id=context.get("survey_id"),
            share_id=context.get("share_id"),
            action=action,
            route=_route(scope),
            format=fmt,
            status=status,
            options=_options(scope),
        )
    return None


class AuditMiddleware:
    """ASGI middleware: one audit entry per answered read of a marked route.

    Parameters
    ----------
    app : ASGIApp
        The rest of the route's stack.
    """

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        handler = scope.get("route_handler")
        action = handler.opt.get("audit") if handler is not None else None
        if scope["type"] != "http" or not action:
            await self.app(scope, receive, send)
            return
        cast("dict[str, Any]", scope)[AUDIT_SCOPE_KEY] = {}
        replaced = False

        async def audited_send(message: Message) -> None:
            nonlocal replaced
            if replaced:
                return  # the answer was replaced by a 500: drop the report's bytes
            if message["type"] == "http.response.start":
                status = int(message["status"])
                record = _record(scope, str(action), status, _format(message))
                if record is not None:
                    try:
                        await write_entry(scope["app"].state.session_maker, record)
                    except Exception as exc:
                        replaced = True
                        await _refuse(scope, send, exc)
                        return
            await send(message)

        await self.app(scope, receive, audited_send)


async def _refuse(scope: Scope, send: Send, exc: Exception) -> None:
    """Answer 500 (problem+json with an error id) instead of an unrecorded report."""
    error_id = uuid.uuid4().hex
    logger.error(
        "error %s: the audit entry of %s %s could not be written; the read was refused",
        error_id,
        scope.get("method"),
        _route(scope),
        exc_info=exc,
    )
    body = json.dumps(
        {
            "type": "about:blank",
            "title": "Internal Server Error",
            "status": 500,
            "detail": "the read could not be recorded in the audit log, so it was refused; "
            f"retry later, or quote error id {error_id} when reporting it.",
            "instance": _route(scope),
            "error_id": error_id,
        }
    ).encode()
    await send(
        {
            "type": "http.response.start",
            "status": 500,
            "headers": [
                (b"content-type", PROBLEM_MEDIA_TYPE.encode()),
                (b"content-length", str(len(body)).encode()),
            ],
        }
    )
    await send({"type": "http.response.body", "body": body, "more_body": False})
