"""Surveys of one tenant, and the unit every computation on a survey's answers reads.

:class:`SurveyData` is that unit: the survey, the instrument it pins and its stored answers
decoded into the matrix :mod:`mes` takes. :meth:`SurveyService.data` is the one way to read
it, so that scores, their exports and report releases read a survey the same way.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from typing import NamedTuple

from sqlalchemy import bindparam, func, select
from sqlalchemy.ext.asyncio import AsyncSession

import mes
from api.db.models import Survey
from api.db.raw import DriverStatement
from api.domain.instruments.services import InstrumentService
from api.domain.responses.cache import AnswerCache
from api.domain.responses.storage import StoredAnswers, stored_answers
from api.domain.surveys.definitions import SurveyDefinition, SurveyDefinitions
from api.domain.surveys.schemas import SurveyCreate, SurveyRead, SurveyUpdate
from api.errors import FieldError, ProblemError
from mes.groups.plan import PlanError, normalise_plan

__all__ = ["SurveyData", "SurveyFields", "SurveyService"]

_ONE_SURVEY = select(Survey).where(
    Survey.id == bindparam("survey_id"), Survey.tenant_id == bindparam("tenant_id")
)
"""Built once: nearly every request reads its survey, and building the statement cost
a fifth of running it."""


_S = Survey.__table__.c
_SURVEY_FIELDS = select(
    _S.id, _S.tenant_id, _S.instrument_id, _S.instrument_version, _S.status,
    _S.declared_attributes,
).where(_S.id == bindparam("survey_id"), _S.tenant_id == bindparam("tenant_id"))
"""A survey's definition and status, on the table's columns: loading the ORM entity cost
more than the query."""
_SURVEY_FIELDS_ON_DRIVER = DriverStatement(_SURVEY_FIELDS)


class SurveyFields(NamedTuple):
    """What a submit reads of a survey, as stored now (:meth:`SurveyService.fields`).

    Attributes
    ----------
    id, tenant_id : uuid.UUID
    instrument_id, instrument_version : str
        The instrument the survey pins.
    status : str
        ``open`` or ``closed``.
    declared_attributes : dict or None
        Attribute names and their allowed values (None: any value), or None: any name.
    """

    id: uuid.UUID
    tenant_id: uuid.UUID
    instrument_id: str
    instrument_version: str
    status: str
    declared_attributes: dict[str, list[str] | None] | None


@dataclass(frozen=True)
class SurveyData:
    """A survey of the service's tenant with its pinned instrument and its stored answers.

    Attributes
    ----------
    survey : Survey
    instrument : mes.Instrument
        The id and version the survey pins.
    answers : StoredAnswers
        Every stored respondent's answers (respondents x items, in the instrument's item
        order, NaN where missing) with their attributes; read-only, since it may be shared
        through the answer cache.
    """

    survey: Survey
    instrument: mes.Instrument
    answers: StoredAnswers

    @property
    def respondents(self) -> list[str]:
        """Respondent ids in the rows' order (empty unless read with ``respondents=True``)."""
        return self.answers.respondents or []


