"""Nothing secret reaches the logs of a real ``mes serve``, even at ``--log-level trace``:
no key (nor the Authorization header), no answer, no respondent id, no attribute value, no
share token; while the request lines and the 500s' error ids are there (logging was on)."""

from __future__ import annotations

import asyncio
import json
import os
import re
import socket
import sqlite3
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlparse

import httpx
import pytest
from api_helpers import close_survey, wait_until_serving

from api.auth.keys import create_key
from api.cli import _run_in_session
from api.db.engine import upgrade_schema

POSTGRES_ENV = "MES_TEST_POSTGRES_URL"

RESPONDENT = "resp-Zq7Xw31"
RESPONDENT_INVALID = "resp-Yk4Pq88"
RESPONDENT_500 = "resp-Hm2Lc55"
ATTRIBUTE = "Neurosurgery-Qw93"
ATTRIBUTE_INVALID = "Cardiology-Vb21"
ATTRIBUTE_500 = "Radiology-Tn67"
ANSWER_INVALID = "answer-Plx55"
WRONG_SECRET = "WrongSecret-Jd83kQ"


async def _pg(url: str, *statements: str) -> None:
    import asyncpg

    conn = await asyncpg.connect(url.replace("postgresql+asyncpg://", "postgresql://", 1))
    try:
        for statement in statements:
            await conn.execute(statement)
    finally:
        await conn.close()


@dataclass
class Database:
    """A fresh database of its own (the tests break tables in it)."""

    url: str

    def execute(self, statement: str) -> None:
        if self.url.startswith("sqlite"):
            with sqlite3.connect(self.url.split(":///", 1)[1]) as conn:
                conn.execute(statement)
        else:
            asyncio.run(_pg(self.url, statement))


@pytest.fixture(params=["sqlite", "postgresql"])
def own_database(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Database]:
    """A migrated, empty database used by one server only."""
    if request.param == "sqlite":
        url = f"sqlite+aiosqlite:///{tmp_path / 'secure.sqlite3'}"
        upgrade_schema(url)
        yield Database(url)
        return
    admin = os.environ.get(POSTGRES_ENV)
    if not admin:
        pytest.skip(f"PostgreSQL tests: set {POSTGRES_ENV}=postgresql+asyncpg://user@host:port/db")
    name = f"mes_sec_{uuid.uuid4().hex[:12]}"
    try:
        asyncio.run(_pg(admin, f'CREATE DATABASE "{name}"'))
    except Exception as exc:
        pytest.skip(f"PostgreSQL at {POSTGRES_ENV} is unreachable: {exc}")
    url = f"{admin.rpartition('/')[0]}/{name}"
    try:
        upgrade_schema(url)
        yield Database(url)
    finally:
        asyncio.run(_pg(admin, f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))


class Server:
    """``mes serve`` at a given log level, its stdout and stderr in one file."""

    def __init__(self, database: Database, level: str, workdir: Path) -> None:
        with socket.socket() as sock:
            sock.bind(("127.0.0.1", 0))
            port = int(sock.getsockname()[1])
        self.base = f"http://127.0.0.1:{port}"
        self.log_path = workdir / f"serve-{level}.log"
        self._log = self.log_path.open("w")
        env = {**os.environ, "MES_DATABASE_URL": database.url, "MES_RATE_LIMIT_PER_MINUTE": "0"}
        command = [sys.executable, "-m", "mes", "serve", "--host", "127.0.0.1"]
        command += ["--port", str(port), "--log-level", level]
        self.process = subprocess.Popen(
            command, cwd=workdir, env=env, stdout=self._log, stderr=subprocess.STDOUT
        )
        wait_until_serving(self.process, self.base, self.log_path, 60)

    def stop(self) -> str:
        """Stop the server (its logs flushed) and return everything it logged."""
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        self._log.close()
        return self.log_path.read_text()


def _rows(respondent: str, attribute: str, answer: Any = 4) -> dict[str, Any]:
    answers = {f"mes{j:02d}": 1 + (j % 5) for j in range(1, 31)}
    answers["mes07"] = answer
    return {
        "responses": [
            {"respondent": respondent, "answers": answers, "attributes": {"unit": attribute}},
            *(
                {
                    "respondent": f"filler-{i}",
                    "answers": {f"mes{j:02d}": 1 + ((i + j) % 5) for j in range(1, 31)},
                    "attributes": {"unit": "other"},
                }
                for i in range(12)
            ),
        ]
    }


