"""The per-key rate limit counted in Redis (``MES_REDIS_URL``): shared by several app
instances, atomic window expiry, and what happens while Redis does not answer.

Two app instances in one test process stand in for two workers here; the live
``mes serve --workers 2`` is in ``test_workers.py``.
"""

from __future__ import annotations

import asyncio
import logging
import os
import shutil
import socket
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pydantic
import pytest
import redis
from api_helpers import bearer
from litestar.testing import TestClient

from api.app import create_app
from api.auth.rate_limit import RedisRateLimiter
from api.settings import Settings


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _keys(url: str, prefix: str) -> dict[str, tuple[int, int]]:
    """``{redis key: (count, milliseconds until it expires)}`` under ``prefix``."""
    client = redis.Redis.from_url(url, decode_responses=True)
    try:
        return {
            key: (int(client.get(key) or 0), int(client.pttl(key)))
            for key in client.scan_iter(match=f"{prefix}*")
        }
    finally:
        client.close()


def _limiter_connections(url: str) -> int:
    """Redis connections of this process's rate limiters (client name mes-ratelimit-<pid>)."""
    client = redis.Redis.from_url(url, decode_responses=True)
    try:
        return sum(c.get("name") == f"mes-ratelimit-{os.getpid()}" for c in client.client_list())
    finally:
        client.close()


class _Records(logging.Handler):
    def __init__(self) -> None:
        super().__init__(logging.DEBUG)
        self.messages: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.messages.append(record.getMessage())


@pytest.fixture
def limiter_log() -> Iterator[list[str]]:
    """Messages of the ``api.rate_limit`` logger (its own handler: the app's logging
    configuration replaces the root handlers that ``caplog`` relies on)."""
    handler = _Records()
    logger = logging.getLogger("api.rate_limit")
    logger.addHandler(handler)
    try:
        yield handler.messages
    finally:
        logger.removeHandler(handler)


def _assert_429(response: Any, limit: int) -> None:
    assert response.status_code == 429
    assert response.headers["content-type"].startswith("application/problem+json")
    assert 1 <= int(response.headers["retry-after"]) <= 60
    assert response.json()["limit"] == limit
    assert f"{limit} requests per minute" in response.json()["detail"]


def test_two_app_instances_on_one_redis_share_one_count_per_key(
    database_url: str, make_key: Any, redis_url: str, redis_prefix: str
) -> None:
    settings = Settings(
        database_url=database_url,
        rate_limit_per_minute=3,
        redis_url=redis_url,
        redis_prefix=redis_prefix,
    )
    first, second = bearer(make_key("admin")), bearer(make_key("admin"))
    with TestClient(create_app(settings)) as a, TestClient(create_app(settings)) as b:
        # Alternating between the two instances: three in all, not three each.
        codes = [c.get("/v1/instruments", headers=first).status_code for c in (a, b, a, b, a)]
        assert codes == [200, 200, 200, 429, 429]
        _assert_429(b.get("/v1/instruments", headers=first), limit=3)
        assert b.get("/v1/instruments", headers=second).status_code == 200  # per key
    keys = _keys(redis_url, redis_prefix)
    assert sorted(count for count, _ in keys.values()) == [1, 6]
    assert all(k.startswith(f"{redis_prefix}ratelimit:") for k in keys)
    # Every count expires with its window (set in the same step as the first INCR).
    assert all(0 < ttl <= 60_000 for _, ttl in keys.values())


def test_without_redis_each_app_instance_counts_on_its_own(
    database_url: str, make_key: Any
) -> None:
    settings = Settings(database_url=database_url, rate_limit_per_minute=3)
    key = bearer(make_key("admin"))
    with TestClient(create_app(settings)) as a, TestClient(create_app(settings)) as b:
        codes = [c.get("/v1/instruments", headers=key).status_code for c in (a, b) * 4]
        # Three each (the documented per-process behaviour): 2 x 3 = 6 allowed.
        assert codes == [200] * 6 + [429] * 2


def test_a_window_ends_and_the_key_may_make_requests_again(
    redis_url: str, redis_prefix: str
) -> None:
    async def run() -> list[int | None]:
        limiter = RedisRateLimiter(2, redis_url, prefix=redis_prefix, window=1.0)
        await limiter.start()
        try:
            hits = [await limiter.hit("k") for _ in range(3)]
            await asyncio.sleep(1.1)
            hits.append(await limiter.hit("k"))
            return hits
        finally:
            await limiter.close()

    assert asyncio.run(run()) == [None, None, 1, None]


