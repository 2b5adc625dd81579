"""Shared machinery of the API benchmarks: a real ``mes serve`` on loopback.

:class:`Server` starts ``mes serve`` as a subprocess on a free 127.0.0.1 port with
a fresh database (a temporary SQLite file, or a throwaway PostgreSQL database that
is dropped afterwards), creates a key with ``mes keys create`` and stops the server
(by its own pid) on exit. Nothing here sends traffic anywhere but 127.0.0.1.

Not an area of ``python -m bench`` (it defines no ``run``). The areas share one
server per backend (:func:`shared_server`), each in surveys of its own.
"""

from __future__ import annotations

import asyncio
import atexit
import json
import os
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import numpy as np

import mes

HOST = "127.0.0.1"
PG_ADMIN_URL = os.environ.get(
    "MES_BENCH_POSTGRES_URL", "postgresql://postgres@127.0.0.1:5432/test"
)
SCOPES = "surveys:write,responses:write,responses:read,reports:read"
STAFF_GROUPS = ["consultant", "SAS doctor", "trainee", "manager"]
STAFF_P = [0.45, 0.1, 0.43, 0.02]
DIRECTORATES = [f"directorate {i:02d}" for i in range(12)]
BY = ["staff_group", "directorate"]


def free_port() -> int:
    with socket.socket() as s:
        s.bind((HOST, 0))
        return int(s.getsockname()[1])


def _mes_command() -> list[str]:
    script = Path(sys.executable).with_name("mes")
    if script.exists():
        return [str(script)]
    found = shutil.which("mes")
    if found is None:
        raise RuntimeError("no `mes` console script: pip install -e . first")
    return [found]


# ----- PostgreSQL throwaway databases --------------------------------------------------------


def _pg_admin(sql: str) -> None:
    import asyncpg

    async def main() -> None:
        conn = await asyncpg.connect(PG_ADMIN_URL, timeout=5)
        try:
            await conn.execute(sql)
        finally:
            await conn.close()

    asyncio.run(main())


def postgres_available() -> str | None:
    """None when the PostgreSQL server answers, else why not."""
    try:
        _pg_admin("SELECT 1")
    except Exception as exc:  # any failure means: skip
        return f"{type(exc).__name__}: {exc}"
    return None


def _pg_url(database: str, driver: str = "postgresql+asyncpg") -> str:
    base, _, _ = PG_ADMIN_URL.rpartition("/")
    return f"{driver}://{base.split('://', 1)[1]}/{database}"


# ----- the server ---------------------------------------------------------------------------


@dataclass
class Server:
    """``mes serve`` on a free loopback port with a fresh database; a context manager."""

    backend: str = "sqlite"  # sqlite | postgresql
    workers: int = 1
    env: dict[str, str] = field(default_factory=dict)
    port: int = 0
    key: str = ""
    url: str = ""
    database_url: str = ""
    sqlite_path: Path | None = None
    pg_database: str | None = None
    log_path: Path | None = None
    _tmp: tempfile.TemporaryDirectory[str] | None = None
    _proc: subprocess.Popen[bytes] | None = None

    def __enter__(self) -> Server:
        self._tmp = tempfile.TemporaryDirectory(prefix="mes-bench-")
        if self.backend == "sqlite":
            self.sqlite_path = Path(self._tmp.name) / "bench.sqlite3"
            self.database_url = f"sqlite+aiosqlite:///{self.sqlite_path}"
        else:
            self.pg_database = f"mes_bench_{os.getpid()}_{secrets.token_hex(4)}"
            _pg_admin(f'CREATE DATABASE "{self.pg_database}"')
            self.database_url = _pg_url(self.pg_database)
        env = {
            **os.environ,
            "MES_DATABASE_URL": self.database_url,
            "MES_RATE_LIMIT_PER_MINUTE": "0",  # a benchmark is not abuse
            **self.env,
        }
        try:
            keys = subprocess.run(
                [*_mes_command(), "keys", "create", "--tenant", "bench", "--scopes", SCOPES],
                env=env, cwd=self._tmp.name, capture_output=True, text=True, check=True,
                timeout=120,
            )
            self.key = keys.stdout.strip().splitlines()[-1]
            self.port = free_port()
            self.url = f"http://{HOST}:{self.port}"
            self.log_path = Path(self._tmp.name) / "server.log"
            with self.log_path.open("wb") as log:
                self._proc = subprocess.Popen(
                    [*_mes_command(), "serve", "--host", HOST, "--port", str(self.port),
                     "--log-level", "warning", "--workers", str(self.workers)],
                    env=env, cwd=self._tmp.name, stdout=log, stderr=subprocess.STDOUT,
                )
            deadline = time.monotonic() + 60
            while True:
                if self._proc.poll() is not None:
                    raise RuntimeError(f"mes serve exited with {self._proc.returncode}")
                try:
                    if httpx.get(f"{self.url}/health", timeout=1).status_code == 200:
                        break
                except httpx.TransportError:
                    pass
                if time.monotonic() > deadline:
                    raise RuntimeError("mes serve did not answer /health within 60 s")
                time.sleep(0.1)
        except BaseException:
            self.__exit__(None, None, None)
            raise
        return self

    @property
    def pid(self) -> int:
        assert self._proc is not None
        return self._proc.pid

    @property
    def headers(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.key}"}

    def errors_logged(self, limit: int = 5) -> list[str]:
        """The last lines of the server's log that name an exception (for the report)."""
        if self.log_path is None or not self.log_path.exists():
            return []
        lines = self.log_path.read_text(errors="replace").splitlines()
        found = [line.strip() for line in lines
                 if ("Error" in line or "Exception" in line) and not line.startswith(" ")]
        return list(dict.fromkeys(found))[-limit:]

    def __exit__(self, *exc: object) -> None:
        if self._proc is not None and self._proc.poll() is None:
            self._proc.send_signal(signal.SIGINT)
            try:
                self._proc.wait(timeout=15)
            except subprocess.TimeoutExpired:
                self._proc.kill()
                self._proc.wait()
        self._proc = None
        if self.pg_database is not None:
            _pg_admin(f'DROP DATABASE IF EXISTS "{self.pg_database}" WITH (FORCE)')
            self.pg_database = None
        if self._tmp is not None:
            self._tmp.cleanup()
            self._tmp = None

    def create_survey(self, title: str = "bench") -> str:
        body = {"title": title, "instrument": "mes",
                "attributes": {"staff_group": STAFF_GROUPS, "directorate": DIRECTORATES},
                "reporting_plan": [list(BY)]}
        r = httpx.post(f"{self.url}/v1/surveys", json=body, headers=self.headers, timeout=30)
        r.raise_for_status()
        return str(r.json()["id"])

    def close_survey(self, survey: str) -> None:
        """Close a survey's fieldwork (``PATCH status=closed``): group reports are
        released only for a closed survey, so close it before reading them."""
        r = httpx.patch(f"{self.url}/v1/surveys/{survey}", json={"status": "closed"},
                        headers=self.headers, timeout=30)
        r.raise_for_status()


