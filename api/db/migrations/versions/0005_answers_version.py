"""answers version per survey

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-22 06:00:00

``survey.answers_version`` is raised by every write of a survey's responses (a batch, a
replacement, an erasure), in the write's own transaction. A worker keeps the decoded
answers of a survey it has read for as long as the version it reads from the survey row
is the one it read them at (api/domain/responses/cache.py).
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("survey") as batch:
        batch.add_column(
            sa.Column("answers_version", sa.BigInteger(), nullable=False, server_default="0")
        )


def downgrade() -> None:
    with op.batch_alter_table("survey") as batch:
        batch.drop_column("answers_version")
