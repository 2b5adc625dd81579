"""``mes keys rotate``: a new key of the same tenant and scopes, printed alone on stdout; the
old key refused at once, or after ``--grace``. Run through the real command line."""

from __future__ import annotations

import os
import subprocess
import sys
import time
import uuid
from typing import Any

from api_helpers import bearer
from litestar.testing import TestClient


def _mes(database_url: str, *args: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "MES_DATABASE_URL": database_url}
    return subprocess.run(
        [sys.executable, "-m", "mes", "keys", *args],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def _create(database_url: str, tenant: str, scopes: str) -> str:
    done = _mes(database_url, "create", "--tenant", tenant, "--scopes", scopes)
    assert done.returncode == 0, done.stderr
    return done.stdout.strip()


def _status(client: TestClient[Any], key: str) -> int:
    return client.get("/v1/surveys", headers=bearer(key)).status_code


def _rotated(done: subprocess.CompletedProcess[str]) -> str:
    assert done.returncode == 0, done.stderr
    lines = done.stdout.splitlines()
    assert len(lines) == 1, done.stdout  # the key alone on one line
    assert lines[0].startswith("mes_"), done.stdout
    return lines[0]


def test_rotate_replaces_the_key_at_once(client: TestClient[Any], database_url: str) -> None:
    tenant = f"rotate-{uuid.uuid4().hex[:8]}"
    old = _create(database_url, tenant, "surveys:write,reports:read")
    assert _status(client, old) == 200
    survey = client.post(
        "/v1/surveys", json={"title": "t", "instrument": "mes"}, headers=bearer(old)
    ).json()["id"]

    new = _rotated(_mes(database_url, "rotate", old.split("_")[1]))
    assert new != old
    assert _status(client, old) == 401
    assert _status(client, new) == 200
    # Same tenant (it sees the survey) and same scopes (reports yes, responses no).
    assert client.get(f"/v1/surveys/{survey}", headers=bearer(new)).status_code == 200
    denied = client.get(f"/v1/surveys/{survey}/responses", headers=bearer(new))
    assert denied.status_code == 403
    assert "surveys:write" in denied.json()["detail"]
    assert "reports:read" in denied.json()["detail"]

    listed = _mes(database_url, "list", "--tenant", tenant).stdout
    assert f"{old.split('_')[1]}" in listed
    assert f"{new.split('_')[1]}" in listed
    states = {line.split()[0]: line.split()[2] for line in listed.splitlines()[1:]}
    assert states == {old.split("_")[1]: "revoked", new.split("_")[1]: "active"}
    assert old.split("_", 2)[2] not in listed
    assert new.split("_", 2)[2] not in listed

    again = _mes(database_url, "rotate", old)  # the whole key works as well as the prefix
    assert again.returncode == 1
    assert again.stdout == ""
    assert "revoked" in again.stderr
    assert "mes keys create" in again.stderr


def test_rotate_with_grace_keeps_the_old_key_until_then(
    client: TestClient[Any], database_url: str
) -> None:
    old = _create(database_url, f"grace-{uuid.uuid4().hex[:8]}", "admin")
    done = _mes(database_url, "rotate", old, "--grace", "5s")
    finished = time.monotonic()  # the grace period ends within 5 s from here
    new = _rotated(done)
    assert "stops working at" in done.stderr
    assert _status(client, old) == 200  # still inside the grace period
    assert _status(client, new) == 200
    time.sleep(max(0.0, 5.5 - (time.monotonic() - finished)))
    assert _status(client, old) == 401
    assert _status(client, new) == 200

    long = _create(database_url, f"grace-{uuid.uuid4().hex[:8]}", "admin")
    replacement = _rotated(_mes(database_url, "rotate", long, "--grace", "1h"))
    assert _status(client, long) == 200
    assert _status(client, replacement) == 200
    # Revoking a key in its grace period stops it at once.
    assert _mes(database_url, "revoke", long.split("_")[1]).returncode == 0
    assert _status(client, long) == 401
    assert _status(client, replacement) == 200


def test_rotate_refuses_bad_input(database_url: str) -> None:
    unknown = _mes(database_url, "rotate", "000000000000")
    assert unknown.returncode == 1
    assert unknown.stdout == ""
    assert "no key with prefix '000000000000'" in unknown.stderr
    key = _create(database_url, f"bad-{uuid.uuid4().hex[:8]}", "admin")
    for grace, message in (("soon", "not a duration"), ("31d", "longest grace period")):
        done = _mes(database_url, "rotate", key, "--grace", grace)
        assert done.returncode == 2, done.stderr
        assert done.stdout == ""
        assert message in done.stderr
