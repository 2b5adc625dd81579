"""The per-process cache of decoded survey answers (api/domain/responses/cache.py)."""

from __future__ import annotations

import uuid

import numpy as np
import pytest

from api.domain.responses.cache import AnswerCache, CacheKey
from api.domain.responses.storage import StoredAnswers

MB = 2**20


def _answers(megabytes: float) -> StoredAnswers:
    rows = int(megabytes * MB / (30 * 8))
    return StoredAnswers(None, np.zeros((rows, 30)), np.zeros(0, dtype=np.intp), ())


def _key(survey: uuid.UUID, version: int = 1, respondents: bool = False) -> CacheKey:
    return CacheKey(survey, version, ("mes", "1.0"), respondents)


def test_least_recently_used_goes_first_when_over_budget() -> None:
    cache = AnswerCache(max_bytes=10 * MB)
    a, b, c = uuid.uuid4(), uuid.uuid4(), uuid.uuid4()
    cache.put(_key(a), _answers(4))
    cache.put(_key(b), _answers(4))
    assert cache.get(_key(a)) is not None  # a is now the most recently used
    cache.put(_key(c), _answers(4))  # 12 MB > 10 MB: b goes
    assert cache.get(_key(b)) is None
    assert cache.get(_key(a)) is not None
    assert cache.get(_key(c)) is not None
    assert cache.nbytes <= 10 * MB
    assert (cache.hits, cache.misses) == (3, 1)


def test_a_newer_version_drops_the_older_ones_of_that_survey_only() -> None:
    cache = AnswerCache(max_bytes=100 * MB)
    a, b = uuid.uuid4(), uuid.uuid4()
    cache.put(_key(a, 1), _answers(1))
    cache.put(_key(a, 1, respondents=True), _answers(1))
    cache.put(_key(b, 1), _answers(1))
    cache.put(_key(a, 2), _answers(1))
    assert cache.get(_key(a, 1)) is None
    assert cache.get(_key(a, 1, respondents=True)) is None
    assert cache.get(_key(a, 2)) is not None
    assert cache.get(_key(b, 1)) is not None
    assert len(cache) == 2


@pytest.mark.parametrize("budget", [0, 1])
def test_an_entry_larger_than_the_budget_is_not_kept(budget: int) -> None:
    cache = AnswerCache()
    cache.configure(budget)
    cache.put(_key(uuid.uuid4()), _answers(2))
    assert len(cache) == 0
    assert cache.nbytes == 0


def test_configuring_a_smaller_budget_evicts_at_once() -> None:
    cache = AnswerCache(max_bytes=100 * MB)
    for _ in range(5):
        cache.put(_key(uuid.uuid4()), _answers(2))
    cache.configure(5)
    assert len(cache) == 2
    assert cache.nbytes <= 5 * MB
