"""A request's answer never claims what its commit did not do.

The database refuses the commit itself here: a deferred constraint trigger (checked at
COMMIT, not at INSERT) raises for one respondent id, as a lost connection or a database
that cannot write would at that moment. PostgreSQL only: SQLite has no deferred
triggers, and its commit failures (disk full, I/O errors) take the same code path.
"""

from __future__ import annotations

import asyncio
from typing import Any

import pytest
from conftest import _pg

REFUSED = "refused-at-commit"

_TRIGGER = [
    """CREATE OR REPLACE FUNCTION mes_test_refuse_at_commit() RETURNS trigger
       LANGUAGE plpgsql AS $$
       BEGIN
         IF NEW.respondent = 'refused-at-commit' THEN
           RAISE EXCEPTION 'the database refused the commit (test trigger)';
         END IF;
         RETURN NULL;
       END $$""",
    """CREATE CONSTRAINT TRIGGER mes_test_refuse_at_commit AFTER INSERT ON survey_response
       DEFERRABLE INITIALLY DEFERRED FOR EACH ROW EXECUTE FUNCTION mes_test_refuse_at_commit()""",
]
_DROP = [
    "DROP TRIGGER IF EXISTS mes_test_refuse_at_commit ON survey_response",
    "DROP FUNCTION IF EXISTS mes_test_refuse_at_commit()",
]


def _batch(*respondents: str) -> dict[str, Any]:
    return {
        "responses": [
            {"respondent": r, "answers": {f"mes{j:02d}": 1 + (i + j) % 5 for j in range(1, 31)}}
            for i, r in enumerate(respondents)
        ]
    }


@pytest.mark.parametrize("database_url", ["postgresql"], indirect=True)
def test_a_refused_commit_is_a_500_and_stores_nothing(
    database_url: str, client: Any, admin: dict[str, str]
) -> None:
    asyncio.run(_pg(database_url, *_TRIGGER))
    try:
        survey = client.post(
            "/v1/surveys", json={"title": "commit", "instrument": "mes"}, headers=admin
        ).json()["id"]
        others = [f"r{i}" for i in range(11)]
        refused = client.post(
            f"/v1/surveys/{survey}/responses", json=_batch(*others, REFUSED), headers=admin
        )
        # Before: advanced-alchemy's autocommit logged the failed commit at DEBUG and the
        # client was told 201 Created for 12 rows that were never stored.
        assert refused.status_code == 500, refused.text
        assert refused.headers["content-type"].startswith("application/problem+json")
        problem = refused.json()
        assert problem["status"] == 500
        assert len(problem["error_id"]) == 32
        assert "nothing was stored" in problem["detail"]
        assert problem["error_id"] in problem["detail"]

        shown = client.get(f"/v1/surveys/{survey}", headers=admin).json()
        assert shown["responses"] == 0
        listed = client.get(f"/v1/surveys/{survey}/responses", headers=admin).json()
        assert listed["total"] == 0
        assert listed["items"] == []

        # The same respondents without the refused one are stored: nothing was left behind.
        stored = client.post(
            f"/v1/surveys/{survey}/responses", json=_batch(*others), headers=admin
        )
        assert stored.status_code == 201, stored.text
        assert stored.json()["total"] == 11
    finally:
        asyncio.run(_pg(database_url, *_DROP))
