"""Core statements run straight on the driver: aiosqlite or asyncpg.

Through SQLAlchemy each statement on aiosqlite is three or four trips between the event
loop and the connection's thread (open a cursor, execute, fetch, close the cursor), and
each trip costs about as much CPU as the statement itself on a small table. On asyncpg
SQLAlchemy's layers cost about as much CPU as the round trip, and its first statement
on a connection sends a ``BEGIN`` of its own first. A :class:`DriverStatement` compiles
its statement once per dialect and runs it with one driver call (``execute_fetchall``,
``fetch``); values go in and come out through the columns' own types, so the rows read
as SQLAlchemy would have read them.
"""

from __future__ import annotations

import weakref
from collections import namedtuple
from collections.abc import AsyncIterator, Iterator, Mapping
from contextlib import asynccontextmanager, contextmanager
from dataclasses import dataclass
from typing import Any

from sqlalchemy import event
from sqlalchemy.engine import Dialect
from sqlalchemy.exc import DBAPIError
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine
from sqlalchemy.sql.expression import Executable
from sqlalchemy.util import greenlet_spawn

__all__ = ["Driver", "DriverStatement", "StandaloneConnections", "driver_errors"]


@contextmanager
def driver_errors(sql: str) -> Iterator[None]:
    """Raise what a statement run on the driver raises as SQLAlchemy would have raised it.

    The error becomes SQLAlchemy's class of the same name (``OperationalError``,
    ``IntegrityError``, ...) naming the statement, its parameters hidden, so that a 500's
    log line names the failing SQL and never its values (api.log_redaction), as for the
    statements SQLAlchemy runs itself.
    """
    try:
        yield
    except Exception as exc:
        if isinstance(exc, DBAPIError):
            raise
        raise DBAPIError.instance(sql, None, exc, Exception, hide_parameters=True) from exc


@dataclass(frozen=True)
class Driver:
    """A pooled connection's driver connection (asyncpg's or aiosqlite's), lent by
    :meth:`StandaloneConnections.borrow`, and the dialect of its engine."""

    connection: Any
    dialect: Dialect


class StandaloneConnections:
    """Pooled connections for statements that stand alone: the key check of every request
    and a small batch's insert on PostgreSQL.

    No session, no SQLAlchemy connection and no transaction: a session's life costs
    several times a pool checkout and check-in, more than a one-row statement. The
    statements run on their own (asyncpg and our SQLite connections commit each statement
    outside a transaction), so give :meth:`borrow` single statements that are atomic alone.

    A checkout from SQLAlchemy's pool is itself dear inside a request: it runs in a
    greenlet, whose switches copy the part of the C stack that a request's many
    middleware layers make deep (measured in docs/performance.md). So up to ``keep`` connections
    a statement has given back are kept here, checked out, for the next one; others, and
    any a statement failed on, go back to the pool. The engine's pool should hold
    ``keep`` more connections than its sessions need. Those kept are closed when the
    engine is disposed.

    Parameters
    ----------
    engine : AsyncEngine
    keep : int
        Connections kept checked out between statements; 0 returns each at once.
    """

    def __init__(self, engine: AsyncEngine, *, keep: int) -> None:
        if keep < 0:
            raise ValueError(f"keep must be 0 or more, got {keep}")
        self.engine = engine
        self.keep = keep
        self._idle: list[Any] = []  # pool connections (fairies), checked out
        event.listen(engine.sync_engine, "engine_disposed", self._close_idle)

    @asynccontextmanager
    async def borrow(self) -> AsyncIterator[Driver]:
        """A connection's driver for standalone statements, given back on leaving."""
        raw = await self._take_idle() or await self.engine.raw_connection()
        try:
            yield Driver(raw.driver_connection, self.engine.dialect)
        except BaseException:
            # The connection may be mid-statement (a cancelled request): the pool's
            # check-in and its checkout test deal with it, not the next statement here.
            await greenlet_spawn(raw.close)
            raise
        if len(self._idle) < self.keep:
            self._idle.append(raw)
        else:
            # Checked in where the pool may talk to the driver (SQLite rolls back a
            # transaction left open: api.db.engine).
            await greenlet_spawn(raw.close)

    async def give_back(self) -> None:
        """Return the kept connections to the engine's pool (the next statements check
        theirs out of it again)."""
        while self._idle:
            await greenlet_spawn(self._idle.pop().close)

    async def _take_idle(self) -> Any:
        while self._idle:
            raw = self._idle.pop()
            if not _closed_by_server(raw.driver_connection):
                return raw
            # Its server side has gone (a restart, pg_terminate_backend): the pool drops it.
            await greenlet_spawn(raw.invalidate)
        return None

    def _close_idle(self, _engine: Any) -> None:
        """``engine_disposed``: close the kept connections, which the disposed pool would
        never close since they are checked out (runs in the greenlet of ``dispose``)."""
        while self._idle:
            self._idle.pop().invalidate()


