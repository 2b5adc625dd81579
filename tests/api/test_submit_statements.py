"""What a single-respondent submit sends to the database, statement by statement.

Apps that collect the form send each doctor's answers as they come, one respondent per
request, so this is the service's most frequent write and its cost is mostly trips to
the database. Once a survey's definition is known to the app:

- PostgreSQL: the key lookup, then one statement that checks the survey is open, counts
  the row into it and inserts it. No BEGIN or COMMIT: each statement is atomic alone.
- SQLite: the key lookup (on a connection of its own), then BEGIN IMMEDIATE, the count
  (which checks the survey is open), the insert and COMMIT.

Statements are read from the drivers themselves (asyncpg's query logger, sqlite3's
trace callback), so anything SQLAlchemy or the service added would show.

The app keeps a survey's definition, never its status: every write checks that the
survey is still open where it counts its rows, so a close is never overtaken by a batch.
"""

from __future__ import annotations

import re
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

import pytest
from api_helpers import bearer, close_survey, create_survey, mes_rows
from litestar.testing import TestClient
from sqlalchemy import event, update
from sqlalchemy.util import await_

from api.db.models import Survey

in_process = pytest.mark.parametrize("database_url", ["sqlite", "postgresql"], indirect=True)


@contextmanager
def statements_sent(client: TestClient[Any]) -> Iterator[list[str]]:
    """Every SQL statement the app's connections run while the block runs, in order."""
    sent: list[str] = []
    engine = client.app.state.engine.sync_engine
    watched: dict[int, Any] = {}

    def log(logged: Any) -> None:
        sent.append(logged.query)

    def watch(dbapi_connection: Any, _record: Any, _proxy: Any) -> None:
        driver = dbapi_connection.driver_connection
        if id(driver) in watched:
            return
        watched[id(driver)] = driver
        if engine.dialect.name == "postgresql":
            driver.add_query_logger(log)
        else:  # one trace callback per connection: the next watch replaces this one
            await_(driver.set_trace_callback(sent.append))

    event.listen(engine, "checkout", watch)
    # Connections kept between standalone statements were checked out before: back to
    # the pool with them, so that each one in use is checked out (and watched) again.
    with client.portal() as portal:
        portal.call(client.app.state.standalone_connections.give_back)
    try:
        yield sent
        # asyncpg calls its loggers soon after each statement, on the app's event loop
        # (another thread): give it time to call them for the last one.
        time.sleep(0.2)
    finally:
        event.remove(engine, "checkout", watch)
        if engine.dialect.name == "postgresql":
            for driver in watched.values():
                driver.remove_query_logger(log)


def _kinds(statements: list[str]) -> list[str]:
    """Each statement as what it writes (``UPDATE survey``, ``INSERT survey_response``,
    joined by ``+``), else as the table it reads first, else as its first word."""
    kinds = []
    for sql in statements:
        writes = re.findall(r"\b(UPDATE|INSERT INTO|DELETE FROM)\s+(\w+)", sql)
        read = re.search(r"^\s*SELECT\b.*?\bFROM\s+(\w+)", sql, re.DOTALL)
        if writes:
            kinds.append(" + ".join(f"{verb.split()[0]} {table}" for verb, table in writes))
        elif read:
            kinds.append(f"SELECT {read.group(1)}")
        else:
            kinds.append(sql.split()[0].upper())
    return kinds


@in_process
def test_a_single_submit_is_its_key_lookup_and_one_write(
    database_url: str, client: TestClient[Any], admin: dict[str, str]
) -> None:
    survey = create_survey(client, admin)
    path = f"/v1/surveys/{survey}/responses"
    rows = mes_rows(2)
    first = client.post(path, json={"responses": rows[:1]}, headers=admin)
    assert first.status_code == 201, first.text  # the app now knows the survey
    with statements_sent(client) as sent:
        answer = client.post(path, json={"responses": rows[1:]}, headers=admin)
    assert answer.status_code == 201, answer.text
    assert answer.json()["total"] == 2
    if database_url.startswith("postgresql"):
        assert _kinds(sent) == ["SELECT api_key", "UPDATE survey + INSERT survey_response"]
    else:
        assert _kinds(sent) == [
            "SELECT api_key", "BEGIN", "UPDATE survey", "INSERT survey_response", "COMMIT"
        ]


