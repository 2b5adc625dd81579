"""Share links of one tenant, and the public view of a link.

A share pins one report (survey, ``by`` and options). Its page applies at
least the service's *current* ``MES_MIN_GROUP_SIZE`` whatever the link says,
so nothing below the suppression threshold is ever shown through a link.
"""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from api.db.models import ReportShare
from api.domain.reports.services import ReportOptions, ReportService, SurveyReport, parse_by
from api.domain.shares.schemas import ShareCreate, ShareRead
from api.domain.shares.signing import sign, verify
from api.errors import FieldError, ProblemError
from api.settings import Settings

__all__ = ["ShareService", "check_share", "find_share", "now", "shared_report"]


def now() -> dt.datetime:
    """The current time (UTC); tests move it forward."""
    return dt.datetime.now(dt.UTC)


def _aware(when: dt.datetime) -> dt.datetime:
    return when if when.tzinfo is not None else when.replace(tzinfo=dt.UTC)


class ShareService:
    """Create, list and revoke one tenant's share links.

    Parameters
    ----------
    reports : ReportService, optional
        The same tenant's report service: the request's on the routes
        (:func:`api.dependencies.provide_reports`); by default one on ``session`` at the
        configured floor, for callers outside a request (``mes demo``).
    """

    def __init__(
        self,
        session: AsyncSession,
        tenant_id: uuid.UUID,
        settings: Settings,
        key: bytes,
        reports: ReportService | None = None,
    ) -> None:
        self.session = session
        self.tenant_id = tenant_id
        self.settings = settings
        self.key = key
        self.reports = reports or ReportService.for_tenant(
            session, tenant_id, settings.min_group_size
        )

    async def create(self, survey_id: uuid.UUID, data: ShareCreate, base_url: str) -> ShareRead:
        """Store a link after computing its report once (so a link never points at an error).

        Raises
        ------
        ProblemError
            404 unknown survey, previous survey or norm table; 422 invalid options
            or a lifetime above ``MES_SHARE_MAX_DAYS``.
        """
        limit = self.settings.share_max_days
        if data.expires_in_days > limit:
            raise ProblemError(
                422,
                f"expires_in_days must be at most {limit} (MES_SHARE_MAX_DAYS)",
                errors=[
                    FieldError(
                        field="expires_in_days",
                        value=data.expires_in_days,
                        message=f"must be <= {limit}.",
                    )
                ],
                limit=limit,
            )
        by = parse_by(",".join(data.by) if isinstance(data.by, list) else data.by)
        options: dict[str, Any] = {
            "by": by,
            "min_group_size": data.min_group_size,
            "previous": None if data.previous is None else str(data.previous),
            "benchmark": data.benchmark,
        }
        await self.reports.report(
            survey_id,
            by,
            data.min_group_size,
            ReportOptions(previous=data.previous, benchmark=data.benchmark),
        )
        expires = (now() + dt.timedelta(days=data.expires_in_days)).replace(microsecond=0)
        share = ReportShare(
            tenant_id=self.tenant_id, survey_id=survey_id, options=options, expires_at=expires
        )
        self.session.add(share)
        await self.session.flush()
        return self.read(share, base_url)

    async def list_shares(self, base_url: str) -> list[ShareRead]:
        """Every link of the tenant (revoked and expired ones included), newest first."""
        rows = await self.session.scalars(
            select(ReportShare)
            .where(ReportShare.tenant_id == self.tenant_id)
            .order_by(ReportShare.created_at.desc(), ReportShare.id)
        )
        return [self.read(r, base_url) for r in rows]

    async def revoke(self, share_id: uuid.UUID) -> None:
        """Revoke a link (404 when unknown or another tenant's; revoking twice is harmless)."""
        share = await self.session.scalar(
            select(ReportShare).where(
                ReportShare.id == share_id, ReportShare.tenant_id == self.tenant_id
            )
        )
        if share is None:
            raise ProblemError(404, f"no share link {share_id} for this tenant")
        if share.revoked_at is None:
            share.revoked_at = now()
            await self.session.flush()

    def read(self, share: ReportShare, base_url: str) -> ShareRead:
        """The API view of a link, with its URL."""
        expires = _aware(share.expires_at)
        state = "revoked" if share.revoked_at else "expired" if expires <= now() else "active"
        token = sign(self.key, share.id, expires)
        return ShareRead(
            id=share.id,
            url=f"{base_url.rstrip('/')}/shared/{token}",
            survey=share.survey_id,
            options=dict(share.options),
            expires_at=expires,
            created_at=share.created_at,
            revoked_at=share.revoked_at,
            state=state,
        )


async def find_share(session: AsyncSession, key: bytes, token: str) -> ReportShare | None:
    """The stored link a genuine token names, revoked and expired ones included (None for a
    forged token or a link that is not stored)."""
    signed = verify(key, token)
    if signed is None:
        return None
    return await session.scalar(select(ReportShare).where(ReportShare.id == signed.share_id))


def check_share(share: ReportShare | None, key: bytes, token: str) -> ReportShare:
    """The link a token names (``share``, as :func:`find_share` found it) when it may be read:
    404 when the token is forged, unknown or revoked, 410 when it expired."""
    signed = verify(key, token)
    unknown = ProblemError(404, "no such share link (it may have been revoked)")
    if signed is None:
        raise unknown
    if (
        share is None
        or share.revoked_at is not None
        or int(_aware(share.expires_at).timestamp()) != int(signed.expires_at.timestamp())
    ):
        raise unknown
    if _aware(share.expires_at) <= now():
        raise ProblemError(
            410,
            f"this share link expired at {_aware(share.expires_at).isoformat()}; ask the person "
            "who shared it for a new link",
        )
    return share


async def shared_report(reports: ReportService, share: ReportShare) -> SurveyReport:
    """The one report a link was made for, by ``reports`` of the tenant that shared it.

    The threshold is the larger of the link's and the service's current floor.
    """
    options = share.options
    floor = reports.floor
    threshold = max(floor, int(options.get("min_group_size") or floor))
    previous = options.get("previous")
    try:
        return await reports.report(
            share.survey_id,
            list(options.get("by") or []),
            threshold,
            ReportOptions(
                previous=uuid.UUID(previous) if previous else None,
                benchmark=options.get("benchmark"),
                reliability=True,
            ),
        )
    except ProblemError as exc:
        if exc.status == 404:  # the survey or a table it named was deleted since
            raise ProblemError(
                404,
                "the report this link showed no longer exists (its survey or a table "
                "it used was deleted)",
            ) from None
        raise
