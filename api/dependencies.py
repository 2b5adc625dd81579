"""Dependencies injected into the route handlers (one place, as in litestar-fullstack).

Every service is bound to one tenant, ``tenant_id``: on the ``/v1`` routes the tenant of
the caller's key; on a share link's page, which is read without a key, the tenant that
shared the link (:mod:`api.domain.shares.controllers` provides ``tenant_id`` there).
Services take the request's session from the request (:func:`request_session`), not as
the ``db_session`` dependency: a provider that waits on one dependency is resolved in line,
one that waits on two in a task group of its own.
"""

from __future__ import annotations

import uuid
from typing import Any

from litestar import Request
from litestar.di import NamedDependency, Provide

from api.auth import Principal
from api.auth.guards import principal_of
from api.db.transactions import request_session
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


async def provide_tenant(request: Request[Any, Any, Any]) -> uuid.UUID:
    """The tenant the request's services are bound to: the caller's."""
    return principal_of(request).tenant_id


def _answer_cache(request: Request[Any, Any, Any]) -> AnswerCache[StoredAnswers]:
    """This app's cache of decoded survey answers (made by ``create_app``)."""
    cache: AnswerCache[StoredAnswers] = request.app.state.answer_cache
    return cache


async def provide_instruments(
    request: Request[Any, Any, Any], tenant_id: NamedDependency[uuid.UUID]
) -> InstrumentService:
    """Instruments visible to the tenant."""
    return InstrumentService(request_session(request), tenant_id)


async def provide_surveys(
    request: Request[Any, Any, Any], tenant_id: NamedDependency[uuid.UUID]
) -> SurveyService:
    """The tenant's surveys, their answers read through the app's answer cache."""
    return SurveyService(
        request_session(request),
        tenant_id,
        _answer_cache(request),
        definitions=request.app.state.survey_definitions,
    )


async def provide_responses(
    request: Request[Any, Any, Any], tenant_id: NamedDependency[uuid.UUID]
) -> ResponseService:
    """Responses of the tenant's surveys, with the configured ingest limits and the
    app's answer cache."""
    state = request.app.state
    settings = state.settings
    return ResponseService(
        request_session(request),
        tenant_id,
        IngestLimits(
            max_rows=settings.max_batch_rows,
            max_attributes=settings.max_attributes,
            max_value_chars=settings.max_value_chars,
        ),
        session_maker=state.session_maker,
        answer_cache=_answer_cache(request),
        definitions=state.survey_definitions,
        standalone=state.standalone_connections,
    )


async def provide_scoring(
    survey_service: NamedDependency[SurveyService],
    instrument_service: NamedDependency[InstrumentService],
    release_service: NamedDependency[ReleaseService],
) -> ScoringService:
    """Scores and reliability for the tenant."""
    return ScoringService(survey_service, instrument_service, release_service)


async def provide_releases(
    request: Request[Any, Any, Any], tenant_id: NamedDependency[uuid.UUID]
) -> ReleaseService:
    """Released reports of the tenant's surveys, at the configured suppression floor."""
    return ReleaseService(
        request_session(request), tenant_id, request.app.state.settings.min_group_size
    )


async def provide_benchmarks(
    release_service: NamedDependency[ReleaseService],
) -> BenchmarkService:
    """Norm tables and comparison sets of the tenant."""
    return BenchmarkService(release_service)


async def provide_reports(
    request: Request[Any, Any, Any], tenant_id: NamedDependency[uuid.UUID]
) -> ReportService:
    """Group reports with comparisons and benchmarks, from the surveys' releases, at the
    configured suppression floor: for the report routes, share links and their public
    page alike."""
    settings = request.app.state.settings
    return ReportService.for_tenant(request_session(request), tenant_id, settings.min_group_size)


DEPENDENCIES = {
    "principal": Provide(provide_principal),
    "tenant_id": Provide(provide_tenant),
    "instrument_service": Provide(provide_instruments),
    "survey_service": Provide(provide_surveys),
    "response_service": Provide(provide_responses),
    "scoring_service": Provide(provide_scoring),
    "release_service": Provide(provide_releases),
    "benchmark_service": Provide(provide_benchmarks),
    "report_service": Provide(provide_reports),
}
