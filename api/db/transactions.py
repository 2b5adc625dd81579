"""Each request's transaction ends before its answer goes out, and a failed commit is a 500.

The route handlers write through the request's session (advanced-alchemy's
``db_session``) and never commit: the transaction is committed here, when the
answer's status line is about to be sent (a 2xx), or rolled back (anything else).
advanced-alchemy's own ``autocommit`` handler does the same but logs a failed
commit at DEBUG and sends the answer anyway, so a lost connection or a database
that refuses the commit would still answer ``201 Created`` for rows that were
never stored. Here the answer becomes a 500 problem document with an error id
(logged like every other 500), so a client retries instead of trusting it.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import msgspec
from advanced_alchemy.extensions.litestar import SQLAlchemyAsyncConfig
from advanced_alchemy.extensions.litestar.plugins.init.config.common import (
    SESSION_TERMINUS_ASGI_EVENTS,
)
from litestar import Litestar
from litestar.connection import ASGIConnection
from litestar.constants import HTTP_RESPONSE_START
from litestar.datastructures import State
from litestar.types import Scope
from sqlalchemy.ext.asyncio import AsyncSession

from api.errors import (
    PROBLEM_MEDIA_TYPE,
    log_server_error,
    nothing_stored_detail,
    problem_document,
)

__all__ = ["RequestSessionConfig", "commit_before_send", "request_session"]

_SESSION = "mes_request_session"
"""Scope key: the request's session, once something asked for it."""

_FAILED_COMMIT = "mes_failed_commit_body"
"""Scope key: the problem document that replaces the body of an answer whose commit failed."""


class RequestSessionConfig(SQLAlchemyAsyncConfig):
    """advanced-alchemy's config, keeping each request's session where
    :func:`commit_before_send` finds it (advanced-alchemy keeps its own copy in a private
    part of the scope), and disposing of the engine when the app shuts down."""

    @asynccontextmanager
    async def lifespan(self, app: Litestar) -> AsyncIterator[None]:
        """advanced-alchemy's lifespan, then the engine disposed of in every case.

        advanced-alchemy disposes of the engine only under its first config's state key:
        the second app made in a process gets the key ``db_engine_1`` and its engine was
        never disposed, its pooled connections (and those kept by
        :class:`api.db.raw.StandaloneConnections`) left open behind it.
        """
        try:
            async with super().lifespan(app):
                yield
        finally:
            await self.get_engine().dispose()  # twice for the first app: harmless

    def provide_session(self, state: State, scope: Scope) -> AsyncSession:
        """The request's session: made on first use, the same one afterwards."""
        found = scope.get(_SESSION)
        if isinstance(found, AsyncSession):
            return found
        session = super().provide_session(state, scope)
        scope[_SESSION] = session  # type: ignore[literal-required]
        return session


def request_session(connection: ASGIConnection[Any, Any, Any, Any]) -> AsyncSession:
    """The request's session (advanced-alchemy's ``db_session``): the one the key check,
    the services and :func:`commit_before_send` share.

    For dependency providers: taking it from the request rather than as the
    ``db_session`` dependency keeps each provider's dependencies to one, which Litestar
    resolves in line instead of in a task group of their own.
    """
    state = connection.app.state
    config: RequestSessionConfig = state.db_config
    return config.provide_session(state, connection.scope)


def commit_before_send() -> Any:
    """The SQLAlchemy plugin's ``before_send_handler``: commit (2xx) or roll back the
    request's session as the answer starts, then close it.

    When the commit raises, the status line becomes 500 and the body that follows is
    replaced by a problem document naming a logged error id. The session is the one
    :class:`RequestSessionConfig` made for the request, if any.
    """

    async def handler(message: Any, scope: Any) -> None:
        replacement = scope.get(_FAILED_COMMIT)
        if replacement is not None and message["type"] == "http.response.body":
            message["body"] = replacement
            message["more_body"] = False
            return
        session = scope.get(_SESSION)
        if session is None:
            return
        if not session.in_transaction():
            # Never used, or ended already (a route that rolled back): nothing to commit
            # and no connection to give back; committing an idle session still costs more
            # than a one-row statement.
            if message["type"] in SESSION_TERMINUS_ASGI_EVENTS:
                del scope[_SESSION]
            return
        try:
            if message["type"] == HTTP_RESPONSE_START:
                if 200 <= message["status"] < 300:
                    try:
                        await session.commit()
                    except Exception as exc:  # any failure: the rows are not known to be stored
                        _answer_500(message, scope, exc)
                        await session.rollback()
                else:
                    await session.rollback()
        finally:
            if message["type"] in SESSION_TERMINUS_ASGI_EVENTS:
                await session.close()
                del scope[_SESSION]

    return handler


def _answer_500(message: dict[str, Any], scope: dict[str, Any], exc: Exception) -> None:
    error_id = log_server_error(scope, exc, ": the commit failed")
    body = msgspec.json.encode(
        problem_document(
            500,
            nothing_stored_detail(error_id),
            scope.get("path", ""),
            error_id=error_id,
        )
    )
    message["status"] = 500
    message["headers"] = [
        (b"content-type", PROBLEM_MEDIA_TYPE.encode()),
        (b"content-length", str(len(body)).encode()),
    ]
    scope[_FAILED_COMMIT] = body
