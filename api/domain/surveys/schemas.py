"""Bodies of the surveys routes."""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Literal

from pydantic import BaseModel, Field

__all__ = ["SurveyCreate", "SurveyRead", "SurveyUpdate"]

AttributeName = str
DeclaredAttributes = dict[AttributeName, list[str] | None]


class SurveyCreate(BaseModel):
    """A new survey: pins one instrument id and version."""

    title: str = Field(min_length=1, max_length=500)
    instrument: str = Field(min_length=1, max_length=64, description="Instrument id, e.g. mes.")
    instrument_version: str | None = Field(
        default=None,
        min_length=1,
        max_length=32,
        description="Default: the bundled version, else the tenant's latest registered one.",
    )
    attributes: DeclaredAttributes | None = Field(
        default=None,
        description="Declared respondent attributes: name -> allowed values (null = any value). "
        "When given, a response with another attribute or a value not listed is rejected.",
    )


class SurveyUpdate(BaseModel):
    """Changes to a survey."""

    title: str | None = Field(default=None, min_length=1, max_length=500)
    status: Literal["open", "closed"] | None = Field(
        default=None, description="A closed survey refuses new responses."
    )


class SurveyRead(BaseModel):
    """A survey."""

    id: uuid.UUID
    title: str
    instrument: str
    instrument_version: str
    status: Literal["open", "closed"]
    attributes: DeclaredAttributes | None
    responses: int = Field(description="Respondents stored.")
    created_at: dt.datetime