def _submit_once_then(
    client: TestClient[Any], owner: dict[str, str], then: Callable[[str], None]
) -> tuple[str, list[dict[str, Any]]]:
    """A survey the app knows (one respondent stored through it), after ``then(survey)``;
    the survey and a second respondent to send."""
    survey = create_survey(client, owner)
    rows = mes_rows(2)
    stored = client.post(f"/v1/surveys/{survey}/responses", json={"responses": rows[:1]},
                         headers=owner)
    assert stored.status_code == 201, stored.text
    then(survey)
    return survey, rows[1:]


@in_process
def test_a_survey_closed_after_the_app_knew_it_refuses_a_single_submit(
    client: TestClient[Any], admin: dict[str, str]
) -> None:
    """The app keeps a survey's definition, never its status: the write checks that."""
    survey, second = _submit_once_then(
        client, admin, lambda survey: close_survey(client, admin, survey)
    )
    refused = client.post(f"/v1/surveys/{survey}/responses", json={"responses": second},
                          headers=admin)
    assert refused.status_code == 409, refused.text
    assert "closed" in refused.json()["detail"]
    assert client.get(f"/v1/surveys/{survey}", headers=admin).json()["responses"] == 1


@in_process
def test_another_tenants_key_cannot_submit_to_a_survey_the_app_knows(
    client: TestClient[Any], admin: dict[str, str], make_key: Any
) -> None:
    """An attacker holding a key of another tenant, and the survey's id: 404, as for a
    survey that does not exist, although the app keeps the survey's definition."""
    other = bearer(make_key("admin", tenant=f"other-{make_key.tenant}"))
    survey, second = _submit_once_then(client, admin, lambda survey: None)
    refused = client.post(f"/v1/surveys/{survey}/responses", json={"responses": second},
                          headers=other)
    assert refused.status_code == 404, refused.text
    assert client.get(f"/v1/surveys/{survey}", headers=admin).json()["responses"] == 1


@pytest.mark.parametrize("database_url", ["postgresql"], indirect=True)
def test_a_survey_closed_while_a_large_batch_is_written_stores_none_of_it(
    client: TestClient[Any], admin: dict[str, str], monkeypatch: pytest.MonkeyPatch
) -> None:
    """A close that commits after a batch read the survey's status and before it counted
    its rows: the count's UPDATE finds the survey closed, so the batch is refused whole.

    PostgreSQL only: on SQLite the batch holds the write lock from its first statement, so
    no close can commit in between (the test's close would wait for it).
    """
    from api.domain.responses import services

    survey = create_survey(client, admin)
    original = services.insert_responses

    async def close_meanwhile(session: Any, survey_id: Any, rows: Any) -> None:
        async with client.app.state.session_maker() as other:
            await other.execute(
                update(Survey).where(Survey.id == survey_id).values(status="closed")
            )
            await other.commit()
        await original(session, survey_id, rows)

    monkeypatch.setattr(services, "insert_responses", close_meanwhile)
    refused = client.post(
        f"/v1/surveys/{survey}/responses", json={"responses": mes_rows(150)}, headers=admin
    )
    assert refused.status_code == 409, refused.text
    assert "closed" in refused.json()["detail"]
    shown = client.get(f"/v1/surveys/{survey}", headers=admin).json()
    assert (shown["status"], shown["responses"]) == ("closed", 0)
    listed = client.get(f"/v1/surveys/{survey}/responses", headers=admin).json()
    assert listed["total"] == 0
