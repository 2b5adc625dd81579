"""Checks every request passes before any route sees it (:func:`check_request`).

Only what applies to every route lives here: no NUL characters, no unknown
query parameters, a body of a media type the route reads, and the mark that
makes a write request's first transaction take SQLite's write lock. What a
body means is the route's business (for batches,
:mod:`api.domain.responses.parsing`).

PostgreSQL cannot store U+0000 in text or JSON (asyncpg raises
``CharacterNotInRepertoireError``), so a title, respondent id, attribute or
query value holding one would fail there (a 500) while SQLite stored it. So that
a request means the same on both databases, the service refuses it on both,
before anything is parsed or written, with a 422 that says where it was.
"""

from __future__ import annotations

import re
from typing import Any

from litestar import Request
from litestar.params import QueryParameter

from api.db.engine import WRITE_REQUEST
from api.errors import ProblemError

__all__ = [
    "check_request",
    "declared_query_names",
    "media_type_of",
    "refuse_nul_characters",
]

_BODY_METHODS = frozenset({"POST", "PUT", "PATCH"})
_WRITE_METHODS = frozenset({"POST", "PUT", "PATCH", "DELETE"})
JSON = "application/json"


def media_type_of(request: Request[Any, Any, Any]) -> str:
    """The request's Content-Type without parameters, lower case (``""`` when absent)."""
    return request.headers.get("content-type", "").split(";", 1)[0].strip().lower()


def declared_query_names(handler: Any) -> frozenset[str]:
    """Query parameters a route declares (every one is declared with QueryParameter)."""
    return frozenset(
        name
        for name, field in handler.parsed_fn_signature.parameters.items()
        if isinstance(field.kwarg_definition, QueryParameter)
    )


async def check_request(request: Request[Any, Any, Any]) -> None:
    """Refuse, before anything is parsed, NUL characters (422), unknown query
    parameters (422) and bodies of a media type the route does not read (415).

    An unknown parameter is most often a typo (``?onconflict=replace``) that would
    otherwise be ignored silently. Routes read JSON bodies; one that reads others
    lists them all in ``opt={"body_types": (...)}``.
    """
    if request.method in _WRITE_METHODS:
        # The route's session is the first to begin: it takes SQLite's write lock at
        # BEGIN, so that two writers queue instead of failing (api/db/engine.py).
        WRITE_REQUEST.set([True])
    await refuse_nul_characters(request, body=request.method in _BODY_METHODS)
    known = declared_query_names(request.route_handler)
    unknown = sorted(set(request.query_params) - known)
    if unknown and request.url.path.startswith("/v1/"):
        raise ProblemError(
            422,
            f"unknown query parameter(s): {', '.join(unknown)}; this route accepts: "
            f"{', '.join(sorted(known)) or 'none'}",
            errors=[
                {
                    "field": f"query.{name}",
                    "value": request.query_params.get(name),
                    "message": "unknown query parameter.",
                }
                for name in unknown
            ],
        )
    if request.method not in _BODY_METHODS:
        return
    accepted = request.route_handler.opt.get("body_types", (JSON,))
    media_type = media_type_of(request)
    if media_type not in accepted:
        raise ProblemError(
            415,
            f"Content-Type {media_type or '(none)'!r} is not supported here; send "
            f"{' or '.join(accepted)}",
        )

# A JSON escape \u0000 that is not itself escaped (an even number of backslashes before it).
_JSON_NUL = re.compile(rb"(?<!\\)(?:\\\\)*\\u0000")


async def refuse_nul_characters(request: Request[Any, Any, Any], *, body: bool) -> None:
    """422 when the path, a query value or (with ``body``) the body holds U+0000.

    Raises
    ------
    ProblemError
        422 naming each place (``path``, ``query.<name>``, ``body``).
    """
    places = []
    if "\x00" in request.scope["path"]:  # the percent-decoded path
        places.append({"field": "path", "message": "holds a NUL character (U+0000 or %00)."})
    places.extend(
        {"field": f"query.{name}", "message": "holds a NUL character (U+0000)."}
        for name, value in request.query_params.items()
        if "\x00" in name or "\x00" in str(value)
    )
    if body:
        raw = await request.body()
        # Substring searches run in C; the regex (slow on large bodies) only confirms a hit.
        if b"\x00" in raw or (b"\\u0000" in raw and _JSON_NUL.search(raw)):
            places.append(
                {"field": "body", "message": "holds a NUL character (a 0 byte or \\u0000)."}
            )
    if places:
        raise ProblemError(
            422,
            "text must not contain the NUL character (U+0000), which the database cannot "
            f"store; remove it from: {', '.join(p['field'] for p in places)}",
            errors=places,
        )
