"""Write and read survey responses below the ORM, where the volume is.

A batch of 1,000 respondents is written with one ``executemany`` (SQLite) or
one binary ``COPY`` (PostgreSQL, asyncpg ``copy_records_to_table``) inside the
request's transaction; the ORM's per-row bookkeeping and per-value bind
processing cost more than the database itself (docs/performance.md). Reports
read the packed answers (:mod:`api.domain.responses.packing`) and the
attributes as JSON text, decoding each distinct attribute object once; on
PostgreSQL the database concatenates the packed answers of each attribute object.

The column formats are the ORM's own: the constant values of a batch (its
survey id and time) and each row's id go through the columns' bind processors,
so rows written here read back through the models like any other.
"""

from __future__ import annotations

import datetime as dt
import json
import uuid
import weakref
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, NamedTuple

import msgspec
import numpy as np
import pandas as pd
from sqlalchemy.exc import DBAPIError
from sqlalchemy.ext.asyncio import AsyncSession

import mes
from api.db.models import Survey, SurveyResponse
from api.db.raw import StandaloneConnections, driver_errors
from api.domain.responses.cache import AnswerCache, CacheKey
from api.domain.responses.packing import unpack, unpack_joined
from api.domain.responses.validation import answer_matrix
from mes.responses import response_matrix

__all__ = [
    "FEW_ROWS",
    "NewResponse",
    "RespondentExistsError",
    "StoredAnswers",
    "insert_new_responses",
    "insert_responses",
    "json_text",
    "stored_answers",
]

_COLUMNS = (
    "id",
    "survey_id",
    "respondent",
    "answers",
    "attributes",
    "packed",
    "created_at",
    "updated_at",
)
_encoder = msgspec.json.Encoder()
_sorted_encoder = msgspec.json.Encoder(order="sorted")


def json_text(value: Any, *, sort_keys: bool = False) -> str:
    """Compact JSON text of answers or attributes, as stored (keys sorted when asked)."""
    return (_sorted_encoder if sort_keys else _encoder).encode(value).decode()


class NewResponse(NamedTuple):
    """One validated row to store: JSON texts as stored, packed answers (or None).

    A named tuple, not a dataclass: a batch builds a thousand of them.
    """

    respondent: str
    answers: str
    attributes: str
    packed: bytes | None


class RespondentExistsError(Exception):
    """The unique (survey, respondent) index refused a row: that respondent is stored
    already, or was just stored by a concurrent request."""


def _respondent_exists(exc: BaseException) -> bool:
    """Whether a driver's error (or SQLAlchemy's wrapping of one) is that unique index
    refusing a row: PostgreSQL's SQLSTATE 23505, SQLite's ``SQLITE_CONSTRAINT_UNIQUE``."""
    orig = exc.orig if isinstance(exc, DBAPIError) else exc
    return (
        getattr(orig, "sqlstate", None) == "23505"
        or getattr(orig, "sqlite_errorname", None) == "SQLITE_CONSTRAINT_UNIQUE"
    )


async def insert_responses(
    session: AsyncSession, survey_id: uuid.UUID, rows: Sequence[NewResponse]
) -> None:
    """Insert rows in the session's open transaction (which has already run a statement).

    Raises
    ------
    RespondentExistsError
        When a concurrent request stored one of these respondents first.
    """
    if not rows:
        return
    now = dt.datetime.now(dt.UTC)
    connection = await session.connection()
    if connection.dialect.name == "postgresql":
        await _copy_postgresql(connection, survey_id, rows, now)
        return
    sql = (
        f"INSERT INTO {SurveyResponse.__tablename__} ({', '.join(_COLUMNS)}) "
        f"VALUES ({', '.join('?' * len(_COLUMNS))})"
    )
    params = _sqlite_params(connection.dialect, survey_id, rows, now)
    try:
        await connection.exec_driver_sql(sql, params)
    except DBAPIError as exc:
        if _respondent_exists(exc):
            raise RespondentExistsError(str(exc.orig)) from None
        raise


class _SQLiteBinds(NamedTuple):
    """The bind processors :func:`_sqlite_params` applies, looked up once per dialect."""

    new_id: Any
    survey_id: Any
    created_at: Any
    updated_at: Any


_SQLITE_BINDS: weakref.WeakKeyDictionary[Any, _SQLiteBinds] = weakref.WeakKeyDictionary()


