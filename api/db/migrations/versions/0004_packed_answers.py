"""packed answers per response, response count per survey

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-22 02:50:00

``survey_response.packed`` holds the validated answers in item order, one byte
(or two) per item, so that a report decodes a survey with one numpy call
(api/domain/responses/packing.py). Rows stored before this revision keep
``packed`` NULL and are read from their JSON answers instead.
``survey.response_count`` replaces a ``count(*)`` over the survey per batch.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("survey_response") as batch:
        batch.add_column(sa.Column("packed", sa.LargeBinary(), nullable=True))
    with op.batch_alter_table("survey") as batch:
        batch.add_column(
            sa.Column("response_count", sa.Integer(), nullable=False, server_default="0")
        )
    op.execute(
        "UPDATE survey SET response_count = "
        "(SELECT count(*) FROM survey_response WHERE survey_response.survey_id = survey.id)"
    )


def downgrade() -> None:
    with op.batch_alter_table("survey") as batch:
        batch.drop_column("response_count")
    with op.batch_alter_table("survey_response") as batch:
        batch.drop_column("packed")
