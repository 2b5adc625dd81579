"""Pooled PostgreSQL connections that the server closed are replaced, not used.

The pool does not test a connection with a query before handing it out (that is three
round trips on every checkout); a connection whose server side has gone (a PostgreSQL
restart, ``pg_terminate_backend``, an idle timeout) is noticed at checkout and replaced,
so no request fails on it.
"""

from __future__ import annotations

import asyncio
import time
from typing import Any

import pytest
from api_helpers import bearer, create_survey, mes_rows
from litestar.testing import TestClient

from api.app import create_app
from api.settings import Settings

on_postgresql = pytest.mark.parametrize("database_url", ["postgresql"], indirect=True)


async def _fetch(url: str, sql: str) -> list[Any]:
    """The rows of one statement, on a connection of the test's own."""
    import asyncpg

    conn = await asyncpg.connect(url.replace("postgresql+asyncpg://", "postgresql://", 1))
    try:
        return list(await conn.fetch(sql))
    finally:
        await conn.close()


async def _terminate_others(url: str) -> int:
    """End every other session on the test database, as a server restart would; how many."""
    rows = await _fetch(
        url,
        "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity "
        "WHERE datname = current_database() AND pid <> pg_backend_pid()",
    )
    return int(rows[0][0])


async def _backend_pids(url: str) -> set[int]:
    """The server processes of every session on the test database."""
    rows = await _fetch(url, "SELECT pid FROM pg_stat_activity WHERE datname = current_database()")
    return {int(r["pid"]) for r in rows}


@on_postgresql
def test_connections_the_server_closed_are_replaced_at_checkout(
    database_url: str, make_key: Any
) -> None:
    headers = bearer(make_key("admin"))
    settings = Settings(database_url=database_url, rate_limit_per_minute=0)
    with TestClient(create_app(settings)) as client:
        survey = create_survey(client, headers)
        path = f"/v1/surveys/{survey}/responses"
        for i, row in enumerate(mes_rows(3)):  # connections into the pool
            row["respondent"] = f"before-{i}"
            assert client.post(path, json={"responses": [row]}, headers=headers).status_code == 201
        assert asyncio.run(_terminate_others(database_url)) >= 1
        time.sleep(0.5)  # the app's event loop sees the sockets close
        for i, row in enumerate(mes_rows(5)):
            row["respondent"] = f"after-{i}"
            answer = client.post(path, json={"responses": [row]}, headers=headers)
            assert answer.status_code == 201, answer.text
        assert client.get(f"/v1/surveys/{survey}", headers=headers).json()["responses"] == 8


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
def test_an_sqlite_connection_returned_mid_transaction_is_rolled_back(database_url: str) -> None:
    # SQLite connections are rolled back at check-in only while a transaction is open (the
    # pool's own rollback on return is off): one returned mid-write, its transaction begun
    # on the driver (as api.db.raw runs statements), must not keep it open for its next user.
    from sqlalchemy import text

    from api.db.engine import create_engine

    async def main() -> tuple[bool, bool, int]:
        engine = create_engine(database_url, pool_size=1)
        try:
            async with engine.connect() as connection:
                driver = (await connection.get_raw_connection()).driver_connection
                await driver.execute("BEGIN")
                await driver.execute("CREATE TABLE never_committed (x INTEGER)")
                began = bool(driver.in_transaction)
            async with engine.connect() as again:  # the same connection (pool of one)
                reused = (await again.get_raw_connection()).driver_connection
                still_open = bool(reused.in_transaction)
                found = await again.execute(
                    text("SELECT count(*) FROM sqlite_master WHERE name = 'never_committed'")
                )
                return began, still_open, int(found.scalar_one())
        finally:
            await engine.dispose()

    began, still_open, tables = asyncio.run(main())
    assert began
    assert not still_open
    assert tables == 0


# ----- connections kept between standalone statements (api.db.raw.StandaloneConnections) ----


@on_postgresql
def test_kept_connections_are_closed_when_the_app_shuts_down(database_url: str) -> None:
    # They stay checked out of the pool between statements, where the pool's own
    # disposal would never close them: each app would leave connections open behind it.
    settings = Settings(database_url=database_url, rate_limit_per_minute=0)

    async def backend_pid(app: Any) -> int:
        async with app.state.standalone_connections.borrow() as driver:
            return int(await driver.connection.fetchval("SELECT pg_backend_pid()"))

    app = create_app(settings)
    with TestClient(app) as client, client.portal() as portal:
        kept = portal.call(backend_pid, app)
        assert portal.call(backend_pid, app) == kept  # kept between statements
    deadline = time.monotonic() + 5  # a closed connection's backend takes a moment to go
    while kept in asyncio.run(_backend_pids(database_url)) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert kept not in asyncio.run(_backend_pids(database_url))


@pytest.mark.parametrize("database_url", ["sqlite", "postgresql"], indirect=True)
def test_at_most_keep_connections_are_kept_and_none_a_statement_failed_on(
    database_url: str,
) -> None:
    from api.db.engine import create_engine
    from api.db.raw import StandaloneConnections

    async def main() -> tuple[int, int, int]:
        engine = create_engine(database_url, pool_size=5)
        standalone = StandaloneConnections(engine, keep=2)
        try:
            async with (standalone.borrow(), standalone.borrow(), standalone.borrow()):
                during = engine.sync_engine.pool.checkedout()  # type: ignore[attr-defined]
            after = engine.sync_engine.pool.checkedout()  # type: ignore[attr-defined]
            with pytest.raises(RuntimeError):
                async with standalone.borrow():
                    raise RuntimeError("the statement failed")
            after_failure = engine.sync_engine.pool.checkedout()  # type: ignore[attr-defined]
            return during, after, after_failure
        finally:
            await engine.dispose()

    during, after, after_failure = asyncio.run(main())
    assert (during, after) == (3, 2)
    assert after_failure == 1  # the connection it failed on went back to the pool


@pytest.mark.parametrize("database_url", ["sqlite", "postgresql"], indirect=True)
def test_the_kept_connection_leaves_the_sessions_their_whole_pool(
    database_url: str, make_key: Any
) -> None:
    # With one connection for sessions, a request whose key check keeps a connection must
    # still find one for its session (else it waits the pool's 30 s and fails).
    headers = bearer(make_key("admin"))
    settings = Settings(database_url=database_url, rate_limit_per_minute=0, db_pool_size=1)
    with TestClient(create_app(settings)) as client:
        started = time.monotonic()
        survey = create_survey(client, headers)  # key check, then the route's session
        answer = client.post(
            f"/v1/surveys/{survey}/responses",
            json={"responses": mes_rows(1)},
            headers={**headers, "Idempotency-Key": "k1"},  # in the session, locked
        )
        assert answer.status_code == 201, answer.text
        assert time.monotonic() - started < 10