def _sqlite_binds(dialect: Any) -> _SQLiteBinds:
    found = _SQLITE_BINDS.get(dialect)
    if found is None:
        columns = SurveyResponse.__table__.c
        process = {c: columns[c].type.bind_processor(dialect) for c in _COLUMNS}
        found = _SQLiteBinds(
            _id_maker(process["id"]),
            process["survey_id"],
            process["created_at"],
            process["updated_at"],
        )
        _SQLITE_BINDS[dialect] = found
    return found


def _sqlite_params(
    dialect: Any, survey_id: uuid.UUID, rows: Sequence[NewResponse], now: dt.datetime
) -> list[tuple[Any, ...]]:
    """Each row's values for an SQLite ``INSERT`` of :data:`_COLUMNS`, in stored form."""
    binds = _sqlite_binds(dialect)

    def bind(process: Any, value: Any) -> Any:
        return process(value) if process else value

    new_id = binds.new_id
    survey = bind(binds.survey_id, survey_id)
    stamps = tuple(
        _sqlite_text(bind(process, now)) for process in (binds.created_at, binds.updated_at)
    )
    return [
        (new_id(), survey, r.respondent, r.answers, r.attributes, r.packed, *stamps)
        for r in rows
    ]


def _id_maker(process: Any) -> Any:
    """A function making a new row id in its stored form.

    The id column's bind processor is applied to a fresh ``uuid4`` for every row;
    where it stores the UUID's 16 bytes (advanced-alchemy's GUID on SQLite), this
    is checked once and the bytes are used directly (the processor's per-call cost
    was 8% of an ingest profile).
    """
    if process is None:
        return uuid.uuid4
    sample = uuid.uuid4()
    stored = process(sample)
    if isinstance(stored, (bytes, memoryview)) and bytes(stored) == sample.bytes:
        return lambda: uuid.uuid4().bytes
    return lambda: process(uuid.uuid4())


def _sqlite_text(value: Any) -> Any:
    """A datetime as sqlite3's own adapter would store it (``isoformat(" ")``), once per
    batch instead of once per row; other values unchanged."""
    return value.isoformat(" ") if isinstance(value, dt.datetime) else value


_COPY_FROM_ROWS = 100
"""Batches this large are written with ``COPY``; smaller ones with a prepared ``INSERT``.
Each ``copy_records_to_table`` first asks the server for the table's column types (a
round trip and a query plan), which for a single respondent cost more than the row."""

_PG_INSERT = (
    f"INSERT INTO {SurveyResponse.__tablename__} ({', '.join(_COLUMNS)}) "
    f"VALUES ({', '.join(f'${i}' for i in range(1, len(_COLUMNS) + 1))})"
)


async def _copy_postgresql(
    connection: Any, survey_id: uuid.UUID, rows: Sequence[NewResponse], now: dt.datetime
) -> None:
    import asyncpg  # type: ignore[import-untyped]

    raw = await connection.get_raw_connection()
    driver = raw.driver_connection
    if not driver.is_in_transaction():  # pragma: no cover - the respondents were looked up
        raise RuntimeError("insert_responses needs the request's transaction to be open")
    records = [
        (uuid.uuid4(), survey_id, r.respondent, r.answers, r.attributes, r.packed, now, now)
        for r in rows
    ]
    try:
        if len(records) >= _COPY_FROM_ROWS:
            await driver.copy_records_to_table(
                SurveyResponse.__tablename__, records=records, columns=_COLUMNS
            )
        else:
            await driver.executemany(_PG_INSERT, records)
    except asyncpg.PostgresError as exc:
        if _respondent_exists(exc):
            raise RespondentExistsError(str(exc)) from None
        raise


FEW_ROWS = _COPY_FROM_ROWS
"""Batches below this size are written by :func:`insert_new_responses` (one statement on
PostgreSQL, all or nothing), larger ones checked first and then written by
:func:`insert_responses`."""

