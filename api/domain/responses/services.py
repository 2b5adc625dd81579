"""Store, list and erase one survey's responses, one row per respondent."""

from __future__ import annotations

import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any, cast

import anyio.to_thread
from litestar.status_codes import HTTP_201_CREATED, HTTP_409_CONFLICT
from sqlalchemy import Table, bindparam, delete, select, update
from sqlalchemy.exc import DBAPIError
from sqlalchemy.ext.asyncio import AsyncSession

import mes
from api.db.models import Survey, SurveyResponse
from api.db.raw import StandaloneConnections
from api.domain.responses import idempotency
from api.domain.responses.cache import AnswerCache
from api.domain.responses.exports import attribute_names, by_respondent
from api.domain.responses.idempotency import RetryKey
from api.domain.responses.packing import pack
from api.domain.responses.parsing import Batch, IngestLimits, parse_batch, reject
from api.domain.responses.schemas import BatchResult, ResponseOut
from api.domain.responses.storage import (
    FEW_ROWS,
    NewResponse,
    RespondentExistsError,
    StoredAnswers,
    insert_new_responses,
    insert_responses,
    json_text,
    stored_answers,
)
from api.domain.responses.validation import CheckedBatch, check_batch
from api.domain.surveys.definitions import SurveyDefinition, SurveyDefinitions
from api.domain.surveys.services import SurveyService
from api.errors import NothingStoredError, ProblemError
from mes.identifiers import InvalidRespondentIdError, normalise_respondent_id

__all__ = ["OFF_LOOP_BYTES", "ResponseService", "Submission", "Submitted", "stored_rows"]

_CHUNK = 500  # rows per IN (...) / INSERT statement; far below every driver's parameter limit

# Statements every submit runs, on the tables' columns and built once: building and
# loading through the ORM cost as much as running them (a single-respondent submit
# is mostly such overhead).
_RESPONSES = SurveyResponse.__table__.c
_EXISTING = select(_RESPONSES.respondent).where(
    _RESPONSES.survey_id == bindparam("survey_id"),
    _RESPONSES.respondent.in_(bindparam("respondents", expanding=True)),
)
_SURVEYS = Survey.__table__.c
_ADD_TO_COUNT = (
    update(cast(Table, Survey.__table__))
    .where(_SURVEYS.id == bindparam("survey_id"))
    .values(
        response_count=_SURVEYS.response_count + bindparam("delta"),
        answers_version=_SURVEYS.answers_version + 1,  # a changed survey is read afresh
    )
    .returning(_SURVEYS.response_count)
)
_ADD_TO_OPEN_COUNT = _ADD_TO_COUNT.where(_SURVEYS.status == "open")
"""The same for new responses: no row is counted into a survey that was closed meanwhile."""


@dataclass(frozen=True)
class Submission:
    """A submitted batch as the request carried it: what :meth:`ResponseService.submit` takes.

    Attributes
    ----------
    media_type : str
        ``application/json``, ``text/csv`` or ``application/fhir+json``.
    body : bytes
    replace : bool
        Replace respondents that already exist (else 409 naming them).
    idempotency_key : str or None
        A retry with this key and a batch of the same meaning replays the first result.
    unnamed_prefix : str or None
        FHIR: how to name a resource that has no id (else it is refused).
    """

    media_type: str
    body: bytes
    replace: bool = False
    idempotency_key: str | None = None
    unnamed_prefix: str | None = None


@dataclass(frozen=True)
class Submitted:
    """The answer to a submission: its result, status, and whether it is a replay."""

    result: BatchResult
    status_code: int = 201
    replayed: bool = False


@dataclass(frozen=True)
class _Prepared:
    """A batch read and judged, with the rows it would store and, when the request has an
    Idempotency-Key, that key and the batch's fingerprint."""

    batch: Batch
    checked: CheckedBatch
    rows: list[NewResponse]
    retry: RetryKey | None


OFF_LOOP_BYTES = 64 * 1024
"""Bodies at least this large are read and judged in a worker thread, so that the
event loop keeps answering other requests meanwhile."""


