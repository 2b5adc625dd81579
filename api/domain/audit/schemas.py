"""Bodies of ``GET /v1/audit``."""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Any

from pydantic import BaseModel, Field

__all__ = ["AuditEntryRead"]


class AuditEntryRead(BaseModel):
    """One recorded read: when, who (key or share link), what, with which result."""

    id: uuid.UUID
    at: dt.datetime = Field(description="When the read was answered (UTC).")
    survey: uuid.UUID | None = Field(description="The survey read (as requested).")
    key_id: uuid.UUID | None = Field(description="Id of the API key that read (never the key).")
    key_prefix: str | None = Field(
        description="Public prefix of that key, as `mes keys list` shows it."
    )
    share_id: uuid.UUID | None = Field(
        description="The share link that read (the /shared/{token} page), when no key did."
    )
    action: str = Field(
        description="What was read: report, report.csv, report.html, compare, benchmarks, "
        "shared_report, scores, scores.csv, scores.jsonl, scores.fhir, reliability, "
        "responses, responses.csv, responses.jsonl."
    )
    route: str = Field(description="The route template, e.g. /v1/surveys/{survey_id}/report.")
    format: str = Field(
        description="Format of the answer: json, csv, html, jsonl, fhir, or problem (an error)."
    )
    options: dict[str, Any] = Field(
        description="The query options of the read (by, min_group_size, previous, benchmark, "
        "limit, offset, attributes, other_id) as sent."
    )
    status: int = Field(description="HTTP status of the answer (403, 404, 422... are recorded).")