def _closed_by_server(driver: Any) -> bool:
    is_closed = getattr(driver, "is_closed", None)  # asyncpg's; aiosqlite has none
    return bool(is_closed is not None and is_closed())


@dataclass(frozen=True)
class _Compiled:
    sql: str
    compiled: Any
    names: tuple[str, ...]  # bound parameters, in the order of the SQL's '?'
    binds: tuple[Any, ...]  # each one's bind processor (or None)
    results: tuple[Any, ...]  # each returned column's result processor (or None)
    row: Any  # the named tuple of a returned row


class DriverStatement:
    """A Core ``SELECT`` (or a statement with ``RETURNING``) run in one driver call.

    Parameters
    ----------
    statement : Executable
        Built once (module level); its bound parameters are named with ``bindparam``.

    Examples
    --------
    >>> from sqlalchemy import bindparam, column, select, table
    >>> t = table("t", column("a"))
    >>> DriverStatement(select(t.c.a).where(t.c.a == bindparam("a"))).statement is not None
    True
    """

    def __init__(self, statement: Executable) -> None:
        self.statement = statement
        self._compiled: weakref.WeakKeyDictionary[Dialect, _Compiled] = (
            weakref.WeakKeyDictionary()
        )

    def _for(self, dialect: Dialect) -> _Compiled:
        found = self._compiled.get(dialect)
        if found is None:
            compiled: Any = self.statement.compile(dialect=dialect)  # type: ignore[attr-defined]
            names = tuple(compiled.positiontup or ())
            binds = tuple(
                compiled.binds[name].type.dialect_impl(dialect).bind_processor(dialect)
                for name in names
            )
            columns = list(self.statement.exported_columns)  # type: ignore[attr-defined]
            results = tuple(
                c.type.dialect_impl(dialect).result_processor(dialect, None) for c in columns
            )
            row = namedtuple("Row", [c.key for c in columns], rename=True)  # type: ignore[misc]
            found = _Compiled(str(compiled), compiled, names, binds, results, row)
            self._compiled[dialect] = found
        return found

    async def rows(
        self, connection: AsyncConnection | Driver, params: Mapping[str, Any]
    ) -> list[Any]:
        """The rows (named tuples, by column key) of the statement with ``params``.

        Runs in the transaction the driver has open, else on its own: on asyncpg a
        connection's transaction is begun by SQLAlchemy's first statement on it, so a
        statement run here before that one is not part of it (nor does it begin one).
        """
        compiled = self._for(connection.dialect)
        values = compiled.compiled.construct_params(dict(params))
        bound = tuple(
            process(values[name]) if process else values[name]
            for name, process in zip(compiled.names, compiled.binds, strict=True)
        )
        if isinstance(connection, Driver):
            driver = connection.connection
        else:
            driver = (await connection.get_raw_connection()).driver_connection
        with driver_errors(compiled.sql):
            if connection.dialect.name == "postgresql":
                fetched = await driver.fetch(compiled.sql, *bound)
            else:
                fetched = await driver.execute_fetchall(compiled.sql, bound)
        results = compiled.results
        return [
            compiled.row(*(p(v) if p else v for p, v in zip(results, raw, strict=True)))
            for raw in fetched
        ]
