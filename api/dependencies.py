"""Dependencies injected into the route handlers (one place, as in litestar-fullstack)."""

from __future__ import annotations

from typing import Any

from litestar import Request
from litestar.di import NamedDependency, Provide
from sqlalchemy.ext.asyncio import AsyncSession

from api.auth import Principal
from api.auth.guards import principal_of
from api.domain.benchmarks.services import BenchmarkService
from api.domain.instruments.services import InstrumentService
from api.domain.reports.releases import ReleaseService
from api.domain.reports.services import ReportService
from api.domain.responses.cache import AnswerCache
from api.domain.responses.parsing import IngestLimits
from api.domain.responses.services import ResponseService
from api.domain.responses.storage import StoredAnswers
from api.domain.scores.services import ScoringService
from api.domain.surveys.services import SurveyService

__all__ = ["DEPENDENCIES"]


async def provide_principal(request: Request[Any, Any, Any]) -> Principal:
    """The authenticated caller."""
    return principal_of(request)


async def provide_instruments(
    db_session: NamedDependency[AsyncSession], principal: NamedDependency[Principal]
) -> InstrumentService:
    """Instruments visible to the caller's tenant."""
    return InstrumentService(db_session, principal.tenant_id)


async def provide_surveys(
    db_session: NamedDependency[AsyncSession], principal: NamedDependency[Principal]
) -> SurveyService:
    """The caller's surveys."""
    return SurveyService(db_session, principal.tenant_id)


async def provide_answer_cache(request: Request[Any, Any, Any]) -> AnswerCache[StoredAnswers]:
    """This app's cache of decoded survey answers (made by ``create_app``)."""
    cache: AnswerCache[StoredAnswers] = request.app.state.answer_cache
    return cache


async def provide_responses(
    request: Request[Any, Any, Any],
    db_session: NamedDependency[AsyncSession],
    principal: NamedDependency[Principal],
    answer_cache: NamedDependency[AnswerCache[StoredAnswers]],
) -> ResponseService:
    """Responses of the caller's surveys, with the configured ingest limits and the
    app's answer cache."""
    settings = request.app.state.settings
    return ResponseService(
        db_session,
        principal.tenant_id,
        IngestLimits(
            max_rows=settings.max_batch_rows,
            max_attributes=settings.max_attributes,
            max_value_chars=settings.max_value_chars,
        ),
        session_maker=request.app.state.session_maker,
        answer_cache=answer_cache,
    )


async def provide_scoring(
    response_service: NamedDependency[ResponseService],
    instrument_service: NamedDependency[InstrumentService],
    release_service: NamedDependency[ReleaseService],
) -> ScoringService:
    """Scores and reliability for the caller's tenant."""
    return ScoringService(response_service, instrument_service, release_service)


async def provide_releases(
    request: Request[Any, Any, Any],
    db_session: NamedDependency[AsyncSession],
    principal: NamedDependency[Principal],
) -> ReleaseService:
    """Released reports of the caller's surveys, at the configured suppression floor."""
    return ReleaseService(
        db_session, principal.tenant_id, request.app.state.settings.min_group_size
    )


async def provide_benchmarks(
    release_service: NamedDependency[ReleaseService],
) -> BenchmarkService:
    """Norm tables and comparison sets of the caller's tenant."""
    return BenchmarkService(release_service)


async def provide_reports(
    release_service: NamedDependency[ReleaseService],
    benchmark_service: NamedDependency[BenchmarkService],
) -> ReportService:
    """Group reports with comparisons and benchmarks, from the surveys' releases."""
    return ReportService(release_service, benchmark_service)


DEPENDENCIES = {
    "principal": Provide(provide_principal),
    "answer_cache": Provide(provide_answer_cache),
    "instrument_service": Provide(provide_instruments),
    "survey_service": Provide(provide_surveys),
    "response_service": Provide(provide_responses),
    "scoring_service": Provide(provide_scoring),
    "release_service": Provide(provide_releases),
    "benchmark_service": Provide(provide_benchmarks),
    "report_service": Provide(provide_reports),
}
