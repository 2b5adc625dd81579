"""Providers of the benchmark and report services (registered on the controllers)."""

from __future__ import annotations

from typing import Any

from litestar import Request
from litestar.di import NamedDependency, Provide
from sqlalchemy.ext.asyncio import AsyncSession

from api.auth import Principal
from api.domain.benchmarks.services import BenchmarkService
from api.domain.reports.services import ReportService
from api.domain.responses.services import ResponseService

__all__ = ["BENCHMARK_DEPENDENCIES"]


async def provide_benchmarks(
    request: Request[Any, Any, Any],
    db_session: NamedDependency[AsyncSession],
    principal: NamedDependency[Principal],
) -> BenchmarkService:
    """Norm tables and comparison sets of the caller's tenant."""
    return BenchmarkService(
        db_session, principal.tenant_id, request.app.state.settings.min_group_size
    )


async def provide_reports(
    request: Request[Any, Any, Any],
    response_service: NamedDependency[ResponseService],
    benchmark_service: NamedDependency[BenchmarkService],
) -> ReportService:
    """Group reports with benchmarks, at the configured suppression floor."""
    return ReportService(
        response_service, request.app.state.settings.min_group_size, benchmark_service
    )


BENCHMARK_DEPENDENCIES = {
    "benchmark_service": Provide(provide_benchmarks),
    "report_service": Provide(provide_reports),
}
