"""The application factory: ``api.app:create_app()``."""

from __future__ import annotations

import logging
from typing import Any

from advanced_alchemy.extensions.litestar import (
    AsyncSessionConfig,
    SQLAlchemyPlugin,
)
from litestar import Litestar, Response, Router
from litestar.datastructures import State
from litestar.logging import LoggingConfig
from litestar.middleware import DefineMiddleware
from litestar.openapi import OpenAPIConfig
from litestar.openapi.spec import Components, SecurityScheme
from sqlalchemy.ext.asyncio import async_sessionmaker

from api.auth.middleware import BearerKeyMiddleware
from api.auth.rate_limit import create_rate_limiter
from api.db.engine import create_engine
from api.db.raw import StandaloneConnections
from api.db.transactions import RequestSessionConfig, commit_before_send
from api.dependencies import DEPENDENCIES
from api.domain.audit.controllers import AuditController
from api.domain.audit.middleware import AuditMiddleware
from api.domain.benchmarks.controllers import NormTableController
from api.domain.instruments.controllers import InstrumentController
from api.domain.reports.controllers import ReportController
from api.domain.responses.cache import AnswerCache
from api.domain.responses.controllers import ResponseController
from api.domain.responses.storage import StoredAnswers
from api.domain.scores.controllers import ScoreController
from api.domain.shares.controllers import ShareController, SharedReportController
from api.domain.surveys.controllers import SurveyController
from api.domain.surveys.definitions import SurveyDefinitions
from api.domain.system.controllers import SystemController
from api.errors import EXCEPTION_HANDLERS
from api.heap import freeze_startup_heap, unfreeze_heap
from api.log_redaction import install_log_redaction
from api.openapi import DOCS_CSP, OfflineSwaggerRenderPlugin
from api.request_checks import check_request
from api.settings import Settings, get_settings

__all__ = ["API_VERSION", "create_app"]

API_VERSION = "1.0.0"
BEARER = "BearerAuth"
STANDALONE_KEPT = 2
"""Connections kept checked out for standalone statements on PostgreSQL
(:class:`api.db.raw.StandaloneConnections`): one for the key check and one for the small
batch's insert after it. None on SQLite: there the trip to aiosqlite's thread dwarfs the
checkout, and key checks on kept connections overtook the writers queued in the pool, which
lengthened the tail at 32 clients (docs/performance.md)."""


_HTML_HEADERS = {
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
    "X-Frame-Options": "DENY",
}


async def html_security_headers(response: Response[Any]) -> Response[Any]:
    """Give every HTML page no sniffing, no referrer and no framing.

    Report pages (``report.html``, ``/shared/{token}``) set these and a strict
    Content-Security-Policy themselves (``api/domain/reports/html.py``); the API
    docs at ``/schema`` get theirs from :func:`docs_security_headers`.
    """
    if str(response.media_type or "").startswith("text/html"):
        for name, value in _HTML_HEADERS.items():
            response.headers.setdefault(name, value)
    return response


async def docs_security_headers(response: Response[Any]) -> Response[Any]:
    """The API docs' pages: the headers of every HTML page, and a Content-Security-Policy
    that lets Swagger UI load its files and the OpenAPI document from this server only
    (:data:`api.openapi.DOCS_CSP`)."""
    if str(response.media_type or "").startswith("text/html"):
        response.headers.setdefault("Content-Security-Policy", DOCS_CSP)
    return await html_security_headers(response)


def _link_operations(app: Litestar) -> None:
    """Serve the OpenAPI links (``api.openapi.LINKS``) at /schema, as openapi.yaml has them."""
    from api.openapi import add_links

    add_links(app.openapi_schema)


def openapi_config() -> OpenAPIConfig:
    """OpenAPI document settings: bearer security scheme, docs at /schema.

    The docs are Swagger UI on files the service serves itself
    (:class:`api.openapi.OfflineSwaggerRenderPlugin`), at ``/schema`` and
    ``/schema/swagger``; the document is at ``/schema/openapi.json``.
    """
    return OpenAPIConfig(
        title="MES service",
        version=API_VERSION,
        description=(
            "Scores the Medical Engagement Scale and other Likert engagement instruments. "
            "Every error is RFC 9457 application/problem+json. Authenticate with "
            "`Authorization: Bearer <key>` (create keys with `mes keys create`).\n\n"
            "Numbers: JSON keeps full precision, for clients that compute further (report "
            "figures to 15 significant digits, so that arithmetic noise such as "
            "85.00000000000001 never shows). CSV exports are for people and spreadsheets: "
            "counts whole, percentages (percent metric, percent favourable, response rate, "
            "histogram shares) to 1 decimal, every other statistic (scores, means, SDs, SEs, "
            "confidence limits, differences, effect sizes) to 3 decimals; booleans are "
            "`true`/`false`; a missing value is an empty cell. Stored answers and attributes "
            "(the responses export) are written as stored, so that the file re-imports "
            "unchanged."
        ),
        components=Components(
            security_schemes={
                BEARER: SecurityScheme(
                    type="http",
                    scheme="bearer",
                    description="An API key from `mes keys create --tenant NAME --scopes ...`.",
                )
            }
        ),
        openapi_router=Router(
            path="/schema",
            route_handlers=[],
            include_in_schema=False,
            after_request=docs_security_headers,
        ),
        render_plugins=[OfflineSwaggerRenderPlugin()],
    )


