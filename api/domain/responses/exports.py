"""Streamed exports of stored responses: CSV (the upload's own layout) and JSON Lines.

Formats
-------
CSV (``text/csv``)
    The layout ``POST .../responses`` takes: ``respondent``, the instrument's
    item ids in its item order, then the attribute columns (every attribute
    name stored in the survey, sorted). Answers are written as stored (a code
    stays a code), a missing answer or attribute is an empty cell, lines end in
    CRLF (RFC 4180), no byte-order mark. Uploading the file to a survey of the
    same instrument stores the same answers and attributes.
JSON Lines (``application/x-ndjson``)
    One stored respondent per line, the shape of the paginated list's items
    (``respondent``, ``answers``, ``attributes``, ``submitted_at``); a list of
    them is a valid JSON batch.

Both are streamed: rows are read from one database query in chunks
(:func:`stored_rows`, a consistent snapshot) and written as they come, so a
large survey is never held as one string. Everything that can fail (tenant,
survey, scope) is checked before the first byte; a failure after that (the
database going away) cuts the download short rather than returning a problem.

Spreadsheet formula injection: every text cell and column name that starts with
``=``, ``+``, ``-``, ``@``, tab or carriage return and is not a number (or starts
with ``'`` followed by one of those or another ``'``) is written with a leading
``'`` (OWASP "CSV Injection", :mod:`mes.io.formula_escape`), so that opening an
export in a spreadsheet never runs a formula that a respondent id or attribute
carried; the CSV upload removes exactly that ``'`` again, so the export
re-imports unchanged (``'=x`` too).
"""

from __future__ import annotations

import csv
import io
import uuid
from collections.abc import AsyncIterator, Iterable, Sequence
from dataclasses import dataclass
from typing import Any, Literal

from litestar import Request
from litestar.openapi.spec import OpenAPIMediaType, OpenAPIResponse, OpenAPIType, Operation, Schema
from sqlalchemy import func, select, true
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from api.db.models import SurveyResponse
from api.domain.responses.schemas import ResponseOut
from mes.io.formula_escape import escape_cell
from mes.io.numbers import Kind, csv_text

__all__ = [
    "CSV_EXPORT",
    "FHIR_EXPORT",
    "JSONL_EXPORT",
    "ExportFormat",
    "ExportOperation",
    "attribute_names",
    "by_respondent",
    "csv_line",
    "download_headers",
    "export_format",
    "number_cell",
    "responses_csv",
    "responses_jsonl",
    "safe_cell",
    "stored_rows",
]

CSV_EXPORT = "text/csv"
"""Sent as ``text/csv; charset=utf-8`` (Litestar adds the charset of text types)."""
JSONL_EXPORT = "application/x-ndjson"
_JSONL_ACCEPTED = (JSONL_EXPORT, "application/jsonl", "application/x-jsonlines")
CHUNK_ROWS = 1000
"""Rows fetched from the database and written per chunk."""

FHIR_EXPORT = "application/fhir+json"
ExportFormat = Literal["json", "csv", "jsonl", "fhir"]


def by_respondent(session: AsyncSession) -> Any:
    """ORDER BY respondent id in code-point order on both backends.

    SQLite compares bytes; PostgreSQL would sort by the database's locale
    (``en_US`` ignores punctuation), so it is told ``COLLATE "C"``: pages,
    exports and scores list respondents in the same order everywhere.
    """
    bind = session.bind
    if bind is not None and bind.dialect.name == "postgresql":
        return SurveyResponse.respondent.collate("C")
    return SurveyResponse.respondent


def export_format(request: Request[Any, Any, Any], *, fhir: bool = False) -> ExportFormat:
    """The format ``Accept`` asks for: JSON (default), CSV, JSON Lines, or FHIR if offered."""
    offered = ["application/json", "text/csv", *_JSONL_ACCEPTED]
    if fhir:
        offered.append(FHIR_EXPORT)
    wanted = request.accept.best_match(offered, default="application/json")
    if wanted == "text/csv":
        return "csv"
    if wanted in _JSONL_ACCEPTED:
        return "jsonl"
    if wanted == FHIR_EXPORT:
        return "fhir"
    return "json"


def download_headers(name: str) -> dict[str, str]:
    """``Content-Disposition`` naming the file a browser saves."""
    return {"Content-Disposition": f'attachment; filename="{name}"'}


def safe_cell(value: Any) -> str:
    """A stored value as CSV text: empty for None, ``true`` / ``false`` for booleans (as
    every CSV of the service writes them), floats exactly as stored, formulas escaped.

    A stored answer or attribute is data, not a statistic: it is written as it is
    (``repr``), so that the export re-imports unchanged. Statistics are written with
    :func:`number_cell`.

    Examples
    --------
    >>> [safe_cell(v) for v in (None, 4, 0.1 + 0.2, True, "-1", "=1+1", "@SUM(A1)", "Surgery")]
    ['', '4', '0.30000000000000004', 'true', '-1', "'=1+1", "'@SUM(A1)", 'Surgery']
    """
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float):
        return "" if value != value else repr(value)
    return escape_cell(str(value))