_SHARED: dict[str, Server] = {}


def shared_server(backend: str = "sqlite") -> Server:
    """One started server per backend for the whole ``python -m bench`` process.

    Starting ``mes serve`` costs seconds (imports, migrations, ``mes keys create``),
    so the API areas share it; each area works in surveys of its own. The server is
    stopped, and its database removed, when the process exits.
    """
    if backend not in _SHARED:
        server = Server(backend).__enter__()
        atexit.register(server.__exit__, None, None, None)
        _SHARED[backend] = server
    return _SHARED[backend]


# ----- data ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class Rows:
    """Simulated MES responses: answers (n x 30, NaN = missing) and two attributes."""

    instrument: mes.Instrument
    answers: np.ndarray
    staff_group: np.ndarray
    directorate: np.ndarray
    prefix: str

    def __len__(self) -> int:
        return len(self.answers)

    def respondent(self, i: int) -> str:
        return f"{self.prefix}{i:07d}"

    def records(self, start: int = 0, stop: int | None = None) -> Iterator[dict[str, Any]]:
        """The JSON rows a client sends (missing answers left out)."""
        items = self.instrument.item_ids
        stop = len(self) if stop is None else stop
        for i in range(start, stop):
            row = self.answers[i]
            yield {
                "respondent": self.respondent(i),
                "answers": {item: int(v) for item, v in zip(items, row, strict=True) if v == v},
                "attributes": {"staff_group": str(self.staff_group[i]),
                               "directorate": str(self.directorate[i])},
            }

    def batches(self, size: int) -> list[bytes]:
        """Pre-encoded JSON bodies of ``size`` rows (encoding is not timed)."""
        return [json.dumps({"responses": list(self.records(s, min(s + size, len(self))))},
                           separators=(",", ":")).encode()
                for s in range(0, len(self), size)]


def simulated_rows(n: int, seed: int = 3, prefix: str = "r") -> Rows:
    inst = mes.load_instrument("mes")
    rng = np.random.default_rng(seed)
    answers = rng.integers(1, 6, size=(n, len(inst.items))).astype(np.float64)
    answers[rng.random(answers.shape) < 0.05] = np.nan
    return Rows(inst, answers, rng.choice(STAFF_GROUPS, n, p=STAFF_P),
                rng.choice(DIRECTORATES, n), prefix)


async def post_batches(server: Server, survey: str, bodies: list[bytes],
                       concurrency: int = 1, latencies: list[float] | None = None) -> float:
    """POST every body (``concurrency`` in flight); seconds taken. Any non-201 raises.

    Each request's latency is appended to ``latencies`` when given.
    """
    url = f"{server.url}/v1/surveys/{survey}/responses"
    headers = {**server.headers, "content-type": "application/json"}
    queue = iter(bodies)

    async def worker(client: httpx.AsyncClient) -> None:
        for body in queue:
            start = time.perf_counter()
            r = await client.post(url, content=body, headers=headers)
            if r.status_code != 201:
                raise RuntimeError(f"ingest answered {r.status_code}: {r.text[:500]}")
            if latencies is not None:
                latencies.append(time.perf_counter() - start)

    async with httpx.AsyncClient(timeout=300) as client:
        start = time.perf_counter()
        await asyncio.gather(*(worker(client) for _ in range(concurrency)))
        return time.perf_counter() - start


def load_average() -> str:
    try:
        one, five, _ = os.getloadavg()
    except OSError:
        return "load ?"
    return f"load {one:.1f}/{five:.1f}"
