"""Database engines and schema upgrades, the same for SQLite and PostgreSQL."""

from __future__ import annotations

import asyncio
import weakref
from contextvars import ContextVar
from functools import lru_cache
from pathlib import Path
from typing import Any

from sqlalchemy import event, make_url
from sqlalchemy.exc import DisconnectionError, OperationalError
from sqlalchemy.ext.asyncio import AsyncEngine, create_async_engine
from sqlalchemy.util import await_only

from api.db.raw import driver_errors

__all__ = [
    "MIGRATIONS_DIR",
    "WRITE_REQUEST",
    "create_engine",
    "head_revision",
    "normalise_url",
    "upgrade_schema",
]

MIGRATIONS_DIR = Path(__file__).resolve().parent / "migrations"


def normalise_url(url: str) -> str:
    """Give plain ``sqlite://`` and ``postgresql://`` URLs their async driver.

    Examples
    --------
    >>> normalise_url("postgresql://u@h/db")
    'postgresql+asyncpg://u@h/db'
    >>> normalise_url("sqlite:///x.db")
    'sqlite+aiosqlite:///x.db'
    """
    for plain, driver in (
        ("sqlite://", "sqlite+aiosqlite://"),
        ("postgresql://", "postgresql+asyncpg://"),
        ("postgres://", "postgresql+asyncpg://"),
    ):
        if url.startswith(plain):
            return driver + url[len(plain) :]
    return url


WRITE_REQUEST: ContextVar[list[bool] | None] = ContextVar("mes_write_request", default=None)
"""Set to ``[True]`` for a request that writes (api.request_checks does it for POST, PUT,
PATCH and DELETE): on SQLite, the first transaction the request begins then starts with
``BEGIN IMMEDIATE`` (and clears the flag)."""


WRITER_WAIT_S = 10.0
"""How long a writing request waits for its turn at SQLite (as ``busy_timeout``)."""


class _SQLiteWriters:
    """The writing requests of one process, taking SQLite's one write lock in turn.

    SQLite has one writer at a time. A ``BEGIN IMMEDIATE`` that finds the lock taken
    waits in SQLite's busy handler, which polls with sleeps of 1, 2, 5, ... up to 100 ms:
    with 32 clients submitting at once most of their time went in those sleeps (84-118
    single submits/s, p50 185-223 ms; ``python -m bench api_load``). Here the writers of
    this process queue on an :class:`asyncio.Lock` first, so the next one starts the
    moment the last one's connection is back in the pool. ``BEGIN IMMEDIATE`` still
    guards against other processes (``mes serve --workers N``, the CLI).

    The lock is per event loop (tests run apps on several loops) and is released when
    the connection that holds it is checked in, after its commit or rollback.
    """

    def __init__(self) -> None:
        self._locks: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, asyncio.Lock] = (
            weakref.WeakKeyDictionary()
        )

    def acquire(self, connection: Any) -> None:
        """Wait (inside SQLAlchemy's greenlet) for this loop's lock, at most WRITER_WAIT_S."""
        loop = asyncio.get_running_loop()
        lock = self._locks.get(loop)
        if lock is None:
            lock = self._locks[loop] = asyncio.Lock()
        try:
            await_only(asyncio.wait_for(lock.acquire(), WRITER_WAIT_S))
        except TimeoutError:
            raise OperationalError(
                "BEGIN IMMEDIATE", None, Exception("database is locked (writers queued)")
            ) from None
        connection.connection.info["mes_writer_lock"] = lock

    @staticmethod
    def release(_dbapi_connection: Any, record: Any) -> None:
        """Pool check-in: hand the lock to the next writer."""
        lock = record.info.pop("mes_writer_lock", None) if record is not None else None
        if lock is not None and lock.locked():
            lock.release()


def _sqlite_begin(writers: _SQLiteWriters) -> Any:
    def begin(connection: Any) -> None:
        """Start SQLite transactions ourselves: ``BEGIN IMMEDIATE`` for a writing request.

        A deferred transaction that has read and then writes cannot take the write
        lock once another connection has committed (SQLite answers "database is
        locked" at once, without waiting for ``busy_timeout``); one that takes the
        lock first waits its turn instead (in :class:`_SQLiteWriters`, then in
        SQLite). Only the request's first transaction (its session, which does the
        writing) takes the lock: a second session the same request opens to read (an
        idempotent replay, say) would otherwise wait for the lock its own request holds.
        """
        claim = WRITE_REQUEST.get()
        immediate = bool(claim and claim[0])
        if immediate and claim is not None:
            claim[0] = False
            writers.acquire(connection)
        # Straight to aiosqlite: one trip to its thread, where a statement through
        # SQLAlchemy's cursor takes three (open a cursor, execute, close it).
        driver = connection.connection.driver_connection
        sql = "BEGIN IMMEDIATE" if immediate else "BEGIN"
        with driver_errors(sql):
            await_only(driver.execute(sql))

    return begin


def _sqlite_reset(dbapi_connection: Any, _record: Any, state: Any) -> None:
    """Pool check-in (the engine's ``pool_reset_on_return`` is off): roll back only a
    transaction still open.

    SQLAlchemy otherwise rolls back every connection that comes back after its session
    committed, a trip to aiosqlite's thread that does nothing; sqlite3 says itself
    whether a transaction is open.
    """
    if not state.asyncio_safe:
        return
    driver = dbapi_connection.driver_connection
    if driver is None or driver.in_transaction:
        dbapi_connection.rollback()


