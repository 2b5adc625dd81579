"""The decoded answers of recently read surveys, kept by one app while unchanged.

Reading a survey's stored rows is most of the time of a scores page or a release, and
the same survey is read again and again (page after page of scores, the CSV export).
Each survey row carries ``answers_version``, which every write of its responses (a
batch, a replacement, an erasure) raises in the same transaction as the write. A read
is served from here only for the version the request itself read from the survey row,
so a changed survey is always read again, in every worker and on every machine; nothing
is shared between processes and nothing has to be invalidated.

Each app has its own cache: :func:`api.app.create_app` makes one (``app.state``) with
the budget of ``MES_ANSWER_CACHE_MB`` (0 turns it off), and the dependencies
(:mod:`api.dependencies`) hand it to the services that read answers. Two apps in one
process (tests make many) never see each other's entries.

Entries are the validated float matrix and the attribute codes
(:class:`~api.domain.responses.storage.StoredAnswers`), evicted least recently used
beyond the budget. A key names the tenant, the survey and its answers version, so an
entry can only be served for the tenant and the survey it was read for, and only until
the survey's next write. Storing a newer version of a survey drops its older ones, so
an erased respondent's answers leave the app's memory at the next read of that survey.
"""

from __future__ import annotations

import uuid
from collections import OrderedDict
from dataclasses import dataclass, field
from typing import Generic, Protocol, TypeVar

__all__ = ["AnswerCache", "CacheKey", "Measured"]


class Measured(Protocol):
    """What the cache holds: anything that says how many bytes it takes."""

    def nbytes(self) -> int: ...


V = TypeVar("V", bound=Measured)


@dataclass(frozen=True)
class CacheKey:
    """What a cached matrix was read for: tenant, survey, its answers version, the
    instrument it was validated against, and whether respondent ids were read too."""

    tenant_id: uuid.UUID
    survey_id: uuid.UUID
    answers_version: int
    instrument: tuple[str, str]
    respondents: bool


@dataclass
class AnswerCache(Generic[V]):
    """A least-recently-used map of :class:`CacheKey` to answers, bounded in bytes.

    The values are :class:`~api.domain.responses.storage.StoredAnswers`; the cache
    only needs their size (:class:`Measured`), so it does not import the storage module.
    """

    max_bytes: int = 256 * 2**20
    _entries: OrderedDict[CacheKey, V] = field(default_factory=OrderedDict)
    _bytes: int = 0
    hits: int = 0
    misses: int = 0

    @classmethod
    def of_megabytes(cls, max_megabytes: int) -> AnswerCache[V]:
        """An empty cache with a budget of ``max_megabytes`` (``MES_ANSWER_CACHE_MB``)."""
        return cls(max_bytes=max_megabytes * 2**20)

    def configure(self, max_megabytes: int) -> None:
        """Set the budget in megabytes; 0 empties the cache and keeps it off."""
        self.max_bytes = max_megabytes * 2**20
        self._evict()

    def get(self, key: CacheKey) -> V | None:
        found = self._entries.get(key)
        if found is None:
            self.misses += 1
            return None
        self._entries.move_to_end(key)
        self.hits += 1
        return found

    def put(self, key: CacheKey, value: V) -> None:
        """Keep ``value`` (unless it alone exceeds the budget); older versions of the
        survey go."""
        for old in [k for k in self._entries if k.survey_id == key.survey_id]:
            if old.answers_version < key.answers_version:
                self._drop(old)
        size = value.nbytes()
        if size > self.max_bytes:
            return
        if key in self._entries:
            self._drop(key)
        self._entries[key] = value
        self._bytes += size
        self._evict()

    def clear(self) -> None:
        self._entries.clear()
        self._bytes = 0

    def __len__(self) -> int:
        return len(self._entries)

    @property
    def nbytes(self) -> int:
        return self._bytes

    def _drop(self, key: CacheKey) -> None:
        self._bytes -= self._entries.pop(key).nbytes()

    def _evict(self) -> None:
        while self._entries and self._bytes > self.max_bytes:
            self._drop(next(iter(self._entries)))

