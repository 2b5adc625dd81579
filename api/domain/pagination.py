"""A page of listed rows."""

from __future__ import annotations

from typing import Annotated, Generic, TypeVar

from litestar.params import QueryParameter
from pydantic import BaseModel, Field

__all__ = ["Limit", "Offset", "Page"]

T = TypeVar("T")

Limit = Annotated[int, QueryParameter(ge=1, le=1000, description="Rows per page (1-1000).")]
Offset = Annotated[int, QueryParameter(ge=0, le=2_000_000_000, description="Rows to skip.")]


class Page(BaseModel, Generic[T]):
    """Rows ``offset`` to ``offset + limit`` of ``total``."""

    items: list[T]
    total: int = Field(description="Rows in all pages.")
    limit: int
    offset: int
