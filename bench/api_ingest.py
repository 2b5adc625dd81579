"""API ingest: JSON batches of 1,000 MES responses posted to a real ``mes serve``.

For each backend (a fresh temporary SQLite file; a throwaway PostgreSQL database,
dropped afterwards) the client posts pre-encoded batches of 1,000 respondents (httpx, a
bounded loop), each run to a fresh survey, and reports responses per second: once one
request at a time, once with two in flight. The baseline, in the same process, stores
the same rows in a table of the same shape with the same pragmas, one transaction per
1,000 rows:
- SQLite: ``sqlite3`` ``executemany`` into a copy of the server's database
  (``VACUUM INTO``: same schema, indexes, foreign keys);
- PostgreSQL: asyncpg ``copy_records_to_table`` into ``survey_response``'s twin
  (``LIKE ... INCLUDING ALL`` plus its foreign key) in the same throwaway database.
The baseline starts from the parsed rows (dicts) and includes the JSON encoding of
answers and attributes, the ids and timestamps: the least work of storing them.

Targets: >= 20,000 responses/s and <= 4x the baseline (SQLite); >= 20,000/s (PostgreSQL).

Reading bodies, in process (:func:`api.domain.responses.parsing.parse_batch`): a CSV of
10,000 MES respondents, and a hostile CSV body of the same size (one row of ever more
cells, once refused in 3.5 minutes for 2 MB), each against the standard library's
``csv.reader`` over the same bytes. Target: within 8x of ``csv.reader`` for the real
file, and the hostile body refused in less time than the real one is read (the work
is linear in the body, whatever its shape).
"""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import json
import sqlite3
import time
import uuid
from pathlib import Path
from typing import Any

from bench.api_common import (
    load_average,
    post_batches,
    postgres_available,
    shared_server,
    simulated_rows,
)
from bench.harness import Result

BATCH = 1_000


def _rows_for_baseline(records: list[dict[str, Any]]) -> list[list[dict[str, Any]]]:
    return [records[i: i + BATCH] for i in range(0, len(records), BATCH)]


def _packed(row: dict[str, Any]) -> bytes:
    """The row's answers as the server packs them (MES: one byte per item, 0 = missing)."""
    return bytes(int(row["answers"].get(f"mes{j:02d}") or 0) for j in range(1, 31))


def sqlite_baseline(path: Path, survey: str, batches: list[list[dict[str, Any]]]) -> float:
    """Seconds to store the rows with sqlite3 executemany, one transaction per batch."""
    con = sqlite3.connect(path, isolation_level=None)
    for pragma in ("journal_mode=WAL", "foreign_keys=ON", "busy_timeout=10000",
                   "synchronous=NORMAL"):
        con.execute(f"PRAGMA {pragma}")
    survey_id = uuid.UUID(survey).bytes
    sql = ("INSERT INTO survey_response (id, survey_id, respondent, answers, attributes, "
           "packed, created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?)")
    start = time.perf_counter()
    for batch in batches:
        now = dt.datetime.now(dt.UTC).replace(tzinfo=None).isoformat(" ")
        con.execute("BEGIN")
        con.executemany(sql, [
            (uuid.uuid4().bytes, survey_id, r["respondent"], json.dumps(r["answers"]),
             json.dumps(r["attributes"]), _packed(r), now, now) for r in batch])
        con.execute("COMMIT")
    seconds = time.perf_counter() - start
    con.close()
    return seconds


async def postgres_baseline(dsn: str, survey: str, batches: list[list[dict[str, Any]]]) -> float:
    """Seconds to store the rows with asyncpg copy_records_to_table, one transaction per batch."""
    import asyncpg

    conn = await asyncpg.connect(dsn)
    try:
        await conn.execute(
            "CREATE TABLE IF NOT EXISTS baseline_response (LIKE survey_response INCLUDING ALL);"
            "ALTER TABLE baseline_response DROP CONSTRAINT IF EXISTS baseline_fk;"
            "ALTER TABLE baseline_response ADD CONSTRAINT baseline_fk FOREIGN KEY (survey_id) "
            "REFERENCES survey (id) ON DELETE CASCADE")
        survey_id = uuid.UUID(survey)
        columns = ["id", "survey_id", "respondent", "answers", "attributes", "packed",
                   "created_at", "updated_at"]
        start = time.perf_counter()
        for batch in batches:
            now = dt.datetime.now(dt.UTC)
            async with conn.transaction():
                await conn.copy_records_to_table("baseline_response", columns=columns, records=[
                    (uuid.uuid4(), survey_id, r["respondent"], json.dumps(r["answers"]),
                     json.dumps(r["attributes"]), _packed(r), now, now) for r in batch])
        return time.perf_counter() - start
    finally:
        await conn.close()


