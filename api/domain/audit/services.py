"""Write and read the audit log.

An entry is written in a session and transaction of its own, committed before the
first byte of the answer is sent (see :mod:`api.domain.audit.middleware`): failed
reads are recorded too (the request's own transaction is rolled back on errors),
and a read whose entry cannot be written is answered 500, never silently served.
"""

from __future__ import annotations

import datetime as dt
import uuid
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from api.db.models import AuditLogEntry
from api.domain.audit.schemas import AuditEntryRead

__all__ = ["AuditRecord", "AuditService", "write_entry"]


@dataclass
class AuditRecord:
    """What the middleware knows about one read once its answer starts."""

    tenant_id: uuid.UUID
    action: str
    route: str
    format: str
    status: int
    survey_id: uuid.UUID | None = None
    api_key_id: uuid.UUID | None = None
    key_prefix: str | None = None
    share_id: uuid.UUID | None = None
    options: dict[str, Any] = field(default_factory=dict)


async def write_entry(session_maker: async_sessionmaker[AsyncSession], record: AuditRecord) -> None:
    """Insert and commit one entry in a session of its own (raises when it cannot)."""
    async with session_maker() as session:
        session.add(
            AuditLogEntry(
                tenant_id=record.tenant_id,
                survey_id=record.survey_id,
                api_key_id=record.api_key_id,
                key_prefix=record.key_prefix,
                share_id=record.share_id,
                action=record.action,
                route=record.route,
                format=record.format,
                options=record.options,
                status_code=record.status,
            )
        )
        await session.commit()


class AuditService:
    """One tenant's audit trail (another tenant's entries are never visible)."""

    def __init__(self, session: AsyncSession, tenant_id: uuid.UUID) -> None:
        self.session = session
        self.tenant_id = tenant_id

    async def page(
        self,
        limit: int,
        offset: int,
        *,
        survey_id: uuid.UUID | None = None,
        since: dt.datetime | None = None,
        until: dt.datetime | None = None,
        action: str | None = None,
        key_prefix: str | None = None,
    ) -> tuple[list[AuditEntryRead], int]:
        """Entries newest first, filtered; and how many match in all."""
        where = [AuditLogEntry.tenant_id == self.tenant_id]
        if survey_id is not None:
            where.append(AuditLogEntry.survey_id == survey_id)
        if since is not None:
            where.append(AuditLogEntry.created_at >= since)
        if until is not None:
            where.append(AuditLogEntry.created_at < until)
        if action is not None:
            where.append(AuditLogEntry.action == action)
        if key_prefix is not None:
            where.append(AuditLogEntry.key_prefix == key_prefix)
        total = int(
            await self.session.scalar(select(func.count()).select_from(AuditLogEntry).where(*where))
            or 0
        )
        rows = await self.session.scalars(
            select(AuditLogEntry)
            .where(*where)
            .order_by(AuditLogEntry.created_at.desc(), AuditLogEntry.id)
            .limit(limit)
            .offset(offset)
        )
        return [
            AuditEntryRead(
                id=r.id,
                at=r.created_at,
                survey=r.survey_id,
                key_id=r.api_key_id,
                key_prefix=r.key_prefix,
                share_id=r.share_id,
                action=r.action,
                route=r.route,
                format=r.format,
                options=dict(r.options or {}),
                status=r.status_code,
            )
            for r in rows
        ], total
