"""Checks every request passes before any route sees it: here, no NUL characters.

PostgreSQL cannot store U+0000 in text or JSON (asyncpg raises
``CharacterNotInRepertoireError``), so a title, respondent id, attribute or
query value holding one used to end in a 500 there while SQLite stored it. The
service refuses it on both databases, before anything is parsed or written,
with a 422 that says where it was.
"""

from __future__ import annotations

import re
from typing import Any

from litestar import Request

from api.errors import ProblemError

__all__ = ["refuse_nul_characters"]

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
