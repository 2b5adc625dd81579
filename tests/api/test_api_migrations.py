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


def test_stored_respondent_ids_are_normalised_where_that_merges_no_one(tmp_path: Any) -> None:
    """Ids stored before the normal form (mes.identifiers) are rewritten to it by 0007,
    except where two rows would then share one id, or the rule refuses the id."""
    import sqlite3
    import sys
    from pathlib import Path

    from litestar.testing import TestClient

    from api.app import create_app
    from api.auth.keys import create_key
    from api.cli import _run_in_session
    from api.settings import Settings

    sys.path.insert(0, str(Path(__file__).resolve().parent))
    from api_helpers import bearer, create_survey, mes_rows

    path = tmp_path / "old.sqlite3"
    url = f"sqlite+aiosqlite:///{path}"
    upgrade_schema(url, "0006")
    key = _run_in_session(url, lambda s: create_key(s, "old-tenant", ["admin"]))
    with TestClient(create_app(Settings(database_url=url, rate_limit_per_minute=0))) as client:
        sid = create_survey(client, bearer(key))
        rows = mes_rows(5)
        assert client.post(
            f"/v1/surveys/{sid}/responses", json={"responses": rows}, headers=bearer(key)
        ).status_code == 201
    stored_before = {
        "r00000": "r00000 ",  # trailing space -> "r00000"
        "r00001": "Andre\u0301",  # decomposed -> composed
        "r00002": "r\u200b2",  # refused by the rule: left as it is
        "r00003": "r00004 ",  # its normal form is another respondent's id: left as it is
    }
    with sqlite3.connect(path) as db:
        for now, before in stored_before.items():
            db.execute("UPDATE survey_response SET respondent = ? WHERE respondent = ?",
                       (before, now))
        # Setting up the tenant migrated to head; 0007 changes data only, so the
        # database is as 0006 left it once it says so.
        db.execute("UPDATE alembic_version SET version_num = '0006'")
    upgrade_schema(url)
    with sqlite3.connect(path) as db:
        ids = sorted(r[0] for r in db.execute("SELECT respondent FROM survey_response"))
    assert ids == sorted(["r00000", "Andr\u00e9", "r\u200b2", "r00004 ", "r00004"])