_SURVEYS = Survey.__tablename__
_PG_INSERT_NEW = f"""
WITH counted AS (
    UPDATE {_SURVEYS}
    SET response_count = response_count + $8, answers_version = answers_version + 1
    WHERE id = $1 AND status = 'open'
    RETURNING response_count
), new AS (
    INSERT INTO {SurveyResponse.__tablename__} ({', '.join(_COLUMNS)})
    SELECT r.id, $1, r.respondent, r.answers::jsonb, r.attributes::jsonb, r.packed, $2, $2
    FROM unnest($3::uuid[], $4::text[], $5::text[], $6::text[], $7::bytea[])
        AS r(id, respondent, answers, attributes, packed)
    WHERE EXISTS (SELECT FROM counted)
)
SELECT response_count FROM counted
"""
"""Count a small batch into its open survey and insert its rows, in one round trip and one
statement: atomic on its own, so it needs no transaction around it. The update finds no
row when the survey is closed, and then no row is inserted; a respondent already stored
fails the whole statement at the unique (survey, respondent) index."""

_SQLITE_INSERT_NEW = (
    f"INSERT INTO {SurveyResponse.__tablename__} ({', '.join(_COLUMNS)}) "
    f"VALUES ({', '.join('?' * len(_COLUMNS))})"
)
_SQLITE_COUNT_NEW = (
    f"UPDATE {_SURVEYS} SET response_count = response_count + ?, "
    "answers_version = answers_version + 1 WHERE id = ? AND status = 'open' "
    "RETURNING response_count"
)

async def insert_new_responses(
    session: AsyncSession,
    survey_id: uuid.UUID,
    rows: Sequence[NewResponse],
    standalone: StandaloneConnections | None = None,
) -> int | None:
    """Store a small batch (below :data:`FEW_ROWS`) of respondents not stored yet in an
    open survey, and count them into it.

    On PostgreSQL one statement, run in the session's transaction if one has begun and
    otherwise on a connection of ``standalone``, outside any transaction (it is atomic
    either way); on SQLite two, in the session's transaction.

    Parameters
    ----------
    session : AsyncSession
        The request's session.
    survey_id : uuid.UUID
    rows : sequence of NewResponse
    standalone : StandaloneConnections, optional
        The app's connections for standalone statements; without them the statement
        begins the session's transaction, and the caller commits it.

    Returns
    -------
    int or None
        The survey's response count once the rows were added to it (its answers version
        raised too, as every write of responses does); None when the survey is closed,
        and then nothing was written.

    Raises
    ------
    RespondentExistsError
        A respondent is stored already. Nothing was kept on PostgreSQL; on SQLite the
        caller rolls the transaction back.
    """
    if not rows:
        raise ValueError("insert_new_responses needs at least one row")
    now = dt.datetime.now(dt.UTC)
    engine: Any = session.bind
    if engine.dialect.name == "postgresql":
        if standalone is not None and not session.in_transaction():
            # The request has no transaction (no Idempotency-Key lock): the statement
            # stands alone, on a connection of its own rather than the session's.
            async with standalone.borrow() as borrowed:
                return await _insert_new_postgresql(borrowed.connection, survey_id, rows, now)
        connection = await session.connection()
        in_session: Any = (await connection.get_raw_connection()).driver_connection
        return await _insert_new_postgresql(in_session, survey_id, rows, now)
    connection = await session.connection()
    driver: Any = (await connection.get_raw_connection()).driver_connection
    # Straight to aiosqlite, as api.db.raw does: one trip to its thread per statement.
    params = _sqlite_params(connection.dialect, survey_id, rows, now)
    with driver_errors(_SQLITE_COUNT_NEW):
        counted = await driver.execute_fetchall(_SQLITE_COUNT_NEW, (len(rows), params[0][1]))
    if not counted:
        return None
    try:
        with driver_errors(_SQLITE_INSERT_NEW):
            await driver.executemany(_SQLITE_INSERT_NEW, params)
    except DBAPIError as exc:
        if _respondent_exists(exc):
            raise RespondentExistsError(str(exc.orig)) from None
        raise
    return int(counted[0][0])


async def _insert_new_postgresql(
    driver: Any, survey_id: uuid.UUID, rows: Sequence[NewResponse], now: dt.datetime
) -> int | None:
    try:
        with driver_errors(_PG_INSERT_NEW):
            found = await driver.fetchrow(
                _PG_INSERT_NEW,
                survey_id,
                now,
                [uuid.uuid4() for _ in rows],
                [r.respondent for r in rows],
                [r.answers for r in rows],
                [r.attributes for r in rows],
                [r.packed for r in rows],
                len(rows),
            )
    except DBAPIError as exc:
        if _respondent_exists(exc):
            raise RespondentExistsError(str(exc.orig)) from None
        raise
    return None if found is None else int(found[0])


