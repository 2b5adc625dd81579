"""API group report over 200,000 stored MES responses, by 2 attributes.

A real ``mes serve`` (fresh temporary SQLite file; and a throwaway PostgreSQL
database when the server is reachable) holds one survey of ``n`` respondents with
two attributes (staff group x directorate; the reporting plan is that breakdown). The
first 1,000 go in through the API (``POST .../responses``); the rest are copied
straight into ``survey_response`` in exactly the format the API writes (JSON answers
and attributes, packed answers), because seeding 200,000 rows through the API would
measure ingest, not reports. The survey is then closed. The figures are wall-clock
times of ``GET /v1/surveys/{id}/report?by=staff_group,directorate`` (JSON):

- the first read after closing, which *releases* the reports (every answer read from
  the database, every report of the plan computed and protected together, the
  reliability report, all stored; api/domain/reports/releases.py), once per backend;
- the reads after it (the stored release read back), best of ``repeat``;

against, in the same process: (a) ``mes.score`` of the same 200,000 x 30 matrix
(target: < 1 s and <= 3x); (b) ``mes.summarise_plan`` plus ``mes.reliability`` of the
same frame in-process (what the release computes). The report's overall index mean
must equal the in-process one, or there is no figure.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import gc
import json
import sqlite3
import time
import uuid

import httpx
import numpy as np
import pandas as pd

import mes
from api.domain.responses.packing import pack
from bench.api_common import (
    BY,
    Rows,
    Server,
    load_average,
    post_batches,
    postgres_available,
    shared_server,
    simulated_rows,
)
from bench.harness import Result

VIA_API = 1_000


def _stored_rows(rows: Rows, survey: str, start: int) -> list[tuple[object, ...]]:
    """Rows as the server stores them: JSON answers and attributes, and the packed answers."""
    now = dt.datetime.now(dt.UTC)
    packed = pack(rows.instrument, rows.answers[start:]) or []
    return [(uuid.uuid4(), uuid.UUID(survey), r["respondent"], json.dumps(r["answers"]),
             json.dumps(r["attributes"]), blob, now, now)
            for r, blob in zip(rows.records(start), packed, strict=True)]


def seed(server: Server, rows: Rows) -> str:
    """A closed survey holding every row: the first VIA_API through the API, the rest
    copied."""
    survey = server.create_survey("report")
    asyncio.run(post_batches(server, survey, Rows(
        rows.instrument, rows.answers[:VIA_API], rows.staff_group, rows.directorate,
        rows.prefix).batches(1_000)))
    records = _stored_rows(rows, survey, VIA_API)
    columns = ["id", "survey_id", "respondent", "answers", "attributes", "packed",
               "created_at", "updated_at"]
    count = ("UPDATE survey SET answers_version = answers_version + 1, response_count = "
             "(SELECT count(*) FROM survey_response WHERE survey_id = survey.id)")
    if server.sqlite_path is not None:
        with sqlite3.connect(server.sqlite_path) as con:
            con.executemany(
                f"INSERT INTO survey_response ({', '.join(columns)}) VALUES "
                "(?, ?, ?, ?, ?, ?, ?, ?)",
                [(i.bytes, s.bytes, r, a, t, z, c.replace(tzinfo=None).isoformat(" "),
                  u.replace(tzinfo=None).isoformat(" "))
                 for i, s, r, a, t, z, c, u in records])
            con.execute(count)
    else:
        import asyncpg

        async def copy() -> None:
            dsn = server.database_url.replace("postgresql+asyncpg", "postgresql")
            conn = await asyncpg.connect(dsn)
            try:
                await conn.copy_records_to_table("survey_response", columns=columns,
                                                 records=records)
                await conn.execute(count)
                # Sets the hint bits of the rows COPY loaded (else the first scan, the
                # timed release, would pay that one-off cost of the seeding).
                await conn.execute("VACUUM ANALYZE survey_response")
            finally:
                await conn.close()

        asyncio.run(copy())
    server.close_survey(survey)  # fieldwork over: its reports can be read
    return survey


def measure(backend: str, n: int, repeat: int) -> list[Result]:
    rows = simulated_rows(n, seed=5, prefix="rep-")
    inst: mes.Instrument = rows.instrument
    frame = pd.DataFrame(rows.answers, columns=list(inst.item_ids))
    attributes = pd.DataFrame({"staff_group": rows.staff_group,
                               "directorate": rows.directorate}, dtype=object)
    server = shared_server(backend)
    survey = seed(server, rows)
    url = f"{server.url}/v1/surveys/{survey}/report"
    client = httpx.Client(timeout=300, headers=server.headers)

    def api_report() -> dict[str, object]:
        r = client.get(url, params={"by": ",".join(BY)})
        if r.status_code != 200:
            raise RuntimeError(f"report answered {r.status_code}: {r.text[:500]}")
        return r.json()  # type: ignore[no-any-return]

    try:
        gc.collect()
        start = time.perf_counter()
        body = api_report()  # the first read after closing: the release
        released = time.perf_counter() - start
        # The same numbers, or no figure.
        overall = next(g for g in body["groups"] if g["level"] == [])  # type: ignore[attr-defined]
        assert overall["n"] == n, (overall["n"], n)
        index = mes.score(inst, rows.answers).scores["index"]
        assert abs(overall["scales"]["index"]["mean"] - float(np.nanmean(index))) < 1e-9

        def in_process() -> None:
            mes.summarise_plan(inst, frame, attributes, [list(BY)])
            mes.reliability(inst, rows.answers)

        times: list[list[float]] = [[], [], []]
        for _ in range(repeat):  # in turn, so that load drift hits all of them alike
            for k, fn in enumerate((api_report, lambda: mes.score(inst, rows.answers),
                                    in_process)):
                gc.collect()
                start = time.perf_counter()
                fn()
                times[k].append(time.perf_counter() - start)
    finally:
        client.close()
    label = "SQLite" if backend == "sqlite" else "PostgreSQL"
    api, score, computed = times
    t_score, t_computed = min(score), min(computed)
    extra = (f"{n:,} stored x 30 items, by {' x '.join(BY)}; first GET after closing (the "
             f"release) {released:.2f} s; GET after it best {min(api):.3f} s, spread "
             f"{min(api):.3f}-{max(api):.3f} s, {len(api)} reads; {load_average()}")
    return [
        Result("api_report", f"GET report (JSON), first read: the release, {label}", released,
               "mes.summarise_plan + mes.reliability in-process", t_computed, "-", extra),
        Result("api_report", f"GET report (JSON), released, {label}", min(api),
               "mes.score of the same matrix", t_score, "< 1 s and <= 3x", extra),
    ]


def run(quick: bool) -> list[Result]:
    n, repeat = (5_000, 2) if quick else (200_000, 2)
    results = measure("sqlite", n, repeat)
    why = postgres_available()
    if why is None:
        results.extend(measure("postgresql", n, repeat))
    else:
        print(f"api_report: PostgreSQL skipped ({why})")
    return results
