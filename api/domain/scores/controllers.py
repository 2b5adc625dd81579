"""Scores, reliability and stateless scoring."""

from __future__ import annotations

import uuid

from litestar import Controller, get, post
from litestar.di import NamedDependency
from litestar.params import FromPath, JSONBody
from litestar.status_codes import HTTP_200_OK

from api.auth.guards import any_key, requires
from api.domain.pagination import Limit, Offset
from api.domain.scores.schemas import ReliabilityReport, ScorePage, ScoreRequest, ScoreResult
from api.domain.scores.services import ScoringService
from api.errors import problem_responses

__all__ = ["ScoreController"]


class ScoreController(Controller):
    """Read scores and reliability of stored responses; score without storing."""

    tags = ["scores"]  # noqa: RUF012

    @get(
        "/surveys/{survey_id:uuid}/scores",
        guards=[requires("reports:read")],
        operation_id="listScores",
        summary="Per-respondent scale scores (paginated)",
        responses=problem_responses(401, 403, 404, 422, 429),
    )
    async def list_scores(
        self,
        scoring_service: NamedDependency[ScoringService],
        survey_id: FromPath[uuid.UUID],
        limit: Limit = 100,
        offset: Offset = 0,
    ) -> ScorePage:
        """Each respondent's score, percent and answered count on every scale."""
        return await scoring_service.survey_scores(survey_id, limit, offset)

    @get(
        "/surveys/{survey_id:uuid}/reliability",
        guards=[requires("reports:read")],
        operation_id="getReliability",
        summary="Internal consistency of each scale",
        responses=problem_responses(401, 403, 404, 422, 429),
    )
    async def get_reliability(
        self, scoring_service: NamedDependency[ScoringService], survey_id: FromPath[uuid.UUID]
    ) -> ReliabilityReport:
        """Cronbach's alpha and item statistics of every scale (``mes.reliability``)."""
        return await scoring_service.survey_reliability(survey_id)

    @post(
        "/score",
        guards=[any_key],
        operation_id="scoreResponses",
        summary="Score responses without storing them",
        status_code=HTTP_200_OK,
        responses=problem_responses(401, 404, 413, 415, 422, 429),
    )
    async def score_responses(
        self, scoring_service: NamedDependency[ScoringService], data: JSONBody[ScoreRequest]
    ) -> ScoreResult:
        """Score a batch with ``mes.score``; nothing is stored."""
        return await scoring_service.score_stateless(
            data.instrument, data.instrument_version, data.responses
        )
