"""The audit log: every read of a report or personal-data export is recorded for its tenant
(key prefix or share link, survey, what, options, status, time), readable by admin keys of
that tenant only through ``GET /v1/audit``."""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Any
from urllib.parse import urlparse

from api_helpers import bearer, close_survey, create_survey, mes_rows
from litestar.testing import TestClient


def _prefix(key: str) -> str:
    return key.split("_")[1]


def _survey(client: TestClient[Any], headers: dict[str, str], n: int = 30) -> str:
    survey = create_survey(client, headers)
    rows = mes_rows(n)
    for i, row in enumerate(rows):
        row["attributes"] = {"specialty": "Surgery" if i % 2 else "Medicine"}
    response = client.post(
        f"/v1/surveys/{survey}/responses", json={"responses": rows}, headers=headers
    )
    assert response.status_code == 201, response.text
    close_survey(client, headers, survey)
    return survey


def _audit(client: TestClient[Any], headers: dict[str, str], **query: Any) -> dict[str, Any]:
    response = client.get("/v1/audit", params=query, headers=headers)
    assert response.status_code == 200, response.text
    return dict(response.json())


def test_every_report_and_export_read_is_recorded(client: TestClient[Any], make_key: Any) -> None:
    admin_key = make_key("admin")
    admin = bearer(admin_key)
    reader_key = make_key("reports:read", "responses:read")
    reader = bearer(reader_key)
    survey = _survey(client, admin)
    other = _survey(client, admin)
    before = dt.datetime.now(dt.UTC) - dt.timedelta(seconds=1)

    reads = [
        (f"/v1/surveys/{survey}/report?by=specialty", {}, "report", "json", 200),
        (f"/v1/surveys/{survey}/report", {"Accept": "text/csv"}, "report", "csv", 200),
        (f"/v1/surveys/{survey}/report.csv?by=specialty", {}, "report.csv", "csv", 200),
        (f"/v1/surveys/{survey}/report.html", {}, "report.html", "html", 200),
        (f"/v1/surveys/{survey}/compare/{other}", {}, "compare", "json", 200),
        (f"/v1/surveys/{survey}/benchmarks", {}, "benchmarks", "problem", 422),  # < 5 orgs
        (f"/v1/surveys/{survey}/scores?limit=5", {}, "scores", "json", 200),
        (f"/v1/surveys/{survey}/scores.csv", {}, "scores.csv", "csv", 200),
        (f"/v1/surveys/{survey}/reliability", {}, "reliability", "json", 200),
        (f"/v1/surveys/{survey}/responses.jsonl", {}, "responses.jsonl", "jsonl", 200),
    ]
    for path, headers, _, _, status in reads:
        response = client.get(path, headers={**reader, **headers})
        assert response.status_code == status, (path, response.text)
    # Not a report: creating a survey or listing surveys is not recorded.
    assert client.get("/v1/surveys", headers=reader).status_code == 200

    page = _audit(client, admin, survey_id=survey, limit=100)
    entries = list(reversed(page["items"]))  # oldest first
    assert page["total"] == len(reads)
    assert [(e["action"], e["format"], e["status"]) for e in entries] == [
        (action, fmt, status) for _, _, action, fmt, status in reads
    ]
    for entry in entries:
        assert entry["survey"] == survey
        assert entry["key_prefix"] == _prefix(reader_key)
        assert entry["key_id"] is not None
        assert entry["share_id"] is None
        assert dt.datetime.fromisoformat(entry["at"]) >= before
        assert reader_key not in str(entry)
        assert reader_key.split("_", 2)[2] not in str(entry)
    assert entries[0]["options"] == {"by": "specialty"}
    assert entries[0]["route"] == "/v1/surveys/{survey_id}/report"
    assert entries[1]["options"] == {"accept": "text/csv"}
    assert entries[4]["options"] == {"other_id": other}
    assert entries[6]["options"] == {"limit": "5"}


def test_failed_reads_are_recorded_for_the_callers_tenant(
    client: TestClient[Any], make_key: Any
) -> None:
    admin = bearer(make_key("admin"))
    survey = _survey(client, admin)
    writer_key = make_key("surveys:write")
    unknown = str(uuid.uuid4())

    assert client.get(f"/v1/surveys/{survey}/report", headers=bearer(writer_key)).status_code == 403
    assert client.get(f"/v1/surveys/{unknown}/report.html", headers=admin).status_code == 404
    low = client.get(f"/v1/surveys/{survey}/report?min_group_size=1", headers=admin)
    assert low.status_code == 422
    typo = client.get(f"/v1/surveys/{survey}/report?bye=site", headers=admin)
    assert typo.status_code == 422
    # No valid key: no tenant to record it for.
    bad = {"Authorization": "Bearer mes_000000000000_nope"}
    assert client.get(f"/v1/surveys/{survey}/report", headers=bad).status_code == 401

    entries = list(reversed(_audit(client, admin)["items"]))
    assert [(e["action"], e["status"], e["survey"]) for e in entries] == [
        ("report", 403, survey),
        ("report.html", 404, unknown),
        ("report", 422, survey),
        ("report", 422, survey),
    ]
    assert entries[0]["key_prefix"] == _prefix(writer_key)
    assert entries[1]["format"] == "problem"
    assert entries[2]["options"] == {"min_group_size": "1"}
    assert entries[3]["options"] == {}  # an undeclared parameter is not kept


