"""``mes serve --workers 2`` on PostgreSQL: the rate limit holds across the workers when
they share a Redis (``MES_REDIS_URL``), and is per worker without one, as the docs say.

Each request goes over a new connection, so that both workers take some; which worker
served a request is read from Linux's ``/proc`` (the process holding the server side of
the connection), not from anything the service reports.
"""

from __future__ import annotations

import os
import subprocess
import sys
import time
from collections import Counter
from pathlib import Path
from typing import Any

import httpx
import pytest
import redis
from api_helpers import bearer

# Several workers need PostgreSQL (docs/operations.md): these run on that backend only.
on_postgresql = pytest.mark.parametrize("database_url", ["postgresql"], indirect=True)

LIMIT = 10


# ----- which worker holds a TCP connection (Linux /proc) ------------------------------------


def _children(pid: int) -> set[int]:
    """Pids whose parent is ``pid``."""
    found = set()
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rpartition(")")[2].split()
        except OSError:
            continue
        if int(fields[1]) == pid:
            found.add(int(stat.parent.name))
    return found


def _server_side_sockets(server_port: int, client_port: int) -> set[str]:
    """``socket:[inode]`` of the server side of the loopback connection from client_port."""
    found = set()
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        try:
            lines = Path(table).read_text().splitlines()[1:]
        except OSError:
            continue
        for line in lines:
            fields = line.split()
            local, remote = fields[1], fields[2]
            if (
                int(local.rpartition(":")[2], 16) == server_port
                and int(remote.rpartition(":")[2], 16) == client_port
            ):
                found.add(f"socket:[{fields[9]}]")
    return found


def _serving_pid(workers: set[int], server_port: int, client_port: int) -> int | None:
    """The worker that holds the server side of the connection from ``client_port``."""
    sockets = _server_side_sockets(server_port, client_port)
    for pid in workers:
        for fd in Path(f"/proc/{pid}/fd").glob("*"):
            try:
                if os.readlink(fd) in sockets:
                    return pid
            except OSError:
                continue
    return None


def _request(
    base: str, headers: dict[str, str], workers: set[int], path: str = "/v1/instruments"
) -> tuple[int, Any]:
    """GET ``path`` over a new connection: (serving worker's pid, response)."""
    port = int(base.rpartition(":")[2])
    # verify=False: plain http needs no TLS context (loading one costs ~50 ms a client).
    with httpx.Client(base_url=base, headers=headers, timeout=30, verify=False) as http:
        response = http.get(path)
        client_port = response.extensions["network_stream"].get_extra_info("client_addr")[1]
        pid = _serving_pid(workers, port, client_port)  # while the connection is open
    assert pid is not None, f"no worker among {workers} holds the connection"
    return pid, response


def _workers(base: str, process: Any) -> set[int]:
    """The two worker processes of ``mes serve``, once both answer (``/health``, no key)."""
    if not Path("/proc/net/tcp").is_file():
        pytest.skip("telling the workers apart reads Linux's /proc")
    children = _children(process.pid)
    answered: set[int] = set()
    deadline = time.monotonic() + 90
    while len(answered) < 2:
        assert time.monotonic() < deadline, f"of {children}, only {answered} answered"
        answered.add(_request(base, {}, children, "/health")[0])
    return answered


def _assert_429(response: Any) -> None:
    assert response.status_code == 429
    assert response.headers["content-type"].startswith("application/problem+json")
    assert 1 <= int(response.headers["retry-after"]) <= 60
    assert response.json()["limit"] == LIMIT


@on_postgresql
def test_two_workers_with_redis_allow_exactly_the_limit_per_key(
    database_url: str,
    make_key: Any,
    redis_url: str,
    redis_prefix: str,
    mes_serve: Any,
    tmp_path: Path,
) -> None:
    env = {
        "MES_RATE_LIMIT_PER_MINUTE": str(LIMIT),
        "MES_REDIS_URL": redis_url,
        "MES_REDIS_PREFIX": redis_prefix,
    }
    key, other = bearer(make_key("admin")), bearer(make_key("admin"))
    with mes_serve(database_url, tmp_path, workers=2, env=env) as (base, process):
        workers = _workers(base, process)
        served = [_request(base, key, workers) for _ in range(3 * LIMIT)]
        codes = [r.status_code for _, r in served]
        assert codes == [200] * LIMIT + [429] * (2 * LIMIT), codes
        for _, response in served[LIMIT:]:
            _assert_429(response)
        pids = Counter(pid for pid, _ in served)
        assert len(pids) == 2, f"one worker served every request: {pids}"
        # A worker that itself allowed fewer than LIMIT still refused: the count is shared.
        allowed = Counter(pid for pid, r in served if r.status_code == 200)
        assert any(allowed[pid] < LIMIT and pids[pid] > allowed[pid] for pid in pids)
        # Another key has its own count.
        assert _request(base, other, workers)[1].status_code == 200
        # Both workers hold a connection to Redis, named after their pid.
        with redis.Redis.from_url(redis_url, decode_responses=True) as client:
            names = [c.get("name", "") for c in client.client_list()]
        connected = {int(n.rpartition("-")[2]) for n in names if n.startswith("mes-ratelimit-")}
        assert set(pids) <= connected