def number_cell(value: float, kind: Kind) -> str:
    """A statistic as CSV text, rounded by its kind as every CSV of the library and the
    service rounds (:mod:`mes.io.numbers`); empty when NaN.

    Examples
    --------
    >>> number_cell(85.00000000000001, "percent"), number_cell(3.0 + 1 / 3, "statistic")
    ('85.0', '3.333')
    >>> number_cell(float("nan"), "statistic"), number_cell(5.0, "count")
    ('', '5')
    """
    return str(csv_text(value, kind))


def csv_line(values: Iterable[Any]) -> str:
    """One CSV record (quoted where needed, CRLF-terminated) of values, each as :func:`safe_cell`
    writes it (a header row is escaped like any other)."""
    buffer = io.StringIO()
    csv.writer(buffer, lineterminator="\r\n").writerow(safe_cell(v) for v in values)
    return buffer.getvalue()


async def attribute_names(session: AsyncSession, survey_id: uuid.UUID) -> list[str]:
    """Every attribute name stored in a survey, sorted (one query, on both backends)."""
    where = SurveyResponse.survey_id == survey_id
    bind = session.bind
    if bind is not None and bind.dialect.name == "postgresql":
        keys = func.jsonb_object_keys(SurveyResponse.attributes)
        names = await session.scalars(select(keys).where(where).distinct())
    else:
        each = func.json_each(SurveyResponse.attributes).table_valued("key")
        query = select(each.c.key).select_from(SurveyResponse).join(each, true())
        names = await session.scalars(query.where(where).distinct())
    return sorted(str(n) for n in names)


@dataclass(frozen=True)
class StoredRow:
    """One stored respondent as the export reads it."""

    respondent: str
    answers: dict[str, Any]
    attributes: dict[str, Any]
    submitted_at: Any


async def stored_rows(
    session_maker: async_sessionmaker[AsyncSession], survey_id: uuid.UUID
) -> AsyncIterator[Sequence[StoredRow]]:
    """A survey's respondents in chunks, ordered by respondent id, from one query.

    The query runs on a session of its own (the request's session is closed
    once the response starts), as a server-side cursor where the driver has
    one, so one statement gives a consistent snapshot however long the
    download takes.
    """
    async with session_maker() as session:
        query = (
            select(
                SurveyResponse.respondent,
                SurveyResponse.answers,
                SurveyResponse.attributes,
                SurveyResponse.updated_at,
            )
            .where(SurveyResponse.survey_id == survey_id)
            .order_by(by_respondent(session))
            .execution_options(yield_per=CHUNK_ROWS)
        )
        result = await session.stream(query)
        async for part in result.partitions(CHUNK_ROWS):
            yield [StoredRow(r, a or {}, t or {}, u) for r, a, t, u in part]


async def responses_csv(
    rows: AsyncIterator[Sequence[StoredRow]], items: Sequence[str], attributes: Sequence[str]
) -> AsyncIterator[str]:
    """The CSV export, one chunk of rows at a time (header first)."""
    yield csv_line(["respondent", *items, *attributes])
    async for part in rows:
        buffer = io.StringIO()
        writer = csv.writer(buffer, lineterminator="\r\n")
        for row in part:
            writer.writerow(
                [
                    safe_cell(row.respondent),
                    *(safe_cell(row.answers.get(i)) for i in items),
                    *(safe_cell(row.attributes.get(a)) for a in attributes),
                ]
            )
        yield buffer.getvalue()


async def responses_jsonl(rows: AsyncIterator[Sequence[StoredRow]]) -> AsyncIterator[str]:
    """The JSON Lines export, one chunk of rows at a time."""
    async for part in rows:
        yield "".join(
            ResponseOut(
                respondent=row.respondent,
                answers=row.answers,
                attributes=row.attributes,
                submitted_at=row.submitted_at,
            ).model_dump_json()
            + "\n"
            for row in part
        )


@dataclass
class ExportOperation(Operation):
    """A list operation whose 200 answer also comes as CSV and JSON Lines (by ``Accept``)."""

    def __post_init__(self) -> None:
        ok = (self.responses or {}).get("200")
        if isinstance(ok, OpenAPIResponse) and ok.content is not None:
            ok.content[CSV_EXPORT] = OpenAPIMediaType(
                schema=Schema(
                    type=OpenAPIType.STRING,
                    description="Every row (no paging), streamed; header row first.",
                )
            )
            ok.content[JSONL_EXPORT] = OpenAPIMediaType(
                schema=Schema(
                    type=OpenAPIType.STRING,
                    description="Every row (no paging), streamed; one JSON object per line, "
                    "each shaped like an item of the JSON page.",
                )
            )
