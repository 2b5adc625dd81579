"""Instruments: bundled ones for all, registered ones for their tenant only."""

from __future__ import annotations

import copy
from typing import Any

from api_helpers import bearer, create_survey
from litestar.testing import TestClient

import mes

TINY: dict[str, Any] = {
    "id": "licensed-mes",
    "version": "2026",
    "title": "Licensed MES wording",
    "licence": "Licensed to the tenant",
    "response_scale": {"min": 1, "max": 5},
    "items": [{"id": "a"}, {"id": "b", "reverse": True}, {"id": "c"}],
    "scales": [{"id": "total", "items": ["a", "b", "c"]}],
}


def test_bundled_instruments_are_listed(client: TestClient[Any], admin: dict[str, str]) -> None:
    listed = client.get("/v1/instruments", headers=admin).json()
    assert {i["id"] for i in listed if i["source"] == "bundled"} == set(mes.bundled_ids())
    detail = client.get("/v1/instruments/mes", headers=admin).json()
    assert [s["id"] for s in detail["scales"]][-1] == "index"
    assert len(detail["items"]) == 30
    assert client.get("/v1/instruments/nope", headers=admin).status_code == 404


def test_register_use_and_isolate_an_own_definition(client: TestClient[Any], make_key: Any) -> None:
    mine = bearer(make_key("admin"))
    theirs = bearer(make_key("admin", tenant=f"{make_key.tenant}-b"))
    created = client.post("/v1/instruments", json=TINY, headers=mine)
    assert created.status_code == 201, created.text
    assert created.json()["source"] == "tenant"
    assert ("licensed-mes", "2026") in {
        (i["id"], i["version"]) for i in client.get("/v1/instruments", headers=mine).json()
    }
    assert client.get("/v1/instruments/licensed-mes", headers=theirs).status_code == 404
    again = client.post("/v1/instruments", json=TINY, headers=mine)
    assert again.status_code == 409
    survey = create_survey(client, mine, instrument="licensed-mes")
    rows = [{"respondent": "x", "answers": {"a": 5, "b": 1, "c": 5}}]
    client.post(f"/v1/surveys/{survey}/responses", json={"responses": rows}, headers=mine)
    scores = client.get(f"/v1/surveys/{survey}/scores", headers=mine).json()
    assert scores["items"][0]["scores"]["total"]["score"] == 5.0  # b is reverse-keyed
    response = client.post(
        "/v1/surveys", json={"title": "t", "instrument": "licensed-mes"}, headers=theirs
    )
    assert response.status_code == 404


def test_invalid_definition_lists_every_problem(
    client: TestClient[Any], admin: dict[str, str]
) -> None:
    bad = copy.deepcopy(TINY)
    bad["scales"] = [{"id": "total", "items": ["a", "zz"]}]  # unknown item; b, c in no scale
    response = client.post("/v1/instruments", json=bad, headers=admin)
    assert response.status_code == 422
    fields = [e["field"] for e in response.json()["errors"]]
    assert "scales[0] (total).items[1]" in fields
    assert "items[1] (b)" in fields
    assert "items[2] (c)" in fields


def test_a_bundled_id_and_version_cannot_be_registered(
    client: TestClient[Any], admin: dict[str, str]
) -> None:
    inst = mes.load_instrument("uwes9")
    definition = inst.model_dump(mode="json", exclude_none=True)
    assert client.post("/v1/instruments", json=definition, headers=admin).status_code == 409
    definition["version"] = "licensed"
    assert client.post("/v1/instruments", json=definition, headers=admin).status_code == 201
    detail = client.get("/v1/instruments/uwes9?version=licensed", headers=admin).json()
    assert detail["source"] == "tenant"
    assert client.get("/v1/instruments/uwes9", headers=admin).json()["source"] == "bundled"


def test_surveys_pin_the_version(client: TestClient[Any], admin: dict[str, str]) -> None:
    body = client.post(
        "/v1/surveys", json={"title": "t", "instrument": "mes"}, headers=admin
    ).json()
    assert (body["instrument"], body["instrument_version"]) == ("mes", "1")
    assert body["status"] == "open"
    missing = client.post(
        "/v1/surveys",
        json={"title": "t", "instrument": "mes", "instrument_version": "99"},
        headers=admin,
    )
    assert missing.status_code == 404
    listed = client.get("/v1/surveys", headers=admin).json()
    assert listed["total"] == 1
    assert listed["items"][0]["id"] == body["id"]