class ResponseService:
    """Responses of one tenant's surveys."""

    def __init__(
        self,
        session: AsyncSession,
        tenant_id: uuid.UUID,
        limits: IngestLimits,
        session_maker: Callable[[], AsyncSession] | None = None,
        answer_cache: AnswerCache[StoredAnswers] | None = None,
        definitions: SurveyDefinitions | None = None,
        standalone: StandaloneConnections | None = None,
    ) -> None:
        self.session = session
        self.tenant_id = tenant_id
        self.surveys = SurveyService(session, tenant_id, definitions=definitions)
        self.limits = limits
        self.session_maker = session_maker
        self.answer_cache = answer_cache
        self.standalone = standalone

    async def submit(self, survey_id: uuid.UUID, submission: Submission) -> Submitted:
        """Read, judge and store a batch in the caller's transaction: the whole submit path.

        1. Look up the survey's definition (the app keeps it once read); with an
           ``Idempotency-Key`` also its status, locked until the commit, so that a
           concurrent first try with the same key finishes first.
        2. Read the body into a :class:`~api.domain.responses.parsing.Batch` and
           judge every row (:func:`check_batch`), in a worker thread for large
           bodies; build the rows to store and the batch's fingerprint.
        3. Replay the stored result of an ``Idempotency-Key`` used before for a
           batch of the same meaning (409 for another batch).
        4. Refuse a closed survey (409), any problem (422 listing all), existing
           respondents unless replacing (409 naming them).
        5. Write, count, and remember the result under the key. A small batch that
           does not replace is written and counted by one statement that also checks
           the survey is open (:func:`insert_new_responses`).

        Raises
        ------
        ProblemError
            404 unknown survey; 409 as above; 413 over a limit; 415 unknown
            format; 422 listing every problem.
        """
        key = submission.idempotency_key
        survey = await self.surveys.definition(survey_id)
        # Without a key the status is checked where the rows are written. With one the
        # survey is locked until the commit, so that a concurrent first try with the same
        # key finishes first, and its status read under the lock.
        status = None
        if key is not None:
            status = (await self.surveys.fields(survey_id, for_update=True)).status

        def prepare() -> _Prepared:
            return _prepare(survey, submission, self.limits)

        if len(submission.body) >= OFF_LOOP_BYTES:
            prepared = await anyio.to_thread.run_sync(prepare)
        else:
            prepared = prepare()
        retry = prepared.retry
        if retry is not None:
            replay = await idempotency.find_replay(
                self.session, self.tenant_id, retry.key, retry.fingerprint
            )
            if replay is not None:
                return _replayed(replay)
        try:
            result = await self._store(survey, status, prepared, replace=submission.replace)
        except ProblemError as exc:
            if exc.status != HTTP_409_CONFLICT or retry is None or self.session_maker is None:
                raise
            # A concurrent request with this key may have committed while this one waited:
            # its result, visible to a fresh session, is this retry's answer.
            async with self.session_maker() as fresh:
                replay = await idempotency.find_replay(
                    fresh, self.tenant_id, retry.key, retry.fingerprint
                )
            if replay is None:
                raise
            return _replayed(replay)
        if retry is not None:
            await idempotency.remember(
                self.session, self.tenant_id, retry.key, retry.fingerprint, HTTP_201_CREATED,
                result.model_dump(mode="json"),
            )
        return Submitted(result)

    async def _store(
        self,
        survey: SurveyDefinition,
        status: str | None,
        prepared: _Prepared,
        *,
        replace: bool,
    ) -> BatchResult:
        """Refuse or write a judged batch. ``status`` is the survey's when it was read
        (locked) for this request, else None: then a small batch's statement checks it,
        and anything else reads it first."""
        # No row lock here: two batches for the same respondents meet at the unique index
        # (the later one is a 409), and the count's UPDATE locks the survey row only from
        # there to the commit, so batches to one survey overlap until then.
        small = not replace and 0 < len(prepared.rows) < FEW_ROWS
        if status is None and (prepared.checked.problems or not small):
            status = (await self.surveys.fields(survey.id)).status
        if status is not None and status != "open":
            raise _closed(survey.id)
        if prepared.checked.problems:
            raise reject(prepared.checked.problems)
        respondents = prepared.batch.respondents
        packed = pack(survey.instrument, prepared.checked.values)
        rows = prepared.rows
        if packed is not None:
            rows = [row._replace(packed=packed[i]) for i, row in enumerate(rows)]
        if small:
            return await self._store_new(survey.id, rows)
        existing = await self._existing(survey.id, respondents)
        if existing and not replace:
            raise _duplicates(existing)
        for chunk in _chunks(existing):
            await self.session.execute(
                delete(SurveyResponse).where(
                    SurveyResponse.survey_id == survey.id, SurveyResponse.respondent.in_(chunk)
                )
            )
        try:
            await insert_responses(self.session, survey.id, rows)
        except RespondentExistsError:  # not stored when checked above: stored since
            raise ProblemError(
                409, "a concurrent request stored some of these respondents; retry the batch"
            ) from None
        total = await self._add_to_count(survey.id, len(rows) - len(existing), only_open=True)
        if total is None:  # closed after its status was read: the transaction is rolled back
            raise _closed(survey.id)
        return BatchResult(
            accepted=len(rows),
            replaced=len(existing),
            survey=str(survey.id),
            total=total,
            on_conflict="replace" if replace else "reject",
        )

    async def _store_new(self, survey_id: uuid.UUID, rows: list[NewResponse]) -> BatchResult:
        """A small batch without replacing: written and counted by one statement where the
        database allows, all or nothing; 409 when the survey is closed or a respondent
        is stored already."""
        try:
            total = await insert_new_responses(self.session, survey_id, rows, self.standalone)
        except RespondentExistsError:
            # Undo what SQLite wrote before the refused row; on PostgreSQL the statement
            # kept nothing, but a transaction it ran in cannot go on.
            await self.session.rollback()
            existing = await self._existing(survey_id, [r.respondent for r in rows])
            if not existing:  # a concurrent request's rows, since rolled back
                raise ProblemError(
                    409, "a concurrent request stored some of these respondents; retry the batch"
                ) from None
            raise _duplicates(existing) from None
        except DBAPIError as exc:
            # On PostgreSQL the statement commits itself (outside a transaction), so the
            # database refusing it is the failed commit of this request.
            raise NothingStoredError from exc
        if total is None:
            raise _closed(survey_id)
        return BatchResult(
            accepted=len(rows),
            replaced=0,
            survey=str(survey_id),
            total=total,
            on_conflict="reject",
        )

    async def page(
        self, survey_id: uuid.UUID, limit: int, offset: int
    ) -> tuple[list[ResponseOut], int]:
        """A page of stored respondents, ordered by respondent id."""
        survey = await self.surveys.get_model(survey_id)
        total = survey.response_count
        rows = await self.session.scalars(
            select(SurveyResponse)
            .where(SurveyResponse.survey_id == survey.id)
            .order_by(by_respondent(self.session))
            .limit(limit)
            .offset(offset)
        )
        return [
            ResponseOut(
                respondent=r.respondent,
                answers=r.answers,
                attributes=r.attributes,
                submitted_at=r.updated_at,
            )
            for r in rows
        ], total

    async def export_columns(self, survey_id: uuid.UUID) -> tuple[Survey, list[str], list[str]]:
        """A survey (404 if not the tenant's), its item ids and its stored attribute names."""
        survey = await self.surveys.get_model(survey_id)
        instrument = await self.surveys.instrument_of(survey)
        return survey, list(instrument.item_ids), await attribute_names(self.session, survey.id)

    async def erase(self, survey_id: uuid.UUID, respondent: str) -> None:
        """Delete one respondent's row for good; 404 if there is none.

        The id is normalised as every upload normalises it, so ``"André "`` erases
        the respondent stored as ``"André"``; a stored id that the rule would refuse
        or change (migration 0007 leaves such ids as they were) is still found as it
        was sent.
        """
        survey = await self.surveys.get_model(survey_id)
        candidates = [respondent]
        try:
            normalised = normalise_respondent_id(respondent)
        except InvalidRespondentIdError:
            normalised = respondent
        if normalised != respondent:
            candidates.insert(0, normalised)
        for candidate in candidates:
            result = await self.session.execute(
                delete(SurveyResponse).where(
                    SurveyResponse.survey_id == survey.id,
                    SurveyResponse.respondent == candidate,
                )
            )
            if result.rowcount:  # type: ignore[attr-defined]
                await self._add_to_count(survey.id, -1)
                return
        raise ProblemError(404, f"no respondent {respondent!r} in survey {survey_id}")

    async def stored(
        self, survey: Survey, instrument: mes.Instrument, *, respondents: bool = False
    ) -> StoredAnswers:
        """A survey's answers as one validated matrix, with attributes (and respondents,
        in their order, when asked for), from the app's cache while the survey is unchanged."""
        return await stored_answers(
            self.session, survey, instrument, respondents=respondents, cache=self.answer_cache
        )

    async def _existing(self, survey_id: uuid.UUID, respondents: list[str]) -> list[str]:
        found: list[str] = []
        for chunk in _chunks(respondents):
            found.extend(
                await self.session.scalars(
                    _EXISTING, {"survey_id": survey_id, "respondents": list(chunk)}
                )
            )
        return sorted(found)

    async def _add_to_count(
        self, survey_id: uuid.UUID, delta: int, *, only_open: bool = False
    ) -> int | None:
        """Add to the survey's stored response count and raise its answers version (one
        atomic UPDATE, in the write's transaction); the new count. Every write of a
        survey's responses calls this, even with ``delta`` 0 (a replacement).

        ``only_open`` (a batch): None, and nothing counted, when the survey is closed by
        now; an erasure is counted whatever the status.
        """
        statement = _ADD_TO_OPEN_COUNT if only_open else _ADD_TO_COUNT
        count = await self.session.scalar(statement, {"survey_id": survey_id, "delta": delta})
        return None if count is None else int(count)


