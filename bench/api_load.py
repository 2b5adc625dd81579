"""Single-response submits at 32 concurrent clients against a real ``mes serve``.

Back to back (a closed loop): 32 connections each send a fixed number of
``POST /v1/surveys/{id}/responses`` requests carrying one new respondent, one after
another, and stop: the run is bounded by its request count. The client is ``wrk``
(Debian package ``wrk``) with ``bench/wrk_load.lua``: written in C, it leaves the 2
cores to the server. (The first version of this benchmark used 32 httpx clients in
Python: they alone capped ``GET /health`` at a p99 of 320-336 ms, where wrk measures
9 ms.) Without wrk the closed-loop rows fall back to httpx and say so. The baseline
is the same client doing ``GET /health`` (no key, no database) at the same
concurrency. On PostgreSQL the closed loop also runs against ``mes serve --workers 2``.

Paced (an open loop): 32 httpx clients together send 200 requests/s, each on a fixed
schedule, as clients that do not wait for each other do; latency is then the server's
own answer time at that load, not a queue the benchmark builds.

Targets: p99 < 50 ms and no errors (any answer but 201, or a transport error); and,
from the server process's own CPU time (``/proc/<pid>/stat``) over the paced run,
under 1.5 ms of server CPU per single-response submit (baseline: CPU per
``GET /health`` in the same paced run).
"""

from __future__ import annotations

import asyncio
import collections
import json
import os
import secrets
import shutil
import signal
import subprocess
import time
from pathlib import Path

import httpx
import numpy as np

from bench.api_common import (
    Server,
    load_average,
    postgres_available,
    shared_server,
    simulated_rows,
)
from bench.harness import Result

CLIENTS = 32


Drive = tuple[tuple[float, float, float], collections.Counter[str], float]
"""(p50, p99 and max latency in s, errors by kind, wall s) of one run."""


async def _drive(url: str, bodies: list[bytes] | None, headers: dict[str, str],
                 per_client: int, expect: int, rate: float | None = None) -> Drive:
    """``CLIENTS`` clients x ``per_client`` requests with httpx; a :data:`Drive`.

    Without ``rate`` each client sends its next request as soon as the last is answered
    (a closed loop: latency = clients / throughput). With ``rate`` (requests per second,
    all clients together) each client starts its k-th request on a fixed schedule,
    staggered between clients, or at once when it is already late (an open loop).
    """
    latencies: list[float] = []
    errors: collections.Counter[str] = collections.Counter()
    samples: dict[str, str] = {}
    limits = httpx.Limits(max_connections=CLIENTS, max_keepalive_connections=CLIENTS)

    interval = CLIENTS / rate if rate else 0.0

    async def client(c: int, http: httpx.AsyncClient) -> None:
        begin = time.perf_counter() + c * interval / CLIENTS
        for k in range(per_client):
            if interval:
                await asyncio.sleep(max(0.0, begin + k * interval - time.perf_counter()))
            start = time.perf_counter()
            try:
                if bodies is None:
                    r = await http.get(url)
                else:
                    r = await http.post(url, content=bodies[c * per_client + k], headers=headers)
                if r.status_code != expect:
                    errors[str(r.status_code)] += 1
                    samples.setdefault(str(r.status_code), r.text[:300])
            except httpx.HTTPError as exc:
                errors[type(exc).__name__] += 1
            latencies.append(time.perf_counter() - start)

    async with httpx.AsyncClient(timeout=30, limits=limits) as http:
        start = time.perf_counter()
        await asyncio.gather(*(client(c, http) for c in range(CLIENTS)))
        wall = time.perf_counter() - start
    for kind, text in samples.items():
        print(f"api_load: first {kind} answer: {text}")
    p50, p99 = np.percentile(latencies, [50, 99])
    return (float(p50), float(p99), max(latencies)), errors, wall


WRK_SCRIPT = Path(__file__).with_name("wrk_load.lua")
WRK_THREADS = 2


def _wrk(url: str, key: str | None, per_client: int) -> Drive | None:
    """``wrk`` with ``CLIENTS`` connections x ``per_client`` answers each; None without wrk.

    Returns a :data:`Drive`, as :func:`_drive` does: wrk's own p50, p99 and max (it keeps
    a histogram, not every request).
    """
    wrk = shutil.which("wrk")
    if wrk is None:
        return None
    command = [wrk, f"-t{WRK_THREADS}", f"-c{CLIENTS}", "-d120s", "--timeout", "30s",
               "-s", str(WRK_SCRIPT)]
    if key:
        command += ["-H", f"Authorization: Bearer {key}"]
    mode = "submit" if key else "get"
    per_thread = CLIENTS * per_client // WRK_THREADS
    command += [url, "--", str(per_thread), mode, f"wrk{secrets.token_hex(4)}"]
    # wrk runs for its -d whatever the script does: interrupt it (it then reports, as at
    # the end of -d) once every thread has had its answers.
    with subprocess.Popen(command, stdout=subprocess.PIPE, text=True) as proc:
        assert proc.stdout is not None
        done = 0
        found = None
        for line in proc.stdout:
            if line.startswith("wrk-thread-done"):
                done += 1
                if done == WRK_THREADS:
                    proc.send_signal(signal.SIGINT)
            elif line.startswith("wrk-result "):
                found = json.loads(line.removeprefix("wrk-result "))
    if found is None:
        raise RuntimeError(f"wrk gave no result (exit {proc.returncode})")
    errors: collections.Counter[str] = collections.Counter()
    if found["unexpected"]:
        errors["unexpected status"] = found["unexpected"]
        print(f"api_load: first unexpected answer: {found['first_unexpected']}")
    for kind in ("connect_errors", "read_errors", "write_errors", "timeouts"):
        if found[kind]:
            errors[kind] = found[kind]
    lat = (found["p50_us"] / 1e6, found["p99_us"] / 1e6, found["max_us"] / 1e6)
    return lat, errors, found["seconds"]


