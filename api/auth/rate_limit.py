"""A per-key request limit over fixed one-minute windows.

Two counters share one interface (:class:`RateLimiter`):

- :class:`MemoryRateLimiter` counts in the worker's own memory: with
  ``--workers N`` (or N machines) a key may make up to N times the limit.
- :class:`RedisRateLimiter` counts in Redis (``MES_REDIS_URL``), so that every
  worker of every machine shares one count per key. When Redis does not answer,
  it falls back to counting in process memory (and logs a warning) until Redis
  answers again: an outage of Redis degrades the limit, it does not take the
  service down.

:func:`create_rate_limiter` picks one from the settings.
"""

from __future__ import annotations

import logging
import math
import os
import threading
import time
from collections.abc import Callable, Hashable
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit, urlunsplit

if TYPE_CHECKING:  # redis is imported only when MES_REDIS_URL is set
    from api.settings import Settings

__all__ = [
    "MemoryRateLimiter",
    "RateLimiter",
    "RedisRateLimiter",
    "create_rate_limiter",
    "redacted_url",
]

logger = logging.getLogger("api.rate_limit")

# INCR and (on a new window) PEXPIRE in one atomic step: a worker that dies between
# the two cannot leave a count without an expiry (which would block the key for good).
# Returns the count in the current window and the milliseconds left in it.
_HIT_SCRIPT = """
local count = redis.call('INCR', KEYS[1])
local ttl = redis.call('PTTL', KEYS[1])
if ttl < 0 then
  redis.call('PEXPIRE', KEYS[1], ARGV[1])
  ttl = tonumber(ARGV[1])
end
return {count, ttl}
"""


def redacted_url(url: str) -> str:
    """``url`` with any password replaced by ``***`` (for log messages).

    Examples
    --------
    >>> redacted_url("redis://:s3cret@cache.internal:6379/2")
    'redis://:***@cache.internal:6379/2'
    >>> redacted_url("redis://127.0.0.1:6379/0")
    'redis://127.0.0.1:6379/0'
    """
    parts = urlsplit(url)
    if parts.password is None:
        return url
    user = parts.username or ""
    host = parts.hostname or ""
    if parts.port is not None:
        host = f"{host}:{parts.port}"
    return urlunsplit(parts._replace(netloc=f"{user}:***@{host}"))


class RateLimiter:
    """Allow ``limit`` requests per key in each ``window`` seconds (the interface).

    Parameters
    ----------
    limit : int
        Requests per key and window; 0 switches the limit off.
    window : float
        Length of the fixed window in seconds (default 60). A key's window starts
        with its first request and lasts ``window`` seconds.
    """

    def __init__(self, limit: int, window: float = 60.0) -> None:
        self.limit = limit
        self.window = window

    async def hit(self, key: Hashable) -> int | None:
        """Count a request of ``key``.

        Returns
        -------
        int or None
            None when the request is allowed, else the whole seconds (at least 1)
            until the key's window ends (the ``Retry-After`` value).
        """
        raise NotImplementedError

    async def start(self) -> None:
        """Open connections (called on application startup); nothing by default."""

    async def close(self) -> None:
        """Release connections (called on application shutdown); nothing by default."""


class MemoryRateLimiter(RateLimiter):
    """Counts in this process's memory.

    Each worker process keeps its own counts: with ``--workers N`` a key may
    make up to N times the limit.

    Parameters
    ----------
    limit : int
        Requests per key and window; 0 switches the limit off.
    window : float
        Window length in seconds.
    clock : callable, optional
        Monotonic seconds (for tests).

    Examples
    --------
    >>> import asyncio
    >>> rl = MemoryRateLimiter(limit=1, window=60.0, clock=lambda: 0.0)
    >>> asyncio.run(rl.hit("k")), asyncio.run(rl.hit("k"))
    (None, 60)
    """

    def __init__(
        self, limit: int, window: float = 60.0, clock: Callable[[], float] = time.monotonic
    ) -> None:
        super().__init__(limit, window)
        self._clock = clock
        self._counts: dict[Hashable, tuple[float, int]] = {}
        self._lock = threading.Lock()

    async def hit(self, key: Hashable) -> int | None:
        """Count a request; None if allowed, else seconds until the window ends."""
        return self.hit_now(key)

    def hit_now(self, key: Hashable) -> int | None:
        """:meth:`hit` without ``await`` (the count needs no I/O)."""
        if self.limit <= 0:
            return None
        now = self._clock()
        with self._lock:
            start, count = self._counts.get(key, (now, 0))
            if now - start >= self.window:
                start, count = now, 0
            if count >= self.limit:
                return max(1, math.ceil(start + self.window - now))
            self._counts[key] = (start, count + 1)
            if len(self._counts) > 100_000:  # forget idle keys
                self._counts = {k: v for k, v in self._counts.items() if now - v[0] < self.window}
        return None


