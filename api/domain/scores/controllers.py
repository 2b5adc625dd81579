"""Scores, reliability and stateless scoring.

Each respondent's scores are personal data: every route that reads them, in every
format, needs the scope ``responses:read``; ``reports:read`` alone is refused (403).
"""

from __future__ import annotations

import uuid
from typing import Any, cast

from litestar import Controller, Request, Response, get, post
from litestar.di import NamedDependency
from litestar.params import FromPath, JSONBody
from litestar.response import Stream
from litestar.status_codes import HTTP_200_OK

from api.auth.guards import any_key, requires
from api.domain.pagination import Limit, Offset
from api.domain.responses.exports import (
    CSV_EXPORT,
    FHIR_EXPORT,
    JSONL_EXPORT,
    ExportFormat,
    download_headers,
    export_format,
)
from api.domain.scores.exports import (
    IncludeAttributes,
    ScoreExportOperation,
    scores_csv,
    scores_fhir,
    scores_jsonl,
)
from api.domain.scores.schemas import ReliabilityReport, ScorePage, ScoreRequest, ScoreResult
from api.domain.scores.services import ScoringService
from api.errors import ProblemError
from api.openapi_responses import problem_responses

__all__ = ["ScoreController"]

_PERSONAL_DATA = (
    "Each respondent's scores are personal data: needs the scope responses:read "
    "(a key with reports:read alone gets 403)."
)
"""The OpenAPI description of every route that reads per-respondent scores."""


class ScoreController(Controller):
    """Read scores and reliability of stored responses; score without storing."""

    tags = ["scores"]  # noqa: RUF012

    @get(
        "/surveys/{survey_id:uuid}/scores",
        guards=[requires("responses:read")],
        operation_id="listScores",
        description=_PERSONAL_DATA,
        opt={"audit": "scores"},
        operation_class=ScoreExportOperation,
        summary="Per-respondent scale scores (JSON pages; every row as CSV, JSON Lines or "
        "FHIR by Accept)",
        responses=problem_responses(401, 403, 404, 422, 429),
    )
    async def list_scores(
        self,
        request: Request[Any, Any, Any],
        scoring_service: NamedDependency[ScoringService],
        survey_id: FromPath[uuid.UUID],
        limit: Limit = 100,
        offset: Offset = 0,
        attributes: IncludeAttributes = False,
    ) -> Response[ScorePage]:
        """Each respondent's score, percent and answered count on every scale.

        Needs the scope ``responses:read`` in every format: these are personal data
        (group results without it: ``GET /v1/surveys/{id}/report``). ``Accept:
        text/csv``, ``application/x-ndjson`` or ``application/fhir+json`` streams every
        respondent instead (``limit`` and ``offset`` apply to JSON pages only), as the
        ``scores.csv``, ``scores.jsonl`` and ``scores.fhir`` routes do.
        """
        wanted = export_format(request, fhir=True)
        if wanted != "json":
            stream = await _export(scoring_service, survey_id, wanted, attributes)
            return cast("Response[ScorePage]", stream)
        page = await scoring_service.survey_scores(
            survey_id, limit, offset, attributes=attributes
        )
        return Response(page)

    @get(
        "/surveys/{survey_id:uuid}/scores.csv",
        guards=[requires("responses:read")],
        operation_id="exportScoresCsv",
        description=_PERSONAL_DATA,
        opt={"audit": "scores.csv"},
        response_description="Every respondent, streamed: header row, then one row each (CRLF).",
        summary="Every respondent's scores as CSV (the columns of `mes score`)",
        media_type=CSV_EXPORT,
        responses=problem_responses(401, 403, 404, 429),
    )
    async def export_scores_csv(
        self,
        scoring_service: NamedDependency[ScoringService],
        survey_id: FromPath[uuid.UUID],
        attributes: IncludeAttributes = False,
    ) -> Stream:
        """``respondent``, then ``<scale>``, ``<scale>_pct``, ``<scale>_answered`` per
        scale; an unscorable scale is an empty cell. Attribute columns (sorted) only
        with ``attributes=true``. Needs the scope ``responses:read``.
        """
        return await _export(scoring_service, survey_id, "csv", attributes)

    @get(
        "/surveys/{survey_id:uuid}/scores.jsonl",
        guards=[requires("responses:read")],
        operation_id="exportScoresJsonLines",
        description=_PERSONAL_DATA,
        opt={"audit": "scores.jsonl"},
        response_description="Every respondent, streamed: one JSON page item per line.",
        summary="Every respondent's scores as JSON Lines",
        media_type=JSONL_EXPORT,
        responses=problem_responses(401, 403, 404, 429),
    )
    async def export_scores_jsonl(
        self,
        scoring_service: NamedDependency[ScoringService],
        survey_id: FromPath[uuid.UUID],
        attributes: IncludeAttributes = False,
    ) -> Stream:
        """One JSON page item per line. Needs the scope ``responses:read``."""
        return await _export(scoring_service, survey_id, "jsonl", attributes)

    @get(
        "/surveys/{survey_id:uuid}/scores.fhir",
        guards=[requires("responses:read")],
        operation_id="exportScoresFhir",
        description=_PERSONAL_DATA,
        opt={"audit": "scores.fhir"},
        response_description="A FHIR R4 Bundle (collection) of Observations, streamed.",
        summary="Every respondent's scores as a FHIR R4 Bundle of Observations",
        media_type=FHIR_EXPORT,
        responses=problem_responses(401, 403, 404, 429),
    )
    async def export_scores_fhir(
        self, scoring_service: NamedDependency[ScoringService], survey_id: FromPath[uuid.UUID]
    ) -> Stream:
        """One Observation per respondent and scale: ``code`` the scale, ``subject``
        the respondent's identifier, ``valueQuantity`` the score, components for
        the percent and the items answered; ``dataAbsentReason`` when unscorable.
        Needs the scope ``responses:read``.
        """
        return await _export(scoring_service, survey_id, "fhir", False)

    @get(
        "/surveys/{survey_id:uuid}/reliability",
        guards=[requires("reports:read")],
        operation_id="getReliability",
        opt={"audit": "reliability"},
        summary="Internal consistency of each scale (released once the survey is closed)",
        responses=problem_responses(401, 403, 404, 409, 422, 429),
    )
    async def get_reliability(
        self, scoring_service: NamedDependency[ScoringService], survey_id: FromPath[uuid.UUID]
    ) -> ReliabilityReport:
        """Cronbach's alpha and item statistics of every scale (``mes.reliability``),
        from the survey's release: 409 while the survey is open, 422 with fewer than
        ``MES_MIN_GROUP_SIZE`` respondents."""
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


async def _export(
    scoring_service: ScoringService,
    survey_id: uuid.UUID,
    wanted: ExportFormat,
    attributes: bool,
) -> Stream:
    """Score the whole survey (404 before the first byte), then stream the rows."""
    scored = await scoring_service.scored_survey(survey_id)
    if wanted == "csv":
        return Stream(
            scores_csv(scored, attributes),
            media_type=CSV_EXPORT,
            headers=download_headers(f"scores-{scored.data.survey.id}.csv"),
        )
    if wanted == "fhir":
        if attributes:
            raise ProblemError(
                422, "the FHIR export never carries attributes; drop attributes=true"
            )
        return Stream(
            scores_fhir(scored),
            media_type=FHIR_EXPORT,
            headers=download_headers(f"scores-{scored.data.survey.id}.fhir.json"),
        )
    return Stream(
        scores_jsonl(scored, attributes),
        media_type=JSONL_EXPORT,
        headers=download_headers(f"scores-{scored.data.survey.id}.jsonl"),
    )
