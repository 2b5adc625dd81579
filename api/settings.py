"""Service settings, read from ``MES_``-prefixed environment variables."""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path

from pydantic import Field, SecretStr
from pydantic_settings import BaseSettings, SettingsConfigDict

__all__ = ["Settings", "default_database_url", "get_settings"]


def default_database_url() -> str:
    """SQLite file ``mes.sqlite3`` in the current working directory."""
    return f"sqlite+aiosqlite:///{Path.cwd() / 'mes.sqlite3'}"


class Settings(BaseSettings):
    """Configuration of the service.

    Every field reads the environment variable ``MES_<FIELD>`` (for example
    ``MES_DATABASE_URL``, ``MES_MAX_BATCH_ROWS``).

    Examples
    --------
    >>> Settings(database_url="sqlite+aiosqlite:///x.db").max_batch_rows
    10000
    """

    model_config = SettingsConfigDict(env_prefix="MES_", extra="ignore")

    database_url: str = Field(
        default_factory=default_database_url,
        description="SQLAlchemy async URL: sqlite+aiosqlite:///path or "
        "postgresql+asyncpg://user@host/db. Default: mes.sqlite3 in the working directory.",
    )
    db_pool_size: int = Field(
        default=15,
        ge=1,
        le=1000,
        description="Database connections each worker process keeps open and reuses for "
        "sessions (on PostgreSQL 2 more for the key checks). A request waits for a free one (up "
        "to 30 s) rather than opening more: workers x machines x (this + 2) must stay below "
        "PostgreSQL's max_connections.",
    )
    answer_cache_mb: int = Field(
        default=256,
        ge=0,
        description="Megabytes of decoded survey answers each worker keeps for reports, while "
        "the survey is unchanged (a 200,000-respondent survey takes about 50); 0 turns it off.",
    )
    max_body_bytes: int = Field(
        default=10_000_000, gt=0, description="Largest request body accepted (413 above)."
    )
    max_batch_rows: int = Field(
        default=10_000, gt=0, description="Most respondents in one submitted batch (413 above)."
    )
    max_attributes: int = Field(
        default=50, gt=0,
        description="Most attributes of one respondent (CSV: attribute columns; 413 above).",
    )
    max_value_chars: int = Field(
        default=200, gt=0,
        description="Most characters in one answer or attribute value, a CSV cell (413 above).",
    )
    rate_limit_per_minute: int = Field(
        default=600, ge=0, description="Requests per API key per minute (429 above; 0 = off)."
    )
    redis_url: str | None = Field(
        default=None,
        pattern=r"^(redis|rediss|unix)://",
        description="Redis that holds the rate-limit counts, shared by every worker and "
        "machine: redis://[[user]:password@]host[:port][/db], rediss://... (TLS) or "
        "unix:///path?db=N. Unset: each worker process counts on its own (N workers allow "
        "up to N times the limit). While Redis does not answer, requests are counted per "
        "process and a warning is logged.",
    )
    redis_prefix: str = Field(
        default="mes:",
        description="Prefix of the service's Redis keys (lets several services share a Redis).",
    )
    min_group_size: int = Field(
        default=10,
        ge=2,
        description="Reports suppress groups smaller than this; requests may raise it, "
        "never lower it.",
    )
    secret_key: SecretStr | None = Field(
        default=None,
        description="Key that signs share links (HMAC-SHA256). When unset, the service "
        "generates one on first use and keeps it in the database (table service_secret), so "
        "restarts keep links valid; changing it invalidates every link.",
    )
    share_max_days: int = Field(
        default=90, ge=1, le=3650, description="Longest lifetime of a share link, in days."
    )
    debug: bool = Field(default=False, description="Litestar debug mode (never in production).")
    echo_sql: bool = Field(default=False, description="Log every SQL statement.")

    @property
    def is_sqlite(self) -> bool:
        """True when the database is SQLite."""
        return self.database_url.startswith("sqlite")


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    """Settings from the environment, read once per process."""
    return Settings()