def _prepare(survey: SurveyDefinition, submission: Submission, limits: IngestLimits) -> _Prepared:
    """Read and judge a submission (pure CPU: it may run in a worker thread)."""
    instrument = survey.instrument
    batch = parse_batch(
        instrument,
        submission.media_type,
        submission.body,
        limits,
        unnamed_prefix=submission.unnamed_prefix,
    )
    checked = check_batch(instrument, batch, survey.declared_attributes)
    rows = stored_rows(instrument, batch)
    key = submission.idempotency_key
    retry = (
        None
        if key is None
        else RetryKey(key, idempotency.batch_fingerprint(survey.id, submission.replace, rows))
    )
    return _Prepared(batch, checked, rows, retry)


def stored_rows(instrument: mes.Instrument, batch: Batch) -> list[NewResponse]:
    """The rows a batch stores: each respondent's answers and attributes as JSON text
    (answers in item order, missing ones left out, whole numbers sent as ``2.0`` as ``2``;
    attributes in name order), packed answers still to be added.

    Two batches of the same meaning (JSON re-serialised, keys reordered, the same data
    as CSV) give the same rows: the idempotency fingerprint is taken over them.

    Examples
    --------
    >>> import numpy as np
    >>> from api.domain.responses.parsing import Batch
    >>> inst = mes.load_instrument("uwes9")
    >>> answers = np.array([[2.0, 2.5, None, "x"] + [None] * 5], dtype=object)
    >>> stored_rows(inst, Batch(["r1"], answers, [{"site": "N", "grade": "FY1"}]))[0]
    NewResponse(respondent='r1', answers='{"uwes1":2,"uwes2":2.5,"uwes4":"x"}', \
attributes='{"grade":"FY1","site":"N"}', packed=None)
    """
    items = instrument.item_ids
    return [
        NewResponse(
            respondent=respondent,
            answers=json_text(
                {
                    item: int(v) if v.__class__ is float and v.is_integer() else v
                    for item, v in zip(items, answers, strict=True)
                    if v is not None and v != ""
                }
            ),
            attributes=json_text(attributes, sort_keys=True),
            packed=None,
        )
        for respondent, answers, attributes in zip(
            batch.respondents, batch.answers.tolist(), batch.attributes, strict=True
        )
    ]


def _closed(survey_id: uuid.UUID) -> ProblemError:
    return ProblemError(
        409, f"survey {survey_id} is closed; reopen it (PATCH status=open) to add responses"
    )


def _duplicates(existing: list[str]) -> ProblemError:
    return ProblemError(
        409,
        f"{len(existing)} respondent id(s) already exist in this survey; nothing was "
        "written. Send ?on_conflict=replace to replace their answers",
        duplicates=existing,
    )


def _replayed(replay: idempotency.StoredResult) -> Submitted:
    return Submitted(
        BatchResult.model_validate(replay.body), status_code=replay.status_code, replayed=True
    )


def _chunks(values: Sequence[Any], size: int = _CHUNK) -> list[Sequence[Any]]:
    return [values[i : i + size] for i in range(0, len(values), size)]