class SurveyService:
    """Create, read and update one tenant's surveys; foreign ids are 404.

    Parameters
    ----------
    answer_cache : AnswerCache, optional
        The app's cache of decoded answers, which :meth:`data` reads through; without one
        every read goes to the database.
    definitions : SurveyDefinitions, optional
        The app's surveys' fixed parts, which :meth:`definition` reads through.
    """

    def __init__(
        self,
        session: AsyncSession,
        tenant_id: uuid.UUID,
        answer_cache: AnswerCache[StoredAnswers] | None = None,
        definitions: SurveyDefinitions | None = None,
    ) -> None:
        self.session = session
        self.tenant_id = tenant_id
        self.instruments = InstrumentService(session, tenant_id)
        self.answer_cache = answer_cache
        self.definitions = definitions

    async def create(self, data: SurveyCreate) -> SurveyRead:
        """Create a survey pinned to an instrument id and version (404 if unknown)."""
        inst, _ = await self.instruments.get(data.instrument, data.instrument_version)
        plan = checked_plan(data.reporting_plan, data.attributes)
        survey = Survey(
            tenant_id=self.tenant_id,
            title=data.title,
            instrument_id=inst.id,
            instrument_version=inst.version,
            status="open",
            declared_attributes=data.attributes,
            reporting_plan=plan,
        )
        self.session.add(survey)
        await self.session.flush()
        return self._read(survey)

    async def get_model(self, survey_id: uuid.UUID, *, for_update: bool = False) -> Survey:
        """The survey row; 404 when absent or another tenant's."""
        query = _ONE_SURVEY
        if (
            for_update
            and self.session.bind is not None
            and self.session.bind.dialect.name != "sqlite"
        ):
            query = query.with_for_update()
        survey = await self.session.scalar(
            query, {"survey_id": survey_id, "tenant_id": self.tenant_id}
        )
        if survey is None:
            raise ProblemError(404, f"no survey {survey_id} for this tenant")
        return survey

    async def fields(self, survey_id: uuid.UUID, *, for_update: bool = False) -> SurveyFields:
        """A survey's fields as stored now (:class:`SurveyFields`), without loading the
        entity; 404 when absent or another tenant's.

        ``for_update`` locks the row until the commit (PostgreSQL; SQLite's writers
        already take turns) and so begins the request's transaction; otherwise the
        statement goes straight to the driver, in the transaction if one has begun.
        """
        params = {"survey_id": survey_id, "tenant_id": self.tenant_id}
        connection = await self.session.connection()
        if for_update and connection.dialect.name != "sqlite":
            found = (await self.session.execute(_SURVEY_FIELDS.with_for_update(), params)).first()
        else:
            rows = await _SURVEY_FIELDS_ON_DRIVER.rows(connection, params)
            found = rows[0] if rows else None
        if found is None:
            raise ProblemError(404, f"no survey {survey_id} for this tenant")
        return SurveyFields(*found)

    async def definition(self, survey_id: uuid.UUID) -> SurveyDefinition:
        """The fixed part of a survey (:class:`SurveyDefinition`), from the app's
        definitions once read; 404 when absent or another tenant's."""
        known = self.definitions.get(survey_id) if self.definitions is not None else None
        if known is not None:
            if known.tenant_id != self.tenant_id:
                raise ProblemError(404, f"no survey {survey_id} for this tenant")
            return known
        fields = await self.fields(survey_id)
        definition = SurveyDefinition(
            fields.id, fields.tenant_id, await self.instrument_of(fields),
            fields.declared_attributes,
        )
        if self.definitions is not None:
            self.definitions.put(definition)
        return definition

    async def instrument_of(self, survey: Survey | SurveyFields) -> mes.Instrument:
        """The pinned instrument of a survey."""
        inst, _ = await self.instruments.get(survey.instrument_id, survey.instrument_version)
        return inst

    async def data(
        self, survey: uuid.UUID | Survey, *, respondents: bool = False
    ) -> SurveyData:
        """A survey (by id: 404 when absent or another tenant's), its instrument and its
        stored answers.

        Parameters
        ----------
        survey : UUID or Survey
            An id, or a survey already read in this request (its ``answers_version`` says
            which cached answers are current).
        respondents : bool
            Also read the respondent ids and order the rows by them (score pages and
            exports need them; releases do not, and read one column less).
        """
        if not isinstance(survey, Survey):
            survey = await self.get_model(survey)
        instrument = await self.instrument_of(survey)
        answers = await stored_answers(
            self.session, survey, instrument, respondents=respondents, cache=self.answer_cache
        )
        return SurveyData(survey, instrument, answers)

    async def get(self, survey_id: uuid.UUID) -> SurveyRead:
        """Read one survey."""
        survey = await self.get_model(survey_id)
        return self._read(survey)

    async def page(self, limit: int, offset: int) -> tuple[list[SurveyRead], int]:
        """A page of the tenant's surveys, newest first, and the total."""
        total = await self.session.scalar(
            select(func.count()).select_from(Survey).where(Survey.tenant_id == self.tenant_id)
        )
        surveys = await self.session.scalars(
            select(Survey)
            .where(Survey.tenant_id == self.tenant_id)
            .order_by(Survey.created_at.desc(), Survey.id)
            .limit(limit)
            .offset(offset)
        )
        return [self._read(s) for s in surveys], int(total or 0)

    async def update(self, survey_id: uuid.UUID, data: SurveyUpdate) -> SurveyRead:
        """Retitle, close or reopen a survey, or change its reporting plan.

        A survey whose reports were released can be neither reopened nor given another
        plan (409): new responses, or another plan, would let its published figures be
        subtracted from new ones.
        """
        survey = await self.get_model(survey_id)
        released = survey.released_at
        if released is not None and data.status == "open":
            raise ProblemError(
                409,
                f"survey {survey_id}'s reports were released on "
                f"{released.isoformat()}: it cannot be reopened, since a report "
                "read before and after new responses would reveal what they said; start a "
                "new survey for the next wave",
            )
        if released is not None and data.reporting_plan is not None:
            raise ProblemError(
                409,
                f"survey {survey_id}'s reports were released with the plan "
                f"{survey.reporting_plan}; the plan cannot change after release",
            )
        if data.title is not None:
            survey.title = data.title
        if data.status is not None:
            survey.status = data.status
        if data.reporting_plan is not None:
            survey.reporting_plan = checked_plan(data.reporting_plan, survey.declared_attributes)
        await self.session.flush()
        return self._read(survey)

    @staticmethod
    def _read(survey: Survey) -> SurveyRead:
        return SurveyRead(
            id=survey.id,
            title=survey.title,
            instrument=survey.instrument_id,
            instrument_version=survey.instrument_version,
            status=survey.status,
            attributes=survey.declared_attributes,
            responses=survey.response_count,
            reporting_plan=survey.reporting_plan,
            released_at=survey.released_at,
            created_at=survey.created_at,
        )


def checked_plan(
    plan: list[list[str]] | None, declared: dict[str, list[str] | None] | None
) -> list[list[str]] | None:
    """A reporting plan as stored: normalised, every attribute declared (when the survey
    declares its attributes) and reportable (422 naming the breakdown otherwise)."""
    if plan is None:
        return None
    try:
        breakdowns = normalise_plan(plan, name="reporting_plan")
    except PlanError as exc:
        raise ProblemError(
            422, str(exc), errors=[FieldError(field="reporting_plan", value=plan,
                                              message=str(exc))]
        ) from None
    problems = []
    for i, breakdown in enumerate(breakdowns):
        for name in breakdown:
            if "," in name or name != name.strip():
                problems.append(FieldError(
                    field=f"reporting_plan[{i}]", value=name,
                    message="an attribute name with a comma or surrounding space cannot be "
                    "asked for in by=.",
                ))
            elif declared is not None and name not in declared:
                problems.append(FieldError(
                    field=f"reporting_plan[{i}]", value=name,
                    message=f"not a declared attribute ({', '.join(declared) or 'none'}).",
                ))
    if problems:
        raise ProblemError(
            422, f"{len(problems)} problem(s) in reporting_plan, all listed in errors",
            errors=problems,
        )
    return [list(b) for b in breakdowns]
