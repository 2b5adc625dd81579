"""Request and response bodies of the share-link routes."""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

__all__ = ["ShareCreate", "ShareRead"]


class ShareCreate(BaseModel):
    """The report a link shows: the same options as ``GET /v1/surveys/{id}/report``."""

    model_config = ConfigDict(extra="forbid")

    by: str | list[str] | None = Field(
        default=None,
        description="Attributes to group by, outermost first (a list or comma-separated).",
    )
    min_group_size: int | None = Field(
        default=None,
        ge=1,
        le=1_000_000,
        description="Suppression threshold; at least MES_MIN_GROUP_SIZE. The link always "
        "applies at least the service's current floor.",
    )
    previous: uuid.UUID | None = Field(
        default=None, description="A previous wave: the page shows the change since it."
    )
    benchmark: str | None = Field(
        default=None,
        max_length=64,
        description="'stored' or a norm table id: the page shows benchmark bands.",
    )
    expires_in_days: float = Field(
        default=7,
        gt=0,
        description="Lifetime of the link in days (at most MES_SHARE_MAX_DAYS, default 90).",
    )


class ShareRead(BaseModel):
    """A share link."""

    id: uuid.UUID
    url: str = Field(description="The link: opens the report's HTML page, no key needed.")
    survey: uuid.UUID
    options: dict[str, Any] = Field(description="by, min_group_size, previous, benchmark.")
    expires_at: dt.datetime
    created_at: dt.datetime
    revoked_at: dt.datetime | None = None
    state: str = Field(description="active, expired or revoked.")
