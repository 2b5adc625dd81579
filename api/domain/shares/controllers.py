"""Share links: ``/v1/surveys/{id}/report/shares``, ``/v1/shares`` and the public
``/shared/{token}`` page (no key)."""

from __future__ import annotations

import uuid
from typing import Any

from litestar import Controller, MediaType, Request, Response, delete, get, post
from litestar.di import NamedDependency, Provide
from litestar.params import FromPath, JSONBody
from sqlalchemy.ext.asyncio import AsyncSession

from api.auth.guards import requires
from api.db.models import ReportShare
from api.domain.audit.middleware import AuditMiddleware, audit_context
from api.domain.reports.html import html_response
from api.domain.reports.services import ReportService
from api.domain.shares.schemas import ShareCreate, ShareRead
from api.domain.shares.services import ShareService, check_share, find_share, shared_report
from api.domain.shares.signing import signing_key
from api.openapi_responses import problem_responses

__all__ = ["ShareController", "SharedReportController"]


async def provide_key(request: Request[Any, Any, Any]) -> bytes:
    """The share-link signing key (read, or made, in a session of its own; cached)."""
    state = request.app.state
    key = state.get("share_signing_key")
    if key is None:
        async with state.session_maker() as session:
            key = await signing_key(session, state.settings)
        state["share_signing_key"] = key
    return bytes(key)


async def provide_shares(
    request: Request[Any, Any, Any],
    db_session: NamedDependency[AsyncSession],
    tenant_id: NamedDependency[uuid.UUID],
    share_key: NamedDependency[bytes],
    report_service: NamedDependency[ReportService],
) -> ShareService:
    """Share links of the caller's tenant."""
    return ShareService(
        db_session, tenant_id, request.app.state.settings, share_key, report_service
    )


async def provide_share(
    request: Request[Any, Any, Any],
    db_session: NamedDependency[AsyncSession],
    share_key: NamedDependency[bytes],
    token: FromPath[str],
) -> ReportShare:
    """The link a token names, when it may be read (404 forged, unknown or revoked; 410
    expired).

    Every read of a genuine link, revoked and expired ones included, is recorded in the
    audit log of the tenant that shared it, so the link is put in the audit context before
    it is judged; a forged token is nobody's.
    """
    share = await find_share(db_session, share_key, token)
    if share is not None:
        audit_context(request.scope).update(
            tenant_id=share.tenant_id, survey_id=share.survey_id, share_id=share.id
        )
    return check_share(share, share_key, token)


async def provide_share_tenant(share: NamedDependency[ReportShare]) -> uuid.UUID:
    """A link's page is read by the services of the tenant that shared it (no key)."""
    return share.tenant_id


def _base_url(request: Request[Any, Any, Any]) -> str:
    return str(request.base_url)


class ShareController(Controller):
    """Signed, expiring, read-only links to one report."""

    path = "/"
    tags = ["shares"]  # noqa: RUF012
    guards = [requires("reports:read")]  # noqa: RUF012
    dependencies = {  # noqa: RUF012
        "share_key": Provide(provide_key),
        "share_service": Provide(provide_shares),
    }

    @post(
        "/surveys/{survey_id:uuid}/report/shares",
        operation_id="createReportShare",
        summary="Create a share link to this report",
        status_code=201,
        responses=problem_responses(401, 403, 404, 409, 415, 429),
    )
    async def create(
        self,
        request: Request[Any, Any, Any],
        share_service: NamedDependency[ShareService],
        survey_id: FromPath[uuid.UUID],
        data: JSONBody[ShareCreate],
    ) -> ShareRead:
        """``{id, url, expires_at, ...}``: ``url`` opens the report's HTML page without a key
        until it expires (410 afterwards) or is revoked (404 afterwards).

        The token in the URL is the link's id and expiry signed with HMAC-SHA256 under
        ``MES_SECRET_KEY`` (or a key the service generated and keeps in its database).
        The page applies at least the service's ``MES_MIN_GROUP_SIZE``.
        """
        return await share_service.create(survey_id, data, _base_url(request))

    @get(
        "/shares",
        operation_id="listShares",
        summary="The tenant's share links",
        responses=problem_responses(401, 403, 429),
    )
    async def list_shares(
        self, request: Request[Any, Any, Any], share_service: NamedDependency[ShareService]
    ) -> list[ShareRead]:
        """Every link, newest first, with its state (active, expired, revoked)."""
        return await share_service.list_shares(_base_url(request))

    @delete(
        "/shares/{share_id:uuid}",
        operation_id="revokeShare",
        summary="Revoke a share link",
        responses=problem_responses(401, 403, 404, 429),
    )
    async def revoke(
        self, share_service: NamedDependency[ShareService], share_id: FromPath[uuid.UUID]
    ) -> None:
        """204; the link answers 404 from now on."""
        await share_service.revoke(share_id)


class SharedReportController(Controller):
    """The public page of a share link (no API key)."""

    path = "/shared"
    tags = ["shares"]  # noqa: RUF012
    dependencies = {  # noqa: RUF012
        "share_key": Provide(provide_key),
        "share": Provide(provide_share),
        "tenant_id": Provide(provide_share_tenant),
    }
    middleware = [AuditMiddleware]  # noqa: RUF012 - every read of a link is recorded

    @get(
        "/{token:str}",
        operation_id="getSharedReport",
        opt={"audit": "shared_report"},
        summary="The report of a share link, as HTML (no key needed)",
        media_type=MediaType.HTML,
        security=[],
        responses=problem_responses(404, 409, 410),
    )
    async def shared(
        self,
        report_service: NamedDependency[ReportService],
        share: NamedDependency[ReportShare],
    ) -> Response[str]:
        """The one report the link was made for. 404 when the token is unknown, forged or
        revoked; 410 when it expired.

        Every read of a genuine link (revoked and expired ones included) is recorded in
        the audit log of the tenant that shared it; a forged token is nobody's.
        """
        result = await shared_report(report_service, share)
        response = html_response(result)
        response.headers["X-Robots-Tag"] = "noindex, nofollow"
        return response
