"""audit log of report reads

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-22 02:30:00.000000
"""

from __future__ import annotations

from typing import Any

import advanced_alchemy.types
import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None

GUID = advanced_alchemy.types.guid.GUID
UTC = advanced_alchemy.types.datetime.DateTimeUTC


def _json() -> sa.types.TypeEngine[Any]:
    return sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql")


def upgrade() -> None:
    op.create_table(
        "audit_log",
        sa.Column("id", GUID(length=16), nullable=False),
        sa.Column("tenant_id", GUID(length=16), nullable=False),
        sa.Column("survey_id", GUID(length=16), nullable=True),
        sa.Column("api_key_id", GUID(length=16), nullable=True),
        sa.Column("key_prefix", sa.String(length=32), nullable=True),
        sa.Column("share_id", GUID(length=16), nullable=True),
        sa.Column("action", sa.String(length=64), nullable=False),
        sa.Column("route", sa.String(length=200), nullable=False),
        sa.Column("format", sa.String(length=16), nullable=False),
        sa.Column("options", _json(), nullable=False),
        sa.Column("status_code", sa.Integer(), nullable=False),
        sa.Column("sa_orm_sentinel", sa.Integer(), nullable=True),
        sa.Column("created_at", UTC(timezone=True), nullable=False),
        sa.Column("updated_at", UTC(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["tenant_id"],
            ["tenant.id"],
            name=op.f("fk_audit_log_tenant_id_tenant"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_audit_log")),
    )
    op.create_index(
        "ix_audit_log_tenant_created", "audit_log", ["tenant_id", "created_at"], unique=False
    )


def downgrade() -> None:
    op.drop_index("ix_audit_log_tenant_created", table_name="audit_log")
    op.drop_table("audit_log")