def test_a_tenant_sees_only_its_own_trail_and_only_with_an_admin_key(
    client: TestClient[Any], make_key: Any
) -> None:
    a_admin = bearer(make_key("admin"))
    b_admin = bearer(make_key("admin", tenant=f"other-{uuid.uuid4().hex[:8]}"))
    a_survey = _survey(client, a_admin)
    b_survey = _survey(client, b_admin)
    assert client.get(f"/v1/surveys/{b_survey}/report", headers=b_admin).status_code == 200
    # A reads B's survey id: 404 for A, recorded in A's trail (never in B's).
    assert client.get(f"/v1/surveys/{b_survey}/report", headers=a_admin).status_code == 404
    assert client.get(f"/v1/surveys/{a_survey}/report", headers=a_admin).status_code == 200

    a_entries = _audit(client, a_admin)["items"]
    b_entries = _audit(client, b_admin)["items"]
    assert [(e["survey"], e["status"]) for e in a_entries] == [(a_survey, 200), (b_survey, 404)]
    assert [(e["survey"], e["status"]) for e in b_entries] == [(b_survey, 200)]
    assert _audit(client, a_admin, survey_id=b_survey)["total"] == 1
    assert {e["id"] for e in a_entries}.isdisjoint({e["id"] for e in b_entries})

    reader = bearer(make_key("reports:read", "responses:read"))
    denied = client.get("/v1/audit", headers=reader)
    assert denied.status_code == 403
    assert "admin" in denied.json()["detail"]
    assert client.get("/v1/audit").status_code == 401


def test_filters_and_pages(client: TestClient[Any], make_key: Any) -> None:
    admin = bearer(make_key("admin"))
    reader_key = make_key("reports:read")
    survey = _survey(client, admin)
    client.get(f"/v1/surveys/{survey}/report", headers=admin)
    middle = dt.datetime.now(dt.UTC)
    for _ in range(3):
        client.get(f"/v1/surveys/{survey}/report.csv", headers=bearer(reader_key))

    assert _audit(client, admin)["total"] == 4
    assert _audit(client, admin, since=middle.isoformat())["total"] == 3
    assert _audit(client, admin, until=middle.isoformat())["total"] == 1
    assert _audit(client, admin, action="report.csv")["total"] == 3
    assert _audit(client, admin, key_prefix=_prefix(reader_key))["total"] == 3
    first = _audit(client, admin, limit=2, offset=0)
    second = _audit(client, admin, limit=2, offset=2)
    assert (first["total"], len(first["items"]), len(second["items"])) == (4, 2, 2)
    assert {e["id"] for e in first["items"]}.isdisjoint({e["id"] for e in second["items"]})
    assert first["items"][0]["at"] >= second["items"][-1]["at"]  # newest first

    for bad in ("2026-01-01T00:00:00", "0.5"):  # no zone; a number (not a Unix time)
        naive = client.get("/v1/audit", params={"since": bad}, headers=admin)
        assert naive.status_code == 422, bad
        assert naive.headers["content-type"].startswith("application/problem+json")
        assert "time zone" in naive.json()["detail"]
        assert naive.json()["errors"][0]["field"] == "query.since"


def test_options_that_a_database_cannot_store_are_cleaned_not_refused(
    client: TestClient[Any], make_key: Any
) -> None:
    admin = bearer(make_key("admin"))
    survey = _survey(client, admin)
    odd = client.get(
        f"/v1/surveys/{survey}/report.html?by=%00unit%F2%BC%B6%87&benchmark=", headers=admin
    )
    assert odd.status_code == 422, odd.text  # the attribute is unknown, and said so
    (entry,) = _audit(client, admin)["items"]
    assert entry["status"] == 422
    assert "\x00" not in entry["options"]["by"]
    assert entry["options"]["by"].startswith("unit")


def test_share_link_reads_are_recorded_with_the_link(
    client: TestClient[Any], make_key: Any
) -> None:
    admin = bearer(make_key("admin"))
    survey = _survey(client, admin)
    created = client.post(
        f"/v1/surveys/{survey}/report/shares",
        json={"by": ["specialty"], "expires_in_days": 1},
        headers=admin,
    )
    assert created.status_code == 201, created.text
    share = created.json()
    path = urlparse(share["url"]).path
    token = path.rsplit("/", 1)[1]

    assert client.get(path).status_code == 200
    assert client.get(path[:-3] + "xyz").status_code == 404  # forged: nobody's
    assert client.delete(f"/v1/shares/{share['id']}", headers=admin).status_code == 204
    assert client.get(path).status_code == 404  # revoked: still this tenant's link

    entries = list(reversed(_audit(client, admin, action="shared_report")["items"]))
    assert [(e["status"], e["share_id"], e["survey"]) for e in entries] == [
        (200, share["id"], survey),
        (404, share["id"], survey),
    ]
    assert entries[0]["key_id"] is None
    assert entries[0]["key_prefix"] is None
    assert entries[0]["route"] == "/shared/{token}"
    assert entries[0]["format"] == "html"
    assert token not in str(entries)
