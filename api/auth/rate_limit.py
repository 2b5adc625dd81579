"""A per-key request limit over fixed one-minute windows (in process memory)."""

from __future__ import annotations

import math
import threading
import time
from collections.abc import Callable, Hashable

__all__ = ["RateLimiter"]


class RateLimiter:
    """Allow ``limit`` requests per key in each ``window`` seconds.

    Each worker process keeps its own counts: with ``--workers N`` a key may
    make up to N times the limit. Use ``limit=0`` to switch the limit off.

    Examples
    --------
    >>> rl = RateLimiter(limit=1, window=60.0, clock=lambda: 0.0)
    >>> rl.hit("k"), rl.hit("k")
    (None, 60)
    """

    def __init__(
        self, limit: int, window: float = 60.0, clock: Callable[[], float] = time.monotonic
    ) -> None:
        self.limit = limit
        self.window = window
        self._clock = clock
        self._counts: dict[Hashable, tuple[float, int]] = {}
        self._lock = threading.Lock()

    def hit(self, key: Hashable) -> int | None:
        """Count a request; return None if allowed, else seconds until the next window."""
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
