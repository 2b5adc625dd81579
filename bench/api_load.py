"""Single-response submits at 32 concurrent clients against a real ``mes serve``.

32 asyncio clients (httpx, one shared pool of 32 connections, 127.0.0.1 only) each
send a fixed number of ``POST /v1/surveys/{id}/responses`` requests carrying one
respondent, one after another, and stop: the run is bounded by its request count.
Latency is measured per request at the client (so it includes the client's own
event loop, which shares the 2 cores with the server). The baseline is the same
client doing ``GET /health`` (no key, no database) at the same concurrency: the
floor that the HTTP stack, uvicorn and the client cost on this machine.

Target: p99 < 50 ms and no errors (any answer but 201, or a transport error).
"""

from __future__ import annotations

import asyncio
import collections
import json
import time

import httpx
import numpy as np

from bench.api_common import load_average, postgres_available, shared_server, simulated_rows
from bench.harness import Result

CLIENTS = 32


Drive = tuple[np.ndarray, collections.Counter[str], float]


async def _drive(url: str, bodies: list[bytes] | None, headers: dict[str, str],
                 per_client: int, expect: int, rate: float | None = None) -> Drive:
    """``CLIENTS`` clients x ``per_client`` requests; (latencies s, errors by kind, wall s).

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
    return np.array(latencies), errors, wall


RATE = 100.0
"""Requests per second, all 32 clients together, of the paced (open-loop) measurement."""


def measure(backend: str, per_client: int) -> list[Result]:
    n = CLIENTS * per_client
    rows = simulated_rows(2 * n + CLIENTS, seed=7, prefix="load-")
    bodies = [json.dumps({"responses": [r]}).encode() for r in rows.records()]
    server = shared_server(backend)
    survey = server.create_survey("load")
    url = f"{server.url}/v1/surveys/{survey}/responses"
    headers = {**server.headers, "content-type": "application/json"}
    # warm up: one request per client (connections, prepared statements, imports)
    asyncio.run(_drive(url, bodies[2 * n:], headers, 1, 201))
    health = asyncio.run(_drive(f"{server.url}/health", None, {}, per_client, 200))
    h99 = float(np.percentile(health[0], 99))
    label = "SQLite" if backend == "sqlite" else "PostgreSQL"
    results = []
    for rate, part in ((None, bodies[:n]), (RATE, bodies[n : 2 * n])):
        lat, errors, wall = asyncio.run(_drive(url, part, headers, per_client, 201, rate))
        if errors:
            for line in server.errors_logged():
                print(f"api_load: server log: {line}")
        p50, p99 = np.percentile(lat, [50, 99])
        err = ", ".join(f"{k}: {v}" for k, v in errors.most_common()) or "none"
        extra = (f"{n:,} requests; p50 {p50 * 1e3:.1f} ms, p99 {p99 * 1e3:.1f} ms, max "
                 f"{lat.max() * 1e3:.0f} ms; errors {sum(errors.values())} ({err}); "
                 f"{n / wall:,.0f} req/s; /health p50 {np.percentile(health[0], 50) * 1e3:.1f}"
                 f" ms p99 {h99 * 1e3:.1f} ms; {load_average()}")
        how = "back to back" if rate is None else f"paced, {rate:.0f} req/s in all"
        results.append(Result("api_load", f"p99 single-response POST x{CLIENTS} ({how}), {label}",
                              float(p99), f"p99 GET /health x{CLIENTS}", h99,
                              "p99 < 50 ms, 0 errors", extra))
    return results


def run(quick: bool) -> list[Result]:
    per_client = 3 if quick else 15
    results = measure("sqlite", per_client)
    why = postgres_available()
    if why is None:
        results.extend(measure("postgresql", per_client))
    else:
        print(f"api_load: PostgreSQL skipped ({why})")
    return results
