"""Route guards: each ``/v1`` route names the scope it needs."""

from __future__ import annotations

from typing import Any

from litestar.connection import ASGIConnection
from litestar.exceptions import NotAuthorizedException, PermissionDeniedException
from litestar.handlers.base import BaseRouteHandler
from litestar.types import Guard

from api.auth.principal import SCOPES, Principal

__all__ = ["any_key", "principal_of", "requires"]


def principal_of(connection: ASGIConnection[Any, Any, Any, Any]) -> Principal:
    """The authenticated caller (401 if the route was reached without one)."""
    user = connection.scope.get("user")
    if not isinstance(user, Principal):
        raise NotAuthorizedException(detail="send an API key as 'Authorization: Bearer <key>'")
    return user


def requires(scope: str) -> Guard:
    """A guard that answers 403, naming ``scope``, unless the key holds it.

    Examples
    --------
    >>> requires("reports:read").__name__
    'requires_reports:read'
    """
    if scope not in SCOPES:
        raise ValueError(f"unknown scope {scope!r}; known: {', '.join(SCOPES)}")

    # Async although it awaits nothing: Litestar runs a synchronous guard in a worker
    # thread, and the hand-off cost more CPU than the check on every request.
    async def guard(connection: ASGIConnection[Any, Any, Any, Any], _: BaseRouteHandler) -> None:
        principal = principal_of(connection)
        if not principal.has(scope):
            raise PermissionDeniedException(
                detail=f"this route needs scope '{scope}'; the key has: "
                f"{', '.join(sorted(principal.scopes)) or 'none'}. "
                f"Create a key with it: mes keys create --tenant NAME --scopes {scope}"
            )

    guard.__name__ = f"requires_{scope}"
    guard.required_scope = scope  # type: ignore[attr-defined]
    return guard


async def any_key(connection: ASGIConnection[Any, Any, Any, Any], _: BaseRouteHandler) -> None:
    """A guard for routes open to every valid key whatever its scopes (async: see requires)."""
    principal_of(connection)


any_key.required_scope = None  # type: ignore[attr-defined]
