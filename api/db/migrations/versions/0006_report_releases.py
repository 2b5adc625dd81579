"""reporting plans and report releases

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-02 03:00:00

``survey.reporting_plan`` lists the breakdowns that may be reported. ``report_release``
holds a closed survey's reports, computed once at the first read after closing
(api/domain/reports/releases.py): aggregates only, every cell protected with the others.
"""

from __future__ import annotations

import advanced_alchemy.types
import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None

GUID = advanced_alchemy.types.guid.GUID
DateTimeUTC = advanced_alchemy.types.datetime.DateTimeUTC
JsonB = sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql")


def upgrade() -> None:
    with op.batch_alter_table("survey") as batch:
        batch.add_column(sa.Column("reporting_plan", JsonB, nullable=True))
        batch.add_column(sa.Column("released_at", DateTimeUTC(timezone=True), nullable=True))
    op.create_table(
        "report_release",
        sa.Column("id", GUID(length=16), primary_key=True),
        sa.Column(
            "tenant_id", GUID(length=16), sa.ForeignKey("tenant.id", ondelete="CASCADE"),
            nullable=False,
        ),
        sa.Column(
            "survey_id", GUID(length=16), sa.ForeignKey("survey.id", ondelete="CASCADE"),
            nullable=False, unique=True,
        ),
        sa.Column("plan", JsonB, nullable=False),
        sa.Column("min_group_size", sa.Integer(), nullable=False),
        sa.Column("respondents", sa.Integer(), nullable=False),
        sa.Column("reports", JsonB, nullable=False),
        sa.Column("reliability", JsonB, nullable=True),
        sa.Column("sa_orm_sentinel", sa.Integer(), nullable=True),
        sa.Column("created_at", DateTimeUTC(timezone=True), nullable=False),
        sa.Column("updated_at", DateTimeUTC(timezone=True), nullable=False),
    )


def downgrade() -> None:
    op.drop_table("report_release")
    with op.batch_alter_table("survey") as batch:
        batch.drop_column("released_at")
        batch.drop_column("reporting_plan")
