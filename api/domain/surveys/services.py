"""Surveys of one tenant."""

from __future__ import annotations

import uuid

from sqlalchemy import bindparam, func, select
from sqlalchemy.ext.asyncio import AsyncSession

import mes
from api.db.models import Survey
from api.domain.instruments.services import InstrumentService
from api.domain.surveys.schemas import SurveyCreate, SurveyRead, SurveyUpdate
from api.errors import ProblemError

__all__ = ["SurveyService"]

_ONE_SURVEY = select(Survey).where(
    Survey.id == bindparam("survey_id"), Survey.tenant_id == bindparam("tenant_id")
)
"""Built once: nearly every request reads its survey, and building the statement cost
a fifth of running it."""


class SurveyService:
    """Create, read and update one tenant's surveys; foreign ids are 404."""

    def __init__(self, session: AsyncSession, tenant_id: uuid.UUID) -> None:
        self.session = session
        self.tenant_id = tenant_id
        self.instruments = InstrumentService(session, tenant_id)

    async def create(self, data: SurveyCreate) -> SurveyRead:
        """Create a survey pinned to an instrument id and version (404 if unknown)."""
        inst, _ = await self.instruments.get(data.instrument, data.instrument_version)
        survey = Survey(
            tenant_id=self.tenant_id,
            title=data.title,
            instrument_id=inst.id,
            instrument_version=inst.version,
            status="open",
            declared_attributes=data.attributes,
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

    async def instrument_of(self, survey: Survey) -> mes.Instrument:
        """The pinned instrument of a survey."""
        inst, _ = await self.instruments.get(survey.instrument_id, survey.instrument_version)
        return inst

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
        """Retitle, close or reopen a survey."""
        survey = await self.get_model(survey_id)
        if data.title is not None:
            survey.title = data.title
        if data.status is not None:
            survey.status = data.status
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
            created_at=survey.created_at,
        )
