"""``/v1/surveys/{id}/report`` (JSON, CSV, HTML), ``/compare/{other_id}`` and ``/benchmarks``."""

from __future__ import annotations

import uuid
from typing import Annotated, Any

from litestar import Controller, MediaType, Request, Response, get
from litestar.di import NamedDependency
from litestar.params import FromPath, QueryParameter

from api.auth.guards import requires
from api.domain.reports.html import html_response
from api.domain.reports.services import ReportOptions, ReportService, SurveyReport, parse_by
from api.errors import FieldError, ProblemError, problem_responses
from mes.io.formula_escape import write_csv

__all__ = ["ReportController"]

By = Annotated[
    str | None,
    QueryParameter(
        max_length=500,
        description="Attributes to group by, outermost first, comma-separated "
        "(e.g. specialty,grade): a breakdown of the survey's reporting plan, or a prefix "
        "of one (422 lists them otherwise). Default: overall only.",
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
Previous = Annotated[
    uuid.UUID | None,
    QueryParameter(
        description="Id of the previous wave (a survey of the same instrument id and version "
        "of this tenant): adds the change since it (difference of means, Welch 95% CI, "
        "Hedges' g) to the JSON ('change') and HTML reports. A group suppressed in either "
        "wave shows no change. 404 when unknown, 422 for another instrument.",
    ),
]
Benchmark = Annotated[
    str | None,
    QueryParameter(
        max_length=64,
        description="Comparison set to benchmark the groups against: 'stored' (the overall "
        "means of this tenant's other surveys of the same instrument id and version, each one "
        "organisation; surveys below MES_MIN_GROUP_SIZE left out) or the id of an uploaded norm "
        "table (/v1/norm-tables). Adds percentile ranks and bands (default quintiles: lowest, "
        "low, medium, high, highest) to the JSON ('benchmarks') and HTML reports. 422 with "
        "fewer than 5 organisations (the detail says how many).",
    ),
]
CSV = "text/csv"  # Litestar adds "; charset=utf-8" to text types itself


def _csv(frame: Any) -> Response[str]:
    """A report table as CSV, text cells and headers escaped against spreadsheet formulas."""
    return Response(write_csv(frame), media_type=CSV)


def _options(
    previous: uuid.UUID | None, benchmark: str | None, *, html: bool = False
) -> ReportOptions:
    return ReportOptions(previous=previous, benchmark=benchmark, reliability=html)


def _other_id(other: str) -> tuple[uuid.UUID, bool]:
    """``"<uuid>"`` or ``"<uuid>.csv"`` -> (id, wants CSV)."""
    csv = other.lower().endswith(".csv")
    raw = other[: -len(".csv")] if csv else other
    try:
        return uuid.UUID(raw), csv
    except ValueError:
        raise ProblemError(
            404,
            f"no survey {raw!r}: the other survey's id must be a UUID (optionally with .csv)",
            errors=[FieldError(field="path.other_id", value=other, message="not a survey id.")],
        ) from None


class ReportController(Controller):
    """Group reports (small groups suppressed), wave comparisons and benchmarks."""

    path = "/surveys/{survey_id:uuid}"
    tags = ["reports"]  # noqa: RUF012

    @get(
        "/report",
        guards=[requires("reports:read")],
        operation_id="getReport",
        opt={"audit": "report"},
        summary="Group report (JSON; CSV or HTML by Accept or the .csv/.html paths)",
        responses=problem_responses(401, 403, 404, 409, 429),
    )
    async def get_report(
        self,
        request: Request[Any, Any, Any],
        report_service: NamedDependency[ReportService],
        survey_id: FromPath[uuid.UUID],
        by: By = None,
        min_group_size: MinGroupSize = None,
        previous: Previous = None,
        benchmark: Benchmark = None,
    ) -> Response[Any]:
        """Per group and scale: n, mean, SD, SE, CI, percent, favourable share.

        Served from the survey's release: 409 while the survey is open; the first
        read after closing releases every report of the reporting plan, protected
        together, and every read after that shows the same figures. Hidden groups
        and cells have no statistics and no exact n, and say why
        (``suppressed_reason``: ``too_few_responses`` or ``protects_another_group``;
        ``note`` in words). ``Accept: text/csv`` or ``text/html`` selects the other
        formats.
        With ``previous`` the JSON gains ``change``; with ``benchmark`` it gains
        ``benchmarks: {comparison, items}``. The CSV holds the group rows only.
        """
        wanted = request.accept.best_match(
            [MediaType.JSON, "text/csv", MediaType.HTML], default=MediaType.JSON
        )
        options = (
            _options(previous, benchmark, html=wanted == MediaType.HTML)
            if wanted != "text/csv"
            else None
        )
        result = await report_service.report(survey_id, parse_by(by), min_group_size, options)
        if wanted == "text/csv":
            return _csv(result.report.to_frame())
        if wanted == MediaType.HTML:
            return html_response(result)
        return Response(result.to_dict(), media_type=MediaType.JSON)

    @get(
        "/report.csv",
        guards=[requires("reports:read")],
        operation_id="getReportCsv",
        opt={"audit": "report.csv"},
        summary="Group report as CSV (one row per group and scale)",
        media_type="text/csv",
        responses=problem_responses(401, 403, 404, 409, 429),
    )
    async def get_report_csv(
        self,
        report_service: NamedDependency[ReportService],
        survey_id: FromPath[uuid.UUID],
        by: By = None,
        min_group_size: MinGroupSize = None,
    ) -> Response[str]:
        """The report in long format; suppressed cells are empty."""
        result = await report_service.report(survey_id, parse_by(by), min_group_size)
        return _csv(result.report.to_frame())

    @get(
        "/report.html",
        guards=[requires("reports:read")],
        operation_id="getReportHtml",
        opt={"audit": "report.html"},
        summary="Group report as a standalone HTML page with charts",
        media_type=MediaType.HTML,
        responses=problem_responses(401, 403, 404, 409, 429),
    )
    async def get_report_html(
        self,
        report_service: NamedDependency[ReportService],
        survey_id: FromPath[uuid.UUID],
        by: By = None,
        min_group_size: MinGroupSize = None,
        previous: Previous = None,
        benchmark: Benchmark = None,
    ) -> Response[str]:
        """The report as an HTML page: the change since ``previous`` and benchmark bands
        when asked. Served with a strict Content-Security-Policy (no script, no fetch)."""
        result: SurveyReport = await report_service.report(
            survey_id, parse_by(by), min_group_size, _options(previous, benchmark, html=True)
        )
        return html_response(result)

    @get(
        "/compare/{other_id:str}",
        guards=[requires("reports:read")],
        operation_id="compareSurveys",
        opt={"audit": "compare"},
        summary="Change from another survey (the earlier wave) to this one, by group",
        responses=problem_responses(401, 403, 404, 409, 429),
    )
    async def compare(
        self,
        request: Request[Any, Any, Any],
        report_service: NamedDependency[ReportService],
        survey_id: FromPath[uuid.UUID],
        other_id: FromPath[str],
        by: By = None,
        min_group_size: MinGroupSize = None,
    ) -> Response[Any]:
        """Per group and scale: mean before (survey ``other_id``) and after (this survey),
        difference with its Welch 95% CI, Hedges' g and a plain-language reading.

        ``other_id`` is a survey id of this tenant, optionally ending in ``.csv`` for CSV
        (or send ``Accept: text/csv``). Both surveys must pin the same instrument id and
        version (422 otherwise). Each wave is suppressed on its own: a group below the
        threshold in either wave has status ``suppressed`` and no statistics at all.
        """
        other, wants_csv = _other_id(other_id)
        comparison, this, before = await report_service.compare(
            survey_id, other, parse_by(by), min_group_size
        )
        wanted = request.accept.best_match([MediaType.JSON, "text/csv"], default=MediaType.JSON)
        if wants_csv or wanted == "text/csv":
            return _csv(comparison.to_frame())
        body = comparison.to_dict()
        body["before"] = {"survey": str(before.id), "title": before.title}
        body["after"] = {"survey": str(this.id), "title": this.title}
        return Response(body, media_type=MediaType.JSON)

    @get(
        "/benchmarks",
        guards=[requires("reports:read")],
        operation_id="getBenchmarks",
        opt={"audit": "benchmarks"},
        summary="Percentile ranks and bands of the survey's groups within a comparison set",
        responses=problem_responses(401, 403, 404, 409, 429),
    )
    async def get_benchmarks(
        self,
        report_service: NamedDependency[ReportService],
        survey_id: FromPath[uuid.UUID],
        benchmark: Annotated[
            str,
            QueryParameter(
                max_length=64,
                description="'stored' (this tenant's other surveys of the same instrument id "
                "and version, each one organisation) or the id of an uploaded norm table.",
            ),
        ] = "stored",
        by: By = None,
        min_group_size: MinGroupSize = None,
    ) -> dict[str, Any]:
        """``{comparison: {metric, source, instrument, sizes}, items: [{group, scale, value,
        percentile_rank, band, comparison_size, source}]}`` for every group shown in the
        report (suppressed groups are never benchmarked). 422 when the comparison set has
        fewer than 5 organisations (the detail says how many)."""
        result = await report_service.report(
            survey_id, parse_by(by), min_group_size, ReportOptions(benchmark=benchmark)
        )
        return dict(result.to_dict()["benchmarks"])
