"""Bodies of the scoring routes."""

from __future__ import annotations

import uuid
from typing import Any

from pydantic import BaseModel, Field

from api.domain.responses.schemas import AttributeValue, ResponseIn
from mes.identifiers import MAX_ID_CHARS

__all__ = [
    "ReliabilityReport",
    "ScaleScore",
    "ScorePage",
    "ScoreRequest",
    "ScoreResult",
    "ScoreRow",
]


class ScaleScore(BaseModel):
    """A respondent's result on one scale (null = not scorable: too few answers)."""

    score: float | None
    percent: float | None
    answered: int


class ScoreRow(BaseModel):
    """One respondent's scores."""

    respondent: str
    scores: dict[str, ScaleScore] = Field(description="Scale id -> score.")
    attributes: dict[str, AttributeValue] | None = Field(
        default=None,
        description="The respondent's attributes, only when asked for with attributes=true.",
    )


class ScorePage(BaseModel):
    """A page of a survey's scores."""

    survey: uuid.UUID
    instrument: str
    instrument_version: str
    scales: list[str]
    items: list[ScoreRow]
    total: int
    limit: int
    offset: int


class ScoreRequest(BaseModel):
    """Responses to score without storing them."""

    instrument: str = Field(min_length=1, max_length=MAX_ID_CHARS)
    instrument_version: str | None = Field(default=None, min_length=1, max_length=32)
    responses: list[ResponseIn] = Field(min_length=1)


class ScoreResult(BaseModel):
    """Scores of responses that were not stored."""

    instrument: str
    instrument_version: str
    scales: list[str]
    items: list[ScoreRow]


class ReliabilityReport(BaseModel):
    """Internal consistency of each scale of a survey."""

    survey: uuid.UUID
    instrument: str
    instrument_version: str
    n: int = Field(description="Respondents stored.")
    method: str = Field(description="How it was computed: mes.reliability (psych::alpha).")
    scales: dict[str, dict[str, Any]]
    intercorrelations: dict[str, Any] | None = Field(
        default=None,
        description="Correlations between the scale scores as psych::scoreItems reports them: "
        "cor (raw), corrected (alpha on the diagonal, disattenuated above), alpha, flags "
        "(not_distinct above 1, barely_distinct from 0.90).",
    )
