"""``/health`` (the process is up) and ``/ready`` (the database answers); no key needed."""

from __future__ import annotations

from typing import Any

from litestar import Controller, Request, get
from pydantic import BaseModel
from sqlalchemy import text

from api.db.engine import head_revision
from api.errors import ProblemError
from api.openapi_responses import problem_responses

__all__ = ["SystemController"]


class HealthStatus(BaseModel):
    """Liveness: the process answers."""

    status: str


class ReadyStatus(HealthStatus):
    """Readiness: the database answers."""

    database: str


class SystemController(Controller):
    """Probes for load balancers and orchestrators."""

    tags = ["system"]  # noqa: RUF012

    @get("/health", summary="The process is up", operation_id="health")
    async def health(self) -> HealthStatus:
        """Answer 200 while the process runs."""
        return HealthStatus(status="ok")

    @get(
        "/ready",
        summary="The database is reachable",
        operation_id="ready",
        responses=problem_responses(503),
    )
    async def ready(self, request: Request[Any, Any, Any]) -> ReadyStatus:
        """Answer 200 when the database answers and its schema is up to date, 503 otherwise."""
        try:
            async with request.app.state.session_maker() as session:
                version = await session.scalar(text("SELECT version_num FROM alembic_version"))
        except Exception as exc:
            # Reachable but never migrated reads as "no such table": say what to do.
            if "alembic_version" in str(exc):
                version = None
            else:
                raise ProblemError(
                    503, f"the database is not reachable: {type(exc).__name__}"
                ) from exc
        if version != head_revision():
            raise ProblemError(
                503,
                f"the database schema is at {version or 'nothing'}, this code needs "
                f"{head_revision()}: start the service with `mes serve`, which migrates first",
            )
        return ReadyStatus(status="ok", database=request.app.state.settings_dialect)
