"""How responses are stored: packed answers, the survey's response count, old rows.

Reports and scores read the packed answers (api/domain/responses/packing.py);
rows stored before the packed column existed (migration 0004) have none and
must read exactly the same through their JSON answers.
"""

from __future__ import annotations

import asyncio
import uuid
from typing import Any

import pytest
from api_helpers import (
    bearer,
    close_survey,
    create_survey,
    mes_rows,
    same_up_to_summation_order,
)
from litestar.testing import TestClient
from sqlalchemy import text
from sqlalchemy.ext.asyncio import create_async_engine


def _sql(database_url: str, statement: str, **params: Any) -> list[Any]:
    """Run one statement on the test database directly; its rows (if any)."""

    async def run() -> list[Any]:
        engine = create_async_engine(database_url)
        try:
            async with engine.begin() as conn:
                result = await conn.execute(text(statement), params)
                return list(result.all()) if result.returns_rows else []
        finally:
            await engine.dispose()

    return asyncio.run(run())


def _survey_key(survey_id: str, database_url: str) -> Any:
    """The survey id as the database stores it (bytes on SQLite, uuid on PostgreSQL)."""
    return uuid.UUID(survey_id).bytes if database_url.startswith("sqlite") else survey_id


def _submit(client: TestClient[Any], admin: dict[str, str], sid: str, rows: Any, **q: str) -> Any:
    answer = client.post(
        f"/v1/surveys/{sid}/responses", json={"responses": rows}, headers=admin, params=q
    )
    assert answer.status_code == 201, answer.text
    return answer.json()


def test_packed_answers_are_item_order_values_with_codes_resolved(
    client: TestClient[Any], admin: dict[str, str], database_url: str
) -> None:
    sid = create_survey(client, admin)
    answers: dict[str, Any] = {f"mes{j:02d}": (j % 5) + 1 for j in range(1, 31)}
    answers["mes02"] = None  # missing
    answers["mes03"] = "SA"  # a code of the MES response scale: 5
    answers["mes04"] = ""  # missing too
    _submit(client, admin, sid, [{"respondent": "p1", "answers": answers}])
    (packed,) = _sql(
        database_url,
        "SELECT packed FROM survey_response WHERE survey_id = :s",
        s=_survey_key(sid, database_url),
    )[0]
    expected = [(j % 5) + 1 for j in range(1, 31)]  # answer x is stored as x - min + 1, min = 1
    expected[1], expected[2], expected[3] = 0, 5, 0
    assert bytes(packed) == bytes(expected)
    # The JSON keeps what was sent (the code, not its value), without the gaps.
    stored = client.get(f"/v1/surveys/{sid}/responses", headers=admin).json()["items"][0]
    assert stored["answers"]["mes03"] == "SA"
    assert "mes02" not in stored["answers"]
    assert "mes04" not in stored["answers"]


def test_rows_without_packed_answers_read_the_same(
    client: TestClient[Any], admin: dict[str, str], database_url: str, make_key: Any
) -> None:
    # Two surveys of the same rows: one stays packed, the other has half its rows
    # unpacked before its reports are released (read once, after closing). They belong
    # to two tenants: within one tenant the second release would be protected together
    # with the first (the same answers twice), and differ from it.
    other = bearer(make_key("admin", tenant=f"other-{uuid.uuid4().hex[:10]}"))
    packed, sid = (create_survey(client, headers, reporting_plan=[["site", "grade"]])
                   for headers in (admin, other))
    rows = mes_rows(80, seed=7)
    for i, row in enumerate(rows):
        row["attributes"] = {
            "site": "North" if i % 2 else "South",
            "grade": ["FY1", "ST3"][i % 3 == 0],
        }
        row["answers"]["mes05"] = ["SD", "D", "N", "A", "SA", None][i % 6]
    for survey, headers in ((packed, admin), (sid, other)):
        _submit(client, headers, survey, rows)
        close_survey(client, headers, survey)

    def urls(survey: str) -> list[str]:
        return [f"/v1/surveys/{survey}/report?by=site,grade",
                f"/v1/surveys/{survey}/scores?limit=80&attributes=true",
                f"/v1/surveys/{survey}/reliability"]

    before = [client.get(url, headers=admin).json() for url in urls(packed)]
    for body in before[1:]:
        body["survey"] = sid
    # What a database upgraded from before migration 0004 holds: half the rows unpacked.
    _sql(
        database_url,
        "UPDATE survey_response SET packed = NULL WHERE survey_id = :s AND respondent < 'r00040'",
        s=_survey_key(sid, database_url),
    )
    remaining = _sql(
        database_url,
        "SELECT count(*) FROM survey_response WHERE survey_id = :s AND packed IS NULL",
        s=_survey_key(sid, database_url),
    )
    assert remaining[0][0] == 40
    # A hand-made UPDATE does not raise the survey's answers_version, so a cached copy
    # would hide it; nothing of this survey has been read yet, so the reads below go to
    # the database, as an upgraded server's first reads do.
    answer_cache = client.app.state.answer_cache
    misses = answer_cache.misses
    after = [client.get(url, headers=other).json() for url in urls(sid)]
    assert answer_cache.misses > misses  # read from the database, unpacked rows included
    # Equal up to summation order: the database may return the rows in another order now.
    assert same_up_to_summation_order(after, before)
    assert before[0]["groups"][0]["n"] == 80  # the overall row: the report saw every row