class RedisRateLimiter(RateLimiter):
    """Counts in Redis, shared by every worker and machine that uses the same Redis.

    One Redis key per API key (``{prefix}ratelimit:{key}``) holds the count of the
    current window and expires when the window ends; a Lua script increments it
    and sets its expiry atomically. Each worker's connections carry the client
    name ``mes-ratelimit-<pid>`` (Redis ``CLIENT LIST``).

    When Redis fails (unreachable, timeout, an error reply), the request is counted
    by a :class:`MemoryRateLimiter` of this process instead, a warning naming
    ``MES_REDIS_URL`` is logged once, and Redis is tried again after
    ``retry_interval`` seconds; its recovery is logged too. Requests never fail
    because Redis does.

    Parameters
    ----------
    limit : int
        Requests per key and window (> 0).
    url : str
        ``redis://[[user]:password@]host[:port][/db]``, ``rediss://...`` or
        ``unix:///path?db=N``.
    prefix : str
        Prepended to every Redis key, so that several services can share one Redis.
    window : float
        Window length in seconds.
    timeout : float
        Seconds to wait for Redis (connect and each reply) before falling back.
    retry_interval : float
        Seconds to count in memory after a failure before trying Redis again.
    clock : callable, optional
        Monotonic seconds (for tests).
    """

    def __init__(
        self,
        limit: int,
        url: str,
        prefix: str = "mes:",
        window: float = 60.0,
        timeout: float = 0.5,
        retry_interval: float = 5.0,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        super().__init__(limit, window)
        self.url = url
        self.prefix = prefix
        self.timeout = timeout
        self.retry_interval = retry_interval
        self._clock = clock
        self._fallback = MemoryRateLimiter(limit, window, clock)
        self._client: Any = None
        self._script: Any = None
        self._errors: tuple[type[BaseException], ...] = ()  # what counts as Redis failing
        self._down_until: float | None = None  # monotonic time to try Redis again

    @property
    def degraded(self) -> bool:
        """True while Redis failed recently and counts are kept in process memory."""
        return self._down_until is not None

    def _connect(self) -> None:
        import redis.asyncio as aioredis
        from redis.asyncio.retry import Retry
        from redis.backoff import NoBackoff
        from redis.exceptions import RedisError

        self._client = aioredis.from_url(
            self.url,
            socket_connect_timeout=self.timeout,
            socket_timeout=self.timeout,
            # One immediate retry replaces a pooled connection that Redis closed
            # (a Redis restart); anything longer would hold the request up.
            retry=Retry(NoBackoff(), 1),
            health_check_interval=30,
            client_name=f"mes-ratelimit-{os.getpid()}",  # CLIENT LIST shows the worker
        )
        self._script = self._client.register_script(_HIT_SCRIPT)
        self._errors = (RedisError, OSError, TimeoutError)

    async def start(self) -> None:
        """Create the client and check that Redis answers (a warning if it does not)."""
        if self._client is None:
            self._connect()
        try:
            await self._client.ping()
        except self._errors as exc:
            self._went_down(exc)

    async def close(self) -> None:
        """Close the client and its connection pool."""
        client, self._client, self._script = self._client, None, None
        if client is not None:
            await client.aclose()

    async def hit(self, key: Hashable) -> int | None:
        """Count a request in Redis (or, while Redis fails, in memory).

        Returns
        -------
        int or None
            None when allowed, else seconds until the key's window ends.
        """
        if self.limit <= 0:
            return None
        if self._down_until is not None and self._clock() < self._down_until:
            return self._fallback.hit_now(key)
        if self._client is None:
            self._connect()
        try:
            count, ttl_ms = await self._script(
                keys=[f"{self.prefix}ratelimit:{key}"], args=[int(self.window * 1000)]
            )
        except self._errors as exc:  # Redis errors, timeouts, refused connections
            self._went_down(exc)
            return self._fallback.hit_now(key)
        if self._down_until is not None:
            self._down_until = None
            logger.warning(
                "rate limit: Redis at MES_REDIS_URL=%s answers again; counts are shared "
                "across workers again",
                redacted_url(self.url),
            )
        if int(count) <= self.limit:
            return None
        return max(1, math.ceil(int(ttl_ms) / 1000))

    def _went_down(self, exc: BaseException) -> None:
        first = self._down_until is None
        self._down_until = self._clock() + self.retry_interval
        if first:
            logger.warning(
                "rate limit: Redis at MES_REDIS_URL=%s does not answer (%s: %s); counting "
                "requests per worker process until it does (retrying every %g s). Check that "
                "Redis runs and MES_REDIS_URL is right, or unset it to count per process.",
                redacted_url(self.url),
                type(exc).__name__,
                exc,
                self.retry_interval,
            )


def create_rate_limiter(settings: Settings) -> RateLimiter:
    """The limiter the settings ask for.

    Parameters
    ----------
    settings : Settings
        ``rate_limit_per_minute`` (0: off), ``redis_url`` (None: count in memory)
        and ``redis_prefix``.

    Returns
    -------
    RateLimiter
        A :class:`RedisRateLimiter` when ``redis_url`` is set and the limit is on,
        else a :class:`MemoryRateLimiter`.

    Examples
    --------
    >>> from api.settings import Settings
    >>> type(create_rate_limiter(Settings(rate_limit_per_minute=5))).__name__
    'MemoryRateLimiter'
    >>> s = Settings(rate_limit_per_minute=5, redis_url="redis://127.0.0.1:6379/0")
    >>> type(create_rate_limiter(s)).__name__
    'RedisRateLimiter'
    """
    limit = settings.rate_limit_per_minute
    if settings.redis_url and limit > 0:
        return RedisRateLimiter(limit, settings.redis_url, prefix=settings.redis_prefix)
    return MemoryRateLimiter(limit)
