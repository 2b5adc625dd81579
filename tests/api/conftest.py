"""Fixtures: the real app on SQLite (a temp file) and, when MES_TEST_POSTGRES_URL is set,
the same suite on PostgreSQL (a fresh database per test session, dropped afterwards).

A third backend, ``postgresql-2workers``, runs the ``client`` tests of the modules in
:data:`WORKERS_MODULES` against a live ``mes serve --workers 2`` on PostgreSQL (an
``httpx.Client`` on its URL instead of the in-process ``TestClient``); other tests do not
run on it, and a test that needs the in-process app (``client.app``, its own ``settings``,
``monkeypatch`` of the app's code) is skipped there, saying why.
"""

from __future__ import annotations

import asyncio
import os
import sys
import uuid
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import httpx
import pytest
from litestar.testing import TestClient

from api.app import create_app
from api.auth.keys import create_key
from api.cli import _run_in_session
from api.db.engine import upgrade_schema
from api.settings import Settings

# The helpers module sits beside this file (the tests folder is not a package).
sys.path.insert(0, str(Path(__file__).resolve().parent))
from api_helpers import bearer, wait_until_serving

POSTGRES_ENV = "MES_TEST_POSTGRES_URL"
WORKERS_BACKEND = "postgresql-2workers"
BACKENDS = ["sqlite", "postgresql", WORKERS_BACKEND]
WORKERS_MODULES = frozenset(
    {
        "test_api_auth",
        "test_api_responses",
        "test_api_formats",
        "test_api_scores",
        "test_api_reports",
        "test_api_reports_compare",
        "test_api_exports",
        "test_api_shares",
        "test_api_instruments",
    }
)
"""Modules whose ``client`` tests also run against ``mes serve --workers 2``."""


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    """Run every test that uses a database on each backend; ``postgresql-2workers`` only
    for the ``client`` tests of WORKERS_MODULES. A test's own
    ``@pytest.mark.parametrize("database_url", [...], indirect=True)`` takes precedence."""
    if "database_url" not in metafunc.fixturenames:
        return
    for marker in metafunc.definition.iter_markers("parametrize"):
        names = marker.args[0] if marker.args else marker.kwargs.get("argnames", "")
        if "database_url" in (
            [n.strip() for n in names.split(",")] if isinstance(names, str) else names
        ):
            return
    module = metafunc.module.__name__.rpartition(".")[2]
    on_workers = module in WORKERS_MODULES and "client" in metafunc.fixturenames
    backends = [b for b in BACKENDS if on_workers or b != WORKERS_BACKEND]
    metafunc.parametrize("database_url", backends, indirect=True, scope="session")


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


@pytest.fixture(scope="session")
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


class LiveClient(httpx.Client):
    """An ``httpx.Client`` of a live server, standing in for the in-process TestClient."""

    @property
    def app(self) -> Any:
        """There is no in-process app: a test that needs it skips on this backend."""
        pytest.skip(f"{WORKERS_BACKEND}: this test needs the in-process app (client.app)")


@pytest.fixture
def client(
    request: pytest.FixtureRequest, settings: Settings, database_url: str
) -> Iterator[TestClient[Any] | LiveClient]:
    """A client of the real app (lifespan run, real database).

    On the ``postgresql-2workers`` backend: an ``httpx.Client`` of a live
    ``mes serve --workers 2`` on that database (the app's default settings, rate
    limit off), so that the same tests run across two worker processes.
    """
    if _backend(request) == WORKERS_BACKEND:
        if "monkeypatch" in request.fixturenames:
            pytest.skip(
                f"{WORKERS_BACKEND}: this test patches code in the test process (monkeypatch), "
                "which the live server's workers do not share"
            )
        if settings != Settings(database_url=database_url, rate_limit_per_minute=0):
            pytest.skip(
                f"{WORKERS_BACKEND}: this module's settings fixture changes the settings; "
                "the live server runs with the defaults"
            )
        base_url = request.getfixturevalue("workers_server")
        with LiveClient(base_url=base_url, timeout=60, follow_redirects=True) as live:
            yield live
        return
    with TestClient(create_app(settings)) as test_client:
        yield test_client


def _backend(request: pytest.FixtureRequest) -> str | None:
    callspec = getattr(request.node, "callspec", None)
    return callspec.params.get("database_url") if callspec is not None else None


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


@contextmanager
def serve(
    database_url: str,
    workdir: Path,
    *,
    workers: int = 1,
    env: Mapping[str, str | None] | None = None,
    log_level: str = "warning",
) -> Iterator[tuple[str, Any]]:
    """Run ``mes serve`` as a real process on a free loopback port until the block ends.

    Parameters
    ----------
    database_url : str
        ``MES_DATABASE_URL`` of the server.
    workdir : Path
        Its working directory; its output goes to ``workdir / "serve.log"``.
    workers : int
        ``--workers``.
    env : mapping, optional
        More environment variables (default ``MES_RATE_LIMIT_PER_MINUTE=0``); a value of
        None removes the variable.
    log_level : str
        ``--log-level``.

    Yields
    ------
    tuple of (str, subprocess.Popen)
        The base URL (answering ``/health``) and the process.
    """
    import subprocess

    port = _free_port()
    merged: dict[str, str | None] = {
        **os.environ,
        "MES_DATABASE_URL": database_url,
        "MES_RATE_LIMIT_PER_MINUTE": "0",
        **(env or {}),
    }
    environment = {name: value for name, value in merged.items() if value is not None}
    log_path = workdir / "serve.log"
    log = log_path.open("w")
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
            "--workers",
            str(workers),
            "--log-level",
            log_level,
        ],
        cwd=workdir,
        env=environment,
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        # A loaded machine imports slowly (several workers): up to 90 s.
        wait_until_serving(process, base, log_path, 90)
        yield base, process
    finally:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
        log.close()


@pytest.fixture(scope="module")
def live_server(database_url: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """``mes serve`` as a real process on a free loopback port; yields its base URL."""
    with serve(database_url, tmp_path_factory.mktemp("serve")) as (base, _):
        yield base


@pytest.fixture(scope="session")
def mes_serve() -> Any:
    """The :func:`serve` context manager, for tests that start servers of their own."""
    return serve


@pytest.fixture(scope="session")
def workers_server(database_url: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """``mes serve --workers 2`` on the session's database (rate limit off); its base URL."""
    with serve(database_url, tmp_path_factory.mktemp("workers"), workers=2) as (base, _):
        yield base


REDIS_ENV = "MES_TEST_REDIS_URL"


@pytest.fixture(scope="session")
def redis_url() -> str:
    """``MES_TEST_REDIS_URL`` when set and answering PING, else skip saying why."""
    url = os.environ.get(REDIS_ENV)
    if not url:
        pytest.skip(f"Redis tests: set {REDIS_ENV}=redis://127.0.0.1:6379/15")
    import redis

    client = redis.Redis.from_url(url, socket_connect_timeout=2, socket_timeout=2)
    try:
        client.ping()
    except (redis.RedisError, OSError) as exc:
        pytest.skip(f"Redis at {REDIS_ENV}={url} does not answer: {exc}")
    finally:
        client.close()
    return url


@pytest.fixture
def redis_prefix(redis_url: str) -> Iterator[str]:
    """A Redis key prefix of this test (``MES_REDIS_PREFIX``); its keys are deleted after."""
    import redis

    prefix = f"mes-test-{uuid.uuid4().hex[:12]}:"
    yield prefix
    client = redis.Redis.from_url(redis_url)
    try:
        keys = list(client.scan_iter(match=f"{prefix}*"))
        if keys:
            client.delete(*keys)
    finally:
        client.close()
