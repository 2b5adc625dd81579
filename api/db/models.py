"""SQLAlchemy 2 models of the service's tables.

Answers are stored one row per respondent, as a JSON object item id -> answer
(as submitted, so that an export is a plain dump of the rows) and packed in
item order (``packed``, see api/domain/responses/packing.py), so that a report
reads one short column per respondent with one indexed query.
"""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Any

from advanced_alchemy.base import UUIDAuditBase
from advanced_alchemy.types import DateTimeUTC
from sqlalchemy import (
    JSON,
    BigInteger,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import Mapped, mapped_column

__all__ = [
    "ApiKey",
    "AuditLogEntry",
    "Base",
    "IdempotencyRecord",
    "NormTable",
    "ReportRelease",
    "ReportShare",
    "ServiceSecret",
    "Survey",
    "SurveyResponse",
    "Tenant",
    "TenantInstrument",
]

Base = UUIDAuditBase

# JSON on SQLite, JSONB on PostgreSQL.
JsonB = JSON().with_variant(JSONB(), "postgresql")


class Tenant(UUIDAuditBase):
    """An organisation (a deanery, a trust) whose data is kept apart from all others."""

    __tablename__ = "tenant"
    name: Mapped[str] = mapped_column(String(200), unique=True)


class ApiKey(UUIDAuditBase):
    """An API key: only its SHA-256 hash is stored; ``prefix`` finds it quickly."""

    __tablename__ = "api_key"
    tenant_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("tenant.id", ondelete="CASCADE"))
    prefix: Mapped[str] = mapped_column(String(32), unique=True, index=True)
    key_hash: Mapped[str] = mapped_column(String(64))
    scopes: Mapped[list[str]] = mapped_column(JsonB)
    revoked_at: Mapped[dt.datetime | None] = mapped_column(DateTimeUTC(timezone=True), default=None)


class TenantInstrument(UUIDAuditBase):
    """An instrument definition a tenant registered (visible to that tenant only)."""

    __tablename__ = "tenant_instrument"
    __table_args__ = (UniqueConstraint("tenant_id", "instrument_id", "version"),)
    tenant_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("tenant.id", ondelete="CASCADE"))
    instrument_id: Mapped[str] = mapped_column(String(64))
    version: Mapped[str] = mapped_column(String(32))
    definition: Mapped[dict[str, Any]] = mapped_column(JsonB)


class Survey(UUIDAuditBase):
    """A tenant's survey: pins one instrument id and version."""

    __tablename__ = "survey"
    tenant_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("tenant.id", ondelete="CASCADE"), index=True
    )
    title: Mapped[str] = mapped_column(String(500))
    instrument_id: Mapped[str] = mapped_column(String(64))
    instrument_version: Mapped[str] = mapped_column(String(32))
    status: Mapped[str] = mapped_column(String(16), default="open")
    declared_attributes: Mapped[dict[str, Any] | None] = mapped_column(JsonB, default=None)
    response_count: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    # The breakdowns that may be reported (None: each attribute on its own).
    reporting_plan: Mapped[list[list[str]] | None] = mapped_column(JsonB, default=None)
    # When the reports were released (report_release): then frozen, never reopened.
    released_at: Mapped[dt.datetime | None] = mapped_column(
        DateTimeUTC(timezone=True), default=None
    )
    # Raised by every write of the survey's responses (api/domain/responses/cache.py).
    answers_version: Mapped[int] = mapped_column(BigInteger, default=0, server_default="0")


class SurveyResponse(UUIDAuditBase):
    """One respondent's answers to a survey (answers and attributes as JSON objects)."""

    __tablename__ = "survey_response"
    __table_args__ = (UniqueConstraint("survey_id", "respondent"),)
    survey_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("survey.id", ondelete="CASCADE"))
    respondent: Mapped[str] = mapped_column(String(200))
    answers: Mapped[dict[str, Any]] = mapped_column(JsonB)
    attributes: Mapped[dict[str, Any]] = mapped_column(JsonB, default=dict)
    packed: Mapped[bytes | None] = mapped_column(LargeBinary, default=None)


class IdempotencyRecord(UUIDAuditBase):
    """The first result of a request sent with an ``Idempotency-Key`` header."""

    __tablename__ = "idempotency_record"
    __table_args__ = (UniqueConstraint("tenant_id", "key"), Index("ix_idem_created", "created_at"))
    tenant_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("tenant.id", ondelete="CASCADE"))
    key: Mapped[str] = mapped_column(String(200))
    request_hash: Mapped[str] = mapped_column(String(64))
    status_code: Mapped[int] = mapped_column(Integer)
    body: Mapped[str] = mapped_column(Text)


