"""Concurrency against the real server process: many clients, one survey.

No row is lost or stored twice; concurrent retries with one Idempotency-Key write
once (the others replay the first answer: never a 500, a double write or a misleading 409); two
batches racing for the same respondent ids store one of them, whole.
"""

from __future__ import annotations

import json
import threading
from collections import Counter
from collections.abc import Callable
from typing import Any

import httpx
import pytest
from api_helpers import bearer, close_survey, mes_rows

THREADS = 8


def _race(
    work: Callable[[httpx.Client, int], Any], base: str, headers: dict[str, str], n: int = THREADS
) -> list[Any]:
    """Run ``work(client, i)`` in ``n`` threads released together; their results in order."""
    barrier = threading.Barrier(n, timeout=60)
    results: list[Any] = [None] * n

    def run(i: int) -> None:
        with httpx.Client(base_url=base, headers=headers, timeout=120) as http:
            barrier.wait()
            try:
                results[i] = work(http, i)
            except Exception as exc:  # reported by the assertions below
                results[i] = exc

    threads = [threading.Thread(target=run, args=(i,), daemon=True) for i in range(n)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=180)
    assert not any(t.is_alive() for t in threads), "a client hung"
    return results


def _survey(base: str, headers: dict[str, str]) -> str:
    answer = httpx.post(
        f"{base}/v1/surveys",
        json={"title": "Race", "instrument": "mes"},
        headers=headers,
        timeout=60,
    )
    assert answer.status_code == 201, answer.text
    return str(answer.json()["id"])


def _stored(base: str, headers: dict[str, str], sid: str) -> list[str]:
    answer = httpx.get(f"{base}/v1/surveys/{sid}/responses.jsonl", headers=headers, timeout=60)
    assert answer.status_code == 200, answer.text
    return [json.loads(line)["respondent"] for line in answer.text.splitlines() if line]


def _rows(prefix: str, n: int, seed: int = 0) -> list[dict[str, Any]]:
    rows = mes_rows(n, seed=seed)
    for i, row in enumerate(rows):
        row["respondent"] = f"{prefix}-{i:03d}"
    return rows


def _problem(answer: httpx.Response) -> bool:
    return answer.headers.get("content-type", "").startswith("application/problem+json")


def test_many_writers_lose_and_duplicate_nothing(live_server: str, make_key: Any) -> None:
    headers = bearer(make_key("surveys:write", "responses:write", "responses:read"))
    sid = _survey(live_server, headers)
    batches, rows = 4, 25

    def work(http: httpx.Client, i: int) -> list[int]:
        codes = []
        for b in range(batches):
            answer = http.post(
                f"/v1/surveys/{sid}/responses",
                json={"responses": _rows(f"t{i}-b{b}", rows, seed=i * 10 + b)},
            )
            codes.append(answer.status_code)
        return codes

    results = _race(work, live_server, headers)
    assert all(r == [201] * batches for r in results), results
    stored = _stored(live_server, headers, sid)
    assert len(stored) == THREADS * batches * rows
    assert Counter(stored).most_common(1)[0][1] == 1, "a respondent was stored twice"
    survey = httpx.get(f"{live_server}/v1/surveys/{sid}", headers=headers, timeout=60).json()
    assert survey["responses"] == len(stored)  # the stored count agrees with the rows
    expected = {
        f"t{i}-b{b}-{r:03d}" for i in range(THREADS) for b in range(batches) for r in range(rows)
    }
    assert set(stored) == expected


@pytest.mark.parametrize("on_conflict", ["reject", "replace"])
def test_concurrent_retries_with_one_idempotency_key_write_once(
    live_server: str, make_key: Any, on_conflict: str
) -> None:
    """With ``replace`` too: a retry that waited for the first must not replace its rows
    again nor be told to retry (it was a 409 "in progress" on PostgreSQL)."""
    headers = bearer(make_key("surveys:write", "responses:write", "responses:read"))
    sid = _survey(live_server, headers)
    body = {"responses": _rows("idem", 30)}
    key = {"Idempotency-Key": f"retry-storm-{on_conflict}"}
    url = f"/v1/surveys/{sid}/responses?on_conflict={on_conflict}"

    def work(http: httpx.Client, i: int) -> httpx.Response:
        return http.post(url, json=body, headers=key)

    results = _race(work, live_server, headers)
    answers = [r for r in results if isinstance(r, httpx.Response)]
    assert len(answers) == THREADS, results
    # Every retry gets the first answer: one wrote, the others replay it (a retry that
    # lost the race is not told that "its" respondents already exist).
    codes = [a.status_code for a in answers]
    assert codes == [201] * THREADS, [(a.status_code, a.text) for a in answers]
    first = [a for a in answers if a.headers.get("idempotent-replayed") != "true"]
    assert len(first) == 1, "more than one request claims to have written the batch"
    assert all(a.json() == first[0].json() for a in answers)
    assert first[0].json()["accepted"] == 30
    assert first[0].json()["total"] == 30
    stored = _stored(live_server, headers, sid)
    assert sorted(stored) == sorted(r["respondent"] for r in body["responses"])
    # A later retry replays the first answer; the same key with another body is 409.
    again = httpx.post(f"{live_server}{url}", json=body, headers={**headers, **key}, timeout=60)
    assert again.status_code == 201
    assert again.headers["idempotent-replayed"] == "true"
    assert again.json() == first[0].json()
    other = httpx.post(
        f"{live_server}{url}",
        json={"responses": _rows("other", 2)},
        headers={**headers, **key},
        timeout=60,
    )
    assert other.status_code == 409
    assert _problem(other)
    assert "Idempotency-Key" in other.json()["detail"]
    assert len(_stored(live_server, headers, sid)) == 30


