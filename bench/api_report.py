"""API group report over 200,000 stored MES responses, by 2 attributes.

A real ``mes serve`` (fresh temporary SQLite file; and a throwaway PostgreSQL
database when the server is reachable) holds one survey of ``n`` respondents with
two attributes (staff group x directorate). The first 1,000 go in through the API
(``POST .../responses``); the rest are copied straight into ``survey_response`` in
exactly the format the API writes (JSON answers and attributes), because seeding
200,000 rows through the API would measure ingest, not reports. The figures are the
best wall-clock times of ``GET /v1/surveys/{id}/report?by=staff_group,directorate``
(JSON) in two cases: right after one more respondent was submitted (the survey
changed, so its answers are read from the database), and the same report again (its
decoded answers are in the worker's cache; api/domain/responses/cache.py), against,
in the same process:
(a) ``mes.score`` of the same 200,000 x 30 matrix (target: < 1 s and <= 3x);
(b) ``mes.summarise`` of the same frame in-process (what the library alone costs).
The report's overall index mean must equal the in-process one, or there is no figure.
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
    """A survey holding every row: the first VIA_API through the API, the rest copied."""
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
                await conn.execute("ANALYZE survey_response")
            finally:
                await conn.close()

        asyncio.run(copy())
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

    extra_rows = simulated_rows(repeat, seed=6, prefix="late-")

    def changed_then_report(k: int) -> None:
        """One more respondent (the survey changed: its answers are read afresh), then
        the report; only the report is timed."""
        body = {"responses": list(extra_rows.records(k, k + 1))}
        r = client.post(url.removesuffix("/report") + "/responses", json=body)
        if r.status_code != 201:
            raise RuntimeError(f"submit answered {r.status_code}: {r.text[:500]}")
        gc.collect()
        start = time.perf_counter()
        api_report()
        fresh.append(time.perf_counter() - start)

    fresh: list[float] = []
    try:
        # The first read after the bulk load is untimed: PostgreSQL sets its hint bits on
        # the first scan of rows loaded by COPY (a one-off cost of the seeding).
        body = api_report()
        # The same numbers, or no figure.
        overall = next(g for g in body["groups"] if g["level"] == [])  # type: ignore[attr-defined]
        assert overall["n"] == n, (overall["n"], n)
        index = mes.score(inst, rows.answers).scores["index"]
        assert abs(overall["scales"]["index"]["mean"] - float(np.nanmean(index))) < 1e-9
        times: list[list[float]] = [[], [], []]
        for j in range(repeat):  # in turn, so that load drift hits all of them alike
            changed_then_report(j)
            for k, fn in enumerate((api_report, lambda: mes.score(inst, rows.answers),
                                    lambda: mes.summarise(inst, frame, attributes, by=BY))):
                gc.collect()
                start = time.perf_counter()
                fn()
                times[k].append(time.perf_counter() - start)
    finally:
        client.close()
    label = "SQLite" if backend == "sqlite" else "PostgreSQL"
    api, score, summ = times
    t_score, t_summarise = min(score), min(summ)
    extra = (f"{n:,} stored x 30 items, by {' x '.join(BY)}; GET after a change (read from "
             f"the database) best {min(fresh):.2f} s, spread {min(fresh):.2f}-{max(fresh):.2f}"
             f" s; GET again (answers cached) best {min(api):.2f} s, spread {min(api):.2f}-"
             f"{max(api):.2f} s; {len(api)} of each; {load_average()}")
    return [
        Result("api_report", f"GET report (JSON), read from the database, {label}", min(fresh),
               "mes.score of the same matrix", t_score, "< 1 s and <= 3x", extra),
        Result("api_report", f"GET report (JSON), answers cached, {label}", min(api),
               "mes.score of the same matrix", t_score, "< 1 s and <= 3x", extra),
        Result("api_report", f"GET report (JSON), answers cached, {label}", min(api),
               "mes.summarise in-process", t_summarise, "-", extra),
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
