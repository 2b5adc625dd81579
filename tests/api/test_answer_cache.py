"""Each app's cache of decoded survey answers (api/domain/responses/cache.py)."""

from __future__ import annotations

import uuid
from typing import Any

import numpy as np
import pytest
from api_helpers import create_survey, mes_rows
from litestar.testing import TestClient

from api.app import create_app
from api.domain.responses.cache import AnswerCache, CacheKey
from api.domain.responses.storage import StoredAnswers
from api.settings import Settings

MB = 2**20
TENANT = uuid.uuid4()


def _answers(megabytes: float) -> StoredAnswers:
    rows = int(megabytes * MB / (30 * 8))
    return StoredAnswers(None, np.zeros((rows, 30)), np.zeros(0, dtype=np.intp), ())


def _key(
    survey: uuid.UUID, version: int = 1, respondents: bool = False, tenant: uuid.UUID = TENANT
) -> CacheKey:
    return CacheKey(tenant, survey, version, ("mes", "1.0"), respondents)


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


def test_an_entry_is_served_only_for_its_tenant_survey_and_version() -> None:
    cache: AnswerCache[StoredAnswers] = AnswerCache(max_bytes=100 * MB)
    a = uuid.uuid4()
    cache.put(_key(a, 3), _answers(1))
    assert cache.get(_key(a, 3)) is not None
    assert cache.get(_key(a, 3, tenant=uuid.uuid4())) is None
    assert cache.get(_key(uuid.uuid4(), 3)) is None
    assert cache.get(_key(a, 4)) is None


def test_every_app_has_its_own_cache_with_the_configured_budget() -> None:
    first, second = (
        create_app(Settings(database_url="sqlite+aiosqlite:///:memory:", answer_cache_mb=mb))
        for mb in (3, 0)
    )
    assert first.state.answer_cache is not second.state.answer_cache
    assert first.state.answer_cache.max_bytes == 3 * MB
    assert second.state.answer_cache.max_bytes == 0


def test_reads_of_one_app_fill_its_cache_only(
    client: TestClient[Any], admin: dict[str, str], settings: Settings
) -> None:
    sid = create_survey(client, admin)
    response = client.post(f"/v1/surveys/{sid}/responses", json={"responses": mes_rows(5)},
                           headers=admin)
    assert response.status_code == 201, response.text
    cache = client.app.state.answer_cache
    for _ in range(2):
        assert client.get(f"/v1/surveys/{sid}/scores", headers=admin).status_code == 200
    assert (len(cache), cache.hits) == (1, 1)  # read once, then served from the cache
    with TestClient(create_app(settings)) as other:
        assert other.get(f"/v1/surveys/{sid}/scores", headers=admin).status_code == 200
        other_cache = other.app.state.answer_cache
        assert other_cache is not cache
        assert (len(other_cache), other_cache.hits) == (1, 0)  # read from the database
    assert (len(cache), cache.hits) == (1, 1)