def test_response_count_follows_submit_replace_and_erase(
    client: TestClient[Any], admin: dict[str, str], database_url: str
) -> None:
    sid = create_survey(client, admin)
    assert _submit(client, admin, sid, mes_rows(10))["total"] == 10
    rows = mes_rows(12, seed=3)[8:]  # r00008..r00011: two exist, two are new
    for i, row in enumerate(rows):
        row["respondent"] = f"r{8 + i:05d}"
    result = _submit(client, admin, sid, rows, on_conflict="replace")
    assert (result["accepted"], result["replaced"], result["total"]) == (4, 2, 12)
    assert client.delete(f"/v1/surveys/{sid}/responses/r00000", headers=admin).status_code == 204
    counted = _sql(
        database_url,
        "SELECT count(*) FROM survey_response WHERE survey_id = :s",
        s=_survey_key(sid, database_url),
    )[0][0]
    survey = client.get(f"/v1/surveys/{sid}", headers=admin).json()
    listed = client.get("/v1/surveys", headers=admin).json()["items"]
    page = client.get(f"/v1/surveys/{sid}/responses?limit=1", headers=admin).json()
    assert counted == 11
    assert survey["responses"] == 11
    assert [s["responses"] for s in listed if s["id"] == sid] == [11]
    assert page["total"] == 11


@pytest.mark.parametrize("bad", [{"mes01": 9}, {"mes01": "XX"}])
def test_rejected_batch_changes_neither_rows_nor_count(
    client: TestClient[Any], admin: dict[str, str], bad: dict[str, Any]
) -> None:
    sid = create_survey(client, admin)
    _submit(client, admin, sid, mes_rows(3))
    rows = mes_rows(5, seed=1)
    for row in rows:
        row["respondent"] = "new-" + row["respondent"]
    rows[4]["answers"].update(bad)
    answer = client.post(f"/v1/surveys/{sid}/responses", json={"responses": rows}, headers=admin)
    assert answer.status_code == 422
    assert [e["row"] for e in answer.json()["errors"]] == [4]
    assert answer.json()["errors"][0]["value"] == bad["mes01"]  # as sent: 9, not 9.0
    assert client.get(f"/v1/surveys/{sid}", headers=admin).json()["responses"] == 3


def test_stored_times_read_back_as_the_time_of_submission(
    client: TestClient[Any], admin: dict[str, str]
) -> None:
    import datetime as dt

    sid = create_survey(client, admin)
    before = dt.datetime.now(dt.UTC)
    _submit(client, admin, sid, mes_rows(3))
    after = dt.datetime.now(dt.UTC)
    items = client.get(f"/v1/surveys/{sid}/responses", headers=admin).json()["items"]
    times = {dt.datetime.fromisoformat(r["submitted_at"]) for r in items}
    assert len(times) == 1  # one batch, one time
    (stamp,) = times
    assert stamp.tzinfo is not None
    assert before - dt.timedelta(seconds=1) <= stamp <= after + dt.timedelta(seconds=1)
