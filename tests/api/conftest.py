"""Fixtures: the real app on SQLite (a temp file) and, when MES_TEST_POSTGRES_URL is set,
the same suite on PostgreSQL (a fresh database per test session, dropped afterwards)."""

from __future__ import annotations

import asyncio
import os
import sys
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from litestar.testing import TestClient

from api.app import create_app
from api.auth.keys import create_key
from api.cli import _run_in_session
from api.db.engine import upgrade_schema
from api.settings import Settings

# The helpers module sits beside this file (the tests folder is not a package).
sys.path.insert(0, str(Path(__file__).resolve().parent))
from api_helpers import bearer

POSTGRES_ENV = "MES_TEST_POSTGRES_URL"
BACKENDS = ["sqlite", "postgresql"]


def _postgres_admin_url() -> str | None:
    return os.environ.get(POSTGRES_ENV) or None


async def _pg(url: str, *statements: str) -> None:
    import asyncpg

    plain = url.replace("postgresql+asyncpg://", "postgresql://", 1)
    conn = await asyncpg.connect(plain, timeout=5)
    try:
        for statement in statements:
            await conn.execute(statement)
    finally:
        await conn.close()


def _with_database(url: str, name: str) -> str:
    base, _, _ = url.rpartition("/")
    return f"{base}/{name}"


@pytest.fixture(scope="session", params=BACKENDS)
def database_url(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[str]:
    """A migrated, empty database of each backend, shared by the session's tests."""
    if request.param == "sqlite":
        path = tmp_path_factory.mktemp("db") / "mes.sqlite3"
        url = f"sqlite+aiosqlite:///{path}"
        upgrade_schema(url)
        yield url
        return
    admin = _postgres_admin_url()
    if admin is None:
        pytest.skip(f"PostgreSQL tests: set {POSTGRES_ENV}=postgresql+asyncpg://user@host:port/db")
    name = f"mes_test_{uuid.uuid4().hex[:12]}"
    try:
        asyncio.run(_pg(admin, f'CREATE DATABASE "{name}"'))
    except Exception as exc:
        pytest.skip(
            f"PostgreSQL at {POSTGRES_ENV} is unreachable or refuses CREATE DATABASE: {exc}"
        )
    url = _with_database(admin, name)
    try:
        upgrade_schema(url)
        yield url
    finally:
        asyncio.run(_pg(admin, f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))


@pytest.fixture
def settings(database_url: str) -> Settings:
    """Settings of the app under test (generous limits; tests that need tight ones override)."""
    return Settings(database_url=database_url, rate_limit_per_minute=0)


@pytest.fixture
def client(settings: Settings) -> Iterator[TestClient[Any]]:
    """A client of the real app (lifespan run, real database)."""
    with TestClient(create_app(settings)) as test_client:
        yield test_client


class KeyMaker:
    """Create API keys for a fresh tenant per test (tenants isolate the tests' data)."""

    def __init__(self, database_url: str) -> None:
        self.database_url = database_url
        self.tenant = f"tenant-{uuid.uuid4().hex[:10]}"

    def __call__(self, *scopes: str, tenant: str | None = None) -> str:
        return _run_in_session(
            self.database_url,
            lambda s: create_key(s, tenant or self.tenant, list(scopes or ["admin"])),
        )


@pytest.fixture
def make_key(database_url: str) -> KeyMaker:
    """``make_key("reports:read")`` -> a key of this test's tenant."""
    return KeyMaker(database_url)


@pytest.fixture
def admin(make_key: KeyMaker) -> dict[str, str]:
    """Headers of an admin key of this test's tenant."""
    return bearer(make_key("admin"))


def _free_port() -> int:
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@pytest.fixture(scope="module")
def live_server(database_url: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """``mes serve`` as a real process on a free loopback port; yields its base URL."""
    import subprocess
    import time

    import httpx

    port = _free_port()
    env = {
        **os.environ,
        "MES_DATABASE_URL": database_url,
        "MES_RATE_LIMIT_PER_MINUTE": "0",
    }
    workdir = tmp_path_factory.mktemp("serve")
    log = (workdir / "serve.log").open("w")
    process = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "mes",
            "serve",
            "--host",
            "127.0.0.1",
            "--port",
            str(port),
            "--log-level",
            "warning",
        ],
        cwd=workdir,
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 30
        while True:
            if process.poll() is not None:
                log.flush()
                pytest.fail(f"mes serve exited: {(workdir / 'serve.log').read_text()}")
            try:
                if httpx.get(f"{base}/health", timeout=1).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            if time.monotonic() > deadline:
                pytest.fail(f"mes serve did not answer: {(workdir / 'serve.log').read_text()}")
            time.sleep(0.1)
        yield base
    finally:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
        log.close()
