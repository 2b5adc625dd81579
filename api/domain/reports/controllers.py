"""``/v1/surveys/{id}/report`` (JSON, CSV, HTML), ``/compare/{other_id}``, ``/trend`` (JSON,
CSV) and ``/benchmarks``."""

from __future__ import annotations

import uuid
from typing import Annotated, Any

import pandas as pd
from litestar import Controller, MediaType, Request, Response, get
from litestar.di import NamedDependency
from litestar.params import FromPath, QueryParameter

from api.auth.guards import requires
from api.db.models import Survey
from api.domain.reports.html import html_response
from api.domain.reports.services import (
    MAX_WAVES,
    SURVEY_ID_PATTERN,
    ReportOptions,
    ReportService,
    SurveyReport,
    parse_by,
    parse_previous,
)
from api.errors import FieldError, ProblemError
from api.openapi_responses import problem_responses
from mes.groups import Trend
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
# Documented here, checked by parse_previous: so that more than MAX_WAVES waves is refused
# with a detail naming the limit rather than as a pattern mismatch.
SURVEY_IDS = {"pattern": f"^{SURVEY_ID_PATTERN}(,{SURVEY_ID_PATTERN}){{0,{MAX_WAVES - 2}}}$"}
Previous = Annotated[
    str | None,
    QueryParameter(
        max_length=2000,
        schema_extra=SURVEY_IDS,
        description="Id of the previous wave (a survey of the same instrument id and version "
        "of this tenant): adds the change since it (difference of means, Welch 95% CI, "
        "Hedges' g) to the JSON ('change') and HTML reports. A group suppressed in either "
        "wave shows no change. Several ids, comma-separated and oldest first, also add the "
        f"trend over them and this survey (at most {MAX_WAVES} waves; JSON 'trend', HTML "
        "'Trend over N waves'); the change is then since the last of them. 404 when "
        "unknown, 422 for another instrument, a survey named twice or too many waves.",
    ),
]
TrendPrevious = Annotated[
    str,
    QueryParameter(
        max_length=2000,
        schema_extra=SURVEY_IDS,
        description="The previous waves' survey ids, comma-separated, oldest first: surveys "
        "of this tenant on the same instrument id and version, each closed. This survey is "
        f"the latest wave; at most {MAX_WAVES} waves in all (422 naming the limit). 404 when "
        "a survey is unknown, 422 for another instrument or a survey named twice.",
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


def _csv(frame: pd.DataFrame) -> Response[str]:
    """A report table as CSV, text cells and headers escaped against spreadsheet formulas."""
    return Response(write_csv(frame), media_type=CSV)


def _options(previous: str | None, benchmark: str | None, *, html: bool = False) -> ReportOptions:
    """The options of a report read: one previous wave gives the change since it; several
    give the change since the last and the trend over all of them and this survey."""
    waves = parse_previous(previous)
    return ReportOptions(previous=waves[-1] if waves else None,
                         trend=tuple(waves) if len(waves) > 1 else (),
                         benchmark=benchmark, reliability=html)


def _trend_body(trend: Trend, surveys: list[Survey]) -> dict[str, Any]:
    """The trend's JSON, with the survey behind each wave (``surveys``, oldest first)."""
    body: dict[str, Any] = trend.to_dict()
    body["surveys"] = [{"survey": str(s.id), "title": s.title, "wave": label}
                       for s, label in zip(surveys, trend.waves, strict=True)]
    return body


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
    guards = [requires("reports:read")]  # noqa: RUF012 - every route reads aggregates

    @get(
        "/report",
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
        With ``previous`` the JSON gains ``change`` (and ``trend`` when several previous
        waves are given); with ``benchmark`` it gains ``benchmarks: {comparison, items}``.
        The CSV holds the group rows only (the trend's CSV is ``/trend.csv``).
        """
        wanted = request.accept.best_match(
            [MediaType.JSON, "text/csv", MediaType.HTML], default=MediaType.JSON
        )
        options = _options(previous, benchmark, html=wanted == MediaType.HTML)
        result = await report_service.report(
            survey_id, parse_by(by), min_group_size,
            None if wanted == "text/csv" else options,  # the CSV holds the group rows only
        )
        if wanted == "text/csv":
            return _csv(result.report.to_frame())
        if wanted == MediaType.HTML:
            return html_response(result)
        return Response(result.to_dict(), media_type=MediaType.JSON)

    @get(
        "/report.csv",
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
        """The report as an HTML page: the change since ``previous`` (and, with several
        previous waves, the trend over all of them: a line chart and a table per scale) and
        benchmark bands when asked. Served with a strict Content-Security-Policy (no script,
        no fetch)."""
        result: SurveyReport = await report_service.report(
            survey_id, parse_by(by), min_group_size, _options(previous, benchmark, html=True)
        )
        return html_response(result)

    @get(
        "/compare/{other_id:str}",
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
        "/trend",
        operation_id="getTrend",
        opt={"audit": "trend"},
        summary="Trend over several waves, by group (JSON; CSV by Accept or /trend.csv)",
        responses=problem_responses(401, 403, 404, 409, 429),
    )
    async def get_trend(
        self,
        request: Request[Any, Any, Any],
        report_service: NamedDependency[ReportService],
        survey_id: FromPath[uuid.UUID],
        previous: TrendPrevious,
        by: By = None,
        min_group_size: MinGroupSize = None,
    ) -> Response[Any]:
        """Per group and scale, each wave's n, mean and 95% CI (``waves``) and each step's
        change from the wave before (``steps``: difference, Welch 95% CI, Hedges' g and a
        reading), for the ``previous`` surveys and this one, the latest.

        Every wave is that survey's released report at the same threshold, exactly as its
        own report shows it: a group hidden in a wave (``status`` ``suppressed``, with
        ``suppressed_reason``) has no figure in that wave, and the steps into and out of
        that wave have status ``suppressed`` and no statistic. ``surveys`` names the survey
        of each wave. Every survey must be closed (409 otherwise, found before any wave is
        released). ``Accept: text/csv`` gives the CSV of ``/trend.csv``.
        """
        waves = parse_previous(previous)
        trend, surveys = await report_service.trend(survey_id, waves, parse_by(by),
                                                    min_group_size)
        wanted = request.accept.best_match([MediaType.JSON, "text/csv"], default=MediaType.JSON)
        if wanted == "text/csv":
            return _csv(trend.to_frame())
        return Response(_trend_body(trend, surveys), media_type=MediaType.JSON)

    @get(
        "/trend.csv",
        operation_id="getTrendCsv",
        opt={"audit": "trend.csv"},
        summary="Trend over several waves as CSV (one row per group, scale and wave)",
        media_type="text/csv",
        responses=problem_responses(401, 403, 404, 409, 429),
    )
    async def get_trend_csv(
        self,
        report_service: NamedDependency[ReportService],
        survey_id: FromPath[uuid.UUID],
        previous: TrendPrevious,
        by: By = None,
        min_group_size: MinGroupSize = None,
    ) -> Response[str]:
        """Long format, oldest wave first: ``level``, the ``by`` attributes, ``scale``,
        ``wave``, ``status``, ``suppressed_reason``, ``n``, ``mean``, ``ci_low``,
        ``ci_high``, then the step into the wave (``change_from``, ``change_status``,
        ``difference``, ``change_ci_low``, ``change_ci_high``, ``hedges_g``). Hidden points
        and steps are empty; numbers rounded by kind (counts whole, statistics to 3
        decimals)."""
        trend, _ = await report_service.trend(survey_id, parse_previous(previous),
                                              parse_by(by), min_group_size)
        return _csv(trend.to_frame())

    @get(
        "/benchmarks",
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
