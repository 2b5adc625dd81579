"""Write and read survey responses below the ORM, where the volume is.

A batch of 1,000 respondents is written with one ``executemany`` (SQLite) or
one binary ``COPY`` (PostgreSQL, asyncpg ``copy_records_to_table``) inside the
request's transaction; the ORM's per-row bookkeeping and per-value bind
processing cost more than the database itself (docs/performance.md). Reports
read the packed answers (:mod:`api.domain.responses.packing`) and the
attributes as JSON text, decoding each distinct attribute object once.

The column formats are the ORM's own: the constant values of a batch (its
survey id and time) and each row's id go through the columns' bind processors,
so rows written here read back through the models like any other.
"""

from __future__ import annotations

import datetime as dt
import json
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import msgspec
import numpy as np
import pandas as pd
from sqlalchemy import cast, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.types import Text

import mes
from api.db.models import SurveyResponse
from api.domain.responses.exports import by_respondent
from api.domain.responses.packing import unpack
from api.domain.responses.validation import answer_matrix
from api.errors import ProblemError
from mes.responses import response_matrix

__all__ = ["NewResponse", "StoredAnswers", "insert_responses", "json_text", "stored_answers"]

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


def json_text(value: Any) -> str:
    """Compact JSON text of answers or attributes, as stored."""
    return _encoder.encode(value).decode()


@dataclass(frozen=True)
class NewResponse:
    """One validated row to store: JSON texts as stored, packed answers (or None)."""

    respondent: str
    answers: str
    attributes: str
    packed: bytes | None


async def insert_responses(
    session: AsyncSession, survey_id: uuid.UUID, rows: Sequence[NewResponse]
) -> None:
    """Insert rows in the session's open transaction (which has already run a statement).

    Raises
    ------
    ProblemError
        409 when a concurrent request stored one of these respondents first.
    """
    if not rows:
        return
    now = dt.datetime.now(dt.UTC)
    connection = await session.connection()
    if connection.dialect.name == "postgresql":
        await _copy_postgresql(connection, survey_id, rows, now)
        return
    table = SurveyResponse.__table__
    dialect = connection.dialect

    def bind(column: str, value: Any) -> Any:
        processor = table.c[column].type.bind_processor(dialect)
        return processor(value) if processor else value

    process_id = table.c.id.type.bind_processor(dialect) or (lambda v: v)
    survey = bind("survey_id", survey_id)
    stamps = (bind("created_at", now), bind("updated_at", now))
    sql = (
        f"INSERT INTO {SurveyResponse.__tablename__} ({', '.join(_COLUMNS)}) "
        f"VALUES ({', '.join('?' * len(_COLUMNS))})"
    )
    params = [
        (process_id(uuid.uuid4()), survey, r.respondent, r.answers, r.attributes, r.packed, *stamps)
        for r in rows
    ]
    try:
        await connection.exec_driver_sql(sql, params)
    except IntegrityError:
        raise _concurrent() from None


async def _copy_postgresql(
    connection: Any, survey_id: uuid.UUID, rows: Sequence[NewResponse], now: dt.datetime
) -> None:
    import asyncpg  # type: ignore[import-untyped]

    raw = await connection.get_raw_connection()
    driver = raw.driver_connection
    if not driver.is_in_transaction():  # pragma: no cover - the survey was read FOR UPDATE
        raise RuntimeError("insert_responses needs the request's transaction to be open")
    records = [
        (uuid.uuid4(), survey_id, r.respondent, r.answers, r.attributes, r.packed, now, now)
        for r in rows
    ]
    try:
        await driver.copy_records_to_table(
            SurveyResponse.__tablename__, records=records, columns=_COLUMNS
        )
    except asyncpg.UniqueViolationError:
        raise _concurrent() from None


def _concurrent() -> ProblemError:
    return ProblemError(
        409, "a concurrent request stored some of these respondents; retry the batch"
    )


