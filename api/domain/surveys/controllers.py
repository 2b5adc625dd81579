"""``/v1/surveys``: a tenant's surveys."""

from __future__ import annotations

import uuid

from litestar import Controller, get, patch, post
from litestar.di import NamedDependency
from litestar.params import FromPath, JSONBody

from api.auth.guards import any_key, requires
from api.domain.pagination import Limit, Offset, Page
from api.domain.surveys.schemas import SurveyCreate, SurveyRead, SurveyUpdate
from api.domain.surveys.services import SurveyService
from api.openapi_responses import problem_responses

__all__ = ["SurveyController"]


class SurveyController(Controller):
    """Create, list, read, close and reopen surveys."""

    path = "/surveys"
    tags = ["surveys"]  # noqa: RUF012

    @post(
        "/",
        guards=[requires("surveys:write")],
        operation_id="createSurvey",
        summary="Create a survey pinned to an instrument version",
        responses=problem_responses(401, 403, 404, 413, 415, 422, 429),
    )
    async def create_survey(
        self, survey_service: NamedDependency[SurveyService], data: JSONBody[SurveyCreate]
    ) -> SurveyRead:
        """Create a survey; 404 when the instrument is unknown to this tenant."""
        return await survey_service.create(data)

    @get(
        "/",
        guards=[any_key],
        operation_id="listSurveys",
        summary="The tenant's surveys",
        responses=problem_responses(401, 422, 429),
    )
    async def list_surveys(
        self,
        survey_service: NamedDependency[SurveyService],
        limit: Limit = 100,
        offset: Offset = 0,
    ) -> Page[SurveyRead]:
        """A page of surveys, newest first."""
        items, total = await survey_service.page(limit, offset)
        return Page[SurveyRead](items=items, total=total, limit=limit, offset=offset)

    @get(
        "/{survey_id:uuid}",
        guards=[any_key],
        operation_id="getSurvey",
        summary="One survey",
        responses=problem_responses(401, 404, 429),
    )
    async def get_survey(
        self, survey_service: NamedDependency[SurveyService], survey_id: FromPath[uuid.UUID]
    ) -> SurveyRead:
        """Read a survey (404 for another tenant's id)."""
        return await survey_service.get(survey_id)

    @patch(
        "/{survey_id:uuid}",
        guards=[requires("surveys:write")],
        operation_id="updateSurvey",
        summary="Retitle, close or reopen a survey, or set its reporting plan",
        responses=problem_responses(401, 403, 404, 409, 413, 415, 422, 429),
    )
    async def update_survey(
        self,
        survey_service: NamedDependency[SurveyService],
        survey_id: FromPath[uuid.UUID],
        data: JSONBody[SurveyUpdate],
    ) -> SurveyRead:
        """Change the title, the status (``open`` / ``closed``) or the reporting plan.

        Closing ends fieldwork: no new responses, and the reports can be read. The
        first report read releases them (``released_at``): from then on they never
        change, and the survey can be neither reopened nor given another plan (409).
        """
        return await survey_service.update(survey_id, data)
