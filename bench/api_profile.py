"""Profile the server under a benchmark workload: ``python -m bench.api_profile WORKLOAD``.

Starts ``mes serve`` (as the API benchmarks do), warms it up, attaches py-spy to the
server's pid (``pip install py-spy`` into the venv; it needs ptrace permission), runs the
workload and prints where the server spent its samples, grouped and by function. The raw
collapsed stacks are kept (``--out``) for a flamegraph. Not an area of ``python -m bench``.

Workloads: ``ingest`` (batches of 1,000), ``report`` (GET report by 2 attributes over
``--n`` stored responses), ``load`` (single-response POSTs from 32 clients).

``cpu`` does not profile: one client sends ``--n`` requests each of ``GET /health``, an
authenticated ``GET /v1/surveys/{id}`` and a single-response submit, in turns of 40, and
prints the server's CPU per request (every thread's, from ``/proc/<pid>/task/*/schedstat``)
as the least and the median over the turns: on a shared machine the least is the steadiest.
"""

from __future__ import annotations

import argparse
import asyncio
import collections
import json
import re
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import httpx

from bench.api_common import BY, Server, post_batches, simulated_rows

# First matching group wins; a sample is counted once.
GROUPS = [
    ("reading the body into a Batch (parse_batch)", ["parse_batch"]),
    ("validation: check_batch and response_matrix", ["check_batch"]),
    ("db: insert below the ORM (executemany / COPY)", ["insert_responses"]),
    ("report: mes.reliability (unused by JSON/CSV)", ["reliability (mes/reliability"]),
    ("report: mes.summarise", ["summarise (mes/groups"]),
    ("db: ORM bulk insert (Python side)", ["_bulk_insert", "_emit_insert_statements"]),
    ("db: fetching rows, decoding", ["loading.py", "result_processor", "stored_answers"]),
    ("db: SQLite itself (aiosqlite thread)", ["_connection_worker_thread"]),
    ("db: asyncpg", ["asyncpg"]),
    ("db: other SQLAlchemy", ["sqlalchemy"]),
    ("request: pydantic validation", ["model_validate", "_dec_pydantic"]),
    ("request: JSON decoding", ["decode_json"]),
    ("service: other", ["api/domain"]),
    ("report: other", ["ReportService"]),
    ("litestar / uvicorn", ["litestar", "uvicorn"]),
]


def summarise_profile(path: Path, top: int = 25) -> str:
    groups: collections.Counter[str] = collections.Counter()
    inclusive: collections.Counter[str] = collections.Counter()
    total = 0
    for line in path.read_text().splitlines():
        stack, _, count = line.rpartition(" ")
        if not stack or not count.isdigit():  # a line py-spy cut short
            continue
        n = int(count)
        total += n
        group = next((g for g, keys in GROUPS if any(k in stack for k in keys)), "other")
        groups[group] += n
        for frame in {re.sub(r":\d+\)$", ")", f) for f in stack.split(";")}:
            inclusive[frame] += n
    lines = [f"{total} samples", "by group:"]
    lines += [f"  {n / total:6.1%}  {g}" for g, n in groups.most_common()]
    lines.append(f"top {top} functions (inclusive):")
    lines += [f"  {n / total:6.1%}  {f}" for f, n in inclusive.most_common(top)]
    return "\n".join(lines)


def _server_cpu(pid: int) -> float:
    """Seconds on a CPU of every thread of a process (Linux ``schedstat``, in ns)."""
    total = 0
    for task in Path(f"/proc/{pid}/task").iterdir():
        try:
            total += int((task / "schedstat").read_text().split()[0])
        except OSError:  # a thread that ended meanwhile
            continue
    return total / 1e9


