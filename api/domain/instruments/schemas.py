"""Bodies of the instruments routes."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, Field

__all__ = ["InstrumentDetail", "InstrumentSummary", "ScaleDefinition"]


class ScaleDefinition(BaseModel):
    """A scale and the items it is scored over."""

    id: str
    title: str | None = None
    items: list[str] = Field(description="Leaf items the scale is scored over.")
    scales: list[str] | None = Field(default=None, description="Sub-scales of a composite.")


class InstrumentSummary(BaseModel):
    """One instrument definition in a listing."""

    id: str
    version: str
    title: str
    source: Literal["bundled", "tenant"] = Field(
        description="bundled with the service, or registered by this tenant."
    )


class InstrumentDetail(InstrumentSummary):
    """An instrument with its response scale, items and scales."""

    licence: str
    response_scale: dict[str, Any]
    scoring: dict[str, Any]
    items: list[dict[str, Any]]
    scales: list[ScaleDefinition]
