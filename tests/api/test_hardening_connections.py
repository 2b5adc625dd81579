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


async def _terminate_others(url: str) -> int:
    """End every other session on the test database, as a server restart would; how many."""
    import asyncpg

    conn = await asyncpg.connect(url.replace("postgresql+asyncpg://", "postgresql://", 1))
    try:
        return int(
            await conn.fetchval(
                "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity "
                "WHERE datname = current_database() AND pid <> pg_backend_pid()"
            )
        )
    finally:
        await conn.close()


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
