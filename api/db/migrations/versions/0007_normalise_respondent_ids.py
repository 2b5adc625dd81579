"""respondent ids in their normal form

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-02 06:00:00

Every upload now stores respondent ids in Unicode NFC without surrounding white space
(mes.identifiers.normalise_respondent_id), so that ``"r1 "`` and ``"r1"`` are one
person. Ids stored before that rule are rewritten to the same form, so that the next
upload of the same person meets them; the answers version of each changed survey is
raised, so that no process serves a cached copy with the old ids.

Left as they were: an id whose normal form another respondent of the survey already
has (two rows that may be one person: only their owner can say), and an id the rule
now refuses (an invisible character, say). Both stay reachable: erasure tries the id
as sent when its normal form finds no one.
"""

from __future__ import annotations

from collections import defaultdict

import sqlalchemy as sa
from alembic import op

from mes.identifiers import InvalidRespondentIdError, normalise_respondent_id

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None


def upgrade() -> None:
    connection = op.get_bind()
    rows = connection.execute(sa.text("SELECT id, survey_id, respondent FROM survey_response"))
    ids_by_survey: dict[object, set[str]] = defaultdict(set)
    candidates = []
    for row_id, survey_id, respondent in rows:
        ids_by_survey[survey_id].add(respondent)
        try:
            normal = normalise_respondent_id(respondent)
        except InvalidRespondentIdError:
            continue
        if normal != respondent:
            candidates.append((row_id, survey_id, normal))
    changed_surveys = set()
    for row_id, survey_id, normal in candidates:
        taken = ids_by_survey[survey_id]
        if normal in taken:
            continue
        taken.add(normal)
        connection.execute(
            sa.text("UPDATE survey_response SET respondent = :normal WHERE id = :row_id"),
            {"normal": normal, "row_id": row_id},
        )
        changed_surveys.add(survey_id)
    for survey_id in changed_surveys:
        connection.execute(
            sa.text(
                "UPDATE survey SET answers_version = answers_version + 1 WHERE id = :survey_id"
            ),
            {"survey_id": survey_id},
        )


def downgrade() -> None:
    """Nothing to undo: the normal form is the same respondent's id."""
