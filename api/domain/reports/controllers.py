"""``/v1/surveys/{id}/report``: group summaries as JSON, CSV or HTML."""

from __future__ import annotations

import uuid
from typing import Annotated, Any

from litestar import Controller, MediaType, Request, Response, get
from litestar.di import NamedDependency
from litestar.params import FromPath, QueryParameter

from api.auth.guards import requires
from api.domain.reports.services import ReportService, SurveyReport, parse_by
from api.errors import ProblemError, problem_responses

__all__ = ["ReportController"]

By = Annotated[
    str | None,
    QueryParameter(
        max_length=500,
        description="Attributes to group by, outermost first, comma-separated "
        "(e.g. specialty,grade). Default: overall only.",
    ),
]
MinGroupSize = Annotated[
    int | None,
    QueryParameter(
        ge=1,
        le=1_000_000,
        description="Suppression threshold; at least the service's MES_MIN_GROUP_SIZE "
        "(it can be raised, never lowered).",
    ),
]
CSV = "text/csv; charset=utf-8"


def _csv(result: SurveyReport) -> Response[str]:
    return Response(result.report.to_frame().to_csv(index=False), media_type=CSV)


def _html(result: SurveyReport) -> Response[str]:
    try:
        from mes.html.report import render_report_html
    except ImportError as exc:  # the renderer ships with the library; fail loudly if absent
        raise ProblemError(501, "HTML reports are not available in this installation") from exc
    page = render_report_html(
        result.instrument, result.report, title=result.title, reliability=result.reliability
    )
    return Response(page, media_type=MediaType.HTML)


class ReportController(Controller):
    """Group reports (small groups suppressed)."""

    path = "/surveys/{survey_id:uuid}"
    tags = ["reports"]  # noqa: RUF012

    @get(
        "/report",
        guards=[requires("reports:read")],
        operation_id="getReport",
        summary="Group report (JSON; CSV or HTML by Accept or the .csv/.html paths)",
        responses=problem_responses(401, 403, 404, 429),
    )
    async def get_report(
        self,
        request: Request[Any, Any, Any],
        report_service: NamedDependency[ReportService],
        survey_id: FromPath[uuid.UUID],
        by: By = None,
        min_group_size: MinGroupSize = None,
    ) -> Response[Any]:
        """Per group and scale: n, mean, SD, SE, CI, percent, favourable share.

        Groups below the suppression threshold show no statistics and no exact
        n. ``Accept: text/csv`` or ``text/html`` selects the other formats.
        """
        result = await report_service.report(survey_id, parse_by(by), min_group_size)
        wanted = request.accept.best_match(
            [MediaType.JSON, "text/csv", MediaType.HTML], default=MediaType.JSON
        )
        if wanted == "text/csv":
            return _csv(result)
        if wanted == MediaType.HTML:
            return _html(result)
        return Response(result.report.to_dict(), media_type=MediaType.JSON)

    @get(
        "/report.csv",
        guards=[requires("reports:read")],
        operation_id="getReportCsv",
        summary="Group report as CSV (one row per group and scale)",
        media_type="text/csv",
        responses=problem_responses(401, 403, 404, 429),
    )
    async def get_report_csv(
        self,
        report_service: NamedDependency[ReportService],
        survey_id: FromPath[uuid.UUID],
        by: By = None,
        min_group_size: MinGroupSize = None,
    ) -> Response[str]:
        """The report in long format; suppressed cells are empty."""
        return _csv(await report_service.report(survey_id, parse_by(by), min_group_size))

    @get(
        "/report.html",
        guards=[requires("reports:read")],
        operation_id="getReportHtml",
        summary="Group report as a standalone HTML page with charts",
        media_type=MediaType.HTML,
        responses=problem_responses(401, 403, 404, 429),
    )
    async def get_report_html(
        self,
        report_service: NamedDependency[ReportService],
        survey_id: FromPath[uuid.UUID],
        by: By = None,
        min_group_size: MinGroupSize = None,
    ) -> Response[str]:
        """The report as an HTML page."""
        return _html(await report_service.report(survey_id, parse_by(by), min_group_size))