def test_unreachable_redis_counts_per_process_and_warns_once(
    database_url: str, make_key: Any, limiter_log: list[str]
) -> None:
    url = f"redis://:hunter2@127.0.0.1:{_free_port()}/0"  # nothing listens there
    settings = Settings(database_url=database_url, rate_limit_per_minute=2, redis_url=url)
    key = bearer(make_key("admin"))
    started = time.monotonic()
    with TestClient(create_app(settings)) as client:
        responses = [client.get("/v1/instruments", headers=key) for _ in range(4)]
    assert [r.status_code for r in responses] == [200, 200, 429, 429]  # no 500, still limited
    _assert_429(responses[-1], limit=2)
    assert time.monotonic() - started < 10  # Redis is not waited for on every request
    warnings = limiter_log
    assert len(warnings) == 1, warnings
    assert "MES_REDIS_URL=redis://:" in warnings[0]
    assert "@127.0.0.1:" in warnings[0]  # where it looked
    assert "hunter2" not in warnings[0]  # the password masked (***, or [redacted] by the
    # service's log filter when an app of this process installed it)
    assert "per worker process" in warnings[0]


def test_a_redis_url_without_a_scheme_is_refused_naming_the_setting() -> None:
    with pytest.raises(pydantic.ValidationError) as error:
        Settings(redis_url="127.0.0.1:6379")
    assert "redis_url" in str(error.value)
    assert "redis|rediss|unix" in str(error.value)


def test_the_redis_connections_are_closed_on_shutdown(
    database_url: str, make_key: Any, redis_url: str, redis_prefix: str
) -> None:
    settings = Settings(
        database_url=database_url,
        rate_limit_per_minute=5,
        redis_url=redis_url,
        redis_prefix=redis_prefix,
    )
    key = bearer(make_key("admin"))
    before = _limiter_connections(redis_url)
    with TestClient(create_app(settings)) as client:
        assert client.get("/v1/instruments", headers=key).status_code == 200
        assert _limiter_connections(redis_url) > before
    assert _limiter_connections(redis_url) == before


@pytest.fixture
def own_redis(tmp_path: Path) -> Iterator[tuple[str, Any, Any]]:
    """A redis-server of this test: (url, start, stop)."""
    binary = shutil.which("redis-server")
    if binary is None:
        pytest.skip("the Redis outage test runs its own redis-server: none on PATH")
    port = _free_port()
    processes: list[subprocess.Popen[bytes]] = []

    def start() -> None:
        process = subprocess.Popen(
            [
                binary,
                "--port",
                str(port),
                "--bind",
                "127.0.0.1",
                "--save",
                "",
                "--appendonly",
                "no",
                "--dir",
                str(tmp_path),
            ],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        processes.append(process)
        deadline = time.monotonic() + 10
        probe = redis.Redis(port=port, socket_connect_timeout=0.5)
        while True:
            try:
                probe.ping()
                break
            except redis.ConnectionError:
                if time.monotonic() > deadline:
                    pytest.fail(f"redis-server on port {port} did not start")
                time.sleep(0.05)
            finally:
                probe.close()

    def stop() -> None:
        process = processes[-1]
        process.terminate()
        process.wait(timeout=10)

    start()
    try:
        yield f"redis://127.0.0.1:{port}/0", start, stop
    finally:
        for process in processes:
            if process.poll() is None:
                process.kill()
                process.wait()


def test_a_redis_outage_falls_back_to_memory_and_recovers(
    own_redis: tuple[str, Any, Any], limiter_log: list[str]
) -> None:
    url, start, stop = own_redis

    async def run() -> None:
        limiter = RedisRateLimiter(3, url, prefix="t:", retry_interval=0.2)
        await limiter.start()
        try:
            assert [await limiter.hit("k") for _ in range(2)] == [None, None]
            assert _keys(url, "t:")["t:ratelimit:k"][0] == 2  # counted in Redis
            stop()
            # Redis is gone: counted in memory from zero, still limited, never raises.
            hits = [await limiter.hit("k") for _ in range(4)]
            assert hits[:3] == [None, None, None]
            assert hits[3] is not None
            assert 55 <= hits[3] <= 60
            assert limiter.degraded
            start()  # an empty Redis on the same port
            await asyncio.sleep(0.3)
            assert await limiter.hit("k") is None
            assert not limiter.degraded
            assert _keys(url, "t:")["t:ratelimit:k"][0] == 1  # counted in Redis again
        finally:
            await limiter.close()

    asyncio.run(run())
    messages = limiter_log
    assert len(messages) == 2, messages
    assert "does not answer" in messages[0]
    assert "answers again" in messages[1]