def cpu_per_request(server: Server, n: int, turn: int = 40) -> str:
    """Server CPU per request of /health, GET of a survey and a single submit, one client."""
    survey = server.create_survey("cpu")
    rows = simulated_rows(n + 10, prefix="cpu-")
    bodies = [json.dumps({"responses": [r]}).encode() for r in rows.records()]
    submit = f"{server.url}/v1/surveys/{survey}/responses"
    headers = {**server.headers, "content-type": "application/json"}
    spent: dict[str, list[float]] = collections.defaultdict(list)
    with httpx.Client(timeout=30) as http:
        for body in bodies[n:]:  # warm up
            http.post(submit, content=body, headers=headers)
        kinds = {
            "GET /health": lambda i: http.get(f"{server.url}/health"),
            "GET /v1/surveys/{id}": lambda i: http.get(
                f"{server.url}/v1/surveys/{survey}", headers=server.headers),
            "POST one respondent": lambda i: http.post(submit, content=bodies[i],
                                                       headers=headers),
        }
        for start in range(0, n - turn + 1, turn):
            for kind, send in kinds.items():
                before = _server_cpu(server.pid)
                for i in range(start, start + turn):
                    if send(i).status_code >= 300:
                        raise RuntimeError(f"{kind} failed")
                spent[kind].append((_server_cpu(server.pid) - before) / turn)
    lines = [f"server CPU per request, {server.backend}, one client, {n} each:"]
    for kind, per in spent.items():
        per.sort()
        lines.append(f"  {kind:22} least {per[0] * 1e3:.2f} ms, median "
                     f"{per[len(per) // 2] * 1e3:.2f} ms")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.api_profile", description=__doc__)
    parser.add_argument("workload", choices=["ingest", "report", "load", "cpu"])
    parser.add_argument("--backend", choices=["sqlite", "postgresql"], default="sqlite")
    parser.add_argument("--n", type=int, default=30_000, help="responses (default 30,000)")
    parser.add_argument("--rate", type=int, default=200, help="py-spy samples per second")
    parser.add_argument("--out", type=Path, default=Path("profile.txt"),
                        help="collapsed stacks (default profile.txt)")
    args = parser.parse_args(argv)
    if args.workload == "cpu":
        with Server(args.backend) as server:
            print(cpu_per_request(server, args.n))
        return 0
    pyspy = shutil.which("py-spy") or str(Path(sys.executable).with_name("py-spy"))
    with Server(args.backend) as server:
        survey = server.create_survey("profile")
        rows = simulated_rows(args.n, prefix="prof-")
        if args.workload == "report":
            from bench.api_report import seed

            survey = seed(server, rows)
        warm = server.create_survey("warm-up")
        asyncio.run(post_batches(server, warm, simulated_rows(64, prefix="w-").batches(1)))
        spy = subprocess.Popen([pyspy, "record", "--pid", str(server.pid), "--rate",
                                str(args.rate), "--format", "raw", "-o", str(args.out),
                                "--nonblocking"], stdout=subprocess.DEVNULL)
        time.sleep(1.5)  # py-spy attaches
        start = time.perf_counter()
        if args.workload == "ingest":
            asyncio.run(post_batches(server, survey, rows.batches(1_000)))
            what = f"{args.n / (time.perf_counter() - start):,.0f} responses/s"
        elif args.workload == "report":
            r = httpx.get(f"{server.url}/v1/surveys/{survey}/report", params={"by": ",".join(BY)},
                          headers=server.headers, timeout=600)
            r.raise_for_status()
            what = f"one GET report over {args.n:,}: {time.perf_counter() - start:.2f} s"
        else:
            from bench.api_load import CLIENTS, _drive

            per_client = max(1, args.n // CLIENTS)
            bodies = [json.dumps({"responses": [r]}).encode() for r in rows.records()]
            url = f"{server.url}/v1/surveys/{survey}/responses"
            headers = {**server.headers, "content-type": "application/json"}
            _, errors, wall = asyncio.run(_drive(url, bodies, headers, per_client, 201))
            sent = per_client * CLIENTS
            what = (f"{sent} single-response POSTs from {CLIENTS} clients: {sent / wall:.0f} "
                    f"req/s, errors {dict(errors) or 0}")
        spy.send_signal(signal.SIGINT)
        spy.wait(timeout=60)
    print(what)
    print(summarise_profile(args.out))
    print(f"collapsed stacks: {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