RATE = 200.0
"""Requests per second, all 32 clients together, of the paced (open-loop) measurement."""


def _cpu_seconds(pid: int) -> float:
    """User + system CPU time a process has used (Linux ``/proc/<pid>/stat``)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    ticks = int(fields[11]) + int(fields[12])  # utime, stime
    return ticks / os.sysconf("SC_CLK_TCK")


def measure(server: Server, label: str, per_client: int, paced: bool = True) -> list[Result]:
    """The closed-loop run (wrk when installed), then the paced run, against one server."""
    n = CLIENTS * per_client
    # New respondents for each run (back to back, paced) and for the warm-up: a repeated
    # one would be a 409, and measure the refusal instead of the submit.
    rows = simulated_rows(2 * n + CLIENTS, seed=7, prefix=f"load-{secrets.token_hex(3)}-")
    bodies = [json.dumps({"responses": [r]}).encode() for r in rows.records()]
    survey = server.create_survey("load")
    url = f"{server.url}/v1/surveys/{survey}/responses"
    headers = {**server.headers, "content-type": "application/json"}
    # warm up: one request per client (connections, prepared statements, imports)
    asyncio.run(_drive(url, bodies[2 * n:], headers, 1, 201))
    results = []
    runs: list[tuple[str, Drive, Drive]] = []
    health_wrk = _wrk(f"{server.url}/health", None, per_client)
    if health_wrk is not None:
        submit_wrk = _wrk(url, server.key, per_client)
        assert submit_wrk is not None
        runs.append(("back to back, wrk", submit_wrk, health_wrk))
    else:
        print("api_load: wrk is not installed (apt install wrk): closed loop with httpx")
        health = asyncio.run(_drive(f"{server.url}/health", None, {}, per_client, 200))
        runs.append(("back to back, httpx", asyncio.run(
            _drive(url, bodies[:n], headers, per_client, 201)), health))
    cpu: tuple[float, float] | None = None
    if paced:
        before = _cpu_seconds(server.pid)
        health = asyncio.run(_drive(f"{server.url}/health", None, {}, per_client, 200, RATE))
        middle = _cpu_seconds(server.pid)
        paced_run = asyncio.run(_drive(url, bodies[n:2 * n], headers, per_client, 201, RATE))
        after = _cpu_seconds(server.pid)
        cpu = ((after - middle) / n, (middle - before) / n)
        runs.append((f"paced, {RATE:.0f} req/s in all, httpx", paced_run, health))
    for how, ((p50, p99, worst), errors, wall), ((h50, h99, _), _, _) in runs:
        if errors:
            for line in server.errors_logged():
                print(f"api_load: server log: {line}")
        err = ", ".join(f"{k}: {v}" for k, v in errors.most_common()) or "none"
        extra = (f"{n:,} requests; p50 {p50 * 1e3:.1f} ms, p99 {p99 * 1e3:.1f} ms, max "
                 f"{worst * 1e3:.0f} ms; errors {sum(errors.values())} ({err}); "
                 f"{n / wall:,.0f} req/s; /health p50 {h50 * 1e3:.1f} ms p99 {h99 * 1e3:.1f} ms;"
                 f" {load_average()}")
        results.append(Result("api_load", f"p99 single-response POST x{CLIENTS} ({how}), {label}",
                              p99, f"p99 GET /health x{CLIENTS}", h99,
                              "p99 < 50 ms, 0 errors", extra))
    if cpu is not None:
        submit_cpu, health_cpu = cpu
        results.append(Result(
            "api_load", f"server CPU per single-response POST (paced), {label}", submit_cpu,
            "server CPU per GET /health (paced)", max(health_cpu, 1e-6), "< 1.5 ms",
            f"{submit_cpu * 1e3:.2f} ms per submit, {health_cpu * 1e3:.2f} ms per /health, "
            f"over {n:,} requests each (server process CPU time, user + system)",
        ))
    return results


def run(quick: bool) -> list[Result]:
    per_client = 3 if quick else 15
    results = measure(shared_server("sqlite"), "SQLite", per_client)
    why = postgres_available()
    if why is None:
        results.extend(measure(shared_server("postgresql"), "PostgreSQL", per_client))
        with Server("postgresql", workers=2) as two:
            results.extend(measure(two, "PostgreSQL, 2 workers", per_client, paced=False))
    else:
        print(f"api_load: PostgreSQL skipped ({why})")
    return results
