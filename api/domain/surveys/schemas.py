"""Bodies of the surveys routes."""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Annotated, Literal

from pydantic import BaseModel, Field

from mes.identifiers import MAX_ID_CHARS, AttributeName

__all__ = ["SurveyCreate", "SurveyRead", "SurveyUpdate"]

# Names as a request may give them: each one that by= can ask for (mes.identifiers).
DeclaredAttributes = dict[AttributeName, list[str] | None]
ReportingPlan = list[Annotated[list[AttributeName], Field(min_length=1, max_length=10)]]
# Names as stored are read back unchecked: reading a survey never fails on what the
# database already holds.
StoredAttributes = dict[str, list[str] | None]
StoredPlan = list[list[str]]

PLAN_DESCRIPTION = (
    "The breakdowns whose reports may be read (by=), e.g. [[\"site\"], [\"grade\"], "
    "[\"site\", \"grade\"]]: every cell of every breakdown is protected together, so that "
    "no combination of these reports reveals a group below MES_MIN_GROUP_SIZE. A breakdown "
    "also allows its prefixes (site,grade allows site). Default (null): each attribute on "
    "its own (the declared attributes, else those the responses carry when the reports are "
    "released). Fixed once the reports are released."
)


class SurveyCreate(BaseModel):
    """A new survey: pins one instrument id and version."""

    title: str = Field(min_length=1, max_length=500)
    instrument: str = Field(
        min_length=1, max_length=MAX_ID_CHARS, description="Instrument id, e.g. mes."
    )
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
    reporting_plan: ReportingPlan | None = Field(
        default=None, max_length=50, description=PLAN_DESCRIPTION
    )


class SurveyUpdate(BaseModel):
    """Changes to a survey."""

    title: str | None = Field(default=None, min_length=1, max_length=500)
    status: Literal["open", "closed"] | None = Field(
        default=None,
        description="A closed survey refuses new responses, and its reports can be read "
        "(the first read releases them: from then on they never change and the survey "
        "cannot be reopened).",
    )
    reporting_plan: ReportingPlan | None = Field(
        default=None, max_length=50, description=PLAN_DESCRIPTION
    )


class SurveyRead(BaseModel):
    """A survey."""

    id: uuid.UUID
    title: str
    instrument: str
    instrument_version: str
    status: Literal["open", "closed"]
    attributes: StoredAttributes | None
    responses: int = Field(description="Respondents stored.")
    reporting_plan: StoredPlan | None = Field(description=PLAN_DESCRIPTION)
    released_at: dt.datetime | None = Field(
        description="When the reports were released (the first report read after closing): "
        "from then on they never change and the survey cannot be reopened. Null before."
    )
    created_at: dt.datetime