class NormTable(UUIDAuditBase):
    """A comparison set a tenant uploaded: per scale, one value per organisation."""

    __tablename__ = "norm_table"
    tenant_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("tenant.id", ondelete="CASCADE"), index=True
    )
    name: Mapped[str] = mapped_column(String(200))
    instrument_id: Mapped[str | None] = mapped_column(String(64), default=None)
    metric: Mapped[str] = mapped_column(String(16))
    source: Mapped[str | None] = mapped_column(String(500), default=None)
    values: Mapped[dict[str, Any]] = mapped_column(JsonB)


class ReportRelease(UUIDAuditBase):
    """The reports of a closed survey, computed once (api/domain/reports/releases.py).

    Every report read of the survey is served from here, so reads at different moments
    cannot be subtracted from each other, and an erasure after the release removes the
    person's answers without changing a published figure. ``reports`` maps each allowed
    breakdown (attributes joined by ``,``; ``""`` for the overall group) to a
    :meth:`mes.groups.GroupReport.to_dict`; every one of them was protected together
    with the others. ``reliability`` holds ``scales`` (scale id ->
    ``ScaleReliability.to_dict()``) and ``intercorrelations``
    (``ScaleCorrelations.to_dict()``); None with too few respondents. Only aggregates
    over groups of at least ``min_group_size`` respondents are kept: no answer, no
    respondent id.
    """

    __tablename__ = "report_release"
    tenant_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("tenant.id", ondelete="CASCADE"))
    survey_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("survey.id", ondelete="CASCADE"), unique=True
    )
    plan: Mapped[list[list[str]]] = mapped_column(JsonB)
    min_group_size: Mapped[int] = mapped_column(Integer)
    respondents: Mapped[int] = mapped_column(Integer)
    reports: Mapped[dict[str, Any]] = mapped_column(JsonB)
    reliability: Mapped[dict[str, Any] | None] = mapped_column(JsonB, default=None)


class ReportShare(UUIDAuditBase):
    """A signed, expiring, read-only link to one report (survey + options)."""

    __tablename__ = "report_share"
    tenant_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("tenant.id", ondelete="CASCADE"), index=True
    )
    survey_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("survey.id", ondelete="CASCADE"))
    options: Mapped[dict[str, Any]] = mapped_column(JsonB)
    expires_at: Mapped[dt.datetime] = mapped_column(DateTimeUTC(timezone=True))
    revoked_at: Mapped[dt.datetime | None] = mapped_column(DateTimeUTC(timezone=True), default=None)


class ServiceSecret(UUIDAuditBase):
    """A secret the service generated for itself (the share-link signing key when
    ``MES_SECRET_KEY`` is unset), kept so that restarts keep links valid."""

    __tablename__ = "service_secret"
    name: Mapped[str] = mapped_column(String(64), unique=True)
    value: Mapped[str] = mapped_column(String(200))


class AuditLogEntry(UUIDAuditBase):
    """One read of a report (or of a personal-data export): who, what, when, with what result.

    ``created_at`` is when. Who is the API key (``api_key_id`` and its public
    ``key_prefix``, never the key) or the share link (``share_id``). There are no
    foreign keys to the survey, key or share, so that the trail outlives them;
    only deleting the tenant deletes its trail.
    """

    __tablename__ = "audit_log"
    __table_args__ = (Index("ix_audit_log_tenant_created", "tenant_id", "created_at"),)
    tenant_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("tenant.id", ondelete="CASCADE"))
    survey_id: Mapped[uuid.UUID | None] = mapped_column(default=None)
    api_key_id: Mapped[uuid.UUID | None] = mapped_column(default=None)
    key_prefix: Mapped[str | None] = mapped_column(String(32), default=None)
    share_id: Mapped[uuid.UUID | None] = mapped_column(default=None)
    action: Mapped[str] = mapped_column(String(64))
    route: Mapped[str] = mapped_column(String(200))
    format: Mapped[str] = mapped_column(String(16))
    options: Mapped[dict[str, Any]] = mapped_column(JsonB, default=dict)
    status_code: Mapped[int] = mapped_column(Integer)
