"""The Alembic migrations build exactly the models' schema, on SQLite and PostgreSQL."""

from __future__ import annotations

import asyncio
from typing import Any

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import inspect, text

from api.db.engine import create_engine, head_revision, upgrade_schema
from api.db.models import Base


def _diff_and_tables(url: str) -> tuple[list[Any], set[str], str]:
    async def run() -> tuple[list[Any], set[str], str]:
        engine = create_engine(url)
        try:
            async with engine.connect() as conn:

                def check(sync_conn: Any) -> tuple[list[Any], set[str]]:
                    # SQLite reflects custom column types (GUID) as NUMERIC: compare types
                    # on PostgreSQL only, tables, columns, indexes and constraints on both.
                    compare_type = sync_conn.dialect.name != "sqlite"
                    context = MigrationContext.configure(
                        sync_conn, opts={"compare_type": compare_type}
                    )
                    return compare_metadata(context, Base.metadata), set(
                        inspect(sync_conn).get_table_names()
                    )

                diff, tables = await conn.run_sync(check)
                version = (
                    await conn.execute(text("SELECT version_num FROM alembic_version"))
                ).scalar_one()
        finally:
            await engine.dispose()
        return diff, tables, version

    return asyncio.run(run())


def test_migrations_match_the_models(database_url: str) -> None:
    diff, tables, version = _diff_and_tables(database_url)
    assert diff == []
    assert {
        "tenant",
        "api_key",
        "survey",
        "survey_response",
        "tenant_instrument",
        "idempotency_record",
        "norm_table",
        "report_share",
        "service_secret",
        "audit_log",
    } <= tables
    assert version == head_revision()


def test_upgrade_is_idempotent(database_url: str) -> None:
    upgrade_schema(database_url)  # already at head: a no-op, not an error
    assert _diff_and_tables(database_url)[0] == []


def test_sqlite_runs_in_wal_mode_with_foreign_keys(tmp_path: Any) -> None:
    url = f"sqlite+aiosqlite:///{tmp_path / 'w.sqlite3'}"
    upgrade_schema(url)

    async def pragmas() -> tuple[str, int]:
        engine = create_engine(url)
        async with engine.connect() as conn:
            mode = (await conn.execute(text("PRAGMA journal_mode"))).scalar_one()
            fks = (await conn.execute(text("PRAGMA foreign_keys"))).scalar_one()
        await engine.dispose()
        return mode, fks

    assert asyncio.run(pragmas()) == ("wal", 1)
