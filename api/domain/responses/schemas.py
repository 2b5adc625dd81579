"""Bodies of the responses routes: one row is a respondent, their answers and attributes."""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, StrictBool, StrictFloat, StrictStr

from mes.identifiers import RespondentId

__all__ = ["Answer", "AttributeValue", "BatchResult", "ResponseIn", "ResponseOut"]

Answer = StrictFloat | StrictStr | None
"""An answer as sent: a number on the response scale, a code, or null/"" for missing.

(One JSON ``number`` type, not integer-or-number, keeps the OpenAPI ``oneOf`` unambiguous.
Whole numbers are stored as ``int`` (:func:`api.domain.responses.services.stored_rows`).
A submitted batch is read by :mod:`api.domain.responses.parsing`, not by this model, which
describes it in the OpenAPI document and reads the rows of ``POST /v1/score``.)"""
AttributeValue = StrictStr | StrictFloat | StrictBool | None
StoredAnswer = int | str
"""A stored answer: a whole number, or a code of the response scale."""


class ResponseIn(BaseModel):
    """One respondent's answers and attributes."""

    model_config = ConfigDict(extra="forbid")

    respondent: RespondentId = Field(description="Unique within a survey.")
    answers: dict[str, Answer] = Field(description="Item id -> answer.")
    attributes: dict[str, AttributeValue] = Field(
        default_factory=dict, description="Attribute name -> value (e.g. specialty)."
    )


class BatchResult(BaseModel):
    """The outcome of a stored batch."""

    accepted: int = Field(description="Respondents written.")
    replaced: int = Field(default=0, description="Existing respondents replaced.")
    survey: uuid.UUID
    total: int = Field(description="Respondents in the survey after this batch.")
    on_conflict: Literal["reject", "replace"] = "reject"


class ResponseOut(BaseModel):
    """A stored respondent."""

    respondent: str
    answers: dict[str, StoredAnswer]
    attributes: dict[str, AttributeValue]
    submitted_at: dt.datetime