@dataclass(frozen=True)
class StoredAnswers:
    """A survey's stored answers as one validated float matrix, with respondents and attributes.

    Attributes
    ----------
    respondents : list of str or None
        In the rows' order, when they were asked for.
    values : ndarray of float64, shape (n, items)
        Answers in the instrument's item order (coded answers as their values),
        NaN where missing: what :func:`mes.score` and :func:`mes.summarise` take.
    """

    respondents: list[str] | None
    values: np.ndarray
    _codes: np.ndarray  # row -> index into _objects
    _objects: tuple[dict[str, Any], ...]  # the distinct attribute objects

    def __len__(self) -> int:
        return int(self.values.shape[0])

    def attribute_names(self) -> list[str]:
        """Every attribute name any stored respondent has, sorted."""
        return sorted({name for obj in self._objects for name in obj})

    def attribute_frame(self, names: Sequence[str]) -> pd.DataFrame:
        """One categorical column per name (missing where a respondent lacks it), one row
        each.

        Categorical, built from the codes already at hand: :func:`mes.summarise`
        factorizes each grouping column, which for 200,000 object values cost 30 ms
        a column and is nearly free for categorical ones.
        """
        return pd.DataFrame(
            {name: self._categorical(name) for name in names}, index=pd.RangeIndex(len(self))
        )

    def _categorical(self, name: str) -> pd.Categorical:
        per_object = pd.Series([obj.get(name) for obj in self._objects], dtype=object)
        codes, categories = pd.factorize(per_object, use_na_sentinel=True)
        return pd.Categorical.from_codes(
            np.asarray(codes)[self._codes], categories=pd.Index(categories, dtype=object)
        )

    def nbytes(self) -> int:
        """About what this holds in memory (the cache's budget counts it)."""
        respondents = sum(49 + len(r) for r in self.respondents) if self.respondents else 0
        return int(self.values.nbytes + self._codes.nbytes + respondents + 300 * len(self._objects))

    def attribute_dicts(self) -> list[dict[str, Any]]:
        """Each respondent's attributes (shared objects: read, don't modify)."""
        return [self._objects[c] for c in self._codes.tolist()]


async def stored_answers(
    session: AsyncSession,
    survey: Survey,
    instrument: mes.Instrument,
    *,
    respondents: bool,
    cache: AnswerCache[StoredAnswers] | None = None,
) -> StoredAnswers:
    """A survey's responses as a :class:`StoredAnswers` (read-only: it may be shared).

    Parameters
    ----------
    survey : Survey
        As read in this request: its tenant, id and ``answers_version`` say which
        cached copy (:mod:`api.domain.responses.cache`) is current.
    respondents : bool
        Also read the respondent ids, and order the rows by them (pages and
        exports need them; reports do not, and read one column less).
    cache : AnswerCache, optional
        The app's cache (``app.state.answer_cache``, injected into the services);
        without one the rows are read every time.

    Notes
    -----
    The rows are fetched through the driver (one ``SELECT`` of the packed
    answers and the attributes as text): at 200,000 rows, building
    SQLAlchemy row objects cost more than the query. Rows stored before packed
    answers existed (migration 0004), and rows of instruments whose scale is too
    wide to pack, come with their JSON answers instead, which are validated
    again with ``errors="missing"``.
    """
    key = CacheKey(
        survey.tenant_id,
        survey.id,
        survey.answers_version,
        (instrument.id, instrument.version),
        respondents,
    )
    cached = cache.get(key) if cache is not None else None
    if cached is not None:
        return cached
    found = await _read_answers(session, survey.id, instrument, respondents=respondents)
    found.values.flags.writeable = False
    if cache is not None:
        cache.put(key, found)
    return found