@dataclass(frozen=True)
class StoredAnswers:
    """A survey's stored answers as one validated float matrix, with respondents and attributes.

    Attributes
    ----------
    respondents : list of str
    values : ndarray of float64, shape (n, items)
        Answers in the instrument's item order (coded answers as their values),
        NaN where missing: what :func:`mes.score` and :func:`mes.summarise` take.
    """

    respondents: list[str]
    values: np.ndarray
    _codes: np.ndarray  # row -> index into _objects
    _objects: tuple[dict[str, Any], ...]  # the distinct attribute objects

    def __len__(self) -> int:
        return len(self.respondents)

    def attribute_names(self) -> list[str]:
        """Every attribute name any stored respondent has, sorted."""
        return sorted({name for obj in self._objects for name in obj})

    def attribute_frame(self, names: Sequence[str]) -> pd.DataFrame:
        """One object column per name (None where a respondent lacks it), one row each."""
        return pd.DataFrame(
            {name: _take([obj.get(name) for obj in self._objects], self._codes) for name in names},
            index=pd.RangeIndex(len(self.respondents)),
            dtype=object,
        )

    def attribute_dicts(self) -> list[dict[str, Any]]:
        """Each respondent's attributes (shared objects: read, don't modify)."""
        return [self._objects[c] for c in self._codes.tolist()]


def _take(values: list[Any], codes: np.ndarray) -> np.ndarray:
    array = np.empty(len(values), dtype=object)
    array[:] = values
    return array[codes] if len(codes) else np.empty(0, dtype=object)


async def stored_answers(
    session: AsyncSession, survey_id: uuid.UUID, instrument: mes.Instrument, *, ordered: bool
) -> StoredAnswers:
    """Read a survey's responses as a :class:`StoredAnswers`.

    Parameters
    ----------
    ordered : bool
        Order by respondent id (pages and exports need it; reports do not).

    Notes
    -----
    Rows stored before packed answers existed (migration 0004), and rows of
    instruments whose scale is too wide to pack, are read from their JSON
    answers and validated again with ``errors="missing"``.
    """
    query = select(
        SurveyResponse.respondent,
        SurveyResponse.packed,
        cast(SurveyResponse.attributes, Text),
    ).where(SurveyResponse.survey_id == survey_id)
    if ordered:
        query = query.order_by(by_respondent(session))
    result = await session.execute(query)
    respondents, blobs, attribute_texts = _columns_of(result.all(), 3)
    values = np.full((len(respondents), len(instrument.item_ids)), np.nan)
    packed_rows = [i for i, blob in enumerate(blobs) if blob is not None]
    if packed_rows:
        values[packed_rows] = unpack(instrument, [blobs[i] for i in packed_rows])
    if len(packed_rows) < len(respondents):
        await _fill_from_json(session, survey_id, instrument, respondents, blobs, values)
    codes, uniques = pd.factorize(pd.Series(attribute_texts, dtype=object))
    objects = tuple(json.loads(text) if text else {} for text in uniques)
    return StoredAnswers(respondents, values, np.asarray(codes, dtype=np.intp), objects)


async def _fill_from_json(
    session: AsyncSession,
    survey_id: uuid.UUID,
    instrument: mes.Instrument,
    respondents: list[str],
    blobs: Sequence[bytes | None],
    values: np.ndarray,
) -> None:
    result = await session.execute(
        select(SurveyResponse.respondent, SurveyResponse.answers).where(
            SurveyResponse.survey_id == survey_id, SurveyResponse.packed.is_(None)
        )
    )
    answers: dict[str, dict[str, Any]] = dict(result.tuples().all())
    rows = [i for i, blob in enumerate(blobs) if blob is None]
    matrix = answer_matrix(instrument, [answers.get(respondents[i], {}) for i in rows])
    values[rows] = response_matrix(instrument, matrix, errors="missing").values


def _columns_of(rows: Sequence[Any], width: int) -> list[list[Any]]:
    if not rows:
        return [[] for _ in range(width)]
    return [list(column) for column in zip(*rows, strict=True)]
