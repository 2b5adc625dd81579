"""The decoded answers of recently read surveys, kept per worker process while unchanged.

Reading a survey's stored rows is most of a report's time (200,000 respondents: 0.2-0.25 s
of reading and decoding, against 0.13 s for :func:`mes.summarise`), and the same
survey is read again and again: a report by grade, then by site, the CSV, the page, a
wave comparison. Each survey row carries ``answers_version``, which every write of its
responses (a batch, a replacement, an erasure) raises in the same transaction as the
write. A read is served from here only for the version the request itself read from
the survey row, so a changed survey is always read again, in every worker and on every
machine; nothing is shared between processes and nothing has to be invalidated.

Entries are the validated float matrix and the attribute codes
(:class:`~api.domain.responses.storage.StoredAnswers`), evicted least recently used
beyond ``MES_ANSWER_CACHE_MB`` per process (0 turns the cache off). Storing a newer
version of a survey drops its older ones, so an erased respondent's answers leave this
process's memory at the next read of that survey.
"""

from __future__ import annotations

import uuid
from collections import OrderedDict
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from api.domain.responses.storage import StoredAnswers

__all__ = ["AnswerCache", "CacheKey", "answer_cache"]


@dataclass(frozen=True)
class CacheKey:
    """What a cached matrix was read for: survey, its answers version, the instrument
    it was validated against, and whether respondent ids were read too."""

    survey_id: uuid.UUID
    answers_version: int
    instrument: tuple[str, str]
    respondents: bool


@dataclass
class AnswerCache:
    """A least-recently-used map of :class:`CacheKey` to ``StoredAnswers``, bounded in bytes."""

    max_bytes: int = 256 * 2**20
    _entries: OrderedDict[CacheKey, StoredAnswers] = field(default_factory=OrderedDict)
    _bytes: int = 0
    hits: int = 0
    misses: int = 0

    def configure(self, max_megabytes: int) -> None:
        """Set the budget (``MES_ANSWER_CACHE_MB``); 0 empties the cache and keeps it off."""
        self.max_bytes = max_megabytes * 2**20
        self._evict()

    def get(self, key: CacheKey) -> StoredAnswers | None:
        found = self._entries.get(key)
        if found is None:
            self.misses += 1
            return None
        self._entries.move_to_end(key)
        self.hits += 1
        return found

    def put(self, key: CacheKey, value: StoredAnswers) -> None:
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


answer_cache = AnswerCache()
"""This process's cache (the app factory sets its budget from the settings)."""