def measure(backend: str, n: int, repeat: int, in_flight: int = 1) -> Result:
    api_times: list[float] = []
    base_times: list[float] = []
    first_last: list[tuple[float, float]] = []
    server = shared_server(backend)
    baseline_survey = server.create_survey("baseline")
    copy: Path | None = None
    if backend == "sqlite":
        assert server.sqlite_path is not None
        copy = server.sqlite_path.with_name("baseline.sqlite3")
        copy.unlink(missing_ok=True)
        with sqlite3.connect(server.sqlite_path) as con:
            con.execute("VACUUM INTO ?", (str(copy),))
    for run in range(repeat):
        rows = simulated_rows(n, seed=10 + run, prefix=f"run{run}-")
        bodies = rows.batches(BATCH)
        survey = server.create_survey(f"ingest {run}")
        latencies: list[float] = []
        api_times.append(asyncio.run(post_batches(server, survey, bodies, in_flight,
                                                  latencies=latencies)))
        first_last.append((latencies[0], latencies[-1]))
        batches = _rows_for_baseline(list(rows.records()))
        if copy is not None:
            base_times.append(sqlite_baseline(copy, baseline_survey, batches))
        else:
            dsn = server.database_url.replace("postgresql+asyncpg", "postgresql")
            base_times.append(asyncio.run(postgres_baseline(dsn, baseline_survey, batches)))
    best, worst = min(api_times), max(api_times)
    base = min(base_times)
    if backend == "sqlite":
        name, baseline, target = ("POST JSON batches, SQLite", "sqlite3 executemany",
                                  ">= 20,000/s and <= 4x")
    else:
        name, baseline, target = ("POST JSON batches, PostgreSQL", "asyncpg copy_records_to_table",
                                  ">= 20,000/s")
    if in_flight > 1:
        name += f", {in_flight} batches in flight"
    extra = (f"{n / best:,.0f} responses/s (spread {n / worst:,.0f}-{n / best:,.0f} over "
             f"{repeat} runs of {n:,}); baseline {n / base:,.0f}/s; first/last batch "
             f"{first_last[-1][0] * 1e3:.0f}/{first_last[-1][1] * 1e3:.0f} ms; {load_average()}")
    return Result("api_ingest", name, best, baseline, base, target, extra)


def _csv_bodies(n: int) -> tuple[bytes, bytes]:
    """A CSV of ``n`` MES respondents with two attributes, and a hostile body as large."""
    items = [f"mes{j:02d}" for j in range(1, 31)]
    header = ",".join(["respondent", *items, "site", "staff_group"])
    lines = [header]
    lines += [
        ",".join([f"r{i:06d}", *(str(1 + (i + j) % 5) for j in range(30)), "North",
                  "Consultant"])
        for i in range(n)
    ]
    real = ("\r\n".join(lines) + "\r\n").encode()
    cells = (len(real) - len(header)) // 2
    hostile = (header + "\r\n" + ",x" * cells).encode()
    return real, hostile


def measure_parsing(n: int) -> list[Result]:
    """parse_batch against csv.reader on the same bytes, for a real and a hostile body."""
    import csv
    import io

    import mes
    from api.domain.responses.parsing import CSV, IngestLimits, parse_batch
    from api.errors import ProblemError
    from bench.harness import best_of_interleaved

    instrument = mes.load_instrument("mes")
    limits = IngestLimits(max_rows=n)
    real, hostile = _csv_bodies(n)

    def read(body: bytes) -> None:
        with contextlib.suppress(ProblemError):
            parse_batch(instrument, CSV, body, limits)

    def floor(body: bytes) -> None:
        for _ in csv.reader(io.StringIO(body.decode(), newline="")):
            pass

    times = best_of_interleaved(
        {"real": lambda: read(real), "hostile": lambda: read(hostile),
         "floor": lambda: floor(real)},
        repeat=5,
    )
    size = f"{len(real) / 1e6:.1f} MB"
    return [
        Result("api_ingest", f"read a CSV body of {n:,} respondents ({size})", times["real"],
               "csv.reader over the same bytes", times["floor"], "<= 8x",
               f"{n / times['real']:,.0f} respondents/s"),
        Result("api_ingest", f"refuse a hostile CSV body of one {size} row", times["hostile"],
               "reading the real body of that size", times["real"], "< 1x",
               f"{times['hostile'] * 1e3:.1f} ms to refuse"),
    ]


def run(quick: bool) -> list[Result]:
    n, repeat = (3_000, 2) if quick else (20_000, 3)
    parsing = measure_parsing(2_000 if quick else 10_000)
    # One batch at a time (a simple loader), then two in flight (a loader that sends the
    # next batch while the last is stored: validation overlaps the database's work).
    results = [measure("sqlite", n, repeat), measure("sqlite", n, repeat, in_flight=2)]
    why = postgres_available()
    if why is None:
        results += [measure("postgresql", n, repeat),
                    measure("postgresql", n, repeat, in_flight=2)]
    else:
        print(f"api_ingest: PostgreSQL skipped ({why})")
    return parsing + results
