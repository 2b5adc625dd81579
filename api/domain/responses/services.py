"""Store, list and erase one survey's responses, one row per respondent."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from typing import Any, cast

from sqlalchemy import Table, bindparam, delete, select, update
from sqlalchemy.ext.asyncio import AsyncSession

import mes
from api.db.models import Survey, SurveyResponse
from api.domain.responses.exports import attribute_names, by_respondent
from api.domain.responses.packing import pack
from api.domain.responses.schemas import BatchResult, ResponseIn, ResponseOut
from api.domain.responses.storage import (
    NewResponse,
    StoredAnswers,
    insert_responses,
    json_text,
    stored_answers,
)
from api.domain.responses.validation import check_batch
from api.domain.surveys.services import SurveyService
from api.errors import ProblemError

__all__ = ["ResponseService"]

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


class ResponseService:
    """Responses of one tenant's surveys."""

    def __init__(self, session: AsyncSession, tenant_id: uuid.UUID, max_batch_rows: int) -> None:
        self.session = session
        self.surveys = SurveyService(session, tenant_id)
        self.max_batch_rows = max_batch_rows

    async def submit(
        self, survey_id: uuid.UUID, rows: Sequence[ResponseIn], *, replace: bool
    ) -> BatchResult:
        """Validate a whole batch, then write it in the caller's transaction.

        Raises
        ------
        ProblemError
            413 above the row limit; 404 unknown survey; 409 closed survey or
            existing respondents (unless ``replace``); 422 listing every problem.
        """
        if len(rows) > self.max_batch_rows:
            raise ProblemError(
                413,
                f"the batch has {len(rows)} rows; the limit is {self.max_batch_rows} rows per "
                "batch (MES_MAX_BATCH_ROWS): split it into smaller batches",
                limit=self.max_batch_rows,
            )
        # No row lock here: two batches for the same respondents meet at the unique index
        # (the later one is a 409), and the count's UPDATE at the end locks the survey row
        # only from there to the commit, so batches to one survey overlap until then.
        survey = await self.surveys.get_model(survey_id)
        if survey.status != "open":
            raise ProblemError(
                409, f"survey {survey_id} is closed; reopen it (PATCH status=open) to add responses"
            )
        instrument = await self.surveys.instrument_of(survey)
        checked = check_batch(instrument, rows, survey.declared_attributes)
        if checked.problems:
            raise ProblemError(
                422,
                f"the batch was rejected and nothing was written: {len(checked.problems)} "
                "problem(s), all listed in errors",
                errors=checked.problems,
            )
        respondents = [r.respondent for r in rows]
        existing = await self._existing(survey.id, respondents)
        if existing and not replace:
            raise ProblemError(
                409,
                f"{len(existing)} respondent id(s) already exist in this survey; nothing was "
                "written. Send ?on_conflict=replace to replace their answers",
                duplicates=existing,
            )
        if existing:
            for chunk in _chunks(existing):
                await self.session.execute(
                    delete(SurveyResponse).where(
                        SurveyResponse.survey_id == survey.id, SurveyResponse.respondent.in_(chunk)
                    )
                )
        packed = pack(instrument, checked.values)
        await insert_responses(
            self.session,
            survey.id,
            [
                NewResponse(
                    respondent=r.respondent,
                    answers=as_stored(r.answers, drop_missing=True),
                    attributes=as_stored(r.attributes, drop_missing=False),
                    packed=None if packed is None else packed[i],
                )
                for i, r in enumerate(rows)
            ],
        )
        total = await self._add_to_count(survey.id, len(rows) - len(existing))
        return BatchResult(
            accepted=len(rows),
            replaced=len(existing),
            survey=str(survey.id),
            total=total,
            on_conflict="replace" if replace else "reject",
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
        """Delete one respondent's row for good; 404 if there is none."""
        survey = await self.surveys.get_model(survey_id)
        result = await self.session.execute(
            delete(SurveyResponse).where(
                SurveyResponse.survey_id == survey.id, SurveyResponse.respondent == respondent
            )
        )
        if not result.rowcount:  # type: ignore[attr-defined]
            raise ProblemError(404, f"no respondent {respondent!r} in survey {survey_id}")
        await self._add_to_count(survey.id, -1)

    async def stored(
        self, survey: Survey, instrument: mes.Instrument, *, respondents: bool = False
    ) -> StoredAnswers:
        """A survey's answers as one validated matrix, with attributes (and respondents,
        in their order, when asked for)."""
        return await stored_answers(self.session, survey, instrument, respondents=respondents)

    async def _existing(self, survey_id: uuid.UUID, respondents: list[str]) -> list[str]:
        found: list[str] = []
        for chunk in _chunks(respondents):
            found.extend(
                await self.session.scalars(
                    _EXISTING, {"survey_id": survey_id, "respondents": list(chunk)}
                )
            )
        return sorted(found)

    async def _add_to_count(self, survey_id: uuid.UUID, delta: int) -> int:
        """Add to the survey's stored response count and raise its answers version (one
        atomic UPDATE, in the write's transaction); the new count. Every write of a
        survey's responses calls this, even with ``delta`` 0 (a replacement)."""
        count = await self.session.scalar(_ADD_TO_COUNT, {"survey_id": survey_id, "delta": delta})
        return int(count or 0)


def as_stored(values: dict[str, Any], *, drop_missing: bool) -> str:
    """The JSON text of answers or attributes as stored: whole numbers sent as ``2.0``
    become ``2``; with ``drop_missing``, null and "" (missing answers) are left out.

    Examples
    --------
    >>> as_stored({"mes01": 2.0, "mes02": 2.5, "mes03": None, "mes04": "SA"}, drop_missing=True)
    '{"mes01":2,"mes02":2.5,"mes04":"SA"}'
    """
    return json_text(
        {
            k: int(v) if v.__class__ is float and v.is_integer() else v
            for k, v in values.items()
            if not drop_missing or (v is not None and v != "")
        }
    )


def _chunks(values: Sequence[Any], size: int = _CHUNK) -> list[Sequence[Any]]:
    return [values[i : i + size] for i in range(0, len(values), size)]