@pytest.mark.parametrize("level", ["debug", "trace"])
def test_no_secret_reaches_the_log(own_database: Database, level: str, tmp_path: Path) -> None:
    key = _run_in_session(own_database.url, lambda s: create_key(s, "Secure Trust", ["admin"]))
    prefix = key.split("_")[1]
    secret = key.split("_", 2)[2]
    headers = {"Authorization": f"Bearer {key}"}
    server = Server(own_database, level, tmp_path)
    error_ids: list[str] = []
    try:
        with httpx.Client(base_url=server.base, headers=headers, timeout=60) as http:
            created = http.post("/v1/surveys", json={"title": "Wave 1", "instrument": "mes"})
            assert created.status_code == 201, created.text
            survey = created.json()["id"]
            stored = http.post(f"/v1/surveys/{survey}/responses", json=_rows(RESPONDENT, ATTRIBUTE))
            assert stored.status_code == 201, stored.text

            # 422: an invalid answer of a distinctive respondent and attribute value.
            invalid = http.post(
                f"/v1/surveys/{survey}/responses",
                json=_rows(RESPONDENT_INVALID, ATTRIBUTE_INVALID, ANSWER_INVALID),
            )
            assert invalid.status_code == 422, invalid.text
            assert ANSWER_INVALID in invalid.text  # the client is told; the log is not
            # 409: a duplicate respondent.
            duplicate = http.post(
                f"/v1/surveys/{survey}/responses", json=_rows(RESPONDENT, ATTRIBUTE)
            )
            assert duplicate.status_code == 409, duplicate.text
            # 401: a known prefix with a wrong secret.
            wrong = http.get(
                f"/v1/surveys/{survey}/report",
                headers={"Authorization": f"Bearer mes_{prefix}_{WRONG_SECRET}"},
            )
            assert wrong.status_code == 401
            # 404: an unknown survey.
            assert http.get(f"/v1/surveys/{uuid.uuid4()}/report").status_code == 404

            # 500: the database refuses the batch (its table is gone); SQL errors quote
            # their parameters unless told not to.
            own_database.execute("ALTER TABLE survey_response RENAME TO survey_response_away")
            broken = http.post(
                f"/v1/surveys/{survey}/responses", json=_rows(RESPONDENT_500, ATTRIBUTE_500)
            )
            assert broken.status_code == 500, broken.text
            error_ids.append(broken.json()["error_id"])
            own_database.execute("ALTER TABLE survey_response_away RENAME TO survey_response")

            # Fieldwork closed: the survey's reports and share links can be read (a closed
            # survey refuses new batches, so the failed batch above came first).
            close_survey(http, {}, survey)
            report = http.get(f"/v1/surveys/{survey}/report.html?by=unit")
            assert report.status_code == 200, report.text
            shared = http.post(
                f"/v1/surveys/{survey}/report/shares", json={"by": ["unit"], "expires_in_days": 1}
            )
            assert shared.status_code == 201, shared.text
            share_path = urlparse(shared.json()["url"]).path
            token = share_path.rsplit("/", 1)[1]
            assert httpx.get(server.base + share_path, timeout=60).status_code == 200

            erased = http.delete(f"/v1/surveys/{survey}/responses/{RESPONDENT}")
            assert erased.status_code == 204, erased.text

            # 500: a report whose audit entry cannot be written is refused, not served.
            assert http.get(f"/v1/surveys/{survey}/report?by=unit").status_code == 200
            own_database.execute("ALTER TABLE audit_log RENAME TO audit_log_away")
            unrecorded = http.get(f"/v1/surveys/{survey}/report?by=unit")
            assert unrecorded.status_code == 500, unrecorded.text
            assert unrecorded.headers["content-type"] == "application/problem+json"
            assert "audit log" in unrecorded.json()["detail"]
            assert "groups" not in unrecorded.text
            assert "index" not in unrecorded.text
            error_ids.append(unrecorded.json()["error_id"])
            own_database.execute("ALTER TABLE audit_log_away RENAME TO audit_log")
    finally:
        log = server.stop()

    # Logging was on, and worked: the request lines (with the client's address), the 500s
    # with their error ids, the failing SQL statement.
    assert "Logging error" not in log
    access = re.compile(r'^INFO: +127\.0\.0\.1:\d+ - "(?P<line>[^"]+)" (?P<status>\d+)', re.M)
    lines = {(m["line"], int(m["status"])) for m in access.finditer(log)}
    assert ("POST /v1/surveys HTTP/1.1", 201) in lines
    assert ("GET /shared/[redacted] HTTP/1.1", 200) in lines
    assert f'"POST /v1/surveys/{survey}/responses HTTP/1.1" 201' in log
    assert f'"POST /v1/surveys/{survey}/responses HTTP/1.1" 422' in log
    assert f'"GET /v1/surveys/{survey}/report HTTP/1.1" 401' in log
    assert '"GET /shared/[redacted] HTTP/1.1" 200' in log
    assert f'"DELETE /v1/surveys/{survey}/responses/[redacted] HTTP/1.1" 204' in log
    assert f'"GET /v1/surveys/{survey}/report?by=unit HTTP/1.1" 500' in log
    for error_id in error_ids:
        assert f"error {error_id}" in log
    assert "Traceback (most recent call last)" in log
    assert "survey_response" in log  # the failing statement is there, its values are not
    if level == "trace":
        assert re.search(r"ASGI \[\d+\] Started scope=", log)
        assert "HTTP connection made" in log

    secrets = {
        "the key": key,
        "the key's secret": secret,
        "a wrong key's secret": WRONG_SECRET,
        "the share token": token,
        "a respondent id": RESPONDENT,
        "an invalid batch's respondent id": RESPONDENT_INVALID,
        "a failed batch's respondent id": RESPONDENT_500,
        "an attribute value": ATTRIBUTE,
        "an invalid batch's attribute value": ATTRIBUTE_INVALID,
        "a failed batch's attribute value": ATTRIBUTE_500,
        "an invalid answer": ANSWER_INVALID,
    }
    leaked = {what: value for what, value in secrets.items() if value in log}
    assert not leaked, f"logged: {leaked}\n{log}"
    assert not re.search(r"(?i)bearer\s+mes_", log)


