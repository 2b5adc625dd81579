"""Request and response bodies of the norm-table routes."""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from mes.identifiers import MAX_ID_CHARS

__all__ = ["NormTableCreate", "NormTableRead"]


class NormTableCreate(BaseModel):
    """A norm table to store: the file's text, in the format of docs/norm-tables.md."""

    model_config = ConfigDict(extra="forbid")

    name: str = Field(min_length=1, max_length=200, description="A name to find it by.")
    format: Literal["csv", "yaml"] = Field(
        description="csv: columns organisation, scale and one of mean or percent; yaml: "
        "{instrument?, metric?, source?, organisations: {name: {scale: value}}}."
    )
    content: str = Field(
        min_length=1, max_length=5_000_000, description="The norm-table file's text (UTF-8)."
    )
    instrument: str | None = Field(
        default=None,
        max_length=MAX_ID_CHARS,
        description="Instrument id the values belong to (default: the YAML's 'instrument'). "
        "Its scale ids are checked; reports of another instrument are refused.",
    )


class NormTableRead(BaseModel):
    """A stored norm table (its values are not repeated here)."""

    id: uuid.UUID
    name: str
    instrument: str | None
    metric: Literal["mean", "percent"]
    source: str | None
    sizes: dict[str, int] = Field(description="Organisations per scale.")
    created_at: dt.datetime
