"""Bearer-key authentication (and the per-key rate limit) for the ``/v1`` routes."""

from __future__ import annotations

from typing import Any

from litestar.connection import ASGIConnection
from litestar.exceptions import NotAuthorizedException
from litestar.middleware import AbstractAuthenticationMiddleware, AuthenticationResult

from api.auth.keys import authenticate_key
from api.errors import ProblemError

__all__ = ["BearerKeyMiddleware"]


class BearerKeyMiddleware(AbstractAuthenticationMiddleware):
    """Resolve ``Authorization: Bearer <key>`` to a :class:`~api.auth.Principal`.

    Answers 401 without a valid key and 429 (with ``Retry-After``) when the key
    exceeded its rate limit (counted by ``app.state.rate_limiter``: in Redis when
    ``MES_REDIS_URL`` is set, else per worker process). The key is read from the database
    on every request, so a revoked key stops at once in every worker.
    """

    async def authenticate_request(
        self, connection: ASGIConnection[Any, Any, Any, Any]
    ) -> AuthenticationResult:
        header = connection.headers.get("authorization", "")
        scheme, _, key = header.partition(" ")
        if scheme.lower() != "bearer" or not key.strip():
            raise NotAuthorizedException(
                detail="send an API key as 'Authorization: Bearer <key>' "
                "(create one with: mes keys create --tenant NAME --scopes ...)",
                headers={"WWW-Authenticate": "Bearer"},
            )
        state = connection.app.state
        # On a connection of its own, for one statement in no transaction: not in the
        # request's session, whose life costs more than the lookup, and whose first
        # statement on SQLite takes the write lock for a writing request (api.db.engine),
        # which the route's own sessions (the share-link signing key) could then never take.
        async with state.standalone_connections.borrow() as driver:
            principal = await authenticate_key(driver, key.strip())
        if principal is None:
            raise NotAuthorizedException(
                detail="the API key is unknown or revoked", headers={"WWW-Authenticate": "Bearer"}
            )
        retry_after = await state.rate_limiter.hit(principal.key_id)
        if retry_after is not None:
            raise ProblemError(
                429,
                f"this key exceeded {state.rate_limiter.limit} requests per minute; "
                f"retry after {retry_after} s",
                headers={"Retry-After": str(retry_after)},
                limit=state.rate_limiter.limit,
            )
        return AuthenticationResult(user=principal, auth=principal)