def create_app(settings: Settings | None = None) -> Litestar:
    """Build the Litestar application.

    Parameters
    ----------
    settings : Settings, optional
        Default: read from ``MES_*`` environment variables.

    Returns
    -------
    litestar.Litestar
        Routes: ``/health``, ``/ready``, ``/v1/...`` (bearer key), docs at ``/schema``.

    Notes
    -----
    The schema is not migrated here: ``mes serve`` (and every ``mes`` command
    that touches the database) runs the Alembic migrations first.

    Examples
    --------
    >>> app = create_app(Settings(database_url="sqlite+aiosqlite:///:memory:"))
    >>> "/health" in app.route_handler_method_map
    True
    """
    settings = settings or get_settings()
    # The pool's sessions get MES_DB_POOL_SIZE connections; standalone statements (every
    # request's key check) keep a few more checked out between them.
    kept = 0 if settings.is_sqlite else STANDALONE_KEPT
    engine = create_engine(
        settings.database_url, echo=settings.echo_sql, pool_size=settings.db_pool_size + kept
    )
    db_config = RequestSessionConfig(
        engine_instance=engine,
        session_config=AsyncSessionConfig(expire_on_commit=False),
        create_all=False,
    )
    # Not advanced-alchemy's "autocommit", which answers 201 even when the commit fails.
    db_config.before_send_handler = commit_before_send()
    v1 = Router(
        path="/v1",
        route_handlers=[
            InstrumentController,
            SurveyController,
            ResponseController,
            ScoreController,
            ReportController,
            NormTableController,
            ShareController,
            AuditController,
        ],
        # The audit middleware sits inside the key check: it records which key read.
        middleware=[DefineMiddleware(BearerKeyMiddleware), AuditMiddleware],
        security=[{BEARER: []}],
    )
    rate_limiter = create_rate_limiter(settings)
    # Each app its own: two apps in one process never serve each other's answers.
    answer_cache: AnswerCache[StoredAnswers] = AnswerCache.of_megabytes(settings.answer_cache_mb)
    state = State(
        {
            "answer_cache": answer_cache,
            "survey_definitions": SurveyDefinitions(),
            "settings": settings,
            "settings_dialect": engine.dialect.name,
            "engine": engine,
            "standalone_connections": StandaloneConnections(engine, keep=kept),
            "session_maker": async_sessionmaker(engine, expire_on_commit=False),
            # Gives the key check the request's session (the route's db_session).
            "db_config": db_config,
            "rate_limiter": rate_limiter,
        }
    )
    logging.getLogger("api").setLevel(logging.INFO)
    # Nothing secret reaches a log at any level (`mes serve --log-level trace` included):
    # keys, Authorization values, share tokens and respondent ids in paths are blanked in
    # every record, tracebacks lose their messages, SQL parameters are hidden by the engine,
    # and aiosqlite's debug lines (which quote statement parameters) are never emitted.
    install_log_redaction()
    logging.getLogger("aiosqlite").setLevel(logging.INFO)
    return Litestar(
        route_handlers=[SystemController, SharedReportController, v1],
        plugins=[SQLAlchemyPlugin(config=db_config)],
        # On the app, not on /v1: a share link's page, read without a key, is given the
        # same services, bound to the tenant that shared the link.
        dependencies=DEPENDENCIES,
        exception_handlers=EXCEPTION_HANDLERS,
        # api.errors logs each 500 once, with an error id; Litestar does not log it again.
        logging_config=LoggingConfig(log_exceptions="never"),
        before_request=check_request,
        after_request=html_security_headers,
        openapi_config=openapi_config(),
        request_max_body_size=settings.max_body_bytes,
        state=state,
        on_startup=[rate_limiter.start, _link_operations, freeze_startup_heap],  # heap: last
        on_shutdown=[rate_limiter.close, unfreeze_heap],
        debug=settings.debug,
    )