@on_postgresql
def test_two_workers_without_redis_each_allow_the_limit(
    database_url: str, make_key: Any, mes_serve: Any, tmp_path: Path
) -> None:
    env = {"MES_RATE_LIMIT_PER_MINUTE": str(LIMIT), "MES_REDIS_URL": None}
    key = bearer(make_key("admin"))
    with mes_serve(database_url, tmp_path, workers=2, env=env) as (base, process):
        workers = _workers(base, process)
        served: list[tuple[int, Any]] = []
        per_worker: Counter[int] = Counter()
        # Until each worker has served more than the limit (or a generous cap).
        while len(served) < 300 and (len(per_worker) < 2 or min(per_worker.values()) <= LIMIT):
            pid, response = _request(base, key, workers)
            served.append((pid, response))
            per_worker[pid] += 1
        assert len(per_worker) == 2, f"one worker served every request: {per_worker}"
        # Each worker counts on its own: its own first LIMIT requests pass, the rest are 429,
        # so the key made 2 x LIMIT requests in all (docs/operations.md).
        for pid in per_worker:
            codes = [r.status_code for p, r in served if p == pid]
            assert codes[:LIMIT] == [200] * LIMIT
            assert set(codes[LIMIT:]) <= {429}
        assert sum(r.status_code == 200 for _, r in served) == 2 * LIMIT
        _assert_429(served[-1][1])
    log = (tmp_path / "serve.log").read_text()
    assert "without MES_REDIS_URL each of the 2 workers counts the rate limit" in log


@on_postgresql
def test_a_revoked_key_is_refused_at_once_by_every_worker(
    database_url: str, make_key: Any, mes_serve: Any, tmp_path: Path
) -> None:
    # Each worker reads the key from the database on every request: once revoked, no
    # worker answers it again, whatever it served a moment before.
    key = make_key("reports:read")
    headers = bearer(key)
    with mes_serve(database_url, tmp_path, workers=2) as (base, process):
        workers = _workers(base, process)
        accepted: Counter[int] = Counter()
        while len(accepted) < 2 and sum(accepted.values()) < 200:
            pid, response = _request(base, headers, workers)
            assert response.status_code == 200
            accepted[pid] += 1
        assert len(accepted) == 2, f"one worker served every request: {accepted}"
        revoke = subprocess.run(
            [sys.executable, "-m", "mes", "keys", "revoke", key.split("_")[1]],
            env={**os.environ, "MES_DATABASE_URL": database_url},
            capture_output=True,
            text=True,
            check=False,
            timeout=60,
        )
        assert revoke.returncode == 0, revoke.stderr
        refused: Counter[int] = Counter()
        while len(refused) < 2 and sum(refused.values()) < 200:
            pid, response = _request(base, headers, workers)
            assert response.status_code == 401, (pid, response.text)
            refused[pid] += 1
        assert len(refused) == 2, f"one worker answered every request: {refused}"


def test_serve_refuses_a_worker_count_below_one(tmp_path: Path) -> None:
    result = subprocess.run(
        [sys.executable, "-m", "mes", "serve", "--workers", "0"],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        check=False,
        timeout=60,
    )
    assert result.returncode == 2
    assert "--workers" in result.stderr
    assert "whole number >= 1" in result.stderr
    assert not (tmp_path / "mes.sqlite3").exists()  # refused before touching a database


def test_serve_refuses_a_malformed_redis_url_naming_it(tmp_path: Path) -> None:
    env = {**os.environ, "MES_REDIS_URL": "secret-pw@cache.internal:6379"}
    result = subprocess.run(
        [sys.executable, "-m", "mes", "serve", "--workers", "2"],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        check=False,
        timeout=60,
    )
    assert result.returncode == 2
    assert "MES_REDIS_URL=" in result.stderr
    assert "redis|rediss|unix" in result.stderr  # what it should look like
    assert "Traceback" not in result.stderr
    assert not (tmp_path / "mes.sqlite3").exists()  # refused before touching a database
