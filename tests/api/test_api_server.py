"""A round trip through the real server process (`mes serve`)."""

from __future__ import annotations

from typing import Any

import httpx
from api_helpers import bearer, close_survey, mes_rows


def test_serve_round_trip(live_server: str, make_key: Any) -> None:
    headers = bearer(make_key("surveys:write", "responses:write", "reports:read"))
    with httpx.Client(base_url=live_server, headers=headers, timeout=30) as http:
        assert http.get("/ready").json()["status"] == "ok"
        survey = http.post("/v1/surveys", json={"title": "Live", "instrument": "mes"})
        assert survey.status_code == 201
        sid = survey.json()["id"]
        batch = http.post(f"/v1/surveys/{sid}/responses", json={"responses": mes_rows(200)})
        assert batch.status_code == 201
        assert batch.json()["accepted"] == 200
        close_survey(http, {}, sid)  # the client carries the key (surveys:write)
        reader = bearer(make_key("responses:read"))  # per-respondent scores: responses:read
        scores = http.get(f"/v1/surveys/{sid}/scores", params={"limit": 5}, headers=reader).json()
        assert scores["total"] == 200
        assert len(scores["items"]) == 5
        assert scores["items"][0]["scores"]["index"]["score"] is not None
        reliability = http.get(f"/v1/surveys/{sid}/reliability")
        assert reliability.status_code == 200
        assert reliability.json()["scales"]["index"]["k"] == 30
        forbidden = http.get(f"/v1/surveys/{sid}/responses")  # no responses:read
        assert forbidden.status_code == 403
        assert forbidden.headers["content-type"].startswith("application/problem+json")
