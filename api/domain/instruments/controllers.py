"""``/v1/instruments``: bundled definitions plus the tenant's own."""

from __future__ import annotations

from typing import Annotated, Any

from litestar import Controller, get, post
from litestar.di import NamedDependency
from litestar.params import FromPath, JSONBody, QueryParameter

from api.auth import Principal
from api.auth.guards import any_key, requires
from api.domain.instruments.schemas import InstrumentDetail, InstrumentSummary
from api.domain.instruments.services import InstrumentService, describe
from api.openapi_responses import problem_responses

__all__ = ["InstrumentController"]


class InstrumentController(Controller):
    """Read instruments; register the tenant's own definitions."""

    path = "/instruments"
    tags = ["instruments"]  # noqa: RUF012

    @get(
        "/",
        guards=[any_key],
        operation_id="listInstruments",
        summary="Instruments this tenant can use",
        responses=problem_responses(401, 429),
    )
    async def list_instruments(
        self, instrument_service: NamedDependency[InstrumentService]
    ) -> list[InstrumentSummary]:
        """Bundled instruments and the tenant's registered ones."""
        return await instrument_service.visible()

    @get(
        "/{instrument_id:str}",
        guards=[any_key],
        operation_id="getInstrument",
        summary="One instrument: scales and items",
        responses=problem_responses(401, 404, 429),
    )
    async def get_instrument(
        self,
        instrument_service: NamedDependency[InstrumentService],
        instrument_id: FromPath[str],
        version: Annotated[
            str | None,
            QueryParameter(
                max_length=32,
                description="Version; default: the bundled one, else the latest registered.",
            ),
        ] = None,
    ) -> InstrumentDetail:
        """Describe an instrument."""
        inst, source = await instrument_service.get(instrument_id, version)
        return describe(inst, source)

    @post(
        "/",
        guards=[requires("surveys:write")],
        operation_id="registerInstrument",
        summary="Register the tenant's own definition",
        responses=problem_responses(401, 403, 409, 413, 415, 422, 429),
    )
    async def register_instrument(
        self,
        instrument_service: NamedDependency[InstrumentService],
        principal: NamedDependency[Principal],
        data: JSONBody[dict[str, Any]],
    ) -> InstrumentDetail:
        """Validate a definition (the format of ``instruments/*.yaml``, as JSON) and store it.

        Visible to this tenant only; an id and version name one definition forever.
        """
        inst = await instrument_service.register(data)
        return describe(inst, "tenant")
