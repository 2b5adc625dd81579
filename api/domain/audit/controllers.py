"""``GET /v1/audit``: a tenant's own audit trail (admin keys only)."""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Annotated, Any

from litestar import Controller, Request, get
from litestar.di import NamedDependency, Provide
from litestar.params import QueryParameter

from api.auth.guards import requires
from api.db.transactions import request_session
from api.domain.audit.schemas import AuditEntryRead
from api.domain.audit.services import AuditService
from api.domain.pagination import Limit, Offset, Page
from api.errors import FieldError, ProblemError
from api.openapi_responses import problem_responses

__all__ = ["AuditController"]


async def provide_audit(
    request: Request[Any, Any, Any], tenant_id: NamedDependency[uuid.UUID]
) -> AuditService:
    """The caller's tenant's audit trail."""
    return AuditService(request_session(request), tenant_id)


def _aware(request: Request[Any, Any, Any], name: str) -> dt.datetime | None:
    """The query parameter ``name`` as an ISO 8601 time with a zone (None when absent).

    Read from the raw query: the parser would also take a number as a Unix time.
    """
    raw = request.query_params.get(name)
    if raw is None:
        return None
    try:
        when = dt.datetime.fromisoformat(raw)
    except ValueError:
        when = None
    if when is not None and when.tzinfo is not None:
        return when
    raise ProblemError(
        422,
        f"{name} must be an ISO 8601 time with a time zone, e.g. 2026-11-22T09:00:00Z or "
        "2026-11-22T09:00:00+00:00",
        errors=[FieldError(field=f"query.{name}", value=raw, message="give a UTC offset.")],
    )


class AuditController(Controller):
    """Who read which report (or personal-data export) of this tenant, and when."""

    path = "/audit"
    tags = ["audit"]  # noqa: RUF012
    guards = [requires("admin")]  # noqa: RUF012
    dependencies = {"audit_service": Provide(provide_audit)}  # noqa: RUF012

    @get(
        "/",
        operation_id="listAuditEntries",
        summary="The tenant's audit log of reads (newest first)",
        responses=problem_responses(401, 403, 429),
    )
    async def list_entries(
        self,
        request: Request[Any, Any, Any],
        audit_service: NamedDependency[AuditService],
        limit: Limit = 100,
        offset: Offset = 0,
        survey_id: Annotated[
            uuid.UUID | None, QueryParameter(description="Only reads of this survey.")
        ] = None,
        since: Annotated[
            dt.datetime | None,
            QueryParameter(description="Only reads at or after this time (ISO 8601 with zone)."),
        ] = None,
        until: Annotated[
            dt.datetime | None,
            QueryParameter(description="Only reads before this time (ISO 8601 with zone)."),
        ] = None,
        action: Annotated[
            str | None,
            QueryParameter(max_length=64, description="Only this action, e.g. report.html."),
        ] = None,
        key_prefix: Annotated[
            str | None,
            QueryParameter(
                max_length=32, description="Only reads by this key (its prefix, as listed)."
            ),
        ] = None,
    ) -> Page[AuditEntryRead]:
        """Every recorded read of the tenant's reports and exports: when, which key
        (prefix) or share link, which survey, what (action, route, options, format)
        and the answer's status (failed reads included). Never another tenant's."""
        items, total = await audit_service.page(
            limit,
            offset,
            survey_id=survey_id,
            since=_aware(request, "since"),
            until=_aware(request, "until"),
            action=action,
            key_prefix=key_prefix,
        )
        return Page[AuditEntryRead](items=items, total=total, limit=limit, offset=offset)