def test_a_client_that_goes_away_mid_body_is_not_logged_as_a_server_error(
    own_database: Database, tmp_path: Path
) -> None:
    """A client that closes its connection half-way through a body (a load tester's
    timeout, a cancelled upload) is logged as such at INFO, not as an ERROR with an
    error id and a traceback, and nothing is stored."""
    key = _run_in_session(own_database.url, lambda s: create_key(s, "Gone Trust", ["admin"]))
    server = Server(own_database, "info", tmp_path)
    try:
        survey = httpx.post(
            f"{server.base}/v1/surveys",
            json={"title": "gone", "instrument": "mes", "attributes": {"unit": ["a"]}},
            headers={"Authorization": f"Bearer {key}"},
        ).json()["id"]
        body = json.dumps(_rows("half-sent", "a")).encode()
        host, port = server.base.removeprefix("http://").split(":")
        with socket.create_connection((host, int(port))) as sock:
            sock.sendall(
                f"POST /v1/surveys/{survey}/responses HTTP/1.1\r\nHost: {host}\r\n"
                f"Authorization: Bearer {key}\r\nContent-Type: application/json\r\n"
                f"Content-Length: {len(body)}\r\n\r\n".encode()
                + body[: len(body) // 2]
            )
            time.sleep(0.5)  # the server is reading the body when the client leaves
        deadline = time.monotonic() + 10
        while "client went away" not in server.log_path.read_text():
            assert time.monotonic() < deadline, "the server never noticed the client leave"
            time.sleep(0.1)
        stored = httpx.get(
            f"{server.base}/v1/surveys/{survey}", headers={"Authorization": f"Bearer {key}"}
        ).json()["responses"]
    finally:
        log = server.stop()
    assert stored == 0
    assert "client went away before sending its body on POST /v1/surveys/{survey_id}" in log
    assert "ERROR" not in log
    assert "Traceback" not in log