def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
    dbapi_connection.isolation_level = None  # the driver's own BEGIN is off: see _sqlite_begin
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA busy_timeout=10000")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.close()


def _replace_closed(dbapi_connection: Any, _record: Any, _proxy: Any) -> None:
    """Pool checkout: refuse a PostgreSQL connection whose server side has gone.

    When the server ends a connection (a restart, ``pg_terminate_backend``, an idle
    timeout) asyncpg sees the socket close and marks the connection closed; raising
    :class:`~sqlalchemy.exc.DisconnectionError` here makes the pool discard it and hand
    out a new one, so the request that checks it out does not fail on it. This costs no
    round trip, where a pre-ping costs three on every checkout.
    """
    driver = getattr(dbapi_connection, "driver_connection", None)
    if driver is not None and driver.is_closed():
        raise DisconnectionError("the server closed this pooled connection")


def _in_memory(url: str) -> bool:
    parsed = make_url(url)
    return parsed.get_backend_name() == "sqlite" and parsed.database in (None, "", ":memory:")


def create_engine(url: str, *, echo: bool = False, pool_size: int = 15) -> AsyncEngine:
    """An async engine; SQLite connections get WAL mode and foreign keys on.

    PostgreSQL sessions plan every statement for its own parameters
    (``plan_cache_mode = force_custom_plan``): with asyncpg's cached prepared
    statements PostgreSQL otherwise switches to a generic plan after five runs,
    and the duplicate-respondent check then scans the whole survey on every batch
    (measured in docs/performance.md: 190-280 ms instead of 5 ms at 20,000 rows).

    Parameters
    ----------
    url : str
        ``sqlite+aiosqlite:///path`` or ``postgresql+asyncpg://...`` (plain
        ``sqlite://`` / ``postgresql://`` are given their async driver).
    echo : bool
        Log every statement (never its parameters: they are hidden, in errors too).
    pool_size : int
        Connections kept open and reused; a session waits for a free one rather than
        opening more. There is no overflow: overflow connections are closed when they
        come back, and under load the service would spend its time opening PostgreSQL
        connections (about one per request at 32 clients with SQLAlchemy's default 5 + 10).

    Returns
    -------
    sqlalchemy.ext.asyncio.AsyncEngine
    """
    url = normalise_url(url)
    # hide_parameters: SQL errors and echoed statements never quote bound values (answers,
    # attributes, respondent ids, key hashes) in logs or exception messages.
    # No pre-ping: on PostgreSQL it is three round trips (BEGIN, a query, ROLLBACK) per
    # checkout, and an SQLite file cannot go away. A PostgreSQL connection the server has
    # closed (a restart, pg_terminate_backend) is replaced at checkout instead, without a
    # round trip (_replace_closed); one that breaks during use is discarded by SQLAlchemy.
    kwargs: dict[str, Any] = {"echo": echo, "pool_pre_ping": False, "hide_parameters": True}
    if not _in_memory(url):  # an in-memory database has one connection (StaticPool)
        kwargs.update(pool_size=pool_size, max_overflow=0)
    if url.startswith("sqlite"):
        kwargs["pool_reset_on_return"] = None  # _sqlite_reset does it
    if url.startswith("postgresql+asyncpg"):
        kwargs["connect_args"] = {"server_settings": {"plan_cache_mode": "force_custom_plan"}}
    engine = create_async_engine(url, **kwargs)
    if engine.dialect.name == "postgresql":
        event.listen(engine.sync_engine.pool, "checkout", _replace_closed)
    if engine.dialect.name == "sqlite":
        event.listen(engine.sync_engine, "connect", _sqlite_pragmas)
        writers = _SQLiteWriters()
        event.listen(engine.sync_engine, "begin", _sqlite_begin(writers))
        event.listen(engine.sync_engine.pool, "checkin", writers.release)
        event.listen(engine.sync_engine.pool, "reset", _sqlite_reset)
    return engine


def _alembic_config(url: str) -> Any:
    from alembic.config import Config

    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS_DIR))
    config.attributes["database_url"] = normalise_url(url)
    return config


@lru_cache(maxsize=1)
def head_revision() -> str:
    """The newest migration's revision id: what an up-to-date database records.

    Examples
    --------
    >>> head_revision() >= "0003"
    True
    """
    from alembic.script import ScriptDirectory

    head = ScriptDirectory.from_config(_alembic_config("sqlite://")).get_current_head()
    if head is None:
        raise RuntimeError(f"no migrations under {MIGRATIONS_DIR}")
    return head


def upgrade_schema(url: str, revision: str = "head") -> None:
    """Bring the database schema up to ``revision`` with the Alembic migrations.

    Safe to call on every start: an up-to-date database is left alone. Runs its
    own event loop, so call it from synchronous code (the CLI, test fixtures).

    Parameters
    ----------
    url : str
        Database URL (see :func:`create_engine`).
    revision : str
        Target revision; ``"head"`` is the latest.
    """
    from alembic import command

    if url.startswith("sqlite"):
        _make_sqlite_parent(url)
    config = _alembic_config(url)
    try:
        asyncio.get_running_loop()
    except RuntimeError:
        command.upgrade(config, revision)
        return
    raise RuntimeError("upgrade_schema() runs its own event loop; call it outside one")


def _make_sqlite_parent(url: str) -> None:
    path = url.split(":///", 1)[-1]
    if path and path != ":memory:" and not path.startswith("file:"):
        Path(path).expanduser().resolve().parent.mkdir(parents=True, exist_ok=True)
