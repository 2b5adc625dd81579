"""``/v1/norm-tables``: comparison sets a tenant uploads for benchmarks."""

from __future__ import annotations

import uuid

from litestar import Controller, delete, get, post
from litestar.di import NamedDependency
from litestar.params import FromPath, JSONBody

from api.auth.guards import requires
from api.domain.benchmarks.schemas import NormTableCreate, NormTableRead
from api.domain.benchmarks.services import BenchmarkService
from api.openapi_responses import problem_responses

__all__ = ["NormTableController"]


class NormTableController(Controller):
    """Norm tables: per scale, one value per organisation (docs/norm-tables.md)."""

    path = "/norm-tables"
    tags = ["benchmarks"]  # noqa: RUF012

    @post(
        "/",
        guards=[requires("surveys:write")],
        operation_id="createNormTable",
        summary="Upload a norm table (CSV or YAML text in a JSON body)",
        status_code=201,
        responses=problem_responses(401, 403, 413, 415, 429),
    )
    async def create(
        self, benchmark_service: NamedDependency[BenchmarkService], data: JSONBody[NormTableCreate]
    ) -> NormTableRead:
        """Store a norm table, parsed exactly as ``mes.groups.load_norm_table`` reads a file.

        Use its id as ``?benchmark=<id>`` on ``/v1/surveys/{id}/report`` or
        ``/v1/surveys/{id}/benchmarks``. 422 names the line and the fix of a malformed table.
        """
        return await benchmark_service.create(data)

    @get(
        "/",
        guards=[requires("reports:read")],
        operation_id="listNormTables",
        summary="The tenant's norm tables",
        responses=problem_responses(401, 403, 429),
    )
    async def list_tables(
        self, benchmark_service: NamedDependency[BenchmarkService]
    ) -> list[NormTableRead]:
        """Newest first, with the number of organisations per scale."""
        return await benchmark_service.list_tables()

    @get(
        "/{table_id:uuid}",
        guards=[requires("reports:read")],
        operation_id="getNormTable",
        summary="One norm table",
        responses=problem_responses(401, 403, 404, 429),
    )
    async def get_table(
        self, benchmark_service: NamedDependency[BenchmarkService], table_id: FromPath[uuid.UUID]
    ) -> NormTableRead:
        """Its name, instrument, metric, source and sizes."""
        return await benchmark_service.get(table_id)

    @delete(
        "/{table_id:uuid}",
        guards=[requires("surveys:write")],
        operation_id="deleteNormTable",
        summary="Delete a norm table",
        responses=problem_responses(401, 403, 404, 429),
    )
    async def delete_table(
        self, benchmark_service: NamedDependency[BenchmarkService], table_id: FromPath[uuid.UUID]
    ) -> None:
        """204; reports that named it answer 404 afterwards."""
        await benchmark_service.delete(table_id)
