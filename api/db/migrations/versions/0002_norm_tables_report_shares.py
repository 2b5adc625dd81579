"""norm tables, report shares, service secrets

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-22 00:52:30.770357
"""

from __future__ import annotations

from typing import Any

import advanced_alchemy.types
import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None

GUID = advanced_alchemy.types.guid.GUID
UTC = advanced_alchemy.types.datetime.DateTimeUTC


def _json() -> sa.types.TypeEngine[Any]:
    return sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql")


def _audit() -> list[sa.Column[Any]]:
    return [
        sa.Column("sa_orm_sentinel", sa.Integer(), nullable=True),
        sa.Column("created_at", UTC(timezone=True), nullable=False),
        sa.Column("updated_at", UTC(timezone=True), nullable=False),
    ]


def upgrade() -> None:
    op.create_table(
        "service_secret",
        sa.Column("id", GUID(length=16), nullable=False),
        sa.Column("name", sa.String(length=64), nullable=False),
        sa.Column("value", sa.String(length=200), nullable=False),
        *_audit(),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_service_secret")),
        sa.UniqueConstraint("name", name=op.f("uq_service_secret_name")),
    )
    op.create_table(
        "norm_table",
        sa.Column("id", GUID(length=16), nullable=False),
        sa.Column("tenant_id", GUID(length=16), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("instrument_id", sa.String(length=64), nullable=True),
        sa.Column("metric", sa.String(length=16), nullable=False),
        sa.Column("source", sa.String(length=500), nullable=True),
        sa.Column("values", _json(), nullable=False),
        *_audit(),
        sa.ForeignKeyConstraint(
            ["tenant_id"],
            ["tenant.id"],
            name=op.f("fk_norm_table_tenant_id_tenant"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_norm_table")),
    )
    op.create_index(op.f("ix_norm_table_tenant_id"), "norm_table", ["tenant_id"], unique=False)
    op.create_table(
        "report_share",
        sa.Column("id", GUID(length=16), nullable=False),
        sa.Column("tenant_id", GUID(length=16), nullable=False),
        sa.Column("survey_id", GUID(length=16), nullable=False),
        sa.Column("options", _json(), nullable=False),
        sa.Column("expires_at", UTC(timezone=True), nullable=False),
        sa.Column("revoked_at", UTC(timezone=True), nullable=True),
        *_audit(),
        sa.ForeignKeyConstraint(
            ["survey_id"],
            ["survey.id"],
            name=op.f("fk_report_share_survey_id_survey"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["tenant_id"],
            ["tenant.id"],
            name=op.f("fk_report_share_tenant_id_tenant"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_report_share")),
    )
    op.create_index(op.f("ix_report_share_tenant_id"), "report_share", ["tenant_id"], unique=False)


def downgrade() -> None:
    op.drop_index(op.f("ix_report_share_tenant_id"), table_name="report_share")
    op.drop_table("report_share")
    op.drop_index(op.f("ix_norm_table_tenant_id"), table_name="norm_table")
    op.drop_table("norm_table")
    op.drop_table("service_secret")