async def _read_answers(
    session: AsyncSession, survey_id: uuid.UUID, instrument: mes.Instrument, *, respondents: bool
) -> StoredAnswers:
    postgresql = (await session.connection()).dialect.name == "postgresql"
    if postgresql and not respondents:
        return await _read_grouped(session, survey_id, instrument)
    as_text = "::text" if postgresql else ""
    columns = f"packed, attributes{as_text}, CASE WHEN packed IS NULL THEN answers{as_text} END"
    sql = f"SELECT {columns}{', respondent' if respondents else ''} FROM survey_response "
    sql += "WHERE survey_id = $1" if postgresql else "WHERE survey_id = ?"
    if respondents:  # the order of by_respondent(): byte order on both databases
        sql += ' ORDER BY respondent COLLATE "C"' if postgresql else " ORDER BY respondent"
    rows = await _fetch(session, sql, survey_id)
    n = len(rows)
    blobs = [row[0] for row in rows]
    values = np.full((n, len(instrument.item_ids)), np.nan)
    unpacked = [i for i, blob in enumerate(blobs) if blob is None]
    if not unpacked:
        values[:] = unpack(instrument, blobs) if n else values
    else:
        packed_rows = np.setdiff1d(np.arange(n), unpacked)
        if len(packed_rows):
            values[packed_rows] = unpack(instrument, [blobs[i] for i in packed_rows])
        values[unpacked] = _from_json(instrument, [rows[i][2] for i in unpacked])
    return _stored(
        [row[3] for row in rows] if respondents else None, values, [row[1] for row in rows]
    )


# PostgreSQL concatenates each attribute object's packed rows itself: one row per
# distinct object comes back instead of one per respondent, which at 200,000
# respondents halves the read (docs/performance.md). Rows without packed answers
# (stored before migration 0004) are counted here and read on their own.
_GROUPED = (
    "SELECT attributes::text, count(*), count(*) FILTER (WHERE packed IS NULL), "
    "string_agg(packed, ''::bytea) FROM survey_response WHERE survey_id = $1 "
    "GROUP BY attributes"
)
_UNPACKED = (
    "SELECT attributes::text, answers::text FROM survey_response "
    "WHERE survey_id = $1 AND packed IS NULL"
)


async def _read_grouped(
    session: AsyncSession, survey_id: uuid.UUID, instrument: mes.Instrument
) -> StoredAnswers:
    """A report's answers on PostgreSQL, in no particular row order."""
    groups = await _fetch(session, _GROUPED, survey_id)
    packed_rows = [total - unpacked for _, total, unpacked, _ in groups]
    values = unpack_joined(instrument, [g[3] or b"" for g in groups], packed_rows)
    texts = [g[0] for g in groups]
    repeats = list(packed_rows)
    if any(g[2] for g in groups):
        legacy = await _fetch(session, _UNPACKED, survey_id)
        values = np.vstack([values, _from_json(instrument, [row[1] for row in legacy])])
        texts += [row[0] for row in legacy]
        repeats += [1] * len(legacy)
    return _stored(None, values, texts, repeats)


def _from_json(instrument: mes.Instrument, answer_texts: Sequence[str]) -> np.ndarray:
    """Answers of rows stored without packed answers, validated again (invalid -> missing)."""
    legacy = [json.loads(text) for text in answer_texts]
    return response_matrix(
        instrument, answer_matrix(instrument, legacy), errors="missing"
    ).values


def _stored(
    respondents: list[str] | None,
    values: np.ndarray,
    attribute_texts: list[Any],
    repeats: list[int] | None = None,
) -> StoredAnswers:
    """Decode each distinct attribute text once; ``repeats``: rows of each text, in order
    (default one each)."""
    codes, uniques = pd.factorize(pd.Series(attribute_texts, dtype=object))
    objects = tuple(json.loads(text) if text else {} for text in uniques)
    codes = np.asarray(codes, dtype=np.intp)
    if repeats is not None:
        codes = np.repeat(codes, repeats)
    return StoredAnswers(respondents, values, codes, objects)


async def _fetch(session: AsyncSession, sql: str, survey_id: uuid.UUID) -> list[Any]:
    """Rows of ``sql`` (one parameter: the survey id) as plain tuples, in the session's
    transaction, straight from the driver (aiosqlite or asyncpg)."""
    connection = await session.connection()
    driver: Any = (await connection.get_raw_connection()).driver_connection
    if connection.dialect.name == "postgresql":
        return list(await driver.fetch(sql, survey_id))
    processor = SurveyResponse.__table__.c.survey_id.type.bind_processor(connection.dialect)
    cursor = await driver.execute(sql, (processor(survey_id) if processor else survey_id,))
    try:
        return list(await cursor.fetchall())
    finally:
        await cursor.close()
