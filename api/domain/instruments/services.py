"""Find instrument definitions: bundled ones and those a tenant registered."""

from __future__ import annotations

import functools
import uuid
from typing import Any

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

import mes
from api.db.models import TenantInstrument
from api.domain.instruments.schemas import InstrumentDetail, InstrumentSummary, ScaleDefinition
from api.errors import FieldError, ProblemError
from mes.instrument import instrument_from_mapping

__all__ = ["InstrumentService", "describe"]


@functools.cache  # package data: it does not change while the service runs
def _bundled() -> dict[str, mes.Instrument]:
    return {i: mes.load_instrument(i) for i in mes.bundled_ids()}


def describe(inst: mes.Instrument, source: str) -> InstrumentDetail:
    """The public description of an instrument."""
    return InstrumentDetail(
        id=inst.id,
        version=inst.version,
        title=inst.title,
        source=source,
        licence=inst.licence,
        response_scale=inst.response_scale.model_dump(mode="json", exclude_none=True),
        scoring=inst.scoring.model_dump(mode="json"),
        items=[i.model_dump(mode="json", exclude_none=True) for i in inst.items],
        scales=[
            ScaleDefinition(id=s.id, title=s.title, items=list(inst.leaf_items(s.id)),
                            scales=s.scales)
            for s in inst.scales
        ],
    )


class InstrumentService:
    """Instruments visible to one tenant.

    Parameters
    ----------
    session : AsyncSession
    tenant_id : uuid.UUID
    """

    _parsed: dict[tuple[uuid.UUID, str, str], mes.Instrument] = {}  # noqa: RUF012

    def __init__(self, session: AsyncSession, tenant_id: uuid.UUID) -> None:
        self.session = session
        self.tenant_id = tenant_id

    async def visible(self) -> list[InstrumentSummary]:
        """Bundled instruments, then the tenant's own (by id and version)."""
        out = [
            InstrumentSummary(id=i.id, version=i.version, title=i.title, source="bundled")
            for i in _bundled().values()
        ]
        rows = await self.session.scalars(
            select(TenantInstrument)
            .where(TenantInstrument.tenant_id == self.tenant_id)
            .order_by(TenantInstrument.instrument_id, TenantInstrument.created_at)
        )
        for row in rows:
            title = str(row.definition.get("title", row.instrument_id))
            out.append(
                InstrumentSummary(
                    id=row.instrument_id, version=row.version, title=title, source="tenant"
                )
            )
        return out

    async def get(
        self, instrument_id: str, version: str | None = None
    ) -> tuple[mes.Instrument, str]:
        """The instrument and its source (``bundled`` or ``tenant``); 404 when unknown.

        Without ``version``: the bundled definition of that id if there is one,
        else the tenant's most recently registered version.
        """
        bundled = _bundled().get(instrument_id)
        if bundled is not None and version in (None, bundled.version):
            return bundled, "bundled"
        query = select(TenantInstrument).where(
            TenantInstrument.tenant_id == self.tenant_id,
            TenantInstrument.instrument_id == instrument_id,
        )
        if version is not None:
            query = query.where(TenantInstrument.version == version)
        row = await self.session.scalar(query.order_by(TenantInstrument.created_at.desc()).limit(1))
        if row is None:
            wanted = f"{instrument_id!r}" + (f" version {version!r}" if version else "")
            raise ProblemError(
                404,
                f"no instrument {wanted} for this tenant; GET /v1/instruments lists them",
            )
        return self._parse(row), "tenant"

    def _parse(self, row: TenantInstrument) -> mes.Instrument:
        cache_key = (self.tenant_id, row.instrument_id, row.version)
        inst = self._parsed.get(cache_key)
        if inst is None:
            inst = instrument_from_mapping(row.definition, source="stored definition")
            if len(self._parsed) > 256:
                self._parsed.clear()
            self._parsed[cache_key] = inst
        return inst

    async def register(self, definition: dict[str, Any]) -> mes.Instrument:
        """Validate a definition with the library's loader and store it for the tenant.

        Raises
        ------
        ProblemError
            422 listing every broken rule; 409 when the id and version exist.
        """
        try:
            inst = instrument_from_mapping(definition, source="request body")
        except mes.InstrumentError as exc:
            raise ProblemError(
                422,
                "the instrument definition is not valid: see errors for every problem",
                errors=[
                    FieldError(field=p.path, value=None, message=f"{p.message} Fix: {p.fix}")
                    for p in exc.problems
                ],
            ) from None
        bundled = _bundled().get(inst.id)
        if bundled is not None and bundled.version == inst.version:
            raise ProblemError(
                409,
                f"{inst.id!r} version {inst.version!r} is a bundled definition; "
                "give yours another version (an id and version name one definition forever)",
            )
        exists = await self.session.scalar(
            select(TenantInstrument.id).where(
                TenantInstrument.tenant_id == self.tenant_id,
                TenantInstrument.instrument_id == inst.id,
                TenantInstrument.version == inst.version,
            )
        )
        if exists is not None:
            raise ProblemError(
                409,
                f"instrument {inst.id!r} version {inst.version!r} is already registered; "
                "an id and version name one definition forever: register a new version",
            )
        self.session.add(
            TenantInstrument(
                tenant_id=self.tenant_id,
                instrument_id=inst.id,
                version=inst.version,
                definition=inst.model_dump(mode="json", exclude_none=True),
            )
        )
        try:
            await self.session.flush()
        except IntegrityError:
            raise ProblemError(
                409, f"instrument {inst.id!r} version {inst.version!r} exists"
            ) from None
        return inst
