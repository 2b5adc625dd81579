"""Crash durability: SIGKILL the real server mid-stream, restart it, count what survived.

Several client threads send batches to one survey of a real ``mes serve`` process;
the server is killed with SIGKILL while they are sending, then restarted on the same
database. Every batch answered 201 must be fully present; every batch that got no
answer must be all there or all absent (a batch is one transaction). Respondent ids
encode their batch (``c<client>-b<batch>-<row>``), so a half-written batch shows.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import threading
import time
from collections import Counter
from pathlib import Path
from typing import Any

import httpx
import pytest
from api_helpers import bearer, mes_rows

CLIENTS = 4
ROWS = 40  # respondents per batch
MAX_BATCHES = 60  # per client: the stream is bounded even if the kill never came
KILL_AFTER_ACKS = 6  # acknowledged batches before the SIGKILL


def _free_port() -> int:
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _start(database_url: str, workdir: Path, tag: str) -> tuple[subprocess.Popen[bytes], str]:
    port = _free_port()
    env = {**os.environ, "MES_DATABASE_URL": database_url, "MES_RATE_LIMIT_PER_MINUTE": "0"}
    log_path = workdir / f"serve-{tag}.log"
    with log_path.open("wb") as log:
        process = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "mes",
                "serve",
                "--host",
                "127.0.0.1",
                "--port",
                str(port),
                "--log-level",
                "warning",
            ],
            cwd=workdir,
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
        )
    base = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 60
    while True:
        if process.poll() is not None:
            pytest.fail(f"mes serve exited: {log_path.read_text()}")
        try:
            if httpx.get(f"{base}/health", timeout=1).status_code == 200:
                return process, base
        except httpx.HTTPError:
            pass
        if time.monotonic() > deadline:
            process.kill()
            process.wait()
            pytest.fail(f"mes serve did not answer: {log_path.read_text()}")
        time.sleep(0.1)


def _stop(process: subprocess.Popen[bytes]) -> None:
    if process.poll() is None:
        process.kill()
    process.wait(timeout=30)


def _batch(client: int, number: int) -> list[dict[str, Any]]:
    rows = mes_rows(ROWS, seed=client * 1000 + number, site=f"c{client}")
    for i, row in enumerate(rows):
        row["respondent"] = f"c{client}-b{number:03d}-{i:03d}"
    return rows


class Outcomes:
    """What each client learnt about each batch it sent (thread-safe)."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.acked: set[str] = set()
        self.unacked: set[str] = set()
        self.rejected: dict[str, int] = {}

    def count_acked(self) -> int:
        with self.lock:
            return len(self.acked)


def _client(
    base: str, headers: dict[str, str], sid: str, client: int, out: Outcomes, stop: threading.Event
) -> None:
    with httpx.Client(base_url=base, headers=headers, timeout=60) as http:
        for number in range(MAX_BATCHES):
            if stop.is_set():
                return
            name = f"c{client}-b{number:03d}"
            try:
                answer = http.post(
                    f"/v1/surveys/{sid}/responses", json={"responses": _batch(client, number)}
                )
            except httpx.HTTPError:
                with out.lock:
                    out.unacked.add(name)
                return  # the server is gone
            with out.lock:
                if answer.status_code == 201 and answer.json()["accepted"] == ROWS:
                    out.acked.add(name)
                else:
                    out.rejected[name] = answer.status_code


def _stored(base: str, headers: dict[str, str], sid: str) -> list[str]:
    with httpx.Client(base_url=base, headers=headers, timeout=60) as http:
        answer = http.get(f"/v1/surveys/{sid}/responses.jsonl")
        assert answer.status_code == 200, answer.text
        return [json.loads(line)["respondent"] for line in answer.text.splitlines() if line]


def test_sigkill_mid_stream_keeps_every_acknowledged_batch_whole(
    database_url: str, make_key: Any, tmp_path: Path
) -> None:
    headers = bearer(make_key("surveys:write", "responses:write", "responses:read"))
    process, base = _start(database_url, tmp_path, "first")
    try:
        with httpx.Client(base_url=base, headers=headers, timeout=60) as http:
            created = http.post("/v1/surveys", json={"title": "Crash", "instrument": "mes"})
            assert created.status_code == 201, created.text
            sid = created.json()["id"]

        out = Outcomes()
        stop = threading.Event()
        threads = [
            threading.Thread(target=_client, args=(base, headers, sid, c, out, stop), daemon=True)
            for c in range(CLIENTS)
        ]
        for thread in threads:
            thread.start()
        deadline = time.monotonic() + 60
        while out.count_acked() < KILL_AFTER_ACKS and time.monotonic() < deadline:
            time.sleep(0.01)
        still_sending = sum(t.is_alive() for t in threads)
        process.send_signal(signal.SIGKILL)
        process.wait(timeout=30)
        stop.set()
        for thread in threads:
            thread.join(timeout=60)
        assert not any(t.is_alive() for t in threads), "a client did not stop"
    finally:
        _stop(process)

    assert out.count_acked() >= KILL_AFTER_ACKS, "too few batches were acknowledged before the kill"
    assert still_sending > 0, "the kill came after the clients had finished: not mid-stream"
    assert not out.rejected, f"batches rejected before the kill: {out.rejected}"
    assert out.unacked, "no request was cut off by the kill"

    process, base = _start(database_url, tmp_path, "second")
    try:
        stored = _stored(base, headers, sid)
        # The restarted server takes new batches (no stale lock, no broken schema).
        with httpx.Client(base_url=base, headers=headers, timeout=60) as http:
            after = http.post(f"/v1/surveys/{sid}/responses", json={"responses": _batch(99, 0)})
            assert after.status_code == 201, after.text
    finally:
        _stop(process)

    assert len(stored) == len(set(stored)), "a respondent was stored twice"
    per_batch = Counter(r.rsplit("-", 1)[0] for r in stored)
    sent = out.acked | out.unacked
    assert set(per_batch) <= sent, f"rows of batches never sent: {set(per_batch) - sent}"
    for name in out.acked:
        assert per_batch.get(name, 0) == ROWS, f"acknowledged batch {name} is not whole"
    for name in out.unacked:
        assert per_batch.get(name, 0) in (0, ROWS), (
            f"unacknowledged batch {name} is half written: {per_batch[name]} of {ROWS} rows"
        )