def test_racing_batches_for_the_same_respondents_store_one_whole(
    live_server: str, make_key: Any
) -> None:
    headers = bearer(make_key("surveys:write", "responses:write", "responses:read"))
    sid = _survey(live_server, headers)

    def work(http: httpx.Client, i: int) -> httpx.Response:
        # Same respondent ids, different answers and a marker attribute per thread.
        rows = mes_rows(20, seed=i, writer=f"w{i}")
        for n, row in enumerate(rows):
            row["respondent"] = f"same-{n:03d}"
        return http.post(f"/v1/surveys/{sid}/responses", json={"responses": rows})

    results = _race(work, live_server, headers)
    assert all(isinstance(r, httpx.Response) for r in results), results
    codes = sorted(r.status_code for r in results)
    assert codes == [201] + [409] * (THREADS - 1), [(r.status_code, r.text) for r in results]
    for conflict in (r for r in results if r.status_code == 409):
        assert _problem(conflict), conflict.text
        assert conflict.json()["detail"], conflict.text
    winner = next(i for i, r in enumerate(results) if r.status_code == 201)
    page = httpx.get(
        f"{live_server}/v1/surveys/{sid}/responses",
        params={"limit": 100},
        headers=headers,
        timeout=60,
    ).json()
    assert page["total"] == 20
    assert {item["attributes"]["writer"] for item in page["items"]} == {f"w{winner}"}


def test_many_single_submits_at_once_all_succeed_and_are_counted(
    live_server: str, make_key: Any
) -> None:
    """32 clients each posting single respondents: no 500 ("database is locked" on SQLite
    before write requests took the write lock first), every row stored, the count right."""
    headers = bearer(make_key("surveys:write", "responses:write", "responses:read"))
    sid = _survey(live_server, headers)
    clients, each = 32, 4

    def work(http: httpx.Client, i: int) -> list[int]:
        return [
            http.post(
                f"/v1/surveys/{sid}/responses",
                json={"responses": _rows(f"s{i}-{b}", 1, seed=i * 7 + b)},
            ).status_code
            for b in range(each)
        ]

    results = _race(work, live_server, headers, n=clients)
    assert all(r == [201] * each for r in results), results
    assert len(_stored(live_server, headers, sid)) == clients * each
    survey = httpx.get(f"{live_server}/v1/surveys/{sid}", headers=headers, timeout=60).json()
    assert survey["responses"] == clients * each


@pytest.mark.parametrize("server", ["live_server", "workers_server"])
def test_surveys_sharing_responses_released_at_once_are_protected_together(
    server: str, make_key: Any, request: pytest.FixtureRequest
) -> None:
    """Four snapshot surveys and their final surveys (the same 60 responses, then 3 late
    doctors at site N) are released by eight report reads at the same moment, by one
    server process and by two. Whichever release is stored second was protected against
    the first: no group is shown in both with 1 to 9 respondents between them."""
    live_server = request.getfixturevalue(server)
    headers = bearer(make_key("surveys:write", "responses:write", "reports:read"))
    pairs = []
    with httpx.Client(base_url=live_server, headers=headers, timeout=60) as http:
        for p in range(4):
            rows = _rows(f"p{p}", 63, seed=40 + p)
            for i, row in enumerate(rows):
                row["attributes"] = {"site": "N" if i < 30 or i >= 60 else "S"}
            pair = []
            for batch in (rows[:60], rows):
                sid = _survey(live_server, headers)
                answer = http.post(f"/v1/surveys/{sid}/responses", json={"responses": batch})
                assert answer.status_code == 201, answer.text
                close_survey(http, {}, sid)
                pair.append(sid)
            pairs.append(pair)
    surveys = [sid for pair in pairs for sid in pair]

    def work(http: httpx.Client, i: int) -> httpx.Response:
        return http.get(f"/v1/surveys/{surveys[i]}/report", params={"by": "site"})

    results = _race(work, live_server, headers, n=len(surveys))
    assert all(isinstance(r, httpx.Response) and r.status_code == 200 for r in results), results
    shown = [{tuple(g["group"].items()): g["n"] for g in r.json()["groups"]} for r in results]
    for p in range(4):
        snapshot, final = shown[2 * p], shown[2 * p + 1]
        for key, n in final.items():
            if n is not None and snapshot.get(key) is not None:
                assert not 0 < n - snapshot[key] < 10, (p, key, snapshot, final)
